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

# math functions and reductions (issue 12, math)
sin = _function_of("sin")
cos = _function_of("cos")
tan = _function_of("tan")
asin = _function_of("asin")
acos = _function_of("acos")
atan = _function_of("atan")
arcsin = _function_of("arcsin")
arccos = _function_of("arccos")
arctan = _function_of("arctan")
sinh = _function_of("sinh")
cosh = _function_of("cosh")
exp2 = _function_of("exp2")
expm1 = _function_of("expm1")
log2 = _function_of("log2")
log10 = _function_of("log10")
log1p = _function_of("log1p")
sign = _function_of("sign")
floor = _function_of("floor")
ceil = _function_of("ceil")
round = _function_of("round")
trunc = _function_of("trunc")
frac = _function_of("frac")
reciprocal = _function_of("reciprocal")
rsqrt = _function_of("rsqrt")
square = _function_of("square")
erf = _function_of("erf")
maximum = _function_of("maximum")
minimum = _function_of("minimum")
fmod = _function_of("fmod")
remainder = _function_of("remainder")
atan2 = _function_of("atan2")
arctan2 = _function_of("arctan2")
prod = _function_of("prod")
cumsum = _function_of("cumsum")
logsumexp = _function_of("logsumexp")
amax = _function_of("amax")
amin = _function_of("amin")
all = _function_of("all")
any = _function_of("any")
var = _function_of("var")
std = _function_of("std")
norm = _function_of("norm")
sort = _function_of("sort")
topk = _function_of("topk")

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
    # math functions and reductions (issue 12, math)
    "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "exp2", "expm1", "log2", "log10", "log1p", "sign", "floor", "ceil", "round", "trunc",
    "frac", "reciprocal", "rsqrt", "square", "erf", "maximum", "minimum", "fmod", "remainder",
    "atan2", "arctan2", "prod", "cumsum", "logsumexp", "amax", "amin", "all", "any", "var",
    "std", "norm", "sort", "topk",
]
