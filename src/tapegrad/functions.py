"""torch's function forms of the tensor methods: tapegrad.exp(t) is t.exp().

Each name is declared here (not generated into globals()), so IDEs, stubs and
``from tapegrad import exp`` see it. To add one, add a line to its group and to
__all__.
"""
from tapegrad._tensor import Tensor


def _function_of(name):
    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be a Tensor, not "
                            f"{type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"tapegrad.{name}(input, ...) is input.{name}(...)."
    return function


# elementwise
exp = _function_of("exp")
log = _function_of("log")
tanh = _function_of("tanh")
sigmoid = _function_of("sigmoid")
relu = _function_of("relu")
abs = _function_of("abs")
sqrt = _function_of("sqrt")
clamp = _function_of("clamp")
clip = _function_of("clip")

# reductions
sum = _function_of("sum")
mean = _function_of("mean")
max = _function_of("max")
min = _function_of("min")
argmax = _function_of("argmax")
argmin = _function_of("argmin")

# shapes
reshape = _function_of("reshape")
flatten = _function_of("flatten")
transpose = _function_of("transpose")
permute = _function_of("permute")
squeeze = _function_of("squeeze")
unsqueeze = _function_of("unsqueeze")
t = _function_of("t")

# arithmetic and the rest
add = _function_of("add")
sub = _function_of("sub")
mul = _function_of("mul")
div = _function_of("div")
pow = _function_of("pow")
neg = _function_of("neg")
mm = _function_of("mm")
clone = _function_of("clone")
detach = _function_of("detach")
numel = _function_of("numel")
allclose = _function_of("allclose")
equal = _function_of("equal")

__all__ = [
    "exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "clamp", "clip", "sum", "mean",
    "max", "min", "argmax", "argmin", "reshape", "flatten", "transpose", "permute", "squeeze",
    "unsqueeze", "t", "add", "sub", "mul", "div", "pow", "neg", "mm", "clone", "detach",
    "numel", "allclose", "equal",
]
