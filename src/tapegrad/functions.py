"""torch's function forms of the tensor methods: tapegrad.exp(t) is t.exp().

Each name is declared here (not generated into globals()), so IDEs, stubs and
``from tapegrad import exp`` see it. To add one, add a line to its group and to
__all__.
"""
import builtins
import warnings

import numpy as np

from tapegrad import _tensor
from tapegrad._tensor import Tensor

# the functions torch gives no out= (views, and what returns no new tensor): out= is
# refused for them, as torch refuses it
_WITHOUT_OUT = frozenset({
    "reshape", "flatten", "transpose", "permute", "squeeze", "unsqueeze", "t", "detach",
    "numel", "allclose", "equal", "clone", "chunk", "split", "unbind", "narrow", "movedim",
    "moveaxis", "swapaxes", "swapdims", "masked_fill", "view_as", "expand_as", "softmax",
    "log_softmax",
    # (these return tuples: tapegrad has no out= for them)
    "median", "kthvalue", "aminmax",
})


def _function_of(name):
    takes_out = name not in _WITHOUT_OUT

    def function(*args, **kwargs):
        if args:
            input, args = args[0], args[1:]
        elif "input" in kwargs:
            input = kwargs.pop("input")
        else:
            raise TypeError(f'{name}() missing 1 required positional arguments: "input"')
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be a Tensor, not "
                            f"{type(input).__name__}")
        if takes_out and "out" in kwargs:
            out = kwargs.pop("out")
            if out is not None:
                _check_out_autograd(name, (input, *args, *kwargs.values()), out)
                return _write_out(name, getattr(input, name)(*args, **kwargs), out)
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"tapegrad.{name}(input, ...) is input.{name}(...)."
    return function


def _with_out(engine_function, name):
    """An engine function (cat, stack) that takes out= too."""
    def function(*args, out=None, **kwargs):
        if out is None:
            return engine_function(*args, **kwargs)
        tensors = [t for arg in (*args, *kwargs.values())
                   for t in (arg if isinstance(arg, (list, tuple)) else (arg,))]
        _check_out_autograd(name, tensors, out)
        return _write_out(name, engine_function(*args, **kwargs), out)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = engine_function.__doc__
    return function


def _check_out_autograd(name, arguments, out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    # (builtins.any: this module's own any is torch.any)
    if _tensor.is_grad_enabled() and builtins.any(isinstance(t, Tensor) and t.requires_grad
                                         for t in (*arguments, *outs)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}
_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _write_out(name, result, out):
    """result copied into out, as torch's out= does: out keeps its dtype (a float result
    cannot go into an integer out), and an out of another shape is resized (with torch's
    warning when it had elements). Returns out."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be tuple of {len(result)} Tensors")
        written = [_write_out(name, r, o) for r, o in zip(result, out)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    value, target = np.asarray(result), np.asarray(out)
    if _KIND_RANK[value.dtype.kind] > _KIND_RANK[target.dtype.kind]:
        raise RuntimeError(f"result type {_TYPE_NAMES.get(value.dtype.name, value.dtype.name)} "
                           "can't be cast to the desired output type "
                           f"{_TYPE_NAMES.get(target.dtype.name, target.dtype.name)}")
    if target.shape != value.shape:
        if target.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(target.shape)}, which does not match the required output shape "
                f"{list(value.shape)}. This behavior is deprecated, and in a future PyTorch "
                "release outputs will not be resized unless they have zero elements. You can "
                "explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                "with t.resize_(0).", UserWarning, stacklevel=3)
        _tensor.adopt(out, value.astype(target.dtype))
    else:
        np.copyto(target, value, casting="unsafe")
    _tensor.bump_version(out)
    return out


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

# shapes, indexing and products (issue 12)
chunk = _function_of("chunk")
split = _function_of("split")
unbind = _function_of("unbind")
narrow = _function_of("narrow")
flip = _function_of("flip")
roll = _function_of("roll")
tril = _function_of("tril")
triu = _function_of("triu")
diag = _function_of("diag")
outer = _function_of("outer")
movedim = _function_of("movedim")
moveaxis = _function_of("moveaxis")
swapaxes = _function_of("swapaxes")
swapdims = _function_of("swapdims")
gather = _function_of("gather")
scatter = _function_of("scatter")
scatter_add = _function_of("scatter_add")
index_select = _function_of("index_select")
index_add = _function_of("index_add")
masked_fill = _function_of("masked_fill")
bmm = _function_of("bmm")
addmm = _function_of("addmm")
mv = _function_of("mv")
dot = _function_of("dot")
matmul = _function_of("matmul")
einsum = _tensor.einsum

# order statistics, moments, floor division, repeats (the probe of the tensor engine)
median = _function_of("median")
kthvalue = _function_of("kthvalue")
aminmax = _function_of("aminmax")
var_mean = _tensor.var_mean
std_mean = _tensor.std_mean
floor_divide = _function_of("floor_divide")
repeat_interleave = _function_of("repeat_interleave")
cat = _with_out(_tensor.cat, "cat")
stack = _with_out(_tensor.stack, "stack")

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
    # shapes, indexing and products (issue 12, shapes)
    "chunk", "split", "unbind", "narrow", "flip", "roll", "tril", "triu", "diag", "outer",
    "movedim", "moveaxis", "swapaxes", "swapdims", "gather", "scatter", "scatter_add",
    "index_select", "index_add", "masked_fill", "bmm", "addmm", "mv", "dot", "matmul", "einsum",
    "cat", "stack",
    # order statistics, moments, floor division, repeats
    "median", "kthvalue", "aminmax", "var_mean", "std_mean", "floor_divide", "repeat_interleave",
]
