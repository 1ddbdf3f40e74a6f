# The backward engine. Nodes carry their recording sequence number, and
# recording order is a topological order: backward collects the nodes the roots
# reach, sorts them by sequence number in C and runs them newest first, each
# node's incoming gradient summed before it runs. No recursion.
#
# Every call keeps its own gradient buffers, so threads may run backward on
# one graph at once. What reaches the leaves is summed per leaf and added into
# their .grad only when the whole sweep has succeeded: a failed backward
# leaves no gradient behind. Adding into a .grad holds a lock, so threads
# sharing a parameter lose no gradient.

from cpython.pythread cimport (PyThread_type_lock, PyThread_allocate_lock, PyThread_acquire_lock,
                               PyThread_release_lock, WAIT_LOCK, NOWAIT_LOCK)
from cpython.ref cimport Py_REFCNT

cdef long long _epoch = 0
cdef PyThread_type_lock _grad_lock = PyThread_allocate_lock()


cdef int _by_seq_descending(const void *a, const void *b) noexcept nogil:
    cdef long long x = (<long long *>a)[0]
    cdef long long y = (<long long *>b)[0]
    return (x < y) - (x > y)


cdef inline object _summed(object current, object g):
    return g if current is None else current + g


cdef list _reachable(list roots):
    """The nodes the roots reach, newest first: recording order reversed.

    The marks are an epoch per search; the search runs without releasing the
    GIL, so searches of two threads never interleave."""
    global _epoch
    _epoch += 1
    cdef long long epoch = _epoch
    cdef list found = []
    cdef list stack = list(roots)
    cdef Node node
    while stack:
        node = stack.pop()
        if node.visited == epoch:
            continue
        node.visited = epoch
        found.append(node)
        for edge in node.edges:
            if isinstance(edge, Node) and (<Node>edge).visited != epoch:
                stack.append(edge)
    cdef Py_ssize_t n = len(found), i
    cdef long long *keys = <long long *>malloc(2 * (n if n > 0 else 1) * sizeof(long long))
    if keys is NULL:
        raise MemoryError()
    try:
        for i in range(n):
            keys[2 * i] = (<Node>found[i]).seq
            keys[2 * i + 1] = i
        with nogil:
            qsort(keys, n, 2 * sizeof(long long), _by_seq_descending)
        return [found[keys[2 * i + 1]] for i in range(n)]
    finally:
        free(keys)


cdef object _writable(object g):
    """g as an array user code may write into (a hook, a Function's backward): its own
    copy, since the gradient may be shared (add passes one array to both inputs)."""
    return np.array(g, copy=True)


cdef object _run_hooks(list hooks, object g):
    for hook in list(hooks):
        g = _writable(g)
        replaced = hook(_wrap(g, None))
        if replaced is not None:
            if not isinstance(replaced, TensorBase) or \
                    (<TensorBase>replaced)._data.shape != g.shape:
                raise RuntimeError(f"hook {hook!r} returned {replaced!r}: a hook must return "
                                   f"None or a tensor of the gradient's shape {tuple(g.shape)}")
            g = (<TensorBase>replaced)._data
    return g


cdef void _lock_grads() noexcept:
    if not PyThread_acquire_lock(_grad_lock, NOWAIT_LOCK):
        with nogil:
            PyThread_acquire_lock(_grad_lock, WAIT_LOCK)


cdef void _add_to_grad(TensorBase t, object g) except *:
    """t.grad += g, atomically: numpy's += releases the GIL, and two threads may add."""
    g = _cast_array(g, t._data.dtype)
    if g.shape != t._data.shape:
        g = np.broadcast_to(g, t._data.shape)
    # a gradient nothing else refers to becomes .grad as it is; others are copied
    flags = g.flags
    own = Py_REFCNT(g) <= 2 and flags.owndata and flags.writeable and flags.c_contiguous
    _lock_grads()
    token = _quiet_begin()
    try:
        if t._grad is None:
            t._grad = _wrap(g if own else np.array(g, copy=True), None)
        else:
            grad = <TensorBase>t._grad
            if grad._data.flags.writeable:
                grad._data += g
                _bump(grad)
            else:
                grad._data = grad._data + g
    finally:
        _quiet_end(token)
        PyThread_release_lock(_grad_lock)


cdef object _freed_error():
    return RuntimeError(
        "Trying to backward through the graph a second time (or directly access saved tensors "
        "after they have already been freed). Saved intermediate values of the graph are freed "
        "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
        "backward through the graph a second time or if you need to access saved tensors after "
        "calling backward.")


cdef object _seed(TensorBase out, object g, Py_ssize_t i):
    if not out._requires_grad:
        raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                           "a grad_fn")
    if g is None:
        if out._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return np.ones(out._data.shape, dtype=out._data.dtype)
    g = (<TensorBase>g)._data if isinstance(g, TensorBase) else np.asarray(g)
    if g.shape != out._data.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                           f"{tuple(g.shape)} and output[{i}] has a shape of "
                           f"{tuple(out._data.shape)}.")
    return _cast_array(g, out._data.dtype)


def run_backward(tuple outputs, tuple grads, bint retain_graph, inputs=None, capture=None):
    """Runs backward from outputs seeded with grads, accumulating into the leaves'
    .grad (only those of inputs, when given). With capture (a dict of key ->
    tensor), returns the gradients of those tensors instead: autograd.grad."""
    cdef TensorBase out
    cdef Node node
    cdef Py_ssize_t i, k
    # every output and seed is checked before anything runs
    seeds = []
    for i, output in enumerate(outputs):
        if not isinstance(output, TensorBase):
            raise TypeError(f"backward: outputs must be Tensors, not {type(output).__name__}")
        seeds.append((output, _seed(<TensorBase>output, grads[i] if i < len(grads) else None, i)))
    wanted = None            # id(leaf or node) -> key of what is collected
    targets = {}             # key -> the tensor whose .grad gets it
    if capture is not None:
        wanted = {}
        for key, t in capture.items():
            wanted[id((<TensorBase>t)._grad_fn) if (<TensorBase>t)._grad_fn is not None
                   else id(t)] = key
    elif inputs is not None:
        inputs = (inputs,) if isinstance(inputs, TensorBase) else tuple(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        wanted = {}
        for t in inputs:
            if not isinstance(t, TensorBase):
                raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got "
                                   f"{type(t).__name__}")
            if not (<TensorBase>t)._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            wanted[id((<TensorBase>t)._grad_fn) if (<TensorBase>t)._grad_fn is not None
                   else id(t)] = id(t)
            targets[id(t)] = t

    retained = {}            # id -> (non-leaf that called retain_grad(), its gradient)
    pending = {}             # node -> its summed incoming gradient, this call's own
    collected = {}           # key -> summed gradient (leaves, retained, inputs, captures)
    roots = []
    for output, g in seeds:
        out = output
        if out._grad_fn is None:
            _collect_leaf(out, g, wanted, collected, targets)
        else:
            pending[out._grad_fn] = _summed(pending.get(out._grad_fn), g)
            roots.append(out._grad_fn)

    cdef list order = _reachable(roots)
    cdef tuple edges, grads_in
    for node in order:
        g = pending.pop(node, None)
        if g is None:
            continue
        if node.freed:
            raise _freed_error()
        if node.hooks:
            g = _run_hooks(node.hooks, g)
        if wanted is not None:
            key = wanted.get(id(node))
            if key is not None:
                collected[key] = _summed(collected.get(key), g)
        if node.retain is not None:
            target = node.retain()
            if target is not None:
                retained[id(target)] = (target, _summed(
                    retained[id(target)][1] if id(target) in retained else None, g))
        grads_in = node.apply(g)
        if not retain_graph:
            node.release()
            node.freed = True
        edges = node.edges
        for k in range(len(edges)):
            edge = edges[k]
            gi = grads_in[k]
            if edge is None or gi is None:
                continue
            if isinstance(edge, Node):
                pending[edge] = _summed(pending.get(edge), gi)
            else:           # a leaf tensor (or a subclass: Parameter)
                _collect_leaf(<TensorBase>edge, gi, wanted, collected, targets)
    g = gi = grads_in = None    # so that a collected gradient's only owner is collected
    # the sweep succeeded; the leaves' hooks run (and may still raise) before any .grad changes
    if capture is not None:
        for key, t in capture.items():
            if key in collected and (<TensorBase>t)._hooks is not None \
                    and (<TensorBase>t)._grad_fn is None:
                collected[key] = _run_hooks((<TensorBase>t)._hooks, collected[key])
    else:
        for key in list(collected):
            t = targets[key]
            if (<TensorBase>t)._hooks is not None and (<TensorBase>t)._grad_fn is None:
                collected[key] = _run_hooks((<TensorBase>t)._hooks, collected[key])
    while retained:
        _, (t, g) = retained.popitem()
        _add_to_grad(<TensorBase>t, g)
    if capture is not None:
        return collected
    while collected:
        key, g = collected.popitem()
        _add_to_grad(<TensorBase>targets[key], g)
        g = None
    return None


cdef inline void _collect_leaf(TensorBase leaf, object g, dict wanted, dict collected,
                               dict targets) except *:
    key = id(leaf)
    if wanted is not None:
        key = wanted.get(key)
        if key is None:
            return
    else:
        targets[key] = leaf
    collected[key] = _summed(collected.get(key), g)
