"""tapegrad: a micrograd-compatible autodiff engine whose tape and backward sweep are C."""
from tapegrad import nn
from tapegrad.engine import Value

__all__ = ["Value", "nn"]
__version__ = "0.1.0"
