# Sorting (issue 12): sort and topk, which return (values, indices) as torch's
# named tuples; the gradient flows through the values, back to where each came from.

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


cdef object _scattered_back(object grad, object indices, object shape, Py_ssize_t axis):
    """grad put back at the positions the values were taken from; 0 elsewhere."""
    out = np.zeros(shape, dtype=grad.dtype)
    if len(shape) == 0:
        return grad.copy()
    np.put_along_axis(out, indices, grad, axis=axis)
    return out


SORT = Op("SortBackward0", ("self",), ("indices", "shape", "axis"),
          self=lambda grad, indices, shape, axis: _scattered_back(grad, indices, shape, axis))
TOPK = Op("TopkBackward0", ("self",), ("indices", "shape", "axis"),
          self=lambda grad, indices, shape, axis: _scattered_back(grad, indices, shape, axis))


cdef object _order(object x, Py_ssize_t axis, bint descending):
    """The indices that sort x along axis, stably: equal elements keep their order,
    NaN counts as the largest (last ascending, first descending), as torch's."""
    if not descending:
        return np.argsort(x, axis=axis, kind='stable')
    # sorting the reversed x ascending and reversing that keeps ties in their order
    n = x.shape[axis]
    return (n - 1) - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind='stable'), axis)


def sort(input, dim=-1, descending=False, stable=False):
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    cdef Py_ssize_t axis = _dim(dim, x.ndim)
    if x.ndim == 0:
        return SortResult(_record(SORT, x.copy(), (a,), (None, (), 0)),
                          _wrap(np.zeros((), np.int64), None))
    indices = _order(x, axis, descending).astype(np.int64, copy=False)
    values = np.take_along_axis(x, indices, axis=axis)
    return SortResult(_record(SORT, values, (a,), (indices, x.shape, axis)),
                      _wrap(indices, None))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (smallest) elements along dim, in order (sorted or not)."""
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    cdef Py_ssize_t axis = _dim(dim, x.ndim)
    n = x.shape[axis] if x.ndim else 1
    if not 0 <= k <= n:       # (a 0-d tensor gives its value for k 0 or 1, as torch)
        raise RuntimeError("selected index k out of range")
    if x.ndim == 0:
        return TopkResult(_record(TOPK, x.copy(), (a,), (None, (), 0)),
                          _wrap(np.zeros((), np.int64), None))
    indices = np.take(_order(x, axis, largest), np.arange(k), axis=axis)
    indices = indices.astype(np.int64, copy=False)
    values = np.take_along_axis(x, indices, axis=axis)
    return TopkResult(_record(TOPK, values, (a,), (indices, x.shape, axis)),
                      _wrap(indices, None))
