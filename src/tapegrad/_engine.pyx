# cython: language_level=3
"""The scalar engine: `Value` handles over the C tape.

A Value is a small handle onto one node of the tape in csrc/tg_tape.c. Each
operation computes its forward value and its local derivatives in C
(csrc/tg_ops.h) and appends one node; backward() seeds the root's grad and
runs one reverse sweep in C without the GIL.

Lifetime: a plain handle holds no Python references, so the cyclic GC does not
track it. The tape reclaims its own memory: when it has grown to twice what
survived the last collection, a tracing collection rooted at the nodes with a
live handle frees what none reaches (tg_tape_mark, tg_tape_reclaim).

The few nodes with Python data (a label, an op name, a custom `_backward`,
attributes set by the user) keep it in a _NodeData. While the node's handle
lives, the handle holds it and is GC-tracked, so CPython's own cycle collector
sees a `_backward` that refers back to its Value, whatever way it does so.
"""
cimport cython
from cpython.pythread cimport (
    PyThread_type_lock, PyThread_allocate_lock, PyThread_acquire_lock,
    PyThread_release_lock, PyThread_get_thread_ident, WAIT_LOCK, NOWAIT_LOCK,
)
from libc.stdint cimport uint8_t, uint32_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from tapegrad._tape cimport (
    TG_SEGMENT_CAPACITY, TG_OK, TG_ERR_NOMEM, TG_ERR_DOMAIN, TG_ERR_RANGE, TG_ERR_ZERODIV,
    TG_ERR_INT_RANGE, TG_CUSTOM, TG_HAS_CLOSURE, TG_INT_DATA, TG_LIVE, TG_WEAK_HANDLE,
    TG_LOCAL_ZERODIV, TG_LOCAL_RANGE, TG_FREE_SLOT,
    tg_node, tg_segment, tg_tape, tg_sweep,
    tg_tape_init, tg_tape_push, tg_tape_push_leaf, tg_tape_mark, tg_tape_reclaim,
    tg_tape_release_spares, tg_node_parent, tg_node_set_handle, tg_node_set_parents,
    tg_sweep_begin, tg_sweep_run,
    TG_OP_COUNT, TG_OP_ADD, TG_OP_MUL, TG_OP_ADD_CONST, TG_OP_ADD_INT_CONST, TG_OP_MUL_CONST,
    TG_OP_MUL_INT_CONST, TG_OP_POW_CONST, TG_OP_POW_INT, TG_OP_POW, TG_OP_RELU, TG_OP_TANH,
    TG_OP_EXP, TG_OP_LOG, TG_OP_SIGMOID, TG_OP_CUSTOM,
    tg_op_name, tg_pow_value, tg_int_value, tg_record, tg_record_neuron, tg_node_segment,
    tg_folded_derivative,
)

cdef extern from "Python.h":
    ctypedef struct PyObject
    void PyObject_GC_Track(object)
    void PyObject_GC_UnTrack(object)
    bint PyObject_GC_IsTracked(object)
    int PyObject_GenericSetAttr(object, object, PyObject *) except -1
    ctypedef struct PyTypeObject:
        Py_ssize_t tp_dictoffset
        void *tp_descr_set
        void *tp_getattro
    void PyType_Modified(PyTypeObject *)

import gc
import numbers


# ---------------------------------------------------------------- the tape

cdef tg_tape _tape
if tg_tape_init(&_tape) != TG_OK:
    raise MemoryError("tapegrad: cannot allocate the tape")

# The tape says when it has grown enough to collect (_tape.collect_due); so
# does the Python data it keeps, at this much.
cdef size_t _collect_kept_at = 1024
cdef bint _collecting = False
# Sweeps and collections take this lock, one at a time; the owner is the thread that holds it.
cdef PyThread_type_lock _sweep_lock = PyThread_allocate_lock()
cdef unsigned long _sweep_owner = 0

# micrograd's _op strings, from the op table of tg_ops.h
_OP_NAMES = [(<bytes>tg_op_name(op)).decode() for op in range(TG_OP_COUNT)]


cdef inline tg_node *_push() except NULL:
    """A new node for an operation, at the end of the tape."""
    cdef tg_node *node = tg_tape_push(&_tape)
    if node is NULL:
        raise MemoryError("tapegrad: cannot allocate a tape segment")
    return node


cdef inline tg_node *_push_leaf() except NULL:
    """A new leaf node, in a reused slot where one is free."""
    cdef tg_node *node = tg_tape_push_leaf(&_tape)
    if node is NULL:
        raise MemoryError("tapegrad: cannot allocate a tape segment")
    return node


include "_handles.pxi"
include "_collect.pxi"
include "_replay.pxi"


# ------------------------------------------------------------ conversions

cdef enum:  # what _as_number read
    NOT_A_NUMBER = 0
    FLOAT = 1
    INTEGER = 2


# What _as_number found each type of real number to be, but float and int
# themselves: the ABC checks cost more than the op (numpy's int64, float32).
cdef dict _number_kinds = {}


cdef inline int _as_number(object x, double *out) except -1:
    """Reads a Python real number: FLOAT or INTEGER; NOT_A_NUMBER for anything else."""
    if type(x) is float:
        out[0] = <double>x
        return FLOAT
    if type(x) is int:
        out[0] = float(x)
        return INTEGER
    if isinstance(x, float):  # numpy's float64 is one
        out[0] = <double>x
        return FLOAT
    return _as_other_number(x, out)


cdef int _as_other_number(object x, double *out) except -1:
    kind = _number_kinds.get(type(x))
    if kind is None:
        if isinstance(x, numbers.Integral):
            kind = INTEGER
        elif isinstance(x, numbers.Real):
            kind = FLOAT
        else:
            return NOT_A_NUMBER   # not remembered: the type may be registered later
        _number_kinds[type(x)] = kind
    out[0] = float(x)
    return kind


cdef inline void _mark_int(tg_node *node, bint is_int) noexcept:
    """micrograd holds Python ints where its inputs are ints (which ops keep
    them: tg_int_result), and a Python int has no negative zero."""
    if is_int:
        node.flags |= TG_INT_DATA
        node.data = tg_int_value(node.data)


cdef int _raise(int status, str what) except -1:
    if status == TG_ERR_DOMAIN:
        raise ValueError(f"math domain error: {what}")
    if status == TG_ERR_RANGE:
        raise OverflowError(f"math range error: {what} overflows a float")
    if status == TG_ERR_ZERODIV:
        raise ZeroDivisionError(f"0.0 cannot be raised to a negative power: {what}")
    if status == TG_ERR_INT_RANGE:
        raise OverflowError(f"integer result too large for a float: {what} (tapegrad holds "
                            "micrograd's ints as doubles)")
    if status == TG_ERR_NOMEM:
        raise MemoryError(f"tapegrad: out of memory in {what}")
    raise SystemError(f"tapegrad: unknown status {status} in {what}")


cdef inline int _check(Value v) except -1:
    if v.node is NULL:
        raise ValueError("this Value has no node: it was made by Value.__new__ and never "
                         "initialised, or its graph was freed with the closure that held it")
    if _npending and v.node.nparents and tg_node_segment(v.node).replays:
        _observe(v.node)    # tapegrad.compile: a replay may have left it stale
    return 0


# ------------------------------------------------------------- recording

cdef inline Value _new_handle(tg_node *node):
    """The handle of a node just recorded. A safe point to collect: everything
    the caller still needs is reachable from this handle."""
    cdef Value v = <Value>tg_handle_new(<PyTypeObject *>Value, node)
    tg_node_set_handle(&_tape, node, <void *>v)
    if _tape.collect_due:
        _collect()
    return v


cdef Value _handle_of(tg_node *node):
    """The live handle of node, or a new one: identity holds while one lives.
    The handle holds its node's data again, if the tape kept it."""
    cdef Value v
    if node.handle is not NULL:
        v = <Value>node.handle
    else:
        v = _new_handle(node)
        _note_new_handle()  # tapegrad.compile: a recorded graph may be held now
    if v.side is None and _kept and <size_t>node in _kept:
        v.side = _take_kept(node)
        if v.side.attrs is not None:
            v.attrs = <PyObject *>v.side.attrs
        if not PyObject_GC_IsTracked(v):
            PyObject_GC_Track(v)
    return v


cdef _NodeData _take_kept(tg_node *node):
    """Takes node's data from the tape. The cycle collector finalizes an object
    once: data it has seen goes on in a fresh _NodeData, so that it can see
    the next cycle too."""
    cdef _NodeData data = _kept.pop(<size_t>node)
    cdef _NodeData fresh
    if not data.finalized:
        return data
    fresh = _NodeData.__new__(_NodeData)
    fresh.node = node
    fresh.label, fresh.op_name, fresh.backward, fresh.attrs = \
        data.label, data.op_name, data.backward, data.attrs
    data.node = NULL
    return fresh


cdef inline tg_node *_constant(double x, bint is_int) except NULL:
    """A leaf node for a Python number operand, as micrograd's Value(other)."""
    cdef tg_node *node = _push_leaf()
    node.data = x
    _mark_int(node, is_int)
    return node


cdef inline tg_node *_record(int op, tg_node *a, tg_node *b, double y) except NULL:
    """Records op of a and b (or of a and the number y: see tg_record), or
    raises what Python's float would, recording nothing."""
    cdef tg_node *node = NULL
    cdef int status = tg_record(&_tape, op, a, b, y, &node)
    if status != TG_OK:
        _raise_unrecorded(status, op, a, b, y)
    return node


cdef int _raise_unrecorded(int status, int op, tg_node *a, tg_node *b, double y) except -1:
    """The error of a tg_record that failed: out of line, as it is rare."""
    _note_read()    # tapegrad.compile: an except clause may branch on it
    name = _OP_NAMES[op]
    if name in ('+', '*', '**'):
        other = b.data if b is not NULL else y
        return _raise(status, f"{a.data!r} {name} {other!r}")
    return _raise(status, f"{name}({a.data!r})")


# The ops recorded most often call tg_record with a constant op, one call
# each, so that the C compiler drops its op switches there (tg_record is
# always inlined).

cdef inline tg_node *_binary_node(int op, tg_node *a, tg_node *b) except NULL:
    """a + b or a * b of two Values."""
    cdef tg_node *node = NULL
    cdef int status
    if op == TG_OP_ADD:
        status = tg_record(&_tape, TG_OP_ADD, a, b, 0.0, &node)
    else:
        status = tg_record(&_tape, TG_OP_MUL, a, b, 0.0, &node)
    if status != TG_OK:
        _raise_unrecorded(status, op, a, b, 0.0)
    return node


cdef inline tg_node *_const_node(int op, tg_node *a, double c, bint c_is_int) except NULL:
    """a + c or a * c for a Python number c, folded into one node: micrograd's
    Value(c) leaf is made only if someone asks for it (_prev)."""
    cdef tg_node *node = NULL
    cdef int status
    if op == TG_OP_ADD:
        op = TG_OP_ADD_INT_CONST if c_is_int else TG_OP_ADD_CONST
        if c_is_int:
            status = tg_record(&_tape, TG_OP_ADD_INT_CONST, a, NULL, c, &node)
        else:
            status = tg_record(&_tape, TG_OP_ADD_CONST, a, NULL, c, &node)
    else:
        op = TG_OP_MUL_INT_CONST if c_is_int else TG_OP_MUL_CONST
        if c_is_int:
            status = tg_record(&_tape, TG_OP_MUL_INT_CONST, a, NULL, c, &node)
        else:
            status = tg_record(&_tape, TG_OP_MUL_CONST, a, NULL, c, &node)
    if status != TG_OK:
        _raise_unrecorded(status, op, a, NULL, c)
    return node


cdef int _unfold(tg_node *node) except -1:
    """Gives a folded constant the leaf micrograd made for it, with the
    gradient micrograd's leaf has (the sweeps kept it in the node), and makes
    the node a plain two parent '+' or '*' onto it."""
    _before_unfold()   # tapegrad.compile: the node changes shape
    cdef uint8_t op = node.op
    cdef bint added = op == TG_OP_ADD_CONST or op == TG_OP_ADD_INT_CONST
    cdef double c = node.local[1] if added else node.local[0]
    cdef double derivative = 1.0 if added else node.local[1]
    cdef tg_node *leaf
    # locked before the leaf exists: waiting for a sweep releases the GIL, and
    # a collection in another thread would free a leaf nothing points to yet
    cdef bint locked = _lock_tape()
    try:
        leaf = _push_leaf()
        leaf.data = c
        _mark_int(leaf, op == TG_OP_ADD_INT_CONST or op == TG_OP_MUL_INT_CONST)
        leaf.grad = node.up.folded.constant_grad    # read before parent[1] takes its place
        node.up.parent[1] = leaf
        node.local[1] = derivative
        node.op = TG_OP_ADD if added else TG_OP_MUL
        node.nparents = 2
    finally:
        _unlock_tape(locked)
    return 0


cdef inline bint _is_folded(tg_node *node) noexcept:
    return (node.op == TG_OP_ADD_CONST or node.op == TG_OP_ADD_INT_CONST
            or node.op == TG_OP_MUL_CONST or node.op == TG_OP_MUL_INT_CONST)


cdef object _binary(int op, Value a, object other):
    cdef double c
    cdef int kind
    _check(a)
    if isinstance(other, Value):
        _check(<Value>other)
        return _new_handle(_binary_node(op, a.node, (<Value>other).node))
    kind = _as_number(other, &c)
    if kind == NOT_A_NUMBER:
        return NotImplemented
    return _new_handle(_const_node(op, a.node, c, kind == INTEGER))


cdef inline object _add(Value a, object other):
    return _binary(TG_OP_ADD, a, other)


cdef inline object _mul(Value a, object other):
    return _binary(TG_OP_MUL, a, other)


cdef Value _pow_const(Value a, double e, bint int_exponent):
    """a ** e for a number e: '**2' or '**2.5', as micrograd's f'**{other}'."""
    _check(a)
    return _new_handle(_record(TG_OP_POW_INT if int_exponent else TG_OP_POW_CONST,
                               a.node, NULL, e))


cdef Value _pow(Value a, Value b):
    _check(a)
    _check(b)
    return _new_handle(_record(TG_OP_POW, a.node, b.node, 0.0))


cdef inline tg_node *_relu_node(tg_node *a) except NULL:
    cdef tg_node *node = NULL
    cdef int status = tg_record(&_tape, TG_OP_RELU, a, NULL, 0.0, &node)
    if status != TG_OK:
        _raise_unrecorded(status, TG_OP_RELU, a, NULL, 0.0)
    return node


cdef Value _unary(Value a, int op):
    _check(a)
    return _new_handle(_record(op, a.node, NULL, 0.0))


include "_neurons.pxi"


# ------------------------------------------------------------- the sweep

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
    cdef _NodeData data
    _enter_sweep()
    try:
        if _npending:
            _flush_reached(root)    # tapegrad.compile: the stale nodes it would reach
        root.grad = 1.0
        tg_sweep_begin(&sweep, &_tape, root)
        while True:
            with nogil:
                node = tg_sweep_run(&sweep)
            if node is NULL:
                break
            if node.flags & (TG_LOCAL_ZERODIV | TG_LOCAL_RANGE):
                _raise_local(node)
            data = _data_of(node)
            if data is not None and data.backward is not None:
                data.backward()
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

cdef int _set_data(Value v, object value) except -1:
    cdef double x
    cdef int kind
    _check(v)
    kind = _as_number(value, &x)
    if kind == NOT_A_NUMBER:
        raise TypeError(f"Value data must be a real number, not {type(value).__name__}")
    v.node.data = 0.0 if kind == INTEGER and x == 0.0 else x
    if (kind == INTEGER) != (v.node.flags & TG_INT_DATA != 0):
        _set_flags(v.node, TG_INT_DATA, TG_INT_DATA if kind == INTEGER else 0)
    return 0


cdef int _set_grad(Value v, object value) except -1:
    cdef double x
    _check(v)
    if not _as_number(value, &x):
        raise TypeError(f"Value grad must be a real number, not {type(value).__name__}")
    v.node.grad = x
    return 0


@cython.final
@cython.freelist(8192)   # a training step keeps a few thousand handles: reuse them all
cdef class Value:
    # the first line is CPython's text signature: inspect.signature(Value) and help()
    """Value(data, _children=(), _op='', label='')\n--\n\n
    A scalar and its gradient, one node of the tape. micrograd's Value API.

    data is a real number. With
    _children, the node is a custom operation: assign it a `_backward` closure
    that adds into the children's grads, micrograd style, and backward() calls
    it (a Python call per such node: the slow path).
    """
    cdef tg_node *node
    cdef _NodeData side     # the node's Python data, if it has any: see _NodeData
    # side.attrs, borrowed, where Python's own attribute lookup finds it
    # (tp_dictoffset): methods keep their fast path. NULL for most handles.
    cdef PyObject *attrs

    def __init__(self, data, _children=(), _op='', label=''):
        cdef double x
        cdef tg_node *node
        cdef tg_node **nodes
        cdef uint32_t n, k
        cdef int kind
        if self.node is not NULL:
            raise RuntimeError("Value.__init__ called on an initialised Value")
        if self.side is None:
            PyObject_GC_UnTrack(self)
        if isinstance(data, Value):
            raise TypeError("Value data must be a real number, not Value (use its .data)")
        kind = _as_number(data, &x)
        if kind == NOT_A_NUMBER:
            raise TypeError(f"Value data must be a real number (int or float), "
                            f"not {type(data).__name__}")
        if type(_children) is tuple and not _children:   # a leaf: the common case
            node = _push_leaf()
            node.data = x
            _mark_int(node, kind == INTEGER)
            self.node = node
            tg_node_set_handle(&_tape, node, <void *>self)
            if _op:
                _data_for(self).op_name = _op
            if label:
                _data_for(self).label = label
            return
        parents = []
        seen = set()    # micrograd's set(_children), in the order given
        for child in _children:
            if not isinstance(child, Value):
                raise TypeError(f"Value _children must be Values, not {type(child).__name__}")
            _check(<Value>child)
            key = <size_t>(<Value>child).node
            if key not in seen:
                seen.add(key)
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
        tg_node_set_handle(&_tape, node, <void *>self)
        if _op:
            _data_for(self).op_name = _op
        if label:
            _data_for(self).label = label

    # numpy's scalars (np.float64(2) * v, np.int64(1) + v) give way to Value's
    # reflected ops, which are fast, instead of going through an object array;
    # arrays (priority 0) keep theirs, so `array * v` is still an object array.
    # (__array_ufunc__ = None would be faster still, as numpy's failed look-up
    # of it formats an AttributeError on CPython 3.11, but numpy would then
    # answer `v in array` and `array == v` with identity, silently wrong.)
    __array_priority__ = -1.0

    def __dealloc__(self):
        if self.node is not NULL and self.node.handle == <void *>self:
            tg_node_set_handle(&_tape, self.node, NULL)
            if self.side is not None:
                _keep(self.node, self.side)   # the tape keeps it for the node

    # -- data and gradient

    @property
    def data(self):
        """The forward value: a float, or an int where micrograd's would hold one (a
        Value made from an int, and sums and products of those). Writable."""
        _check(self)
        _note_read()    # tapegrad.compile: control flow on it is value-dependent
        if self.node.flags & TG_INT_DATA:
            return int(self.node.data)
        return self.node.data

    @data.setter
    def data(self, value):
        _set_data(self, value)

    @property
    def grad(self):
        """d(root)/d(self) after root.backward(): a float, 0.0 until then. Writable
        (zero_grad sets it to 0); a non-number raises TypeError."""
        _check(self)
        _note_read()
        return self.node.grad

    @grad.setter
    def grad(self, value):
        _set_grad(self, value)

    @property
    def label(self):
        """The name draw_dot shows (the lecture's label=): '' unless one was given."""
        _check(self)
        data = _data_of(self.node)
        return '' if data is None or data.label is None else data.label

    @label.setter
    def label(self, value):
        _check(self)
        _data_for(self).label = value

    # -- attributes of the user's own, as micrograd's Value takes them

    def __setattr__(self, name, value):
        cdef _NodeData data
        if name == 'data':      # the optimizer's and zero_grad's paths first
            _set_data(self, value)
        elif name == 'grad':
            _set_grad(self, value)
        elif name in _PROPERTIES:
            PyObject_GenericSetAttr(self, name, <PyObject *>value)
        else:
            _check(self)
            data = _data_for(self)
            if data.attrs is None:
                data.attrs = {}
            self.attrs = <PyObject *>data.attrs
            data.attrs[name] = value

    def __delattr__(self, name):
        PyObject_GenericSetAttr(self, name, NULL)

    # -- the graph

    @property
    def _prev(self):
        """The parents, as the very handle objects while they are alive."""
        cdef uint32_t k
        _check(self)
        if _is_folded(self.node):
            _unfold(self.node)
        parents = set()
        for k in range(self.node.nparents):
            parents.add(_handle_of(tg_node_parent(self.node, k)))
        return parents

    @property
    def _op(self):
        _check(self)
        cdef tg_node *node = self.node
        data = _data_of(node)
        if data is not None and data.op_name is not None:
            return data.op_name
        if node.op == TG_OP_POW_INT:
            return f"**{int(node.local[1])}"
        if node.op == TG_OP_POW_CONST:
            return f"**{node.local[1]}"
        return _OP_NAMES[node.op] if node.op < TG_OP_COUNT else ''

    @_op.setter
    def _op(self, value):
        _check(self)
        _data_for(self).op_name = value

    @property
    def _backward(self):
        """This node's local backward step, as a callable (micrograd's closure)."""
        _check(self)
        data = _data_of(self.node)
        return self._local_backward if data is None or data.backward is None else data.backward

    @_backward.setter
    def _backward(self, fn):
        _check(self)
        if not callable(fn):
            raise TypeError(f"_backward must be callable, not {type(fn).__name__}")
        global _closures_set
        _data_for(self).backward = fn
        _set_flags(self.node, 0, TG_CUSTOM | TG_HAS_CLOSURE)
        _closures_set += 1    # tapegrad.compile: a replay would not call it

    def _local_backward(self):
        """Adds local gradient x this grad into each parent's grad, once."""
        _check(self)
        cdef tg_node *node = self.node
        cdef uint32_t k
        if _npending:
            _flush_parents(node)    # tapegrad.compile: they may be stale (the error names them)
        if node.flags & (TG_LOCAL_ZERODIV | TG_LOCAL_RANGE):
            _raise_local(node)
        if node.flags & TG_CUSTOM:
            return
        for k in range(node.nparents):
            node.up.parent[k].grad += node.local[k] * node.grad
        if _is_folded(node):    # and into micrograd's leaf for the number
            node.up.folded.constant_grad += tg_folded_derivative(node.op, node.local) * node.grad

    def backward(self):
        """Sets this grad to 1 and accumulates into every node it depends on."""
        _check(self)
        if not (_npending and _backward_replayed(self.node)):
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
        return _pow(_new_handle(_constant(c, kind == INTEGER)), self)

    def relu(self):
        """max(self, 0), micrograd's: the gradient is 1 where data > 0, else 0."""
        return _unary(self, TG_OP_RELU)

    def tanh(self):
        """The hyperbolic tangent, the lecture's: local gradient 1 - tanh ** 2."""
        return _unary(self, TG_OP_TANH)

    def exp(self):
        """e ** self, the lecture's; OverflowError, as math.exp, where it overflows."""
        return _unary(self, TG_OP_EXP)

    def log(self):
        """The natural logarithm (not in micrograd); ValueError, as math.log, for
        data <= 0."""
        return _unary(self, TG_OP_LOG)

    def sigmoid(self):
        """1 / (1 + e ** -self) (not in micrograd); local gradient s * (1 - s)."""
        return _unary(self, TG_OP_SIGMOID)

    def __reduce__(self):
        """A copy is a leaf with the same data, grad and label: the graph stays
        behind, as torch copies a tensor without its history."""
        _check(self)
        return (_rebuild, (self.data, self.node.grad, self.label))

    def __repr__(self):
        if self.node is NULL:
            return "Value(<uninitialised>)"
        _check(self)
        return f"Value(data={self.node.data}, grad={self.node.grad})"


_PROPERTIES = frozenset(name for name, kind in vars(Value).items() if hasattr(kind, '__set__'))


cdef _set_dict_offset():
    """Python's attribute lookup reads a handle's attributes at Value.attrs."""
    cdef Value probe = Value.__new__(Value)
    cdef Py_ssize_t offset = <char *>&probe.attrs - <char *><PyObject *>probe
    (<PyTypeObject *>Value).tp_dictoffset = offset
    PyType_Modified(<PyTypeObject *>Value)


_set_dict_offset()
_install_handles()


def _rebuild(data, grad, label):
    v = Value(data, label=label)
    v.grad = grad
    return v
