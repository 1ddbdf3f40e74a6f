# Reductions: sum, mean, max/min (everything, or along a dim), argmax/argmin,
# softmax and log_softmax. A reduction's vjp gives the gradient in the reduced
# shape (dims kept); fitting it to the input expands it back.

cdef object _kept(object grad, object axes, bint keepdim):
    """grad with the reduced axes back, as size 1."""
    if keepdim or axes is None:
        return grad
    return np.expand_dims(grad, axes)


SUM = Op("SumBackward0", ("self",), self=lambda grad: grad)
SUM_DIM = Op("SumBackward1", ("self",), ("axes", "keepdim"),
             self=lambda grad, axes, keepdim: _kept(grad, axes, keepdim))
MEAN = Op("MeanBackward0", ("self",), ("count",), quiet=True,
          self=lambda grad, count: grad / count)
MEAN_DIM = Op("MeanBackward1", ("self",), ("axes", "keepdim", "count"), quiet=True,
              self=lambda grad, axes, keepdim, count: _kept(grad, axes, keepdim) / count)


cdef object _reduced_axes(object dim, object x):
    return None if x.ndim == 0 else _dims(dim, x.ndim)


def sum_op(input, dim=None, keepdim=False, *, dtype=None):
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    axes = _reduced_axes(dim, x)
    if dtype is not None:
        x = x.astype(as_dtype(dtype))
    elif x.dtype.kind in 'ub':
        x = x.astype(np.int64)
    out = np.asarray(x.sum(axis=axes, keepdims=keepdim))
    if dim is None:
        return _record(SUM, out, (a,))
    return _record(SUM_DIM, out, (a,), (axes, keepdim))


def mean(input, dim=None, keepdim=False, *, dtype=None):
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    if dtype is not None:
        x = x.astype(as_dtype(dtype))
    if x.dtype.kind != 'f':
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating "
                           f"point, but got {x.dtype}")
    axes = _reduced_axes(dim, x)
    total = np.asarray(x.sum(axis=axes, keepdims=keepdim))
    # sum / count: numpy's mean warns on an empty input, where torch quietly gives nan
    count = x.size // total.size if total.size else 0
    if count:
        out = np.asarray(total / count, dtype=x.dtype)
    else:
        with np.errstate(invalid='ignore', divide='ignore'):
            out = np.asarray(total / count, dtype=x.dtype)
    count = count or 1      # an empty input's gradient is empty: any count will do
    if dim is None:
        return _record(MEAN, out, (a,), (count,))
    return _record(MEAN_DIM, out, (a,), (axes, keepdim, count))


cdef object _evenly_distributed(object grad, object x, object result):
    """max()'s gradient: shared by the elements equal to the result (NaN ones, when
    the result is NaN), as torch."""
    mask = np.isnan(x) if np.isnan(result) else (x == result)
    return mask * (grad / mask.sum())


MAX = Op("MaxBackward1", ("self",), quiet=True,
         self=lambda grad, self, result: _evenly_distributed(grad, self, result))
MIN = Op("MinBackward1", ("self",), quiet=True,
         self=lambda grad, self, result: _evenly_distributed(grad, self, result))


cdef object _to_index(object grad, object indices, object shape, Py_ssize_t axis, bint keepdim):
    """max(dim)'s gradient: grad at the returned indices, 0 elsewhere."""
    out = np.zeros(shape, dtype=grad.dtype)
    if not keepdim:
        indices, grad = np.expand_dims(indices, axis), np.expand_dims(grad, axis)
    np.put_along_axis(out, indices, grad, axis=axis)
    return out


MAX_DIM = Op("MaxBackward0", ("self",), ("indices", "shape", "axis", "keepdim"),
             self=lambda grad, indices, shape, axis, keepdim:
             _to_index(grad, indices, shape, axis, keepdim))
MIN_DIM = Op("MinBackward0", ("self",), ("indices", "shape", "axis", "keepdim"),
             self=lambda grad, indices, shape, axis, keepdim:
             _to_index(grad, indices, shape, axis, keepdim))

ReturnTypes = namedtuple("return_types", ["values", "indices"])


cdef object _extreme(TensorBase a, object dim, bint keepdim, bint is_max):
    x = a._data
    if x.size == 0 and dim is None:
        raise RuntimeError(f"{'max' if is_max else 'min'}(): Expected reduction dim to be "
                           "specified for input.numel() == 0. Specify the reduction dim with "
                           "the 'dim' argument.")
    if dim is None:
        out = np.asarray(x.max() if is_max else x.min())
        return _record(MAX if is_max else MIN, out, (a,))
    axis = _dim(dim, x.ndim)
    if x.ndim == 0:
        return ReturnTypes(clone(a), _wrap(np.asarray(0), None))
    # numpy's argmax/argmin take the first NaN, as torch's max(dim) does
    indices = (np.argmax if is_max else np.argmin)(x, axis=axis, keepdims=True)
    values = np.take_along_axis(x, indices, axis=axis)
    if not keepdim:
        values = values.squeeze(axis)
        indices = indices.squeeze(axis)
    indices = indices.astype(np.int64)
    result = _record(MAX_DIM if is_max else MIN_DIM, values, (a,),
                     (indices, x.shape, axis, keepdim))
    return ReturnTypes(result, _wrap(indices, None))


def max_op(input, dim=None, keepdim=False):
    return _extreme(_as_tensor(input), dim, keepdim, True)


def min_op(input, dim=None, keepdim=False):
    return _extreme(_as_tensor(input), dim, keepdim, False)


cdef TensorBase _arg_extreme(object fn, object input, object dim, bint keepdim):
    x = _as_tensor(input)._data
    if dim is None:
        return _wrap(np.asarray(fn(x), dtype=np.int64), None)
    return _wrap(np.asarray(fn(x, axis=_dim(dim, x.ndim), keepdims=keepdim), dtype=np.int64),
                 None)


def argmax(input, dim=None, keepdim=False):
    return _arg_extreme(np.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _arg_extreme(np.argmin, input, dim, keepdim)


SOFTMAX = Op("SoftmaxBackward0", ("self",), ("axis",), quiet=True,
             self=lambda grad, result, axis:
             result * (grad - (grad * result).sum(axis=axis, keepdims=True)))
LOG_SOFTMAX = Op("LogSoftmaxBackward0", ("self",), ("axis",), quiet=True,
                 self=lambda grad, result, axis:
                 grad - np.exp(result) * grad.sum(axis=axis, keepdims=True))


cdef tuple _shifted(TensorBase a, object dim):
    """x - max(x) along dim (as a float array), and the axis."""
    x = a._data if a._data.dtype.kind == 'f' else a._data.astype(_default_dtype)
    axis = _dim(dim, x.ndim)
    if x.ndim == 0:
        axis = None
    return (x - x.max(axis=axis, keepdims=True) if x.size else x), axis, x.dtype


def softmax(input, dim, dtype=None):
    """exp(x) / sum(exp(x)) along dim, computed stably."""
    cdef TensorBase a = _as_tensor(input)
    if dtype is not None:
        a = _cast(a, as_dtype(dtype), False)
    shifted, axis, out_dtype = _shifted(a, dim)
    e = np.exp(shifted)
    out = (e / e.sum(axis=axis, keepdims=True)).astype(out_dtype, copy=False)
    return _record(SOFTMAX, out, (a,), (axis if axis is not None else 0,))


def log_softmax(input, dim, dtype=None):
    """x - log(sum(exp(x))) along dim, computed stably."""
    cdef TensorBase a = _as_tensor(input)
    if dtype is not None:
        a = _cast(a, as_dtype(dtype), False)
    shifted, axis, out_dtype = _shifted(a, dim)
    with np.errstate(divide='ignore'):
        out = (shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))).astype(
            out_dtype, copy=False)
    return _record(LOG_SOFTMAX, out, (a,), (axis if axis is not None else 0,))
