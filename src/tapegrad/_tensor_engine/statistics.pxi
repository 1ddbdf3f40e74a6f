# Statistics (issue 12): var and std with torch's correction (or unbiased), and
# norm / linalg.vector_norm for any p, over all dims, one, or a tuple of them.

import warnings


cdef Py_ssize_t _count_reduced(object x, object axes):
    """How many elements each output element of a reduction over axes gathers."""
    if axes is None:
        return x.size
    cdef Py_ssize_t n = 1
    for d in (axes if isinstance(axes, tuple) else (axes,)):
        n *= x.shape[d]
    return n


cdef object _centred(object x, object axes):
    """x minus its mean over axes (a sum over a count: numpy's mean warns on empty)."""
    count = _count_reduced(x, axes)
    with np.errstate(invalid='ignore', divide='ignore'):
        return x - x.sum(axis=axes, keepdims=True) / count


VAR = Op("VarBackward0", ("self",), ("axes", "keepdim", "dof"), quiet=True,
         self=lambda grad, self, axes, keepdim, dof:
         _kept(grad, axes, keepdim) * (2 / dof) * _centred(self, axes))
cdef object _std_grad(object grad, object x, object std, object axes, bint keepdim,
                      object dof):
    """d std = (x - mean) / (dof * std); 0 where std is 0 (a constant), as torch's."""
    s = _kept(std, axes, keepdim)
    return np.where(s == 0, 0, _kept(grad, axes, keepdim) * _centred(x, axes) / (dof * s))


STD = Op("StdBackward0", ("self",), ("axes", "keepdim", "dof"), quiet=True,
         self=lambda grad, self, result, axes, keepdim, dof:
         _std_grad(grad, self, result, axes, keepdim, dof))


cdef TensorBase _variance(str name, object input, object dim, object unbiased, bint keepdim,
                          object correction):
    cdef TensorBase a = _as_tensor(input)
    if isinstance(dim, bool):          # var(unbiased): torch's older signature
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        "(correction=, unbiased=): give one of them")
    if correction is None:
        correction = 0 if unbiased is False else 1
    x = a._data
    if x.dtype.kind != 'f':
        raise RuntimeError("std and var only support floating point and complex dtypes")
    axes = _reduced_axes(dim, x)
    dof = _count_reduced(x, axes) - correction
    if dof <= 0 or x.size == 0:     # (torch warns for any empty input)
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    # a numpy float: dividing by a dof of 0 gives inf or NaN, as torch, not ZeroDivisionError
    dof = np.float64(max(dof, 0))
    with np.errstate(invalid='ignore', divide='ignore', over='ignore'):
        centred = _centred(x, axes)
        out = np.asarray((centred * centred).sum(axis=axes, keepdims=keepdim) / dof,
                         dtype=x.dtype)
    if name == "var":
        return _record(VAR, out, (a,), (axes, keepdim, dof))
    return _record(STD, np.sqrt(out), (a,), (axes, keepdim, dof))


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _variance("var", input, dim, unbiased, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _variance("std", input, dim, unbiased, keepdim, correction)


cdef object _norm_grad(object grad, object x, object norm, double p, object axes,
                       bint keepdim):
    """d ||x||_p: sign(x) |x|^(p-1) / ||x||^(p-1) (0 where the norm is 0, as torch);
    for p = +-inf, sign(x) shared evenly by the elements at the extreme."""
    g = _kept(grad, axes, keepdim)
    n = _kept(norm, axes, keepdim)
    if p == 0:
        return np.zeros(x.shape, x.dtype)
    if p == 1:
        return g * np.sign(x)
    if p == 2:
        return np.where(n == 0, 0, g * x / n)
    size = np.abs(x)
    if np.isinf(p):
        at_extreme = (size == n) | np.isnan(size)
        return np.sign(x) * g * at_extreme / at_extreme.sum(axis=axes, keepdims=True)
    scaled = np.sign(x) * np.where(x == 0, 0, size ** (p - 1))
    if p < 1:
        return scaled * g * n ** (1 - p)
    return np.where(n == 0, 0, scaled * g / n ** (p - 1))


VECTOR_NORM = Op("LinalgVectorNormBackward0", ("self",), ("p", "axes", "keepdim"), quiet=True,
                 self=lambda grad, self, result, p, axes, keepdim:
                 _norm_grad(grad, self, result, p, axes, keepdim))


def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.vector_norm: ``sum(abs(x) ** ord) ** (1 / ord)`` over dim, with ord 0
    (the count of non-zeros), inf (the largest abs(x)) and -inf (the smallest)."""
    cdef TensorBase a = _as_tensor(input)
    if dtype is not None:
        a = _cast(a, as_dtype(dtype), False)
    x = a._data
    if x.dtype.kind != 'f':
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {_type_name(x.dtype)}")
    p = float(ord)
    axes = _reduced_axes(dim, x)
    if np.isinf(p) and x.size == 0:
        which = "inf" if p > 0 else "-inf"
        if axes is None:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {which} norm on an "
                               "empty tensor because the operation does not have an identity")
        for d in (axes if isinstance(axes, tuple) else (axes,)):
            if x.shape[d] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {which} norm on "
                                   f"the dimension {d}because this dimension is empty and "
                                   "the operation does not have an identity")
    size = np.abs(x)
    with np.errstate(over='ignore', invalid='ignore', divide='ignore'):
        if p == 2:
            out = np.sqrt((x * x).sum(axis=axes, keepdims=keepdim))
        elif p == 1:
            out = size.sum(axis=axes, keepdims=keepdim)
        elif p == 0:
            out = (x != 0).sum(axis=axes, keepdims=keepdim)
        elif p == np.inf:
            out = size.max(axis=axes, keepdims=keepdim) if x.size else size.sum(axis=axes,
                                                                                keepdims=keepdim)
        elif p == -np.inf:
            out = size.min(axis=axes, keepdims=keepdim) if x.size else size.sum(axis=axes,
                                                                                keepdims=keepdim)
        else:
            out = (size ** p).sum(axis=axes, keepdims=keepdim) ** (1 / p)
    return _record(VECTOR_NORM, np.asarray(out, dtype=x.dtype), (a,), (p, axes, keepdim))


def norm(input, p='fro', dim=None, keepdim=False, dtype=None):
    """torch.norm: a vector norm over dim (all dims by default); 'fro' is the 2-norm."""
    if isinstance(p, str):
        if p == 'nuc':
            raise NotImplementedError("tapegrad: norm(p='nuc'), the nuclear norm, is not "
                                      "implemented")
        if p != 'fro':
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            # torch's 'fro' over more than two dims is a matrix norm, and refused
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                               f"{' '.join(str(d) for d in dim)}")
        p = 2
    elif p is None:
        p = 2
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over dim, as torch's var_mean."""
    return (_variance("var", input, dim, unbiased, keepdim, correction),
            mean(input, None if isinstance(dim, bool) else dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over dim, as torch's std_mean."""
    return (_variance("std", input, dim, unbiased, keepdim, correction),
            mean(input, None if isinstance(dim, bool) else dim, keepdim))
