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


# ------------------------------------------------------------ order statistics
# median is torch's lower median (the ((n - 1) // 2)-th smallest); kthvalue the k-th
# smallest. NaN sorts last, and a NaN in the reduced elements makes the result NaN,
# as torch's. Along a dim they return (values, indices), whose gradient goes to the
# index; median of everything shares it among the elements equal to it.

MedianResult = namedtuple("median", ["values", "indices"])
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])

MEDIAN = Op("MedianBackward0", ("self",), quiet=True,
            self=lambda grad, self, result: _evenly_distributed(grad, self, result))
MEDIAN_DIM = Op("MedianBackward1", ("self",), ("indices", "shape", "axis", "keepdim"),
                self=lambda grad, indices, shape, axis, keepdim:
                _to_index(grad, indices, shape, axis, keepdim))
KTHVALUE = Op("KthvalueBackward0", ("self",), ("indices", "shape", "axis", "keepdim"),
              self=lambda grad, indices, shape, axis, keepdim:
              _to_index(grad, indices, shape, axis, keepdim))


cdef object _kth_along(object x, Py_ssize_t k, Py_ssize_t axis):
    """The index, along axis (kept), of the k-th smallest (from 0); a NaN's first index
    where the slice holds one."""
    order = np.argsort(x, axis=axis, kind='stable')       # NaN last
    index = np.take(order, [k], axis=axis)
    if x.dtype.kind == 'f':
        nan = np.isnan(x)
        has_nan = nan.any(axis=axis, keepdims=True)
        if has_nan.any():
            index = np.where(has_nan, np.argmax(nan, axis=axis, keepdims=True), index)
    return index


cdef object _order_statistic(TensorBase a, Py_ssize_t k, object dim, bint keepdim, Op op,
                             object result_type):
    x = a._data
    cdef Py_ssize_t axis = _dim(dim, x.ndim)
    if x.ndim == 0:
        return result_type(_record(op, x.copy(), (a,), (np.zeros((), np.int64), (), 0, True)),
                           _wrap(np.zeros((), np.int64), None))
    index = _kth_along(x, k, axis)
    values = np.take_along_axis(x, index, axis=axis)
    if not keepdim:
        values, index = values.squeeze(axis), index.squeeze(axis)
    index = index.astype(np.int64, copy=False)
    return result_type(_record(op, values, (a,), (index, x.shape, axis, keepdim)),
                       _wrap(index, None))


def median(input, dim=None, keepdim=False):
    """The lower median of every element, or (values, indices) along dim."""
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    if dim is None:
        if x.size == 0:
            return _record(MEDIAN, np.asarray(np.nan, dtype=x.dtype), (a,))
        flat = x.reshape(-1)
        value = flat[_kth_along(flat, (flat.size - 1) // 2, 0)[0]]
        return _record(MEDIAN, np.asarray(value), (a,))
    n = x.shape[_dim(dim, x.ndim)] if x.ndim else 1
    if n == 0:
        raise IndexError(f"median(): Expected reduction dim {dim} to have non-zero size.")
    return _order_statistic(a, (n - 1) // 2, dim, keepdim, MEDIAN_DIM, MedianResult)


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest element (k from 1) along dim, as (values, indices)."""
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    n = x.shape[_dim(dim, x.ndim)] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    return _order_statistic(a, k - 1, dim, keepdim, KTHVALUE, KthvalueResult)
