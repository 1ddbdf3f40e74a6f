"""torch.accelerator: tapegrad has no accelerator, so the tutorials' line
`device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available()
else "cpu"` picks the cpu."""


def is_available():
    return False


def current_accelerator(check_available=False):
    return None


def device_count():
    return 0
