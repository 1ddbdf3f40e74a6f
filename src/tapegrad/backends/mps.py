"""torch.backends.mps: Apple's Metal backend, which tapegrad does not have."""


def is_available():
    """False: tapegrad has no MPS device."""
    return False


def is_built():
    """False: tapegrad is not built with MPS support."""
    return False
