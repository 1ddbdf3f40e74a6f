# Shape ops: views of their input's storage where numpy can make one (they
# share its version counter), copies otherwise; and cat/stack.

VIEW = Op("ViewBackward0", ("self",), ("shape",),
          self=lambda grad, shape: grad.reshape(shape))
UNSAFE_VIEW = Op("UnsafeViewBackward0", ("self",), ("shape",),     # reshape that copied
                 self=lambda grad, shape: grad.reshape(shape))
UNSQUEEZE = Op("UnsqueezeBackward0", ("self",), ("shape",),
               self=lambda grad, shape: grad.reshape(shape))
SQUEEZE = Op("SqueezeBackward0", ("self",), ("shape",),
             self=lambda grad, shape: grad.reshape(shape))
PERMUTE = Op("PermuteBackward0", ("self",), ("inverse",),
             self=lambda grad, inverse: grad.transpose(inverse))
EXPAND = Op("ExpandBackward0", ("self",),
            self=lambda grad: grad)        # fitting sums it back to self's shape


cdef TensorBase _reshape(TensorBase a, tuple shape, bint view, Op op=None):
    x = a._data
    try:
        out = x.reshape(shape)
    except ValueError:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.size}") from None
    if op is None:
        op = VIEW
    if x.size == 0 or _is_view_of(out, x):
        return _record_view(op, a, out, (x.shape,))
    if view:
        # numpy's reshape copied, so no view exists: torch's view raises
        raise RuntimeError("view size is not compatible with input tensor's size and stride "
                           "(at least one dimension spans across two contiguous subspaces). "
                           "Use .reshape(...) instead.")
    return _record(UNSAFE_VIEW, out, (a,), (x.shape,))


cdef TensorBase _permute(TensorBase a, tuple axes):
    out = a._data.transpose(axes)
    inverse = [0] * len(axes)
    for i, axis in enumerate(axes):
        inverse[axis] = i
    inverse = tuple(inverse)
    return _record_view(PERMUTE, a, out, (inverse,))


cdef TensorBase _expand(TensorBase a, tuple shape):
    try:
        out = np.broadcast_to(a._data, shape)
    except ValueError:
        raise RuntimeError(f"expand: the shape {tuple(a._data.shape)} cannot be expanded to "
                           f"{shape}") from None
    return _record_view(EXPAND, a, out)


cdef TensorBase _flatten(TensorBase a, object start_dim, object end_dim):
    shape = a._data.shape
    n = len(shape)
    if n == 0:
        return _reshape(a, (1,), False)
    s, e = _dim(start_dim, n), _dim(end_dim, n)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return a
    size = 1
    for d in shape[s:e + 1]:
        size *= d
    return _reshape(a, tuple(shape[:s]) + (size,) + tuple(shape[e + 1:]), False)


cdef TensorBase _squeeze(TensorBase a, object dim):
    shape = a._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        drop = {_dim(d, len(shape)) for d in dims} if shape else set()
        new = tuple(s for i, s in enumerate(shape) if not (i in drop and s == 1))
    return _reshape(a, new, False, SQUEEZE)


cdef TensorBase _unsqueeze(TensorBase a, object dim):
    shape = list(a._data.shape)
    shape.insert(_dim(dim, len(shape) + 1), 1)
    return _reshape(a, tuple(shape), False, UNSQUEEZE)


def _split_along(grad, bounds, axis):
    return np.split(grad, bounds, axis=axis) if bounds else [grad]


CAT = Op("CatBackward0", (), ("bounds", "axis"),
         vjp=lambda grad, bounds, axis: _split_along(grad, bounds, axis))
STACK = Op("StackBackward0", (), ("count", "axis"),
           vjp=lambda grad, count, axis: [np.take(grad, i, axis=axis) for i in range(count)])


cdef tuple _same_dtype(list ts):
    arrays = [(<TensorBase>t)._data for t in ts]
    dtype = arrays[0].dtype
    for arr in arrays[1:]:
        dtype = _promote(np.empty(0, dtype), arr)
    return [_cast_array(arr, dtype) for arr in arrays], dtype


def cat(tensors, dim=0):
    """Concatenates along dim; tensors must have the same shape elsewhere."""
    ts = [_as_tensor(t) for t in tensors]
    if not ts:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    arrays, _ = _same_dtype(ts)
    ndim = arrays[0].ndim
    if ndim == 0:
        raise RuntimeError("zero-dimensional tensor cannot be concatenated")
    axis = _dim(dim, ndim)
    try:
        out = np.concatenate(arrays, axis=axis)
    except ValueError as error:
        raise RuntimeError(f"cat(): shapes {[tuple(arr.shape) for arr in arrays]} do not match "
                           f"outside dim {axis}: {error}") from None
    bounds = tuple(np.cumsum([arr.shape[axis] for arr in arrays])[:-1])
    return _record(CAT, out, tuple(ts), (bounds, axis))


def stack(tensors, dim=0):
    """Stacks tensors of one shape along a new dim."""
    ts = [_as_tensor(t) for t in tensors]
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {tuple((<TensorBase>t)._data.shape) for t in ts}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {sorted(shapes)}")
    arrays, _ = _same_dtype(ts)
    axis = _dim(dim, arrays[0].ndim + 1)
    out = np.stack(arrays, axis=axis)
    return _record(STACK, out, tuple(ts), (len(ts), axis))
