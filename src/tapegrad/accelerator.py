"""torch.accelerator: tapegrad has no accelerator, so the tutorials' line
`device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available()
else "cpu"` picks the cpu."""


def is_available():
    """False: tapegrad has no accelerator."""
    return False


def current_accelerator(check_available=False):
    """None, as torch returns where there is no accelerator."""
    return None


def device_count():
    """0: there are no accelerator devices."""
    return 0
