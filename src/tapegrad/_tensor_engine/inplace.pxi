# In-place ops: they compute with the out-of-place op's forward, write into the
# tensor's storage, bump its version counter (under no_grad too, as torch), and
# record the out-of-place op's node, whose vjps read a copy of the old value
# where they need it (as torch's derivatives.yaml has in-place variants).

cdef int _check_inplace(TensorBase a, object other) except -1:
    """torch's refusals of an in-place write that autograd could not follow."""
    if a._inference and not _inference_enabled():
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not "
                           "allowed.You can make a clone to get a normal tensor before doing "
                           "inplace update.See https://github.com/pytorch/rfcs/pull/17 for more "
                           "details.")
    if not _grad_enabled():
        return 0
    if a._grad_fn is None and a._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    if a._base is not None and (a._requires_grad or _needs_grad(other)):
        if a._base._grad_fn is None and a._base._requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        raise RuntimeError("tapegrad does not record an in-place operation on a view of "
                           "another tensor when a gradient is wanted: write into the base "
                           "tensor (base[index] = value), or use an out-of-place operation")
    return 0


cdef void _record_inplace(Op op, TensorBase a, tuple inputs, tuple values, tuple params,
                          tuple watched=()) except *:
    """Makes op's node a's grad_fn: a is the result, written in place."""
    cdef Node node = _node(op, inputs, values, params, a, watched)
    if node is not None:
        a._grad_fn = node
        a._requires_grad = True


cdef bint _reads_self(Op op, tuple inputs):
    """Whether a vjp that will run reads input 0 (self), so its old value must be kept."""
    cdef Py_ssize_t k
    for k in range(op.ninputs):
        if _needs_grad(inputs[k]) and 0 in <tuple>op.reads[k]:
            return True
    return False


cdef TensorBase _inplace_binary(Op op, object ufunc, TensorBase a, object other,
                                bint true_division=False):
    """a = ufunc(a, other), in place."""
    x = a._data
    b = other if (type(other) is float or type(other) is int) and x.dtype.kind == 'f' \
        else _operand(other, a)
    y = _value(b)
    _check_inplace(a, b)
    y_array = y if isinstance(y, np.ndarray) else np.asarray(y)
    result_kind = 'f' if true_division else _promote(x, y_array).kind
    if x.dtype.kind != 'f' and result_kind == 'f':
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_torch_type_name(x.dtype)}")
    if y_array.shape != x.shape:
        try:
            broadcast = np.broadcast_shapes(x.shape, y_array.shape)
        except ValueError:
            broadcast = None
        if broadcast != x.shape:
            raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast "
                               f"shape of {list(x.shape)} and {list(y_array.shape)}")
    inputs = (a, b)
    recording = _grad_enabled() and (a._requires_grad or _needs_grad(b))
    old = x.copy() if recording and _reads_self(op, inputs) else None
    if recording and isinstance(y, np.ndarray) and np.may_share_memory(x, y):
        # other is (a view of) what is being written: its vjp needs the old values
        y = y.copy()
    if true_division:
        with np.errstate(divide='ignore', invalid='ignore'):
            ufunc(x, y, out=x, casting='unsafe')
    else:
        ufunc(x, y, out=x, casting='unsafe')
    _bump(a)
    if recording:
        _record_inplace(op, a, inputs, (old, y), ())
    return a


cdef str _torch_type_name(object dtype):
    return {'i': 'Long', 'u': 'Byte', 'b': 'Bool'}.get(dtype.kind, str(dtype))


cdef TensorBase _inplace_unary(Unary f, TensorBase a):
    """a = f(a), in place."""
    x = a._data
    if x.dtype.kind != 'f' and not f.keeps_integers:
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_torch_type_name(x.dtype)}")
    _check_inplace(a, None)
    inputs = (a,)
    recording = _grad_enabled() and a._requires_grad
    old = x.copy() if recording and _reads_self(f.op, inputs) else None
    x[...] = _forward(f, x)
    _bump(a)
    if recording:
        _record_inplace(f.op, a, inputs, (old,), ())
    return a


ZERO = Op("ZeroBackward0", ("self",), self=lambda grad: np.zeros(grad.shape, grad.dtype))
FILL = Op("FillBackward0", ("self", "value"),
          self=lambda grad: np.zeros(grad.shape, grad.dtype),
          value=lambda grad: grad.sum())
COPY = Op("CopyBackwards", ("self", "src"),
          self=lambda grad: np.zeros(grad.shape, grad.dtype),
          src=lambda grad: grad)


FILL_NUMBER = Op("FillBackward2", ("self",), self=lambda grad: np.zeros(grad.shape, grad.dtype))


cdef TensorBase _fill(TensorBase a, object value, Op op_of_number=FILL_NUMBER):
    cdef TensorBase v = _operand(value, a)
    if v._data.size != 1:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{v._data.ndim} dimensions")
    _check_inplace(a, v)
    a._data[...] = v._data.reshape(())
    _bump(a)
    if isinstance(value, TensorBase):
        _record_inplace(FILL, a, (a, v), (None, None), ())
    else:
        _record_inplace(op_of_number, a, (a,), (None,), ())
    return a


cdef TensorBase _copy(TensorBase a, object src):
    cdef TensorBase s = _operand(src, a)
    _check_inplace(a, s)
    try:
        np.copyto(a._data, np.broadcast_to(s._data, a._data.shape), casting='unsafe')
    except ValueError:
        raise RuntimeError(f"output with shape {list(a._data.shape)} doesn't match the "
                           f"broadcast shape of {list(a._data.shape)} and "
                           f"{list(s._data.shape)}") from None
    _bump(a)
    _record_inplace(COPY, a, (a, s), (None, None), ())
    return a


cdef TensorBase _clamp_(TensorBase a, object min, object max):
    """clamp in place, with clamp's formula; a float bound on an integer tensor is
    refused, as the result could not be written back."""
    x = a._data
    if x.dtype.kind != 'f' and (_is_float_bound(min) or _is_float_bound(max)):
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_torch_dtype_name(x.dtype)}")
    _check_inplace(a, None)
    recording = _grad_enabled() and a._requires_grad
    old = x.copy() if recording else None
    with no_grad():
        out = (<TensorBase>clamp(a, min, max))._data
    x[...] = out
    _bump(a)
    if recording:
        lo = -np.inf if min is None else float(min)
        hi = np.inf if max is None else float(max)
        _record_inplace(CLAMP, a, (a,), (old,), (lo, hi))
    return a
