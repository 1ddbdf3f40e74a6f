"""micrograd's import path: ``from tapegrad.engine import Value``."""
from tapegrad._engine import Value, weighted_sum

__all__ = ["Value", "weighted_sum"]
