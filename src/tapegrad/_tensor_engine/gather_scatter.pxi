# Gather and scatter (issue 12): gather, scatter, scatter_add, index_select,
# index_add and masked_fill. An index along a dim becomes a numpy index tuple
# once, so the forward reads (or writes) through it and the vjps scatter-add
# (or read) through the same tuple; repeated indices add up in the gradients.
# Index and mask tensors are watched: writing them in place before backward
# raises, as for every saved tensor.

cdef object _index_array(str op, object index, str wording):
    """The array of an index tensor, refused as torch refuses it."""
    if not isinstance(index, TensorBase):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    arr = (<TensorBase>index)._data
    if arr.dtype.kind != 'i' or arr.dtype.itemsize not in (4, 8):
        raise RuntimeError(f"{op}(): Expected dtype {wording} for index")
    return arr


cdef int _check_bounds(object index, Py_ssize_t size, Py_ssize_t axis) except -1:
    bad = (index < 0) | (index >= size)
    if bad.any():
        raise RuntimeError(f"index {index[bad].flat[0]} is out of bounds for dimension {axis} "
                           f"with size {size}")
    return 0


cdef tuple _along(object index, Py_ssize_t axis):
    """The numpy index tuple that reads index's entries along axis, and every other
    position of index's shape as itself."""
    n = index.ndim
    return tuple(index if d == axis else
                 np.arange(s).reshape((1,) * d + (s,) + (1,) * (n - d - 1))
                 for d, s in enumerate(index.shape))


cdef object _added_at(object grad, object shape, tuple where):
    out = np.zeros(shape, dtype=grad.dtype)
    np.add.at(out, where, grad)
    return out


GATHER = Op("GatherBackward0", ("self",), ("where", "shape"),
            self=lambda grad, where, shape: _added_at(grad, shape, where))


cdef tuple _gather_where(str op, TensorBase a, object dim, object index):
    x = a._data
    idx = _index_array(op, index, "int32/int64")
    if idx.ndim != x.ndim and not (x.ndim == 0 and idx.ndim <= 1) and idx.size:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    cdef Py_ssize_t axis = _dim(dim, x.ndim)
    if x.ndim == 0:
        return None, axis, idx
    return _along(idx, axis), axis, idx


def gather(input, dim, index, *, sparse_grad=False):
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    where, axis, idx = _gather_where("gather", a, dim, index)
    if where is None:                                       # a 0-d input
        _check_bounds(idx, 1, 0)
        return _record(GATHER, x.reshape(idx.shape).copy(), (a,), ((), x.shape), (index,))
    for d in range(x.ndim):
        if d != axis and idx.shape[d] > x.shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(idx.shape)} to be no larger than self {list(x.shape)} "
                               f"apart from dimension {axis}")
    _check_bounds(idx, x.shape[axis], axis)
    return _record(GATHER, x[where], (a,), (where, x.shape), (index,))


cdef object _without_at(object grad, tuple where):
    out = np.array(grad, copy=True)
    out[where] = 0
    return out


SCATTER = Op("ScatterBackward0", ("self", "src"), ("where", "part"),
             self=lambda grad, where: _without_at(grad, where),
             src=lambda grad, where, part: _placed(grad[where], part[0], part[1]))
SCATTER_VALUE = Op("ScatterBackward1", ("self",), ("where",),
                   self=lambda grad, where: _without_at(grad, where))
SCATTER_ADD = Op("ScatterAddBackward0", ("self", "src"), ("where", "part"),
                 self=lambda grad: grad,
                 src=lambda grad, where, part: _placed(grad[where], part[0], part[1]))


cdef object _scatter_parts(str op, TensorBase a, object dim, object index, object src):
    """The index tuple, and the shape of src and the part of it that is written."""
    x = a._data
    # torch names scatter in the index errors of scatter_add too
    where, axis, idx = _gather_where("scatter", a, dim, index)
    if where is None:
        raise RuntimeError(f"{op}(): a 0-d self is not supported by tapegrad")
    if src is not None:
        s = (<TensorBase>src)._data
        if s.dtype != x.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
        if any(idx.shape[d] > s.shape[d] or d != axis and idx.shape[d] > x.shape[d]
               for d in range(x.ndim)) or s.ndim != x.ndim:
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                               f"{list(x.shape)} apart from dimension {axis} and to be no "
                               f"larger size than src {list(s.shape)}")
    else:
        for d in range(x.ndim):
            if d != axis and idx.shape[d] > x.shape[d]:
                raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than "
                                   f"self {list(x.shape)} apart from dimension {axis}")
    _check_bounds(idx, x.shape[axis], axis)
    part = tuple(slice(0, s) for s in idx.shape)
    return where, part


cdef tuple _scatter_result(TensorBase a, object dim, object index, object src, object value,
                           bint add):
    """scatter's (or scatter_add's) result array, and its op, inputs and params."""
    if src is None and value is None:
        raise TypeError("scatter() missing 1 required argument: 'src' or 'value'")
    out = a._data.copy()
    if not isinstance(src, TensorBase):
        if add:
            raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not "
                            f"{type(src).__name__}")
        where, part = _scatter_parts("scatter", a, dim, index, None)
        out[where] = src if src is not None else value
        return out, SCATTER_VALUE, (a,), (where,)
    where, part = _scatter_parts("scatter_add" if add else "scatter", a, dim, index, src)
    s = (<TensorBase>src)._data
    if add:
        np.add.at(out, where, s[part])
    else:
        out[where] = s[part]
    return out, SCATTER_ADD if add else SCATTER, (a, src), (where, (s.shape, part))


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """input with src's entries (or value) written at index along dim."""
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported by tapegrad")
    out, op, inputs, params = _scatter_result(_as_tensor(input), dim, index, src, value, False)
    return _record(op, out, inputs, params, (index,))


def scatter_add(input, dim, index, src):
    """input with src's entries added at index along dim (repeated indices add up)."""
    out, op, inputs, params = _scatter_result(_as_tensor(input), dim, index, src, None, True)
    return _record(op, out, inputs, params, (index,))


cdef TensorBase _scatter_(TensorBase a, object dim, object index, object src, object value,
                          bint add):
    """scatter_ and scatter_add_: the out-of-place result written into a (their vjps read
    nothing of a's old value)."""
    out, op, inputs, params = _scatter_result(a, dim, index, src, value, add)
    _check_inplace(a, src)
    a._data[...] = out
    _bump(a)
    _record_inplace(op, a, inputs, (None,) * len(inputs), params, (index,))
    return a


INDEX_SELECT = Op("IndexSelectBackward0", ("self",), ("where", "shape"),
                  self=lambda grad, where, shape: _added_at(grad, shape, where))


cdef tuple _vector_index(str op, TensorBase a, object dim, object index):
    x = a._data
    idx = _index_array(op, index, "int32 or int64")
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    idx = idx.reshape(-1)
    cdef Py_ssize_t axis = _dim(dim, x.ndim)
    n = x.shape[axis] if x.ndim else 1
    if ((idx < 0) | (idx >= n)).any():
        raise IndexError("index out of range in self")
    return (slice(None),) * axis + (idx,), axis


def index_select(input, dim, index):
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    where, axis = _vector_index("index_select", a, dim, index)
    if x.ndim == 0:
        return _record(INDEX_SELECT, x.reshape(-1)[where[-1]].reshape(()), (a,),
                       ((), x.shape), (index,))
    return _record(INDEX_SELECT, x[where], (a,), (where, x.shape), (index,))


INDEX_ADD = Op("IndexAddBackward0", ("self", "source"), ("where", "alpha"),
               self=lambda grad: grad,
               source=lambda grad, where, alpha: grad[where] * alpha)


def index_add(input, dim, index, source, *, alpha=1):
    """input with alpha * source's slices added at index along dim."""
    cdef TensorBase a = _as_tensor(input)
    cdef TensorBase s = _operand(source, a)
    out, where = _index_added(a, s, dim, index, alpha)
    return _record(INDEX_ADD, out, (a, s), (where, alpha), (index,))


cdef TensorBase _index_add_(TensorBase a, object dim, object index, object source, object alpha):
    """index_add in place: a's slices at index along dim += alpha * source's."""
    cdef TensorBase s = _operand(source, a)
    _check_inplace(a, s)
    out, where = _index_added(a, s, dim, index, alpha)
    a._data[...] = out
    _bump(a)
    _record_inplace(INDEX_ADD, a, (a, s), (None, None), (where, alpha), (index,))
    return a


cdef tuple _index_added(TensorBase a, TensorBase s, object dim, object index, object alpha):
    x = a._data
    where, axis = _vector_index("index_add", a, dim, index)
    expected = x.shape[:axis] + (len(where[-1]),) + x.shape[axis + 1:]
    if s._data.shape != expected and not (x.ndim == 0 and s._data.size == 1):
        raise RuntimeError(f"index_add_(): Source/destination tensor must have same slice "
                           f"shapes: source of shape {list(s._data.shape)} for a destination "
                           f"of shape {list(x.shape)} indexed along dimension {axis} by "
                           f"{len(where[-1])} indices")
    if s._data.dtype != x.dtype:
        raise RuntimeError(f"index_add_(): self ({_scalar_type_name(x.dtype)}) and source "
                           f"({_scalar_type_name(s._data.dtype)}) must have the same scalar type")
    out = x.copy()
    if x.ndim == 0:
        out += s._data.reshape(()) * alpha * len(where[-1])
        where = ()
    else:
        np.add.at(out, where, s._data * alpha if alpha != 1 else s._data)
    return out, where


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (each slice along dim) repeated: repeats an int, or one count per
    slice; recorded as the index_select torch's is made of."""
    cdef TensorBase a = _as_tensor(input)
    if dim is None:
        a = a.reshape(-1)
        dim = 0
    axis = _dim(dim, a._data.ndim)
    n = a._data.shape[axis] if a._data.ndim else 1
    counts = (<TensorBase>repeats)._data if isinstance(repeats, TensorBase) else \
        np.asarray(repeats)
    if counts.dtype.kind not in 'iu':
        raise RuntimeError("repeat_interleave: repeats must be an integer or a tensor of "
                           f"integers, not {counts.dtype}")
    if counts.ndim > 1 or counts.ndim == 1 and counts.shape[0] not in (1, n):
        raise RuntimeError("repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {counts.shape[0] if counts.ndim else 1} and "
                           f"input.size({dim}) = {n}")
    if (counts < 0).any():
        raise RuntimeError("repeats can not be negative")
    index = np.repeat(np.arange(n, dtype=np.int64), np.broadcast_to(counts.reshape(-1), (n,)))
    return index_select(a, axis, _wrap(index, None))


MASKED_FILL = Op("MaskedFillBackward0", ("self",), ("mask",),
                 self=lambda grad, mask: np.where(mask, 0, grad))
MASKED_FILL_TENSOR = Op("MaskedFillBackward1", ("self", "value"), ("mask",),
                        self=lambda grad, mask: np.where(mask, 0, grad),
                        value=lambda grad, mask: np.where(mask, grad, 0).sum())


cdef object _broadcast_error(tuple a, tuple b):
    """torch's error for shapes a and b that do not broadcast (or broadcast past b)."""
    for i in range(1, max(len(a), len(b)) + 1):
        sa = a[-i] if i <= len(a) else 1
        sb = b[-i] if i <= len(b) else 1
        if sa != sb and sa != 1 and sb != 1:
            return RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b "
                                f"({sb}) at non-singleton dimension {max(len(a), len(b)) - i}")
    return RuntimeError(f"a tensor of shape {list(a)} cannot be broadcast to the shape "
                        f"{list(b)}")


cdef tuple _masked_fill_args(TensorBase a, object mask, object value):
    if not isinstance(mask, TensorBase):
        raise TypeError(f"masked_fill(): argument 'mask' must be Tensor, not "
                        f"{type(mask).__name__}")
    m = (<TensorBase>mask)._data
    if m.dtype.kind != 'b':
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_torch_dtype_name(m.dtype)}")
    x = a._data
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise _broadcast_error(tuple(m.shape), tuple(x.shape))
    if isinstance(value, TensorBase):
        if (<TensorBase>value)._data.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {(<TensorBase>value)._data.ndim} dimension(s).")
        fill = (<TensorBase>value)._data
    elif isinstance(value, numbers.Number):
        fill = value
    else:
        raise TypeError(f"masked_fill(): argument 'value' must be Number or Tensor, not "
                        f"{type(value).__name__}")
    return m, np.where(m, np.asarray(fill).astype(x.dtype), x)


cdef str _torch_dtype_name(object dtype):
    return {'float32': 'float', 'float64': 'double', 'int64': 'long int', 'int32': 'int',
            'bool': 'bool'}.get(dtype.name, dtype.name)


def masked_fill(input, mask, value):
    """input with value where mask (broadcast to input's shape) holds."""
    cdef TensorBase a = _as_tensor(input)
    m, out = _masked_fill_args(a, mask, value)
    if isinstance(value, TensorBase):
        return _record(MASKED_FILL_TENSOR, out, (a, value), (m,), (mask,))
    return _record(MASKED_FILL, out, (a,), (m,), (mask,))


cdef TensorBase _masked_fill_(TensorBase a, object mask, object value):
    m, out = _masked_fill_args(a, mask, value)
    _check_inplace(a, value)
    a._data[...] = out
    _bump(a)
    if isinstance(value, TensorBase):
        _record_inplace(MASKED_FILL_TENSOR, a, (a, value), (None, None), (m,), (mask,))
    else:
        _record_inplace(MASKED_FILL, a, (a,), (None,), (m,), (mask,))
    return a
