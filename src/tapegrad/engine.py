"""micrograd's import path: ``from tapegrad.engine import Value``."""
from tapegrad._engine import (Value, collect, layer_forward, mlp_forward, mlp_parameters,
                              tape_stats, weighted_sum, zero_value_grads)

__all__ = ["Value", "collect", "layer_forward", "mlp_forward", "mlp_parameters", "tape_stats",
           "weighted_sum", "zero_value_grads"]
