# Indexing: reading (whose backward scatter-adds, so repeated indices add up),
# writing (recorded as torch's CopySlices), and where. Index and condition
# tensors are saved, so their versions are checked too.

cdef tuple _index_arg(object index):
    """The index numpy takes (tensors become their arrays), and the tensors in it."""
    found = []
    converted = _index_arrays(index, found)
    return converted, tuple(found)


cdef object _index_arrays(object index, list found):
    if isinstance(index, TensorBase):
        found.append(index)
        return (<TensorBase>index)._data
    if isinstance(index, tuple):
        return tuple(_index_arrays(i, found) for i in index)
    if isinstance(index, list) and any(isinstance(i, TensorBase) for i in index):
        return [_index_arrays(i, found) for i in index]
    return index


cdef object _scattered(object grad, object index, object shape):
    out = np.zeros(shape, dtype=grad.dtype)
    np.add.at(out, index, grad)
    return out


INDEX = Op("IndexBackward0", ("self",), ("index", "shape"),
           self=lambda grad, index, shape: _scattered(grad, index, shape))


cdef TensorBase _getitem(TensorBase a, object index):
    idx, tensors = _index_arg(index)
    x = a._data
    try:
        out = x[idx]
    except IndexError as error:
        raise IndexError(str(error)) from None
    if not isinstance(out, np.ndarray):
        out = np.asarray(out)
    if _is_view_of(out, x):
        return _record_view(INDEX, a, out, (idx, x.shape), tensors)
    return _record(INDEX, out, (a,), (idx, x.shape), tensors)


cdef object _without(object grad, object index):
    rest = np.array(grad, copy=True)
    rest[index] = 0
    return rest


COPY_SLICES = Op("CopySlices", ("self", "value"), ("index",),
                 self=lambda grad, index: _without(grad, index),
                 value=lambda grad, index: np.asarray(grad[index]))


cdef void _setitem(TensorBase a, object index, object value) except *:
    idx, tensors = _index_arg(index)
    cdef TensorBase v = _operand(value, a)
    _check_inplace(a, v)
    try:
        a._data[idx] = v._data
    except IndexError as error:
        raise IndexError(str(error)) from None
    except ValueError as error:
        raise RuntimeError(f"cannot assign a tensor of shape {tuple(v._data.shape)} to the "
                           f"indexed part: {error}") from None
    _bump(a)
    _record_inplace(COPY_SLICES, a, (a, v), (None, v._data), (idx,), tensors)


WHERE = Op("WhereBackward0", ("condition", "self", "other"),
           self=lambda grad, condition: np.where(condition, grad, 0),
           other=lambda grad, condition: np.where(condition, 0, grad))


def where(condition, input, other):
    """input where condition holds, else other; gradients flow to the chosen side."""
    cond = (<TensorBase>condition)._data if isinstance(condition, TensorBase) \
        else np.asarray(condition)
    if cond.dtype.kind != 'b':
        raise TypeError(f"where expected condition to be a boolean tensor, but got {cond.dtype}")
    cdef TensorBase a = input if isinstance(input, TensorBase) else None
    cdef TensorBase b = other if isinstance(other, TensorBase) else None
    if a is None and b is None:
        raise TypeError("where: input or other must be a Tensor")
    if a is None:
        a = _operand(input, b)
    if b is None:
        b = _operand(other, a)
    dtype = _promote(a._data, b._data)
    try:
        out = np.where(cond, _cast_array(a._data, dtype), _cast_array(b._data, dtype))
    except ValueError:
        raise RuntimeError(f"where: the shapes {tuple(cond.shape)}, {tuple(a._data.shape)} and "
                           f"{tuple(b._data.shape)} cannot be broadcast together") from None
    c = condition if isinstance(condition, TensorBase) else cond
    return _record(WHERE, out, (c, a, b))
