# cython: language_level=3
"""The scalar engine: `Value` handles over the C tape.

A Value is a small handle onto one node of the tape in csrc/tg_tape.c. Each
operation computes its forward value and its local derivatives in C
(csrc/tg_ops.h) and appends one node; backward() seeds the root's grad and
runs one reverse sweep in C without the GIL.

Lifetime: a handle holds no Python references, so handles never form cycles
and the cyclic GC does not track them. The tape reclaims its own memory: when
it has grown to twice what survived the last collection, a tracing collection
rooted at the nodes with a live handle frees what none reaches (tg_tape_mark,
tg_tape_sweep).
"""
cimport cython
from cpython.pythread cimport (
    PyThread_type_lock, PyThread_allocate_lock, PyThread_acquire_lock,
    PyThread_release_lock, PyThread_get_thread_ident, WAIT_LOCK, NOWAIT_LOCK,
)
from libc.stdint cimport uint8_t, uint32_t
from libc.math cimport isfinite
from libc.stdlib cimport malloc, free

from tapegrad._tape cimport *

cdef extern from "Python.h":
    # borrowed references only: the closure graph is read without touching counts
    ctypedef struct PyObject
    ctypedef struct PyTypeObject
    Py_ssize_t Py_REFCNT(PyObject *)
    PyTypeObject *Py_TYPE(PyObject *)
    bint PyFunction_Check(PyObject *)
    PyObject *PyFunction_GetClosure(PyObject *)
    PyObject *PyFunction_GetDefaults(PyObject *)
    bint PyCell_Check(PyObject *)
    PyObject *PyCell_GET(PyObject *)
    bint PyTuple_Check(PyObject *)
    Py_ssize_t PyTuple_GET_SIZE(PyObject *)
    PyObject *PyTuple_GET_ITEM(PyObject *, Py_ssize_t)
    bint PyList_Check(PyObject *)
    Py_ssize_t PyList_GET_SIZE(PyObject *)
    PyObject *PyList_GET_ITEM(object, Py_ssize_t)
    PyObject *PyList_GET_ITEM_PTR "PyList_GET_ITEM" (PyObject *, Py_ssize_t)

import gc
import numbers
from functools import partial



# ---------------------------------------------------------------- the tape

cdef tg_tape _tape
_tape.tail = NULL
_tape.nsegments = 0
_tape.leaf_tail = NULL
_tape.nleaf_segments = 0
_tape.free_leaves = NULL
_tape.active_sweeps = 0

# Collect when either list of segments has grown to twice what survived the
# last collection, plus slack, so collections cost O(1) per node.
cdef size_t _collect_at = 16
cdef size_t _collect_leaves_at = 16
cdef bint _collect_due = False
cdef bint _collecting = False

# Python data of a few nodes: labels, op names given to Value(), closures.
# Keyed by segment address, then node index; dropped with the node.
cdef dict _side = {}


cdef inline void _grew() noexcept:
    global _collect_due
    if _tape.nsegments >= _collect_at or _tape.nleaf_segments >= _collect_leaves_at:
        # not now: the op being recorded holds nodes that no handle roots yet
        _collect_due = True


cdef inline tg_node *_fresh(tg_node *node) except NULL:
    if _collecting:
        # made by a finalizer during a collection: live for the rest of it
        node.flags |= TG_LIVE
    return node


cdef inline tg_node *_push() except NULL:
    """A new node for an operation, at the end of the tape."""
    cdef tg_node *node = tg_tape_push(&_tape)
    if node is NULL:
        if tg_segment_new(&_tape) is NULL:
            raise MemoryError("tapegrad: cannot allocate a tape segment")
        _grew()
        node = tg_tape_push(&_tape)
    return _fresh(node)


cdef inline tg_node *_push_leaf() except NULL:
    """A new leaf node, in a reused slot where one is free."""
    cdef tg_node *node = tg_tape_push_leaf(&_tape)
    if node is NULL:
        if tg_leaf_segment_new(&_tape) is NULL:
            raise MemoryError("tapegrad: cannot allocate a tape segment")
        _grew()
        node = tg_tape_push_leaf(&_tape)
    elif tg_node_segment(node).has_side_data:
        _side_forget(node)  # what a former tenant of the slot left
    return _fresh(node)


cdef void _release_side(tg_segment *segment, int dead, void *context) noexcept nogil:
    with gil:
        _drop_side_data(segment, dead)


cdef void _drop_side_data(tg_segment *segment, int dead) noexcept:
    """Drops the Python data of dead nodes: of a whole dead segment, or of the
    nodes of a live segment that are not TG_LIVE."""
    try:
        key = <size_t>segment
        if dead:
            del _side[key]
            return
        per_node = _side[key]
        for index in [i for i in per_node if not segment.nodes[<Py_ssize_t>i].flags & TG_LIVE]:
            del per_node[index]
    except BaseException as error:
        import sys
        sys.unraisablehook(sys.UnraisableHookArgs(type(error), error, None, None, None))


# -- handles held only by the tape's own closures

cdef inline void _explore_edge(dict graph, list stack, size_t parent, PyObject *child):
    """Records the edge parent -> child for the kinds of objects a closure
    reaches its captured values through."""
    cdef size_t key = <size_t>child
    if child is NULL:
        return
    if not (Py_TYPE(child) is <PyTypeObject *>Value or PyFunction_Check(child)
            or PyCell_Check(child) or PyTuple_Check(child) or PyList_Check(child)
            or Py_TYPE(child) is <PyTypeObject *>partial):
        return
    entry = graph.get(key)
    if entry is None:
        graph[key] = entry = [0, []]
        stack.append(key)
    (<list>entry)[0] += 1
    (<list>(<list>graph[parent])[1]).append(key)


cdef dict _closure_graph():
    """The objects the tape's closures reach through functions, cells, tuples,
    lists and partials: address -> [references from within, addresses it
    refers to].

    A micrograd-style closure captures its node's handle and its parents':
    a cycle through the tape (closure -> handle -> node -> closure) that would
    keep the node alive forever if those handles counted as roots. Read with
    borrowed references only, so reference counts are exact.
    """
    cdef dict graph = {}
    cdef list stack = []
    cdef PyObject *obj
    cdef PyObject *fn
    cdef Py_ssize_t i
    cdef size_t key
    for per_node in _side.values():
        for entry in (<dict>per_node).values():
            fn = PyList_GET_ITEM(entry, 2)
            if PyFunction_Check(fn) or Py_TYPE(fn) is <PyTypeObject *>partial:
                key = <size_t>fn
                if key not in graph:
                    graph[key] = [0, []]
                    stack.append(key)
                (<list>graph[key])[0] += 1    # the side table's reference
    while stack:
        key = stack.pop()
        obj = <PyObject *>key
        if PyFunction_Check(obj):
            _explore_edge(graph, stack, key, PyFunction_GetClosure(obj))
            _explore_edge(graph, stack, key, PyFunction_GetDefaults(obj))
        elif PyCell_Check(obj):
            _explore_edge(graph, stack, key, PyCell_GET(obj))
        elif PyTuple_Check(obj):
            for i in range(PyTuple_GET_SIZE(obj)):
                _explore_edge(graph, stack, key, PyTuple_GET_ITEM(obj, i))
        elif PyList_Check(obj):
            for i in range(PyList_GET_SIZE(obj)):
                _explore_edge(graph, stack, key, PyList_GET_ITEM_PTR(obj, i))
        elif Py_TYPE(obj) is <PyTypeObject *>partial:
            _explore_edge(graph, stack, key, <PyObject *>(<object>obj).func)
            _explore_edge(graph, stack, key, <PyObject *>(<object>obj).args)
    return graph


cdef list _closure_held_handles(dict graph):
    """The handles of graph that nothing outside the tape's closures refers to.

    As CPython's cycle collector does: an object referred to more often than
    from within the graph is held from outside, and so is all it reaches."""
    cdef list outside = [key for key, entry in graph.items()
                         if Py_REFCNT(<PyObject *><size_t>key) > (<list>entry)[0]]
    cdef set reached = set(outside)
    while outside:
        for child in (<list>graph[outside.pop()])[1]:
            if child not in reached:
                reached.add(child)
                outside.append(child)
    return [<object><PyObject *><size_t>key for key in graph
            if key not in reached and Py_TYPE(<PyObject *><size_t>key) is <PyTypeObject *>Value]


cdef bint _root_handles_of_live_closures(dict graph) except -1:
    """A handle that a closure of a live node reaches must stay valid: if its
    node is not live, it becomes a root again. True if any did."""
    cdef bint rooted = False
    cdef tg_segment *segment
    cdef Value v
    cdef list stack
    cdef set seen
    for key, per_node in _side.items():
        segment = <tg_segment *><size_t>key
        for index, entry in (<dict>per_node).items():
            fn = PyList_GET_ITEM(entry, 2)
            if <size_t>fn not in graph or not segment.nodes[<Py_ssize_t>index].flags & TG_LIVE:
                continue
            stack, seen = [<size_t>fn], set()
            while stack:
                address = stack.pop()
                if address in seen:
                    continue
                seen.add(address)
                if Py_TYPE(<PyObject *><size_t>address) is <PyTypeObject *>Value:
                    v = <Value><PyObject *><size_t>address
                    if v.node is not NULL and v.node.flags & TG_WEAK_HANDLE \
                            and not v.node.flags & TG_LIVE:
                        v.node.flags &= ~TG_WEAK_HANDLE
                        rooted = True
                stack.extend((<list>graph[address])[1])
    return rooted


cdef Py_ssize_t _collect() except -1:
    """Frees what no handle reaches. Runs at safe points: between operations."""
    global _collect_due, _collecting, _collect_at, _collect_leaves_at, _sweep_owner
    cdef size_t freed
    cdef Value v
    if _collecting:
        return 0
    # The sweep lock keeps sweeps off the tape while this walks it: the release
    # callbacks run Python code, during which other threads may run.
    if not PyThread_acquire_lock(_sweep_lock, NOWAIT_LOCK):
        _collect_due = True
        return 0
    _collect_due = False
    _collecting = True
    _sweep_owner = PyThread_get_thread_ident()
    gc_was_enabled = gc.isenabled()
    try:
        held = []
        if _side:
            # no finalizer may change the closures while their references are counted
            gc.disable()
            graph = _closure_graph()
            held = _closure_held_handles(graph)
            for v in held:
                v.node.flags |= TG_WEAK_HANDLE
        tg_tape_mark(&_tape)
        while held and _root_handles_of_live_closures(graph):
            tg_tape_mark(&_tape)
        for v in held:
            if v.node.flags & TG_LIVE:
                v.node.flags &= ~TG_WEAK_HANDLE
            else:
                # only dead closures refer to it: it goes with them
                v.node.handle = NULL
                v.node = NULL
        if gc_was_enabled:
            gc.enable()
        freed = tg_tape_sweep(&_tape, _release_side, NULL)
    finally:
        _collecting = False
        _sweep_owner = 0
        PyThread_release_lock(_sweep_lock)
        if gc_was_enabled:
            gc.enable()
    _collect_at = 2 * _tape.nsegments + 16
    _collect_leaves_at = 2 * _tape.nleaf_segments + 16
    return freed


def collect():
    """Frees now the tape segments no live Value reaches; returns how many.

    Not needed for bounded memory (the tape collects as it grows) but useful
    after dropping a large graph, or before measuring memory.
    """
    return _collect()


def tape_stats():
    """What the tape holds now: segments of operations and of leaves, nodes in
    use, and the sizes of a segment and of a node."""
    cdef tg_segment *segment
    cdef size_t nodes = 0, leaves = 0
    cdef uint32_t i
    segment = _tape.tail
    while segment is not NULL:
        nodes += segment.count
        segment = segment.prev
    segment = _tape.leaf_tail
    while segment is not NULL:
        for i in range(segment.count):
            leaves += segment.nodes[i].op != TG_FREE_SLOT
        segment = segment.prev
    return {"segments": _tape.nsegments + _tape.nleaf_segments,
            "leaf_segments": _tape.nleaf_segments, "nodes": nodes + leaves, "leaves": leaves,
            "segment_capacity": TG_SEGMENT_CAPACITY, "node_bytes": sizeof(tg_node)}


cdef dict _side_of(tg_node *node):
    cdef tg_segment *segment = tg_node_segment(node)
    segment.has_side_data = 1
    key = <size_t>segment
    data = _side.get(key)
    if data is None:
        data = _side[key] = {}
    return data


cdef object _side_get(tg_node *node, int slot):
    """slot 0: label, 1: op name, 2: closure; None when unset."""
    data = _side.get(<size_t>tg_node_segment(node))
    if data is None:
        return None
    entry = (<dict>data).get(node.index)
    return None if entry is None else (<list>entry)[slot]


cdef void _side_forget(tg_node *node) except *:
    data = _side.get(<size_t>tg_node_segment(node))
    if data is not None:
        (<dict>data).pop(node.index, None)


cdef void _side_set(tg_node *node, int slot, object value) except *:
    data = _side_of(node)
    entry = data.get(node.index)
    if entry is None:
        entry = data[node.index] = [None, None, None]
    (<list>entry)[slot] = value


# ------------------------------------------------------------ conversions

cdef enum:  # what _as_number read
    NOT_A_NUMBER = 0
    FLOAT = 1
    INTEGER = 2


cdef inline int _as_number(object x, double *out) except -1:
    """Reads a Python real number: FLOAT or INTEGER; NOT_A_NUMBER for anything else."""
    if type(x) is float:
        out[0] = <double>x
        return FLOAT
    if type(x) is int:        # before the ABC checks, which cost more than the op
        out[0] = float(x)
        return INTEGER
    if isinstance(x, numbers.Integral):
        out[0] = float(x)
        return INTEGER
    if isinstance(x, numbers.Real):
        out[0] = float(x)
        return FLOAT
    return NOT_A_NUMBER


cdef inline void _mark_int(tg_node *node, bint is_int) noexcept:
    """micrograd holds Python ints where its inputs are ints: int op int stays
    an int, and a Python int has no negative zero."""
    if is_int:
        node.flags |= TG_INT_DATA
        if node.data == 0.0:
            node.data = 0.0


cdef int _raise(int status, str what) except -1:
    if status == TG_ERR_DOMAIN:
        raise ValueError(f"math domain error: {what}")
    if status == TG_ERR_RANGE:
        raise OverflowError(f"math range error: {what} overflows a float")
    if status == TG_ERR_ZERODIV:
        raise ZeroDivisionError(f"0.0 cannot be raised to a negative power: {what}")
    if status == TG_ERR_NOMEM:
        raise MemoryError(f"tapegrad: out of memory in {what}")
    raise SystemError(f"tapegrad: unknown status {status} in {what}")


cdef inline int _check(Value v) except -1:
    if v.node is NULL:
        raise ValueError("this Value has no node: it was made by Value.__new__ and never "
                         "initialised, or its graph was freed with the closure that held it")
    return 0


# ------------------------------------------------------------- recording

cdef inline Value _handle(tg_node *node):
    """A new handle onto node, which has none alive. A safe point to collect:
    everything the caller still needs is reachable from this handle."""
    cdef Value v = Value.__new__(Value)
    v.node = node
    node.handle = <void *>v
    if _collect_due:
        _collect()
    return v


cdef Value _handle_of(tg_node *node):
    """The live handle of node, or a new one: identity holds while one lives."""
    if node.handle is not NULL:
        return <Value>node.handle
    return _handle(node)


cdef inline tg_node *_constant(double x, bint is_int) except NULL:
    """A leaf node for a Python number operand, as micrograd's Value(other)."""
    cdef tg_node *node = _push_leaf()
    node.data = x
    _mark_int(node, is_int)
    return node


cdef inline tg_node *_record_node(uint8_t op, double data, const double *local, uint32_t nparents,
                                  tg_node *a, tg_node *b) except NULL:
    cdef tg_node *node = _push()
    node.data = data
    node.local[0] = local[0]
    node.local[1] = local[1]
    node.op = op
    node.nparents = nparents
    node.up.parent[0] = a
    node.up.parent[1] = b
    return node


cdef inline tg_node *_binary_node(uint8_t op, tg_node *a, tg_node *b) except NULL:
    """a + b or a * b. Records nothing if it raises."""
    cdef double out
    cdef double[2] local
    cdef bint is_int = a.flags & b.flags & TG_INT_DATA
    if op == TG_OP_ADD:
        tg_add(a.data, b.data, &out, local)
    else:
        tg_mul(a.data, b.data, &out, local)
    if is_int and not isfinite(out):
        raise OverflowError("integer result too large for a float: tapegrad holds "
                            "micrograd's ints as doubles")
    cdef tg_node *node = _record_node(op, out, local, 2, a, b)
    _mark_int(node, is_int)
    return node


cdef object _binary(uint8_t op, Value a, object other):
    cdef double c
    cdef int kind
    _check(a)
    if isinstance(other, Value):
        _check(<Value>other)
        return _handle(_binary_node(op, a.node, (<Value>other).node))
    kind = _as_number(other, &c)
    if kind == NOT_A_NUMBER:
        return NotImplemented
    return _handle(_binary_node(op, a.node, _constant(c, kind == INTEGER)))


cdef inline object _add(Value a, object other):
    return _binary(TG_OP_ADD, a, other)


cdef inline object _mul(Value a, object other):
    return _binary(TG_OP_MUL, a, other)


cdef inline void _defer(tg_node *node, int deferred) noexcept:
    if deferred == TG_ERR_ZERODIV:
        node.flags |= TG_LOCAL_ZERODIV
    elif deferred != TG_OK:
        node.flags |= TG_LOCAL_RANGE


cdef Value _pow_const(Value a, double e, bint int_exponent):
    """a ** e for a number e: '**2' or '**2.5', as micrograd's f'**{other}'."""
    cdef double out = 0.0
    cdef double[2] local = [0.0, 0.0]
    cdef int status, deferred = TG_OK
    cdef tg_node *node
    _check(a)
    status = tg_pow_const(a.node.data, e, &out, local, &deferred)
    if status != TG_OK:
        _raise(status, f"{a.node.data!r} ** {e!r}")
    node = _record_node(TG_OP_POW_INT if int_exponent else TG_OP_POW_CONST,
                        out, local, 1, a.node, NULL)
    node.local[1] = e  # for its name
    _mark_int(node, a.node.flags & TG_INT_DATA and int_exponent and e >= 0)
    _defer(node, deferred)
    return _handle(node)


cdef Value _pow(Value a, Value b):
    cdef double out = 0.0
    cdef double[2] local = [0.0, 0.0]
    cdef int status, deferred = TG_OK
    cdef tg_node *node
    _check(a)
    _check(b)
    status = tg_pow(a.node.data, b.node.data, &out, local, &deferred)
    if status != TG_OK:
        _raise(status, f"{a.node.data!r} ** {b.node.data!r}")
    node = _record_node(TG_OP_POW, out, local, 2, a.node, b.node)
    _mark_int(node, a.node.flags & b.node.flags & TG_INT_DATA and b.node.data >= 0)
    _defer(node, deferred)
    return _handle(node)


cdef Value _unary(Value a, uint8_t op):
    cdef tg_node *node
    cdef double out = 0.0
    cdef double[2] local = [0.0, 0.0]
    cdef int status
    cdef double x
    _check(a)
    x = a.node.data
    if op == TG_OP_RELU:
        status = tg_relu(x, &out, local)
    elif op == TG_OP_TANH:
        status = tg_tanh(x, &out, local)
    elif op == TG_OP_EXP:
        status = tg_exp(x, &out, local)
    elif op == TG_OP_LOG:
        status = tg_log(x, &out, local)
    else:
        status = tg_sigmoid(x, &out, local)
    if status != TG_OK:
        _raise(status, f"{_OP_NAMES[op]}({x!r})")
    node = _record_node(op, out, local, 1, a.node, NULL)
    if op == TG_OP_RELU:
        # micrograd's relu: the int 0 if x < 0 else x itself
        _mark_int(node, x < 0 or a.node.flags & TG_INT_DATA)
    return _handle(node)


def weighted_sum(w, x, Value start not None):
    """``sum((wi*xi for wi, xi in zip(w, x)), start)``, recorded natively.

    The tape gets the very nodes micrograd's expression makes (a '*' node and
    then a '+' node per term, a constant leaf per plain number), with the same
    values, but no handle is made for the intermediate nodes. Inputs other
    than Values and real numbers take the plain Python expression.
    """
    cdef Py_ssize_t i, n
    cdef double *numbers
    cdef int *kinds
    cdef tg_node *acc
    cdef tg_node *operand
    cdef tg_node *product
    _check(start)
    ws = tuple(w)
    xs = tuple(x)
    n = min(len(ws), len(xs))
    numbers = <double *>malloc(max(n, 1) * sizeof(double))
    kinds = <int *>malloc(max(n, 1) * sizeof(int))
    try:
        if numbers is NULL or kinds is NULL:
            raise MemoryError()
        # Read every input first: reading a number may run Python code, which
        # must not run while unrooted nodes are being recorded below.
        for i in range(n):
            kinds[i] = NOT_A_NUMBER
            if not isinstance(ws[i], Value):
                return sum((a * b for a, b in zip(ws, xs)), start)
            _check(<Value>ws[i])
            if isinstance(xs[i], Value):
                _check(<Value>xs[i])
            else:
                kinds[i] = _as_number(xs[i], &numbers[i])
                if kinds[i] == NOT_A_NUMBER:
                    return sum((a * b for a, b in zip(ws, xs)), start)
        acc = start.node
        for i in range(n):
            if kinds[i] == NOT_A_NUMBER:
                operand = (<Value>xs[i]).node
            else:
                operand = _constant(numbers[i], kinds[i] == INTEGER)
            product = _binary_node(TG_OP_MUL, (<Value>ws[i]).node, operand)
            acc = _binary_node(TG_OP_ADD, acc, product)
        return _handle_of(acc)
    finally:
        free(numbers)
        free(kinds)


_OP_NAMES = {
    TG_OP_LEAF: '', TG_OP_ADD: '+', TG_OP_MUL: '*', TG_OP_POW: '**',
    TG_OP_RELU: 'ReLU', TG_OP_TANH: 'tanh', TG_OP_EXP: 'exp', TG_OP_LOG: 'log',
    TG_OP_SIGMOID: 'sigmoid',
}


# ------------------------------------------------------------- the sweep

cdef PyThread_type_lock _sweep_lock = PyThread_allocate_lock()
cdef unsigned long _sweep_owner = 0


cdef int _enter_sweep() except -1:
    """Sweeps run one at a time: they share the mark bits of the tape."""
    global _sweep_owner
    cdef unsigned long me = PyThread_get_thread_ident()
    if _collecting and _sweep_owner == me:
        raise RuntimeError("backward() was called while the tape is being collected "
                           "(from a finalizer); call it outside finalizers")
    if _tape.active_sweeps and _sweep_owner == me:
        raise RuntimeError(
            "backward() was called inside a custom _backward of a running backward(); "
            "call it after that backward() returns")
    with nogil:
        PyThread_acquire_lock(_sweep_lock, WAIT_LOCK)
    _sweep_owner = me
    _tape.active_sweeps += 1
    return 0


cdef void _leave_sweep() noexcept:
    global _sweep_owner
    _tape.active_sweeps -= 1
    _sweep_owner = 0
    PyThread_release_lock(_sweep_lock)


cdef int _raise_local(tg_node *node) except -1:
    x = node.up.parent[0].data
    e = node.up.parent[1].data if node.op == TG_OP_POW else node.local[1]
    _raise(TG_ERR_ZERODIV if node.flags & TG_LOCAL_ZERODIV else TG_ERR_RANGE,
           f"the derivative of {x!r} ** {e!r} needs {x!r} ** {e - 1!r}")
    return -1


cdef int _sweep(tg_node *root) except -1:
    cdef tg_sweep sweep
    cdef tg_node *node
    _enter_sweep()
    try:
        root.grad = 1.0
        tg_sweep_begin(&sweep, root)
        while True:
            with nogil:
                node = tg_sweep_run(&sweep)
            if node is NULL:
                break
            if node.flags & (TG_LOCAL_ZERODIV | TG_LOCAL_RANGE):
                _raise_local(node)
            _side_get(node, 2)()
    except BaseException:
        # leave no mark behind: the next sweep must start from a clean tape
        sweep.cleanup = 1
        with nogil:
            tg_sweep_run(&sweep)
        raise
    finally:
        _leave_sweep()
    return 0


# ---------------------------------------------------------------- Value

@cython.final
@cython.freelist(1024)
cdef class Value:
    """A scalar and its gradient, one node of the tape. micrograd's Value API.

    Value(data, _children=(), _op='', label=''): data is a real number. With
    _children, the node is a custom operation: assign it a `_backward` closure
    that adds into the children's grads, micrograd style, and backward() calls
    it (a Python call per such node: the slow path).
    """
    cdef tg_node *node

    def __init__(self, data, _children=(), _op='', label=''):
        cdef double x
        cdef tg_node *node
        cdef tg_node **nodes
        cdef uint32_t n, k
        cdef int kind
        if self.node is not NULL:
            raise RuntimeError("Value.__init__ called on an initialised Value")
        if isinstance(data, Value):
            raise TypeError("Value data must be a real number, not Value (use its .data)")
        kind = _as_number(data, &x)
        if kind == NOT_A_NUMBER:
            raise TypeError(f"Value data must be a real number (int or float), "
                            f"not {type(data).__name__}")
        parents = []
        for child in _children:
            if not isinstance(child, Value):
                raise TypeError(f"Value _children must be Values, not {type(child).__name__}")
            _check(<Value>child)
            if child not in parents:
                parents.append(child)
        n = len(parents)
        nodes = <tg_node **>malloc(max(n, 1) * sizeof(tg_node *))
        if nodes is NULL:
            raise MemoryError()
        try:
            for k in range(n):
                nodes[k] = (<Value>parents[k]).node
            node = _push() if n else _push_leaf()
            node.data = x
            _mark_int(node, kind == INTEGER)
            if n:
                if tg_node_set_parents(node, nodes, n) != TG_OK:
                    raise MemoryError("tapegrad: cannot record the children of a Value")
                node.op = TG_OP_CUSTOM
                node.flags |= TG_CUSTOM
        finally:
            free(nodes)
        self.node = node
        node.handle = <void *>self
        if _op:
            _side_set(node, 1, _op)
        if label:
            _side_set(node, 0, label)

    def __dealloc__(self):
        if self.node is not NULL and self.node.handle == <void *>self:
            self.node.handle = NULL

    # -- data and gradient

    @property
    def data(self):
        _check(self)
        if self.node.flags & TG_INT_DATA:
            return int(self.node.data)
        return self.node.data

    @data.setter
    def data(self, value):
        cdef double x
        cdef int kind
        _check(self)
        kind = _as_number(value, &x)
        if kind == NOT_A_NUMBER:
            raise TypeError(f"Value data must be a real number, not {type(value).__name__}")
        self.node.data = x
        self.node.flags &= ~TG_INT_DATA
        _mark_int(self.node, kind == INTEGER)

    @property
    def grad(self):
        _check(self)
        return self.node.grad

    @grad.setter
    def grad(self, value):
        cdef double x
        _check(self)
        if not _as_number(value, &x):
            raise TypeError(f"Value grad must be a real number, not {type(value).__name__}")
        self.node.grad = x

    @property
    def label(self):
        _check(self)
        label = _side_get(self.node, 0)
        return '' if label is None else label

    @label.setter
    def label(self, value):
        _check(self)
        _side_set(self.node, 0, value)

    # -- the graph

    @property
    def _prev(self):
        """The parents, as the very handle objects while they are alive."""
        cdef uint32_t k
        _check(self)
        parents = set()
        for k in range(self.node.nparents):
            parents.add(_handle_of(tg_node_parent(self.node, k)))
        return parents

    @property
    def _op(self):
        _check(self)
        cdef tg_node *node = self.node
        name = _side_get(node, 1)
        if name is not None:
            return name
        if node.op == TG_OP_POW_INT:
            return f"**{int(node.local[1])}"
        if node.op == TG_OP_POW_CONST:
            return f"**{node.local[1]}"
        return _OP_NAMES.get(node.op, '')

    @property
    def _backward(self):
        """This node's local backward step, as a callable (micrograd's closure)."""
        _check(self)
        closure = _side_get(self.node, 2)
        return self._local_backward if closure is None else closure

    @_backward.setter
    def _backward(self, fn):
        _check(self)
        if not callable(fn):
            raise TypeError(f"_backward must be callable, not {type(fn).__name__}")
        _side_set(self.node, 2, fn)
        self.node.flags |= TG_CUSTOM | TG_HAS_CLOSURE

    def _local_backward(self):
        """Adds local gradient x this grad into each parent's grad, once."""
        _check(self)
        cdef tg_node *node = self.node
        cdef uint32_t k
        if node.flags & (TG_LOCAL_ZERODIV | TG_LOCAL_RANGE):
            _raise_local(node)
        if node.flags & TG_CUSTOM:
            return
        for k in range(node.nparents):
            node.up.parent[k].grad += node.local[k] * node.grad

    def backward(self):
        """Sets this grad to 1 and accumulates into every node it depends on."""
        _check(self)
        _sweep(self.node)

    # -- operations

    def __add__(self, other):
        return _add(self, other)

    def __radd__(self, other):
        return _add(self, other)

    def __mul__(self, other):
        return _mul(self, other)

    def __rmul__(self, other):
        return _mul(self, other)

    def __neg__(self):
        return _mul(self, -1)

    def __sub__(self, other):
        cdef double c
        cdef int kind
        if isinstance(other, Value):
            return _add(self, -other)
        kind = _as_number(other, &c)
        if kind == NOT_A_NUMBER:
            return NotImplemented
        return _add(self, -other if kind == INTEGER else -c)

    def __rsub__(self, other):
        cdef double c
        if not _as_number(other, &c):
            return NotImplemented
        return _add(-self, other)

    def __truediv__(self, other):
        cdef double c
        cdef double inverse = 0.0
        cdef int status
        if isinstance(other, Value):
            return _mul(self, _pow_const(<Value>other, -1.0, True))
        if not _as_number(other, &c):
            return NotImplemented
        status = tg_pow_value(c, -1.0, &inverse)
        if status != TG_OK:
            _raise(status, f"{c!r} ** -1")
        return _mul(self, inverse)

    def __rtruediv__(self, other):
        cdef double c
        if not _as_number(other, &c):
            return NotImplemented
        return _mul(_pow_const(self, -1.0, True), other)

    def __pow__(self, other, modulo):
        cdef double e
        cdef int kind
        if modulo is not None:
            return NotImplemented
        if isinstance(other, Value):
            return _pow(self, <Value>other)
        kind = _as_number(other, &e)
        if kind == NOT_A_NUMBER:
            return NotImplemented
        return _pow_const(self, e, kind == INTEGER)

    def __rpow__(self, other, modulo):
        cdef double c
        cdef int kind
        if modulo is not None:
            return NotImplemented
        kind = _as_number(other, &c)
        if kind == NOT_A_NUMBER:
            return NotImplemented
        return _pow(_handle(_constant(c, kind == INTEGER)), self)

    def relu(self):
        return _unary(self, TG_OP_RELU)

    def tanh(self):
        return _unary(self, TG_OP_TANH)

    def exp(self):
        return _unary(self, TG_OP_EXP)

    def log(self):
        return _unary(self, TG_OP_LOG)

    def sigmoid(self):
        return _unary(self, TG_OP_SIGMOID)

    def __reduce__(self):
        """A copy is a leaf with the same data, grad and label: the graph stays
        behind, as torch copies a tensor without its history."""
        _check(self)
        return (_rebuild, (self.data, self.node.grad, self.label))

    def __repr__(self):
        if self.node is NULL:
            return "Value(<uninitialised>)"
        return f"Value(data={self.node.data}, grad={self.node.grad})"


def _rebuild(data, grad, label):
    v = Value(data, label=label)
    v.grad = grad
    return v


if tg_segment_new(&_tape) is NULL or tg_leaf_segment_new(&_tape) is NULL:
    raise MemoryError("tapegrad: cannot allocate the tape")
