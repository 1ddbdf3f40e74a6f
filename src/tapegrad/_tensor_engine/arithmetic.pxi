# Arithmetic: + - * / ** with broadcasting and Python numbers on either side, @,
# and the comparisons (which record nothing).

ADD = Op("AddBackward0", ("self", "other"),
         self=lambda grad: grad,
         other=lambda grad: grad)
SUB = Op("SubBackward0", ("self", "other"),
         self=lambda grad: grad,
         other=lambda grad: -grad)
RSUB = Op("RsubBackward1", ("self", "other"),          # other - self, other a number
          self=lambda grad: -grad)
MUL = Op("MulBackward0", ("self", "other"),
         self=lambda grad, other: grad * other,
         other=lambda grad, self: grad * self)
DIV = Op("DivBackward0", ("self", "other"), quiet=True,
         self=lambda grad, other: grad / other,
         other=lambda grad, self, other: -grad * self / (other * other))
RDIV = Op("DivBackward0", ("self", "other"), quiet=True,         # other / self, other a number
          # d(c/x)/dx = -c/x**2 = -result**2 / c: the result is all it reads, as torch
          self=lambda grad, result, other: np.zeros_like(grad) if other == 0
          else -grad * result * result / other)
NEG = Op("NegBackward0", ("self",),
         self=lambda grad: -grad)
POW_NUMBER = Op("PowBackward0", ("self", "exponent"), quiet=True,    # tensor ** number
                self=lambda grad, self, exponent: grad * _power_derivative(self, exponent))
POW = Op("PowBackward1", ("self", "exponent"), quiet=True,           # tensor ** tensor
         self=lambda grad, self, exponent: grad * np.where(
             exponent == 0, 0, exponent * self ** (exponent - 1)),
         # a ** b * log(a), taken as 0 where a == 0 and b >= 0, as torch
         exponent=lambda grad, self, exponent, result: grad * np.where(
             (self == 0) & (exponent >= 0), 0, result * np.log(self)))
MM = Op("MmBackward0", ("self", "other"),
        self=lambda grad, other: _matmul_grad_self(grad, other),
        other=lambda grad, self: _matmul_grad_other(grad, self))


cdef object _power_derivative(object x, object e):
    """d/dx x**e: e * x**(e-1), and 0 for e == 0 (where x**-1 would be inf at 0)."""
    if e == 0:
        return np.zeros(x.shape, x.dtype)
    return e * x ** (e - 1)


cdef TensorBase _binary(Op op, object ufunc, TensorBase a, object other, bint true_division=False):
    """ufunc(a, other) with torch's promotion, recorded as op. Division is quiet (0/0 is
    NaN); the other ops are not muted, as muting numpy costs more than a small op."""
    cdef TensorBase b
    x = a._data
    if (type(other) is float or type(other) is int) and x.dtype.kind == 'f':
        # a Python number stays a number: numpy keeps the tensor's float dtype for it
        if true_division and not -1 < other < 1:
            out = ufunc(x, other)      # finite / a number this large cannot warn
        elif true_division:
            with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
                out = ufunc(x, other)
        else:
            out = ufunc(x, other)
        return _record(op, out, (a, other))
    b = _operand(other, a)
    y = b._data
    da, db = x.dtype, y.dtype
    if op is SUB and (da.kind == 'b' or db.kind == 'b'):
        raise _bool_subtraction_error(da.kind == db.kind)
    dtype = da if da is db else _promote(x, y)
    if true_division and dtype.kind != 'f':
        dtype = _default_dtype
    try:
        if true_division:
            with np.errstate(divide='ignore', invalid='ignore'):
                out = _cast_array(ufunc(_cast_array(x, dtype), _cast_array(y, dtype)), dtype)
        elif da is dtype and db is dtype:
            out = ufunc(x, y)
        else:
            # computed in the result's dtype, as torch's (a float64 0-d is float32 first)
            out = _cast_array(ufunc(_cast_array(x, dtype), _cast_array(y, dtype)), dtype)
    except ValueError:
        raise _shape_error(a, b, op.name[:-9].lower()) from None
    return _record(op, out, (a, b))


cdef object _bool_subtraction_error(bint both):
    if both:
        return RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                            "supported. Use the `^` or `logical_xor()` operator instead.")
    return RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                        "If you are trying to invert a mask, use the `~` or `logical_not()` "
                        "operator instead.")


def add(input, other, *, alpha=1):
    return _binary(ADD, np.add, _as_tensor(input), other * alpha if alpha != 1 else other)


def sub(input, other, *, alpha=1):
    return _binary(SUB, np.subtract, _as_tensor(input), other * alpha if alpha != 1 else other)


def rsub(TensorBase input, other):
    """other - input."""
    if input._data.dtype.kind == 'b':
        raise _bool_subtraction_error(False)
    if (type(other) is float or type(other) is int) and input._data.dtype.kind == 'f':
        return _record(RSUB, other - input._data, (input, other))
    return sub(_operand(other, input), input)


def rdiv(TensorBase input, other):
    """other / input."""
    if (type(other) is float or type(other) is int) and input._data.dtype.kind == 'f':
        with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
            out = other / input._data
        return _record(RDIV, out, (input, other))
    return div(_operand(other, input), input)


def mul(input, other):
    return _binary(MUL, np.multiply, _as_tensor(input), other)


def div(input, other):
    return _binary(DIV, np.true_divide, _as_tensor(input), other, True)


def neg(input):
    cdef TensorBase a = _as_tensor(input)
    if a._data.dtype.kind == 'b':
        raise TypeError("negation of a bool tensor: use ~ or logical_not()")
    return _record(NEG, -a._data, (a,))


def pow_op(input, exponent):
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    if not isinstance(exponent, TensorBase) and isinstance(exponent, numbers.Real) \
            and not isinstance(exponent, bool):
        if x.dtype.kind in 'iub' and isinstance(exponent, numbers.Integral) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
            out = x ** exponent
        if x.dtype.kind in 'iub' and not isinstance(exponent, numbers.Integral):
            out = out.astype(_default_dtype)
        else:
            out = _cast_array(out, x.dtype)
        return _record(POW_NUMBER, out, (a, exponent))
    cdef TensorBase b = _operand(exponent, a)
    dtype = _promote(x, b._data)
    try:
        with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
            if dtype.kind in 'iu':
                out = _integer_power(x, b._data, dtype)
            else:
                out = _cast_array(np.power(x, b._data), dtype)
    except ValueError:
        raise _shape_error(a, b, "pow") from None
    return _record(POW, out, (a, b))


cdef object _integer_power(object x, object e, object dtype):
    """x ** e of integer arrays in dtype, with torch's values for negative exponents
    (numpy refuses them): 1 ** e is 1, (-1) ** e is 1 or -1 by e's parity, else 0."""
    if e.dtype.kind == 'u' or not (e < 0).any():
        return np.power(x.astype(dtype), e.astype(dtype))
    negative = e < 0
    out = np.power(x.astype(dtype), np.where(negative, 0, e).astype(dtype))
    inverse = np.where(x == 1, 1, np.where(x == -1, np.where(e % 2 == 0, 1, -1), 0))
    return np.where(negative, inverse, out).astype(dtype)


# ----------------------------------------------------------------- matmul

cdef object _mm(object x, object y):
    """x @ y; an inner dimension of 1 is an outer product, which numpy's matmul runs in
    a slow loop and broadcasting runs fast."""
    if x.ndim == 2 and y.ndim == 2 and x.shape[1] == 1:
        return x * y
    return np.matmul(x, y)


cdef object _matmul_grad_self(object grad, object other):
    if other.ndim == 1:                   # (..., n, k) @ (k,) -> (..., n), or (k,) @ (k,)
        return grad[..., None] * other
    if grad.ndim == other.ndim - 1:       # (k,) @ (..., k, m) -> (..., m)
        return np.matmul(grad[..., None, :], other.swapaxes(-1, -2))[..., 0, :]
    return _mm(grad, other.swapaxes(-1, -2))


cdef object _matmul_grad_other(object grad, object self):
    if self.ndim == 1:                    # (k,) @ (..., k, m) -> (..., m), or (k,) @ (k,)
        return grad * self if grad.ndim == 0 else self[:, None] * grad[..., None, :]
    if grad.ndim == self.ndim - 1:        # (..., n, k) @ (k,) -> (..., n)
        return np.matmul(self.swapaxes(-1, -2), grad[..., None])[..., 0]
    return _mm(self.swapaxes(-1, -2), grad)


def matmul(input, other):
    """Matrix product, numpy's (BLAS) semantics and torch's gradients."""
    cdef TensorBase a = _as_tensor(input)
    cdef TensorBase b = _operand(other, a)
    if a._data.ndim == 0 or b._data.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a._data.ndim}D and {b._data.ndim}D")
    dtype = _promote(a._data, b._data)
    token = _quiet_begin()          # a product overflowing to inf is a value
    try:
        out = _mm(_cast_array(a._data, dtype), _cast_array(b._data, dtype))
    except ValueError:
        raise _matmul_error(a._data, b._data) from None
    finally:
        _quiet_end(token)
    return _record(MM, out, (a, b))


# ------------------------------------------------------------- comparisons

cdef object _compare(object ufunc, TensorBase a, object other):
    cdef TensorBase b
    try:
        b = _operand(other, a)
    except TypeError:
        return NotImplemented
    try:
        return _wrap(ufunc(a._data, b._data), None)
    except ValueError:
        raise _shape_error(a, b, ufunc.__name__) from None
