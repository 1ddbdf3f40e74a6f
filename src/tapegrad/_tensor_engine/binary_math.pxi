# Binary math functions (issue 12): maximum, minimum, fmod, remainder, atan2,
# with broadcasting and torch's type promotion through _binary.

cdef object _tie_split(object grad, object mine, object theirs, bint is_max):
    """maximum's (minimum's) gradient to one side: all of grad where that side won,
    half where the two are equal, none where it lost. Where either is NaN, both
    get all of it, as torch's."""
    lost = mine < theirs if is_max else mine > theirs
    return np.where(lost, 0, np.where(mine == theirs, grad / 2, grad))


MAXIMUM = Op("MaximumBackward0", ("self", "other"),
             self=lambda grad, self, other: _tie_split(grad, self, other, True),
             other=lambda grad, self, other: _tie_split(grad, other, self, True))
MINIMUM = Op("MinimumBackward0", ("self", "other"),
             self=lambda grad, self, other: _tie_split(grad, self, other, False),
             other=lambda grad, self, other: _tie_split(grad, other, self, False))

# fmod rounds the quotient toward zero, remainder toward -inf (Python's %)
FMOD_NUMBER = Op("FmodBackward0", ("self", "other"), self=lambda grad: grad)
FMOD = Op("FmodBackward1", ("self", "other"), quiet=True,
          self=lambda grad: grad,
          other=lambda grad, self, other: -grad * np.trunc(self / other))
REMAINDER_NUMBER = Op("RemainderBackward0", ("self", "other"), self=lambda grad: grad)
REMAINDER = Op("RemainderBackward1", ("self", "other"), quiet=True,
               self=lambda grad: grad,
               other=lambda grad, self, other: -grad * np.floor(self / other))


cdef object _atan2_grad(object grad, object numerator, object denominator, object sign):
    """d atan2(y, x): (x, -y) / (x*x + y*y), and 0 at the origin, as torch's."""
    squares = numerator * numerator + denominator * denominator
    safe_squares = np.where(squares == 0, 1, squares)
    return np.where(squares == 0, 0, sign * grad * denominator / safe_squares)


ATAN2 = Op("Atan2Backward0", ("self", "other"), quiet=True,
           self=lambda grad, self, other: _atan2_grad(grad, self, other, 1),
           other=lambda grad, self, other: _atan2_grad(grad, other, self, -1))


cdef TensorBase _tensor_other(str name, object other):
    """torch's maximum, minimum and atan2 take a tensor, not a number, as other."""
    if not isinstance(other, TensorBase):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    return <TensorBase>other


def maximum(input, other):
    return _binary(MAXIMUM, np.maximum, _as_tensor(input), _tensor_other("maximum", other))


def minimum(input, other):
    return _binary(MINIMUM, np.minimum, _as_tensor(input), _tensor_other("minimum", other))


cdef TensorBase _division_remainder(Op op, Op op_of_number, object ufunc, TensorBase a,
                                    object other):
    divisor = _value(other) if isinstance(other, TensorBase) else np.asarray(other)
    if divisor.dtype.kind in 'iub' and a._data.dtype.kind in 'iub' and \
            (divisor == 0).any():
        raise RuntimeError("ZeroDivisionError")
    with np.errstate(divide='ignore', invalid='ignore'):     # x % 0.0 is NaN, as torch's
        return _binary(op if isinstance(other, TensorBase) else op_of_number, ufunc, a, other)


def fmod(input, other):
    return _division_remainder(FMOD, FMOD_NUMBER, np.fmod, _as_tensor(input), other)


def remainder(input, other):
    return _division_remainder(REMAINDER, REMAINDER_NUMBER, np.remainder, _as_tensor(input),
                               other)


def atan2(input, other):
    cdef TensorBase a = _as_tensor(input)
    cdef TensorBase b = _tensor_other("atan2", other)
    if a._data.dtype.kind != 'f' and b._data.dtype.kind != 'f':
        a = _wrap(a._data.astype(_default_dtype), None)
    return _binary(ATAN2, np.arctan2, a, b)


# floor_divide (//): floor(a / b), integers staying integers; torch gives it no
# derivative, so its backward raises torch's error
FLOOR_DIVIDE = Op("NotImplemented", ("self", "other"),
                  self=lambda grad: _no_derivative("floor_divide"),
                  other=lambda grad: _no_derivative("floor_divide"))


def _no_derivative(name):
    raise RuntimeError(f"derivative for aten::{name} is not implemented")


def floor_divide(input, other):
    cdef TensorBase a = _as_tensor(input)
    cdef TensorBase b = _operand(other, a)
    if a._data.dtype.kind in 'iub' and b._data.dtype.kind in 'iub' and (b._data == 0).any():
        raise RuntimeError("ZeroDivisionError")
    token = _quiet_begin()          # x // 0 is inf or NaN, as torch's
    try:
        return _binary(FLOOR_DIVIDE, np.floor_divide, a, b)
    finally:
        _quiet_end(token)
