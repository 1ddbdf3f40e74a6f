"""torch.cuda, as a CPU-only build of torch has it: no device, and seeding is a no-op,
so `device = "cuda" if torch.cuda.is_available() else "cpu"` picks the cpu."""


def is_available():
    """False: tapegrad has no CUDA device."""
    return False


def device_count():
    """0: there are no CUDA devices."""
    return 0


def manual_seed(seed):
    """Nothing to seed: there is no CUDA generator (torch's CPU build ignores it too)."""


def manual_seed_all(seed):
    """Nothing to seed: there is no CUDA generator."""


def is_initialized():
    """False: CUDA is never initialised."""
    return False


def synchronize(device=None):
    """Raise AssertionError, as torch's CPU build does: there is no device to wait for."""
    raise AssertionError("Torch not compiled with CUDA enabled (tapegrad runs on the cpu only)")


def current_device():
    """Raise AssertionError, as torch's CPU build does: there is no current CUDA device."""
    raise AssertionError("Torch not compiled with CUDA enabled (tapegrad runs on the cpu only)")
