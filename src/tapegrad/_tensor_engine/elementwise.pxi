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
                   lambda grad, self: np.where(self > 0, grad, np.where(self < 0, -grad, 0)),
                   keeps_integers=True)


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
    # min(max(x, lo), hi), as torch: hi wins when lo > hi, and a NaN bound gives NaN
    out = np.minimum(np.maximum(x, lo), hi) if x.dtype.kind == 'f' else \
        np.minimum(np.maximum(x, lo), hi).astype(x.dtype)
    return _record(CLAMP, _cast_array(out, x.dtype), (a,), (lo, hi))


CLONE = Op("CloneBackward0", ("self",), self=lambda grad: grad)
TO_COPY = Op("ToCopyBackward0", ("self",), self=lambda grad: grad)   # fitted to self's dtype


def clone(input):
    cdef TensorBase a = _as_tensor(input)
    return _record(CLONE, a._data.copy(), (a,))


cdef TensorBase _cast(TensorBase a, object dtype, bint copy):
    if a._data.dtype is dtype and not copy:
        return a
    out = a._data.astype(dtype)
    if dtype.kind != 'f':
        return _wrap(out, None)
    return _record(TO_COPY, out, (a,))
