# Products (issue 12): einsum, bmm, mm, mv and dot, with torch's checks.
#
# einsum's vjp of an operand is another einsum: the upstream gradient with the
# other operands, summed to the operand's distinct subscripts. A subscript that
# appears only in that operand (summed within it) is broadcast back, and a
# repeated one (a diagonal, "ii->i") is written onto the diagonal of zeros.

cdef str _LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


cdef tuple _einsum_subscripts(str equation, list arrays):
    """The equation's inputs' and output's subscripts, with '...' spelled out as
    letters (right-aligned, as broadcasting aligns them) and the implicit output
    (the subscripts used once, in alphabetical order) made explicit."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) > len(arrays):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(inputs) < len(arrays):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    spare = [c for c in _LETTERS if c not in eq]
    widest = 0
    for s, arr in zip(inputs, arrays):
        if "..." in s:
            widest = max(widest, arr.ndim - (len(s) - 3))
    dots = "".join(spare[:widest])
    spelled = []
    for k, (s, arr) in enumerate(zip(inputs, arrays)):
        if any(c not in _LETTERS for c in s.replace("...", "")):
            raise RuntimeError(f"einsum(): invalid subscript given at index "
                               f"{len(','.join(inputs[:k]))}in the equation string, subscripts "
                               "must be in [a-zA-Z]")
        if "..." in s:
            n = arr.ndim - (len(s) - 3)
            s = s.replace("...", dots[widest - n:] if n > 0 else "")
        if len(s) != arr.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) "
                               f"does not match the number of dimensions ({arr.ndim}) for "
                               f"operand {k} and no ellipsis was given")
        spelled.append(s)
    if arrow:
        out = rhs.replace("...", dots)
    else:
        used = "".join(spelled)
        out = dots + "".join(sorted(c for c in set(used) if used.count(c) == 1 and c not in dots))
    return spelled, out


cdef object _einsum_grad(object grad, tuple subscripts, str out, tuple arrays, Py_ssize_t k):
    """The gradient of operand k of einsum(subscripts -> out, arrays)."""
    mine = subscripts[k]
    shape = arrays[k].shape
    others = [subscripts[j] for j in range(len(arrays)) if j != k]
    seen = set(out).union(*others) if others else set(out)
    distinct = "".join(dict.fromkeys(mine))
    reached = "".join(c for c in distinct if c in seen)
    g = np.einsum(",".join([out] + others) + "->" + reached,
                  grad, *[arrays[j] for j in range(len(arrays)) if j != k])
    # back to every distinct subscript: those summed only within this operand broadcast
    # (reached keeps distinct's order, so a reshape puts size-1 axes where they are)
    size = {c: shape[mine.index(c)] for c in distinct}
    g = g.reshape([g.shape[reached.index(c)] if c in reached else 1 for c in distinct])
    g = np.broadcast_to(g, [g.shape[i] if c in reached else size[c]
                            for i, c in enumerate(distinct)])
    if len(distinct) == len(mine):
        return g
    # a repeated subscript: g lies on the diagonal of zeros of the operand's shape
    full = np.zeros(shape, dtype=g.dtype)
    strides = [0] * len(distinct)
    for axis, c in enumerate(mine):
        strides[distinct.index(c)] += full.strides[axis]
    diagonal = np.lib.stride_tricks.as_strided(full, [size[c] for c in distinct], strides,
                                               writeable=True)
    diagonal[...] = g
    return full


def _einsum_vjp(grad, subscripts, out, arrays):
    return [_einsum_grad(grad, subscripts, out, arrays, k) for k in range(len(arrays))]


EINSUM = Op("EinsumBackward0", (), ("subscripts", "out", "arrays"), vjp=_einsum_vjp)


def einsum(equation, *operands):
    """Einstein summation, as torch.einsum (and numpy's): the operands may be given as
    one list. Gradients flow to every operand."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError("einsum(): the equation must be a string (the sublist format is not "
                        "supported by tapegrad)")
    ts = [_as_tensor(t) for t in operands]
    if not ts:
        raise RuntimeError("einsum(): must provide at least one operand")
    arrays = [(<TensorBase>t)._data for t in ts]
    for arr in arrays[1:]:
        if arr.dtype != arrays[0].dtype:
            raise RuntimeError(f"expected scalar type {_scalar_type_name(arrays[0].dtype)} but "
                               f"found {_scalar_type_name(arr.dtype)}")
    subscripts, out = _einsum_subscripts(equation, arrays)
    size = {}
    for k, (s, arr) in enumerate(zip(subscripts, arrays)):
        for c, n in zip(s, arr.shape):
            if c in size and size[c] != n and n != 1 and size[c] != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                                   f"does not broadcast with previously seen size {size[c]}")
            size[c] = n if c not in size or size[c] == 1 else size[c]
    for c in out:
        if c not in size:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation "
                               "for any input operand")
        if out.count(c) > 1:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the "
                               "output")
    spec = ",".join(subscripts) + "->" + out
    result = np.asarray(np.einsum(spec, *arrays, optimize=len(arrays) > 2))
    if result.dtype != arrays[0].dtype:
        result = result.astype(arrays[0].dtype)
    # the operands' arrays are params of the vjp: watching the operands checks their
    # versions, so an in-place write before backward raises instead of misleading it
    return _record(EINSUM, result, tuple(ts), (tuple(subscripts), out, tuple(arrays)),
                   tuple(ts))


cdef int _same_scalar_type(object x, object y) except -1:
    if x.dtype != y.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_type_name(x.dtype)} but found "
                           f"{_scalar_type_name(y.dtype)}")
    return 0


BMM = Op("BmmBackward0", ("self", "mat2"),
         self=lambda grad, mat2: np.matmul(grad, mat2.swapaxes(-1, -2)),
         mat2=lambda grad, self: np.matmul(self.swapaxes(-1, -2), grad))


def bmm(input, mat2):
    cdef TensorBase a = _as_tensor(input)
    cdef TensorBase b = _operand(mat2, a)
    x, y = a._data, b._data
    if x.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if y.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if y.shape[:2] != (x.shape[0], x.shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{x.shape[0]}, {x.shape[2]}] but got: [{y.shape[0]}, {y.shape[1]}].")
    _same_scalar_type(x, y)
    return _record(BMM, np.matmul(x, y), (a, b))


MM_2D = Op("MmBackward0", ("self", "mat2"),
           self=lambda grad, mat2: _mm(grad, mat2.T),
           mat2=lambda grad, self: _mm(self.T, grad))


def mm(input, mat2):
    cdef TensorBase a = _as_tensor(input)
    cdef TensorBase b = _operand(mat2, a)
    x, y = a._data, b._data
    if x.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if y.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if x.shape[1] != y.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({x.shape[0]}x{x.shape[1]} "
                           f"and {y.shape[0]}x{y.shape[1]})")
    if x.dtype != y.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_torch_dtype_name(x.dtype)} != {_torch_dtype_name(y.dtype)}")
    return _record(MM_2D, _mm(x, y), (a, b))


# beta * self + alpha * (mat1 @ mat2): what nn.Linear records for a batch of rows, as torch
ADDMM = Op("AddmmBackward0", ("self", "mat1", "mat2"), ("beta", "alpha"),
           self=lambda grad, beta: grad if beta == 1 else grad * beta,
           mat1=lambda grad, mat2, alpha: _matmul_grad_self(grad if alpha == 1 else
                                                            grad * alpha, mat2),
           mat2=lambda grad, mat1, alpha: _matmul_grad_other(grad if alpha == 1 else
                                                             grad * alpha, mat1))


cdef int _check_expands_to(tuple shape, tuple target) except -1:
    """torch's expand(shape -> target) refusals, with its words."""
    if len(shape) > len(target):
        raise RuntimeError(f"expand: the number of sizes provided ({len(target)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({len(shape)})")
    cdef Py_ssize_t lead = len(target) - len(shape), k
    for k in range(len(shape) - 1, -1, -1):
        if shape[k] != 1 and shape[k] != target[lead + k]:
            raise RuntimeError(
                f"The expanded size of the tensor ({target[lead + k]}) must match the existing "
                f"size ({shape[k]}) at non-singleton dimension {lead + k}.  Target sizes: "
                f"{list(target)}.  Tensor sizes: {list(shape)}")
    return 0


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape."""
    cdef TensorBase a = _as_tensor(mat1)
    cdef TensorBase b = _operand(mat2, a)
    cdef TensorBase c = _operand(input, a)
    x, y, z = a._data, b._data, c._data
    if x.ndim != 2:
        raise RuntimeError("mat1 must be a matrix, got %d-D tensor" % x.ndim)
    if y.ndim != 2:
        raise RuntimeError("mat2 must be a matrix, got %d-D tensor" % y.ndim)
    if x.shape[1] != y.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({x.shape[0]}x{x.shape[1]} "
                           f"and {y.shape[0]}x{y.shape[1]})")
    if not (x.dtype == y.dtype == z.dtype):
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_torch_dtype_name(x.dtype)} != {_torch_dtype_name(y.dtype)}")
    product = _mm(x, y)
    _check_expands_to(z.shape, product.shape)
    if alpha != 1:
        product = product * alpha
    # beta == 0 ignores input, NaN and inf included, as torch
    out = product if beta == 0 else product + (z if beta == 1 else z * beta)
    return _record(ADDMM, _cast_array(np.asarray(out), x.dtype), (c, a, b), (beta, alpha))


MV = Op("MvBackward0", ("self", "vec"),
        self=lambda grad, vec: grad[:, None] * vec,
        vec=lambda grad, self: self.T @ grad)


def mv(input, vec):
    cdef TensorBase a = _as_tensor(input)
    cdef TensorBase b = _operand(vec, a)
    x, y = a._data, b._data
    if x.ndim != 2 or y.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {x.ndim}, {y.ndim}")
    if x.shape[1] != y.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({x.shape[0]}), mat "
                           f"({x.shape[0]}x{x.shape[1]}), vec ({y.shape[0]})")
    _same_scalar_type(x, y)
    return _record(MV, np.matmul(x, y), (a, b))


DOT = Op("DotBackward0", ("self", "tensor"),
         self=lambda grad, tensor: grad * tensor,
         tensor=lambda grad, self: grad * self)


def dot(input, tensor):
    cdef TensorBase a = _as_tensor(input)
    cdef TensorBase b = _operand(tensor, a)
    x, y = a._data, b._data
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src "
                           f"[{y.shape[0]}] to have the same number of elements, but got "
                           f"{x.shape[0]} and {y.shape[0]} elements respectively")
    if x.dtype != y.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_scalar_type_name(x.dtype)} and {_scalar_type_name(y.dtype)}")
    return _record(DOT, np.asarray(np.dot(x, y)), (a, b))


cdef str _scalar_type_name(object dtype):
    """torch's name of a dtype in its error messages ("expected scalar type Float")."""
    return {'float32': 'Float', 'float64': 'Double', 'int64': 'Long', 'int32': 'Int',
            'int16': 'Short', 'int8': 'Char', 'uint8': 'Byte', 'bool': 'Bool'}.get(
        dtype.name, dtype.name)


cdef object _matmul_error(object x, object y):
    """torch's error for matmul operands whose shapes do not multiply: the message of
    the product it runs for those dimensions (dot, mv, mm, or a batched product)."""
    if x.ndim == 1 and y.ndim == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src "
                            f"[{y.shape[0]}] to have the same number of elements, but got "
                            f"{x.shape[0]} and {y.shape[0]} elements respectively")
    if x.ndim == 2 and y.ndim == 1:
        return RuntimeError(f"size mismatch, got input ({x.shape[0]}), mat "
                            f"({x.shape[0]}x{x.shape[1]}), vec ({y.shape[0]})")
    if x.ndim <= 2 and y.ndim == 2:
        rows, inner = (1, x.shape[0]) if x.ndim == 1 else x.shape
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{inner} and "
                            f"{y.shape[0]}x{y.shape[1]})")
    batch_x = tuple(x.shape[:-2]) if x.ndim > 2 else ()
    batch_y = tuple(y.shape[:-2]) if y.ndim > 2 else ()
    try:
        batch = np.broadcast_shapes(batch_x, batch_y)
    except ValueError:
        return _broadcast_error(batch_x, batch_y)
    count = 1
    for b in batch:
        count *= b
    inner = x.shape[-1]
    rows = y.shape[-2] if y.ndim > 1 else y.shape[0]
    return RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                        f"[{count}, {inner}] but got: [{count}, {rows}].")
