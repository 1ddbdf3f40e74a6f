"""torch.utils: the data loading utilities."""
from tapegrad.utils import data

__all__ = ["data"]
