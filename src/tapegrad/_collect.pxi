# The Python data of nodes and the collection of the tape: included by _engine.pyx.

# ------------------------------------------------- the Python data of nodes

# The _NodeData of nodes whose handle is gone (or held only through that data),
# by node address: the tape keeps it while the node lives.
cdef dict _kept = {}

# While above 0 (in any thread), the tape does not collect: someone holds nodes
# that no handle roots yet (mlp_forward, between layers).
cdef Py_ssize_t _collection_holds = 0


cdef inline void _keep(tg_node *node, _NodeData data) except *:
    _kept[<size_t>node] = data
    if <size_t>len(_kept) >= _collect_kept_at:
        _tape.collect_due = 1


@cython.final
cdef class _NodeData:
    """The Python side of one node: label, op name, _backward, attributes.

    Held by the node's handle while one lives (the handle is then GC-tracked),
    else by the tape in _kept; never by both.
    """
    cdef tg_node *node          # NULL once the tape freed the node
    cdef object label
    cdef object op_name
    cdef object backward
    cdef dict attrs
    cdef bint finalized         # seen by the cycle collector, which finalizes once
    cdef bint weak_handle       # the node's handle is held only through this data

    def __del__(self):
        # The cycle collector found this data unreachable, with its node's
        # handle (a _backward that refers to its own Value). A live node may
        # still need the closure, so the tape takes the data, which resurrects
        # all of it, and nothing is cleared. The handle no longer roots its
        # node: the next collection frees the node and this data together,
        # unless a live node depends on it.
        cdef Value handle
        if self.node is NULL or self.finalized:
            return
        self.finalized = True
        _keep(self.node, self)
        if self.node.handle is not NULL:
            handle = <Value>self.node.handle
            if handle.side is self:
                handle.side = None
                self.weak_handle = True


cdef inline _NodeData _data_of(tg_node *node):
    """The Python data of node, or None."""
    if node.handle is not NULL and (<Value>node.handle).side is not None:
        return (<Value>node.handle).side
    if _kept:
        return _kept.get(<size_t>node)
    return None


cdef _NodeData _data_for(Value v):
    """The Python data of v's node, made if it has none."""
    cdef _NodeData data = _data_of(v.node)
    if data is None:
        data = _NodeData.__new__(_NodeData)
        data.node = v.node
        v.side = data
        if not PyObject_GC_IsTracked(v):
            PyObject_GC_Track(v)
    return data


# -- Python writes to the flags of existing nodes

cdef bint _lock_tape() except -1:
    """A sweep running in another thread writes the flags of nodes without the
    GIL: a write from Python to a node's flags waits for it to finish, or
    the sweep could lose its marks. True if it took the lock."""
    if _tape.active_sweeps == 0 or _sweep_owner == PyThread_get_thread_ident():
        return False      # no sweep, or ours, paused in a _backward
    with nogil:
        PyThread_acquire_lock(_sweep_lock, WAIT_LOCK)
    return True


cdef inline void _unlock_tape(bint locked) noexcept:
    if locked:
        PyThread_release_lock(_sweep_lock)


cdef int _set_flags(tg_node *node, uint8_t clear, uint8_t add) except -1:
    cdef bint locked = _lock_tape()
    node.flags = (node.flags & ~clear) | add
    _unlock_tape(locked)
    return 0


# ---------------------------------------------------------------- collection

cdef Py_ssize_t _collect() except -1:
    """Frees what no handle reaches. Runs at safe points: between operations.

    Dropping the data of dead nodes frees what their closures held, handles
    among them, which may free more nodes: so again, while it does."""
    cdef Py_ssize_t freed = 0
    cdef Py_ssize_t dropped = 1
    while dropped:
        freed += _collect_once(&dropped)
    return freed


cdef Py_ssize_t _collect_once(Py_ssize_t *ndropped, tg_program *consumers_of=NULL,
                              int *consumed=NULL) except -1:
    """One collection; with consumers_of (tapegrad.compile), *consumed says,
    between the mark and the reclaim, whether a live operation has one of
    that program's nodes for a parent (left as it was if no collection ran)."""
    global _collecting, _collect_kept_at
    global _sweep_owner
    cdef size_t freed
    cdef _NodeData data
    cdef tg_node *node
    cdef Value handle
    ndropped[0] = 0
    if _collecting:
        return 0
    if tg_handles_allocating:
        # a finalizer run by a handle's allocation: the node of that handle
        # has none yet, and what it depends on may have no other root
        _tape.collect_due = 1
        return 0
    if _recording_depth:
        # tapegrad.compile tells the call's new leaves from older ones by their
        # slots: none may be freed and reused while it records
        _tape.collect_due = 1
        return 0
    if _collection_holds:
        # mlp_forward keeps a layer's outputs as nodes, rooted by no handle
        _tape.collect_due = 1
        return 0
    # The sweep lock keeps sweeps off the tape while this walks it.
    if not PyThread_acquire_lock(_sweep_lock, NOWAIT_LOCK):
        _tape.collect_due = 1
        return 0
    _tape.collect_due = 0
    _collecting = True
    _sweep_owner = PyThread_get_thread_ident()
    gc_was_enabled = gc.isenabled()
    dropped = []
    try:
        # From the mark to the sweep no Python code may run: no finalizer either.
        gc.disable()
        weak = [d for d in _kept.values()
                if (<_NodeData>d).weak_handle and (<_NodeData>d).node.handle is not NULL]
        for data in weak:
            data.node.flags |= TG_WEAK_HANDLE
        tg_tape_mark(&_tape)
        for data in weak:
            data.node.flags &= ~TG_WEAK_HANDLE
        if consumers_of is not NULL:
            consumed[0] = tg_program_consumed(consumers_of, &_tape, True)
        for address in [a for a, d in _kept.items()
                        if not (<_NodeData>d).node.flags & TG_LIVE]:
            data = _kept.pop(address)
            node = data.node
            data.node = NULL
            if node.handle is not NULL:
                # a weak handle, held only through this data: it goes with it
                handle = <Value>node.handle
                handle.node = NULL
                handle.attrs = NULL
                tg_node_set_handle(&_tape, node, NULL)
            dropped.append(data)
        freed = tg_tape_reclaim(&_tape)   # and says when the next collection is due
    finally:
        _collecting = False
        _sweep_owner = 0
        PyThread_release_lock(_sweep_lock)
        if gc_was_enabled:
            gc.enable()
    _collect_kept_at = 2 * len(_kept) + 1024
    ndropped[0] = len(dropped)
    dropped = None    # now the tape is whole: finalizers may record new nodes
    return freed


def collect():
    """Frees now the tape segments no live Value reaches; returns how many.

    Runs Python's cycle collector first, which finds the custom closures that
    only their own Values refer to. Not needed for bounded memory (the tape
    collects as it grows, and Python's collector runs by itself) but useful
    after dropping a large graph, or before measuring memory.
    """
    gc.collect()
    freed = _collect()
    tg_tape_release_spares(&_tape)
    return freed


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
