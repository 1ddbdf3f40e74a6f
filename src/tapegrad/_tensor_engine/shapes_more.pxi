# More shape ops (issue 12): repeat, the views chunk/split/unbind/narrow (each
# piece's vjp puts its gradient back into a zero tensor of the input's shape,
# and the pieces' gradients add up), flip and roll (copies, as torch's),
# tril/triu, diag, outer and movedim.

cdef object _placed(object grad, object shape, object index):
    """A zero array of shape holding grad at index: a view's gradient."""
    out = np.zeros(shape, dtype=grad.dtype)
    out[index] = grad
    return out


REPEAT = Op("RepeatBackward0", ("self",), ("padded", "repeats"),
            self=lambda grad, padded, repeats: _unrepeated(grad, padded, repeats))


cdef object _unrepeated(object grad, tuple padded, tuple repeats):
    # (r0*d0, r1*d1, ...) -> (r0, d0, r1, d1, ...), summed over the r's
    split = []
    for r, d in zip(repeats, padded):
        split += [r, d]
    return grad.reshape(split).sum(axis=tuple(range(0, 2 * len(padded), 2))).reshape(padded)


cdef TensorBase _repeat(TensorBase a, tuple repeats):
    x = a._data
    if len(repeats) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    for r in repeats:
        if r < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {r}: "
                               f"{list(repeats)}")
    padded = (1,) * (len(repeats) - x.ndim) + tuple(x.shape)
    out = np.tile(x.reshape(padded), repeats)
    return _record(REPEAT, out, (a,), (padded, tuple(repeats)))


SPLIT = Op("SplitBackward0", ("self",), ("shape", "index"),
           self=lambda grad, shape, index: _placed(grad, shape, index))
SPLIT_WITH_SIZES = Op("SplitWithSizesBackward0", ("self",), ("shape", "index"),
                      self=lambda grad, shape, index: _placed(grad, shape, index))
UNBIND = Op("UnbindBackward0", ("self",), ("shape", "index"),
            self=lambda grad, shape, index: _placed(grad, shape, index))
SLICE = Op("SliceBackward0", ("self",), ("shape", "index"),
           self=lambda grad, shape, index: _placed(grad, shape, index))


cdef TensorBase _piece(Op op, TensorBase a, Py_ssize_t axis, object index_at_axis):
    """The view of a at index_at_axis along axis, recorded as op."""
    x = a._data
    index = (slice(None),) * axis + (index_at_axis,)
    return _record_view(op, a, x[index], (x.shape, index))


cdef Py_ssize_t _split_axis(TensorBase a, object dim) except -1:
    if a._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    return _dim(dim, a._data.ndim)


cdef tuple _split(TensorBase a, object split_size_or_sections, object dim):
    cdef Py_ssize_t axis = _split_axis(a, dim)
    cdef Py_ssize_t n = a._data.shape[axis]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {axis}), but got "
                               f"split_sizes={sizes}")
        op = SPLIT_WITH_SIZES
    else:
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        if size == 0 and n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        # an empty dim splits into one empty piece, as torch's
        sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
        op = SPLIT
    pieces, start = [], 0
    for s in sizes:
        pieces.append(_piece(op, a, axis, slice(start, start + s)))
        start += s
    return tuple(pieces)


cdef tuple _chunk(TensorBase a, object chunks, object dim):
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    cdef Py_ssize_t axis = _split_axis(a, dim)
    n = a._data.shape[axis]
    if n == 0:                      # an empty dim: chunks empty pieces, as torch's
        return tuple(_piece(SPLIT, a, axis, slice(0, 0)) for _ in range(chunks))
    return _split(a, -(-n // chunks), axis)     # torch's chunks: split(ceil(n / chunks))


cdef tuple _unbind(TensorBase a, object dim):
    if a._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    cdef Py_ssize_t axis = _dim(dim, a._data.ndim)
    return tuple(_piece(UNBIND, a, axis, i) for i in range(a._data.shape[axis]))


cdef TensorBase _narrow(TensorBase a, object dim, object start, object length):
    if a._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    cdef Py_ssize_t axis = _dim(dim, a._data.ndim)
    n = a._data.shape[axis]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _piece(SLICE, a, axis, slice(start, start + length))


cdef tuple _distinct_dims(object dims, Py_ssize_t ndim):
    axes = tuple(_dim(d, ndim) for d in ((dims,) if isinstance(dims, int) else dims))
    for d in axes:
        if axes.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return axes


FLIP = Op("FlipBackward0", ("self",), ("axes",),
          self=lambda grad, axes: np.flip(grad, axes))


cdef TensorBase _flip(TensorBase a, object dims):
    axes = _distinct_dims(dims, a._data.ndim) if a._data.ndim else ()
    # torch's flip copies: writing into the result leaves the input alone
    return _record(FLIP, np.flip(a._data, axes).copy(), (a,), (axes,))


ROLL = Op("RollBackward0", ("self",), ("shifts", "axes"),
          self=lambda grad, shifts, axes: _rolled(grad, tuple(-s for s in shifts), axes))


cdef object _rolled(object x, tuple shifts, object axes):
    if axes is None:                        # the flattened tensor, rolled, in its shape
        return np.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
    return np.roll(x, shifts, axes)


cdef bint _is_integer_like(object x):
    if isinstance(x, TensorBase):
        return (<TensorBase>x)._data.ndim == 0
    return isinstance(x, numbers.Integral)


cdef TensorBase _roll(TensorBase a, object shifts, object dims):
    # a shift may be any integer, a 0-d integer tensor included, as torch's
    shifts = (operator.index(shifts),) if _is_integer_like(shifts) else \
        tuple(operator.index(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               "dims:0")
        axes = None
    else:
        axes = (dims,) if isinstance(dims, int) else tuple(dims)
        if len(shifts) != len(axes):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               f"dims:{len(axes)}")
        axes = tuple(_dim(d, a._data.ndim) for d in axes)
    out = _rolled(a._data, shifts, axes)
    return _record(ROLL, out, (a,), (shifts, axes))


TRIL = Op("TrilBackward0", ("self",), ("diagonal",),
          self=lambda grad, diagonal: np.tril(grad, diagonal))
TRIU = Op("TriuBackward0", ("self",), ("diagonal",),
          self=lambda grad, diagonal: np.triu(grad, diagonal))


cdef TensorBase _triangle(TensorBase a, object diagonal, bint lower):
    if a._data.ndim < 2:
        raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at least 2 "
                           "dimensions")
    k = int(diagonal)
    out = np.tril(a._data, k) if lower else np.triu(a._data, k)
    return _record(TRIL if lower else TRIU, out, (a,), (k,))


DIAG_EMBED = Op("DiagEmbedBackward0", ("self",), ("diagonal",),
                self=lambda grad, diagonal: np.diagonal(grad, diagonal).copy())
# torch 2.13 names the node of diag() on a matrix DiagonalBackward0_copy
DIAGONAL = Op("DiagonalBackward0_copy", ("self",), ("diagonal", "shape"),
              self=lambda grad, diagonal, shape: _on_diagonal(grad, diagonal, shape))


cdef object _on_diagonal(object grad, Py_ssize_t k, tuple shape):
    """A zero matrix of shape with grad on its k-th diagonal."""
    out = np.zeros(shape, dtype=grad.dtype)
    n = grad.shape[0]
    rows = np.arange(n) + (0 if k >= 0 else -k)
    out[rows, rows + k] = grad
    return out


cdef TensorBase _diag(TensorBase a, object diagonal):
    x = a._data
    k = int(diagonal)
    if x.ndim == 1:
        return _record(DIAG_EMBED, np.diag(x, k), (a,), (k,))
    if x.ndim == 2:
        return _record(DIAGONAL, np.diagonal(x, k).copy(), (a,), (k, x.shape))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")


cdef TensorBase _outer(TensorBase a, object vec2):
    cdef TensorBase b = _operand(vec2, a)
    for name, t in (("self", a), ("vec2", b)):
        if (<TensorBase>t)._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got "
                               f"{(<TensorBase>t)._data.ndim}-D")
    # as torch: self.reshape(-1, 1) * vec2, so the gradients are MulBackward0's
    return _binary(MUL, np.multiply, _reshape(a, (a._data.shape[0], 1), False), b)


cdef TensorBase _movedim(TensorBase a, object source, object destination):
    cdef Py_ssize_t n = a._data.ndim
    src = _distinct_dims(source, n) if n else ()
    dst = _distinct_dims(destination, n) if n else ()
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    if not n:
        return _permute(a, ())
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _permute(a, tuple(order))
