"""torch's function forms of the tensor methods: tapegrad.exp(t) is t.exp()."""
from tapegrad._tensor import Tensor

_METHODS = [
    "exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "clamp", "clip",
    "sum", "mean", "max", "min", "argmax", "argmin",
    "reshape", "flatten", "transpose", "permute", "squeeze", "unsqueeze", "t",
    "add", "sub", "mul", "div", "pow", "neg", "mm", "clone", "detach",
    "numel", "allclose", "equal",
]


def _function_of(name):
    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be a Tensor, not "
                            f"{type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"tapegrad.{name}(input, ...) is input.{name}(...)."
    return function


for _name in _METHODS:
    globals()[_name] = _function_of(_name)

__all__ = list(_METHODS)
