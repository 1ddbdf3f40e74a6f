# Recording: the op table's entries (Op), the graph's nodes (Node), and the
# plumbing every op shares, written once here: grad mode, edges, sequence
# numbers, saving what the vector-Jacobian products read (with the versions of
# the tensors it came from), and fitting each input's gradient to the input:
# undoing broadcasting and casting to its dtype.
#
# An op is declared by its forward and, per input, a vector-Jacobian product
# whose parameters name what it reads, as torch's derivatives.yaml does:
#
#     MUL = Op("MulBackward0", ("self", "other"),
#              self=lambda grad, other: grad * other,
#              other=lambda grad, self: grad * self)
#
# The names are the op's inputs, "result", and the op's params. Only what the
# products of the inputs that need a gradient read is saved.

cdef long long _seq = 0


cdef class Op:
    """An entry of the op table: a differentiable operation named as torch names its
    grad_fn, with the vector-Jacobian product of each of its inputs."""
    cdef readonly str name
    cdef tuple inputs          # the inputs' names
    cdef tuple params          # the names of its non-tensor arguments
    cdef tuple vjps            # per input: fn(grad, *what it reads) -> gradient, or None
    cdef tuple reads           # per input: indexes of what its vjp reads in the saved tuple
    cdef object vjp_all        # ops of any number of inputs (cat): fn(grad, ...) -> gradients
    cdef tuple reads_all
    cdef Py_ssize_t ninputs, nsaved
    cdef bint quiet            # its vjps may divide by zero (torch's inf, without a warning)
    cdef bint reads_nothing

    def __init__(self, name, inputs, params=(), vjp=None, quiet=False, **vjps):
        self.name = name
        self.quiet = quiet
        self.inputs = tuple(inputs)
        self.params = tuple(params)
        self.ninputs = len(self.inputs)
        # what is saved: each input's value, the result, then the params
        names = self.inputs + ("result",) + self.params
        self.nsaved = len(names)
        unknown = set(vjps) - set(self.inputs)
        if unknown:
            raise TypeError(f"{name}: vjps of unknown inputs {sorted(unknown)}")
        self.vjps = tuple(vjps.get(n) for n in self.inputs)
        self.reads = tuple(_reads(name, names, fn) for fn in self.vjps)
        self.vjp_all = vjp
        self.reads_all = _reads(name, names, vjp)
        self.reads_nothing = not self.reads_all and not any(self.reads)

    def __repr__(self):
        return f"Op({self.name})"


cdef tuple _reads(str op_name, tuple names, object fn):
    """The indexes, in names, of the parameters of fn after its first (grad)."""
    if fn is None:
        return ()
    code = fn.__code__
    wanted = code.co_varnames[1:code.co_argcount]
    for w in wanted:
        if w not in names:
            raise TypeError(f"{op_name}: a vjp reads {w!r}, which is none of {names}")
    return tuple(names.index(w) for w in wanted)


cdef class Node:
    """A recorded operation: the grad_fn of the tensor it made."""
    cdef Op op
    cdef tuple edges          # per input: Node, leaf tensor, or None (no gradient wanted)
    cdef tuple saved          # inputs' values, result, params: what the vjps read, else None
    cdef tuple shapes         # per input needing a gradient: its shape; else None
    cdef tuple dtypes
    cdef tuple versions       # (_Version, value at save) of the tensors saved
    cdef long long seq
    cdef long long visited    # the epoch of the last search that reached it
    cdef bint freed
    cdef object retain        # weakref to its output, when that called retain_grad()
    cdef list hooks           # its output's hooks (register_hook)

    cdef tuple apply(self, object g):
        """The gradients of the inputs, each fitted to its input."""
        _check_versions(self)
        if self.op.quiet:
            # (muting numpy costs microseconds: only the ops whose vjps may divide by 0)
            token = _quiet_begin()
            try:
                return self._apply(g)
            finally:
                _quiet_end(token)
        return self._apply(g)

    cdef tuple _apply(self, object g):
        cdef Op op = self.op
        cdef tuple saved = self.saved
        cdef tuple edges = self.edges
        cdef Py_ssize_t k
        if op.vjp_all is not None:
            grads = _call(op.vjp_all, g, op.reads_all, saved)
            return tuple(None if edges[k] is None or grads[k] is None
                         else _fit(grads[k], <tuple>self.shapes[k], self.dtypes[k])
                         for k in range(len(edges)))
        out = []
        for k in range(op.ninputs):
            if edges[k] is None:
                out.append(None)
            else:
                out.append(_fit(_call(op.vjps[k], g, <tuple>op.reads[k], saved),
                                <tuple>self.shapes[k], self.dtypes[k]))
        return tuple(out)

    cdef void release(self):
        """Drops what was saved for backward."""
        self.saved = None

    def name(self):
        return self.op.name

    @property
    def next_functions(self):
        return tuple((_edge_as_function(e), 0) for e in self.edges)

    def register_hook(self, fn):
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(fn)
        return _HookHandle(self.hooks, fn)

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


cdef inline object _call(object fn, object g, tuple reads, tuple saved):
    cdef Py_ssize_t n = len(reads)
    if n == 0:
        return fn(g)
    if n == 1:
        return fn(g, saved[<Py_ssize_t>reads[0]])
    if n == 2:
        return fn(g, saved[<Py_ssize_t>reads[0]], saved[<Py_ssize_t>reads[1]])
    return fn(g, *[saved[<Py_ssize_t>i] for i in reads])


class _HookHandle:
    """What register_hook returns: remove() takes the hook away."""

    def __init__(self, hooks, fn):
        self.hooks, self.fn = hooks, fn

    def remove(self):
        if self.fn in self.hooks:
            self.hooks.remove(self.fn)


cdef class AccumulateGrad:
    """What next_functions shows for a leaf: it adds into the leaf's .grad.

    Attributes
    ----------
    variable : Tensor
        The leaf it adds into, as torch's AccumulateGrad.variable.
    """
    cdef public object variable

    def name(self):
        """torch's name for it, "torch::autograd::AccumulateGrad"."""
        return "torch::autograd::AccumulateGrad"   # torch's name() of it

    @property
    def next_functions(self):
        """(): a leaf's gradient goes nowhere further."""
        return ()

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


cdef object _edge_as_function(object edge):
    if isinstance(edge, TensorBase):
        acc = AccumulateGrad()
        acc.variable = edge
        return acc
    return edge


cdef inline object _edge(TensorBase t):
    if t._grad_fn is not None:
        return t._grad_fn
    if t._requires_grad:
        return t
    return None


cdef inline bint _needs_grad(object x) noexcept:
    return isinstance(x, TensorBase) and (<TensorBase>x)._requires_grad


cdef inline object _value(object x):
    """What an op computes with: a tensor's array, or a constant (a Python number) itself."""
    return (<TensorBase>x)._data if isinstance(x, TensorBase) else x


cdef Node _node(Op op, tuple inputs, tuple values, tuple params, TensorBase result,
                tuple watched):
    """The node of op, or None when no gradient is wanted.

    inputs are the op's inputs (tensors or constants), values what its vjps see
    of them (their arrays, or a copy taken before an in-place write), result the
    tensor it made; the versions of watched tensors (indices, targets) are
    checked too."""
    global _seq
    cdef Py_ssize_t k, n = len(inputs), i
    cdef bint wanted = False
    cdef Node node
    cdef TensorBase t
    if not _grad_enabled():
        return None
    for k in range(n):
        if _needs_grad(inputs[k]):
            wanted = True
            break
    if not wanted:
        return None
    node = Node.__new__(Node)
    node.op = op
    _seq += 1
    node.seq = _seq
    if n == 1:      # the common arities without lists
        t = <TensorBase>inputs[0]
        node.edges, node.shapes, node.dtypes = (_edge(t),), (t._data.shape,), (t._data.dtype,)
    elif n == 2:
        x, y = inputs
        node.edges = (_edge(<TensorBase>x) if _needs_grad(x) else None,
                      _edge(<TensorBase>y) if _needs_grad(y) else None)
        node.shapes = ((<TensorBase>x)._data.shape if _needs_grad(x) else None,
                       (<TensorBase>y)._data.shape if _needs_grad(y) else None)
        node.dtypes = ((<TensorBase>x)._data.dtype if _needs_grad(x) else None,
                       (<TensorBase>y)._data.dtype if _needs_grad(y) else None)
    else:
        node.edges = tuple([_edge(<TensorBase>x) if _needs_grad(x) else None for x in inputs])
        node.shapes = tuple([(<TensorBase>x)._data.shape if _needs_grad(x) else None
                             for x in inputs])
        node.dtypes = tuple([(<TensorBase>x)._data.dtype if _needs_grad(x) else None
                             for x in inputs])
    edges = node.edges
    if op.reads_nothing and not watched:
        return node
    # what the products of the inputs that need a gradient read
    cdef list saved = [None] * op.nsaved
    cdef list versions = []
    cdef tuple reads
    for k in range(n):
        if edges[k] is None and op.vjp_all is None:
            continue
        reads = op.reads_all if op.vjp_all is not None else <tuple>op.reads[k]
        for i in reads:
            if saved[i] is not None:
                continue
            if i < op.ninputs:
                saved[i] = values[i]
                x = inputs[i]
                if isinstance(x, TensorBase) and values[i] is (<TensorBase>x)._data:
                    t = <TensorBase>x
                    _check_not_inference(t)
                    versions.append((_version_of(t), t._version.value))
            elif i == op.ninputs:
                saved[i] = result._data
                versions.append((_version_of(result), result._version.value))
            else:
                saved[i] = params[i - op.ninputs - 1]
        if op.vjp_all is not None:
            break
    for x in watched:
        if isinstance(x, TensorBase):
            t = <TensorBase>x
            versions.append((_version_of(t), t._version.value))
    node.saved = tuple(saved)
    node.versions = tuple(versions) if versions else None
    return node


cdef TensorBase _record(Op op, object out, tuple inputs, tuple params=(), tuple watched=()):
    """out, an array, as the tensor op made of inputs: with its node when a gradient is wanted."""
    if not isinstance(out, np.ndarray):
        out = np.asarray(out)       # numpy gives a scalar for a 0-d array and a number
    cdef TensorBase result = _wrap(out, None)
    cdef Node node
    cdef Py_ssize_t k
    if _grad_enabled():
        if len(inputs) == 1:
            values = (_value(inputs[0]),)
        elif len(inputs) == 2:
            values = (_value(inputs[0]), _value(inputs[1]))
        else:
            values = tuple([_value(x) for x in inputs])
        node = _node(op, inputs, values, params, result, watched)
        if node is not None:
            result._grad_fn = node
            result._requires_grad = True
    return result


cdef TensorBase _record_view(Op op, TensorBase base, object out, tuple params=(),
                             tuple watched=()):
    """out, a view of base's storage, as the tensor op made of base: it shares base's
    version counter, as torch's views do."""
    cdef TensorBase result = _record(op, out, (base,), params, watched)
    result._version = _version_of(base)
    result._base = base if base._base is None else base._base
    result._inference = base._inference
    return result


cdef int _check_versions(Node node) except -1:
    if node.versions is None:
        return 0
    for version, value in node.versions:
        if (<_Version>version).value != value:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: it is at version {(<_Version>version).value}; "
                f"expected version {value} instead. The output of {node.name()} "
                "or one of its inputs was changed in place after it was used.")
    return 0


cdef object _ndarray = np.ndarray


cdef inline bint _is_view_of(object out, object x):
    """Whether numpy made out as a view of x's memory (not of a copy): cheaper than
    np.may_share_memory, and exact for what reshape and indexing return."""
    base = out.base
    return base is not None and (base is x or base is x.base and x.base is not None)


cdef object _fit(object g, tuple shape, object dtype):
    """A vjp's gradient as the gradient of its input: broadcast dimensions are
    summed away, reduced ones expanded back, and the dtype is the input's."""
    if type(g) is not _ndarray:
        g = np.asarray(g)
    if g.shape != shape:
        g = _fit_shape(g, shape)
    if g.dtype is not dtype:
        g = g.astype(dtype)
    return g


cdef object _fit_shape(object g, tuple shape):
    cdef Py_ssize_t lead = g.ndim - len(shape)
    if lead > 0:
        g = g.sum(axis=tuple(range(lead)))
    if g.ndim == len(shape):
        axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
    if g.shape == shape:
        return g
    if g.size == 1 and g.flags.c_contiguous:
        # every element is g: zero strides (numpy's broadcast_to costs more than the
        # rest of a reduction's backward)
        return _ndarray(shape, dtype=g.dtype, buffer=g.reshape(()), strides=(0,) * len(shape))
    return np.broadcast_to(g, shape)
