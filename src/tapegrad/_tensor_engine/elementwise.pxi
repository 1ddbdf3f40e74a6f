# Elementwise ops of one tensor. Forward values are numpy's ufuncs; the backward
# of tanh, sigmoid and relu is a fused C kernel (tg_kernels.c), one pass with no
# temporaries, the rest numpy. Sigmoid's forward is C too: numpy's stable
# sigmoid takes several passes.

cdef class Unary:
    """A differentiable elementwise op: its forward and its Op."""
    cdef readonly str name
    cdef object forward
    cdef Op op
    cdef bint keeps_integers     # abs, relu, neg: an integer tensor stays integer
    cdef bint quiet              # its forward may warn (log(0)): numpy's errors are muted

    def __init__(self, name, forward, op, keeps_integers=False, quiet=False):
        self.name, self.forward, self.op = name, forward, op
        self.keeps_integers, self.quiet = keeps_integers, quiet

    def __call__(self, input):
        return _unary(self, _as_tensor(input))

    def __repr__(self):
        return f"<tapegrad op {self.name}>"


cdef TensorBase _unary(Unary f, TensorBase a):
    x = a._data
    if x.dtype.kind != 'f':
        if f.keeps_integers:
            return _wrap(f.forward(x), None)
        x = x.astype(_default_dtype)
    return _record(f.op, _cast_array(np.asarray(_forward(f, x)), x.dtype), (a,))


cdef object _forward(Unary f, object x):
    """f's forward of x, with numpy's errors muted for the ops that may warn."""
    if f.quiet:
        with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
            return f.forward(x)
    return f.forward(x)


def _unary_op(name, grad_fn, forward, vjp, **options):
    # an op whose forward may warn has a vjp that may divide by zero too (log's 1/x)
    return Unary(name, forward, Op(grad_fn, ("self",), quiet=options.get("quiet", False),
                                   self=vjp), **options)


exp = _unary_op("exp", "ExpBackward0", np.exp, lambda grad, result: grad * result, quiet=True)
log = _unary_op("log", "LogBackward0", np.log, lambda grad, self: grad / self, quiet=True)
sqrt = _unary_op("sqrt", "SqrtBackward0", np.sqrt,
                 lambda grad, result: grad / (2 * result), quiet=True)
# grad * (1 - result**2), fused in C
tanh = _unary_op("tanh", "TanhBackward0", np.tanh,
                 lambda grad, result: _fused_backward(TG_TANH, grad, result))
# grad * result * (1 - result), fused in C
sigmoid = _unary_op("sigmoid", "SigmoidBackward0", lambda x: _kernel_forward(TG_SIGMOID, x),
                    lambda grad, result: _fused_backward(TG_SIGMOID, grad, result))
# grad where result > 0 (and where it is NaN, as torch), else 0; fused in C
relu = _unary_op("relu", "ReluBackward0", lambda x: _kernel_forward(TG_RELU, x)
                 if x.dtype.kind == 'f' else np.maximum(x, 0),
                 lambda grad, result: _fused_backward(TG_RELU, grad, result), keeps_integers=True)
abs_op = _unary_op("abs", "AbsBackward0", np.abs,
                   lambda grad, self: _abs_grad(grad, self),
                   keeps_integers=True)


cdef object _abs_grad(object grad, object x):
    """grad * sgn(x), sgn(NaN) 0 as torch's; an inf grad at 0 is NaN, quietly, as torch's."""
    token = _quiet_begin()
    try:
        return grad * np.sign(np.nan_to_num(x))
    finally:
        _quiet_end(token)


CLAMP = Op("ClampBackward1", ("self",), ("min", "max"),
           # the gradient passes where min <= self <= max: not at NaN, nor with a NaN bound
           self=lambda grad, self, min, max: np.where((self >= min) & (self <= max), grad, 0))


def clamp(input, min=None, max=None):
    cdef TensorBase a = _as_tensor(input)
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    lo = -np.inf if min is None else float(min)
    hi = np.inf if max is None else float(max)
    x = a._data
    if x.dtype.kind != 'f' and (_is_float_bound(min) or _is_float_bound(max)):
        x = x.astype(_default_dtype)      # a float bound makes the result float, as torch
    # min(max(x, lo), hi), as torch: hi wins when lo > hi, and a NaN bound gives NaN
    out = np.minimum(np.maximum(x, lo), hi) if x.dtype.kind == 'f' else \
        np.minimum(np.maximum(x, lo), hi).astype(x.dtype)
    return _record(CLAMP, _cast_array(out, x.dtype), (a,), (lo, hi))


cdef bint _is_float_bound(object bound):
    if isinstance(bound, TensorBase):
        return (<TensorBase>bound)._data.dtype.kind == 'f'
    return isinstance(bound, (float, np.floating))


CLONE = Op("CloneBackward0", ("self",), self=lambda grad: grad)
TO_COPY = Op("ToCopyBackward0", ("self",), self=lambda grad: grad)   # fitted to self's dtype


def clone(input):
    cdef TensorBase a = _as_tensor(input)
    return _record(CLONE, a._data.copy(), (a,))


cdef TensorBase _cast(TensorBase a, object dtype, bint copy):
    if a._data.dtype is dtype and not copy:
        return a
    token = _quiet_begin()          # a double past float's range is inf, as in torch
    try:
        out = a._data.astype(dtype)
    finally:
        _quiet_end(token)
    if dtype.kind != 'f':
        return _wrap(out, None)
    return _record(TO_COPY, out, (a,))


# ----------------------------------------------- math functions (issue 12)
# Trigonometric, hyperbolic, exponents and logarithms, rounding, reciprocals and
# erf. Each vjp is torch's derivative; the rounding ops' gradient is zero, as torch's.

cdef double _LN2 = np.log(2.0)
cdef double _LN10 = np.log(10.0)
cdef double _TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)

sin = _unary_op("sin", "SinBackward0", np.sin, lambda grad, self: grad * np.cos(self),
                quiet=True)
cos = _unary_op("cos", "CosBackward0", np.cos, lambda grad, self: -grad * np.sin(self),
                quiet=True)
tan = _unary_op("tan", "TanBackward0", np.tan,
                lambda grad, result: grad * (1 + result * result), quiet=True)
# outside [-1, 1] asin and acos are NaN, and so are their gradients, as torch's
asin = _unary_op("asin", "AsinBackward0", np.arcsin,
                 lambda grad, self: grad / np.sqrt(1 - self * self), quiet=True)
acos = _unary_op("acos", "AcosBackward0", np.arccos,
                 lambda grad, self: -grad / np.sqrt(1 - self * self), quiet=True)
atan = _unary_op("atan", "AtanBackward0", np.arctan,
                 lambda grad, self: grad / (1 + self * self), quiet=True)
sinh = _unary_op("sinh", "SinhBackward0", np.sinh, lambda grad, self: grad * np.cosh(self),
                 quiet=True)
cosh = _unary_op("cosh", "CoshBackward0", np.cosh, lambda grad, self: grad * np.sinh(self),
                 quiet=True)

exp2 = _unary_op("exp2", "Exp2Backward0", np.exp2,
                 lambda grad, result: grad * result * _LN2, quiet=True)
expm1 = _unary_op("expm1", "Expm1Backward0", np.expm1,
                  lambda grad, result: grad * (result + 1), quiet=True)
log2 = _unary_op("log2", "Log2Backward0", np.log2,
                 lambda grad, self: grad / (self * _LN2), quiet=True)
log10 = _unary_op("log10", "Log10Backward0", np.log10,
                  lambda grad, self: grad / (self * _LN10), quiet=True)
log1p = _unary_op("log1p", "Log1PBackward0", np.log1p,
                  lambda grad, self: grad / (self + 1), quiet=True)

reciprocal = _unary_op("reciprocal", "ReciprocalBackward0", np.reciprocal,
                       lambda grad, result: -grad * result * result, quiet=True)
rsqrt = _unary_op("rsqrt", "RsqrtBackward0", lambda x: 1 / np.sqrt(x),
                  lambda grad, result: -0.5 * grad * result * result * result, quiet=True)
# numpy has no erf: the C library's, one pass without the GIL
from libc.math cimport erf as _c_erf


@cython.boundscheck(False)
@cython.wraparound(False)
cdef object _erf_array(object x):
    """erf elementwise (float64 inside), by the C library's erf (exact to the last bit or so)."""
    values = np.array(x, dtype=float64, order='C', copy=True)
    cdef double[::1] flat = values.reshape(-1)
    cdef Py_ssize_t i, n = flat.shape[0]
    with nogil:
        for i in range(n):
            flat[i] = _c_erf(flat[i])
    return values.astype(x.dtype, copy=False)


erf = _unary_op("erf", "ErfBackward0", lambda x: _erf_array(x),
                lambda grad, self: grad * _TWO_OVER_SQRT_PI * np.exp(-self * self))


def _zero_gradient(grad):
    return np.zeros(grad.shape, grad.dtype)


cdef str _type_name(object dtype):
    """torch's C++ name of an integer or bool dtype, for its 'not implemented' errors."""
    return {'int64': 'Long', 'int32': 'Int', 'int16': 'Short', 'int8': 'Char',
            'uint8': 'Byte', 'bool': 'Bool'}.get(dtype.name, dtype.name)


def _rounding(ufunc, kernel):
    """The forward of a rounding op: integers are already round (torch keeps them
    and their dtype); bool tensors are refused, as torch refuses them."""
    def forward(x):
        if x.dtype.kind == 'f':
            return ufunc(x)
        if x.dtype.kind == 'b':
            raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
        return x.copy()
    return forward


def _sign(x):
    if x.dtype.kind == 'b':
        return x.copy()
    if x.dtype.kind == 'f':
        return np.where(np.isnan(x), 0, np.sign(x))     # torch's sign of NaN is 0
    return np.sign(x)


def _frac(x):
    if x.dtype.kind != 'f':
        raise NotImplementedError(f'"frac_cpu" not implemented for \'{_type_name(x.dtype)}\'')
    return x - np.trunc(x)


sign = _unary_op("sign", "SignBackward0", _sign, _zero_gradient, keeps_integers=True)
floor = _unary_op("floor", "FloorBackward0", _rounding(np.floor, "floor_vml_cpu"),
                  _zero_gradient, keeps_integers=True)
ceil = _unary_op("ceil", "CeilBackward0", _rounding(np.ceil, "ceil_vml_cpu"),
                 _zero_gradient, keeps_integers=True)
# numpy's rint rounds half to even, as torch's round
round_half_even = _unary_op("round", "RoundBackward0", _rounding(np.rint, "round_vml_cpu"),
                            _zero_gradient, keeps_integers=True)
trunc = _unary_op("trunc", "TruncBackward0", _rounding(np.trunc, "trunc_vml_cpu"),
                  _zero_gradient, keeps_integers=True)
# x - trunc(x): its gradient passes unchanged; frac(inf) is NaN, as torch's
frac = _unary_op("frac", "FracBackward0", _frac, lambda grad: grad, keeps_integers=True,
                 quiet=True)

ROUND_DECIMALS = Op("RoundBackward1", ("self",), self=_zero_gradient)


def round_op(input, *, decimals=0):
    """Rounds half to even, to `decimals` places (negative: to tens, hundreds...)."""
    cdef TensorBase a = _as_tensor(input)
    if decimals == 0:
        return _unary(round_half_even, a)
    x = a._data
    if x.dtype.kind != 'f':
        raise NotImplementedError(f'"round_cpu" not implemented for \'{_type_name(x.dtype)}\'')
    with np.errstate(over='ignore', invalid='ignore'):
        out = np.round(x, int(decimals))     # x * 10**d rounded, / 10**d, as torch
    return _record(ROUND_DECIMALS, out, (a,))


def square(input):
    """input * input, as torch: pow(input, 2) (PowBackward0); bool tensors give int64."""
    cdef TensorBase a = _as_tensor(input)
    if a._data.dtype.kind == 'b':
        a = _wrap(a._data.astype(int64), None)
    return pow_op(a, 2)
