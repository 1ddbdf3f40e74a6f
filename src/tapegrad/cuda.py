"""torch.cuda, as a CPU-only build of torch has it: no device, and seeding is a no-op,
so `device = "cuda" if torch.cuda.is_available() else "cpu"` picks the cpu."""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Nothing to seed: there is no CUDA generator (torch's CPU build ignores it too)."""


def manual_seed_all(seed):
    """Nothing to seed: there is no CUDA generator."""


def is_initialized():
    return False


def synchronize(device=None):
    raise AssertionError("Torch not compiled with CUDA enabled (tapegrad runs on the cpu only)")


def current_device():
    raise AssertionError("Torch not compiled with CUDA enabled (tapegrad runs on the cpu only)")
