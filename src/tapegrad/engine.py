"""micrograd's import path: ``from tapegrad.engine import Value``."""
from tapegrad._engine import Value, collect, layer_forward, mlp_forward, tape_stats, weighted_sum

__all__ = ["Value", "collect", "layer_forward", "mlp_forward", "tape_stats", "weighted_sum"]
