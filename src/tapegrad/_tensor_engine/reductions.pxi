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
    """dim as numpy's axis: None for every dimension (dim None, or an empty tuple, as
    torch), an int, or a tuple of distinct ints."""
    if x.ndim == 0 or isinstance(dim, (tuple, list)) and len(dim) == 0:
        return None
    axes = _dims(dim, x.ndim)
    if isinstance(axes, tuple) and len(set(axes)) != len(axes):
        for d in axes:
            if axes.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return axes


def sum_op(input, dim=None, keepdim=False, *, dtype=None):
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    axes = _reduced_axes(dim, x)
    if dtype is not None:
        x = x.astype(as_dtype(dtype))
    elif x.dtype.kind in 'ub':
        x = x.astype(np.int64)
    if x.dtype.kind == 'f':
        with np.errstate(invalid='ignore', over='ignore'):    # inf + -inf is NaN, quietly
            out = np.asarray(x.sum(axis=axes, keepdims=keepdim))
    else:
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
    with np.errstate(invalid='ignore', over='ignore'):        # inf + -inf is NaN, quietly
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
    _check_not_empty(fn.__name__, x, dim)
    if dim is None:      # the flat index (in a shape of ones with keepdim, as torch)
        return _wrap(np.asarray(fn(x, keepdims=keepdim), dtype=np.int64), None)
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
    with np.errstate(invalid='ignore'):         # inf - inf: NaN, as torch's
        shifted, axis, out_dtype = _shifted(a, dim)
        e = np.exp(shifted)
        out = (e / e.sum(axis=axis, keepdims=True)).astype(out_dtype, copy=False)
    return _record(SOFTMAX, out, (a,), (axis if axis is not None else 0,))


def log_softmax(input, dim, dtype=None):
    """x - log(sum(exp(x))) along dim, computed stably."""
    cdef TensorBase a = _as_tensor(input)
    if dtype is not None:
        a = _cast(a, as_dtype(dtype), False)
    with np.errstate(divide='ignore', invalid='ignore'):
        shifted, axis, out_dtype = _shifted(a, dim)
        out = (shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))).astype(
            out_dtype, copy=False)
    return _record(LOG_SOFTMAX, out, (a,), (axis if axis is not None else 0,))


# ------------------------------------------------- more reductions (issue 12)
# prod, cumsum, logsumexp, amax/amin, all/any.

cdef int _check_not_empty(str name, object x, object dim, bint all_dims_is_runtime=False) \
        except -1:
    """torch's refusal to reduce an empty input (or an empty dim) without an identity."""
    if x.size != 0:
        return 0
    if dim is None or isinstance(dim, (tuple, list)) and len(dim) == 0:
        message = f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
        if all_dims_is_runtime:
            raise RuntimeError(message + " Specify the reduction dim with the 'dim' argument.")
        raise IndexError(message)
    axes = _dims(dim, x.ndim)
    for d in (axes if isinstance(axes, tuple) else (axes,)):
        if x.ndim and x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return 0


cdef object _product_of_the_others(object x, object axis):
    """Each element's product of the other elements along axis (all of them, for
    None): exclusive products from both ends, so a zero in x needs no division."""
    if axis is None:
        return _product_of_the_others(x.reshape(-1), 0).reshape(x.shape)
    if x.shape[axis] == 0:
        return np.zeros(x.shape, x.dtype)
    moved = np.moveaxis(x, axis, -1)
    ones = np.ones(moved.shape[:-1] + (1,), x.dtype)
    before = np.cumprod(np.concatenate([ones, moved[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, moved[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis(before * after, -1, axis)


PROD = Op("ProdBackward0", ("self",), quiet=True,
          self=lambda grad, self: grad * _product_of_the_others(self, None))
PROD_DIM = Op("ProdBackward1", ("self",), ("axis", "keepdim"), quiet=True,
              self=lambda grad, self, axis, keepdim:
              _kept(grad, axis, keepdim) * _product_of_the_others(self, axis))


cdef object _accumulating(object x, object dtype):
    """x in the dtype a sum or product gives: dtype if given, int64 for bool and unsigned."""
    if dtype is not None:
        return x.astype(as_dtype(dtype))
    if x.dtype.kind in 'ub':
        return x.astype(np.int64)
    return x


def prod(input, dim=None, keepdim=False, *, dtype=None):
    cdef TensorBase a = _as_tensor(input)
    x = _accumulating(a._data, dtype)
    with np.errstate(over='ignore', invalid='ignore'):
        if dim is None:
            return _record(PROD, np.asarray(x.prod()), (a,))
        axis = None if x.ndim == 0 else _dim(dim, x.ndim)
        out = np.asarray(x.prod(axis=axis, keepdims=keepdim))
    return _record(PROD_DIM, out, (a,), (axis, keepdim))


cdef object _reverse_cumsum(object grad, object axis):
    if axis is None:
        return grad
    return np.flip(np.cumsum(np.flip(grad, axis), axis=axis), axis)


CUMSUM = Op("CumsumBackward0", ("self",), ("axis",),
            self=lambda grad, axis: _reverse_cumsum(grad, axis))


def cumsum(input, dim, *, dtype=None):
    cdef TensorBase a = _as_tensor(input)
    x = _accumulating(a._data, dtype)
    axis = _dim(dim, x.ndim)
    if x.ndim == 0:
        return _record(CUMSUM, x.copy(), (a,), (None,))
    with np.errstate(invalid='ignore', over='ignore'):
        out = np.cumsum(x, axis=axis)
    return _record(CUMSUM, out, (a,), (axis,))


LOGSUMEXP = Op("LogsumexpBackward0", ("self",), ("axes", "keepdim"), quiet=True,
               self=lambda grad, self, result, axes, keepdim:
               _kept(grad, axes, keepdim) * np.exp(self - _kept(result, axes, keepdim)))


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over dim, shifted by the maximum so that it cannot overflow."""
    cdef TensorBase a = _as_tensor(input)
    x = a._data if a._data.dtype.kind == 'f' else a._data.astype(_default_dtype)
    axes = _reduced_axes(dim, x)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        if x.size:
            shift = x.max(axis=axes, keepdims=True)
            shift = np.where(np.isfinite(shift), shift, 0)    # all -inf, or an inf
        else:
            shift = np.zeros((), x.dtype)
        out = np.log(np.exp(x - shift).sum(axis=axes, keepdims=True)) + shift
    if not keepdim:
        out = out.reshape(()) if axes is None else np.squeeze(out, axis=axes)
    return _record(LOGSUMEXP, np.asarray(out, dtype=x.dtype), (a,), (axes, keepdim))


cdef object _shared_by_extremes(object grad, object x, object result, object axes,
                                bint keepdim):
    """amax's (amin's) gradient: shared evenly by the elements equal to the extreme."""
    mask = x == _kept(result, axes, keepdim)
    return _kept(grad, axes, keepdim) * mask / mask.sum(axis=axes, keepdims=True)


AMAX = Op("AmaxBackward0", ("self",), ("axes", "keepdim"), quiet=True,
          self=lambda grad, self, result, axes, keepdim:
          _shared_by_extremes(grad, self, result, axes, keepdim))
AMIN = Op("AminBackward0", ("self",), ("axes", "keepdim"), quiet=True,
          self=lambda grad, self, result, axes, keepdim:
          _shared_by_extremes(grad, self, result, axes, keepdim))


cdef TensorBase _amax_amin(object input, object dim, bint keepdim, bint is_max):
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    _check_not_empty("amax" if is_max else "amin", x, dim, True)
    axes = _reduced_axes(dim, x)
    out = np.asarray(x.max(axis=axes, keepdims=keepdim) if is_max
                     else x.min(axis=axes, keepdims=keepdim))
    return _record(AMAX if is_max else AMIN, out, (a,), (axes, keepdim))


def amax(input, dim=(), keepdim=False):
    return _amax_amin(input, dim, keepdim, True)


def amin(input, dim=(), keepdim=False):
    return _amax_amin(input, dim, keepdim, False)


cdef TensorBase _all_any(object fn, object input, object dim, bint keepdim):
    x = _as_tensor(input)._data
    out = np.asarray(fn(x, axis=_reduced_axes(dim, x), keepdims=keepdim))
    # torch's all and any of a uint8 tensor are uint8
    return _wrap(out.astype(np.uint8) if x.dtype == np.uint8 else out, None)


def all_op(input, dim=None, keepdim=False):
    return _all_any(np.all, input, dim, keepdim)


def any_op(input, dim=None, keepdim=False):
    return _all_any(np.any, input, dim, keepdim)


AminmaxResult = namedtuple("aminmax", ["min", "max"])


def aminmax(input, *, dim=None, keepdim=False):
    """(amin, amax) over every element or along dim."""
    cdef TensorBase a = _as_tensor(input)
    dims = () if dim is None else dim
    return AminmaxResult(amin(a, dims, keepdim), amax(a, dims, keepdim))
