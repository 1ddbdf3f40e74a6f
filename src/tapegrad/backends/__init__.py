"""torch.backends: the backends tapegrad does not have answer False."""
from tapegrad.backends import mps

__all__ = ["mps"]
