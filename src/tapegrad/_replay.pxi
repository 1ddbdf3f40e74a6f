# Record once, replay (tapegrad.compile): the recordings of a compiled function,
# as compact programs over the nodes they recorded. Included by _engine.pyx.
# The Python API and the rules of when to record again are in compile.py.
#
# Lazy write-back: a replay writes its outputs into their nodes and leaves the
# other recorded nodes stale; the recording is then "pending". Whatever could
# observe a stale node writes the pending numbers into the nodes first
# (_Recording.flush): Python touching an operation node of a pending recording
# (_check, which every Value method and operation passes, reads and writes of
# .data and .grad alike), an eager sweep that reaches them (through an
# output: _flush_reached), _local_backward (it writes its parents), _prev
# unfolding a node, and a replay whose inputs are operations. The first
# backward() from an output after a replay runs over the flat arrays instead
# (_backward_replayed), with the eager sweep's arithmetic in its order; a
# second one runs on the written-back nodes. Leaves (parameters, inputs,
# constants) and the outputs are never stale.
from cpython cimport array
from cpython.ref cimport Py_REFCNT
import array as _array

cdef extern from "tg_replay.h" nogil:
    enum:
        TG_ERR_CUSTOM
        TG_NO_SLOT

    ctypedef struct tg_program:
        uint32_t ninputs
        uint32_t nops
        tg_node **inputs
        uint8_t *fresh
        tg_node **nodes
        uint8_t *op
        uint8_t *flags
        uint32_t *a
        uint32_t *b
        uint32_t nconstants
        double *value
        double *grad
        uint32_t *output_ops
        uint32_t noutput_ops
        uint32_t ndeferred
        tg_segment **segments
        uint32_t *first_index
        uint32_t *last_index
        uint32_t nsegments

    int tg_program_build(tg_program *program, const tg_node *sentinel, tg_node **outputs,
                         uint32_t noutputs, tg_node **bad)
    void tg_program_free(tg_program *program)
    size_t tg_program_handles(const tg_program *program)
    size_t tg_program_side_handles(const tg_program *program)
    int tg_program_has_closure(const tg_program *program)
    int tg_program_forward(tg_program *program, int inner, uint32_t *failed)
    void tg_program_write_back(tg_program *program)
    void tg_program_write_outputs(tg_program *program)
    void tg_program_flush(tg_program *program, const double *grad, uint32_t root,
                          const uint32_t *ops, uint32_t nreach)
    uint32_t tg_program_unfolded(const tg_program *program)
    void tg_program_mark_segments(tg_program *program, int delta)
    int tg_program_in_range(const tg_program *program, const tg_node *node)
    int tg_program_consumed(tg_program *program, const tg_tape *tape, int live_only)
    void tg_program_scanned(tg_program *program, const tg_tape *tape)
    int tg_reach_ranges(const tg_node *root, tg_segment **segments, const uint32_t *first,
                        const uint32_t *last, uint32_t nranges, uint8_t *hit)
    int tg_program_reach(const tg_program *program, uint32_t root, uint32_t *ops,
                         uint32_t *nreach)
    void tg_program_backward(tg_program *program, uint32_t root, const uint32_t *ops,
                             uint32_t nreach)
    int tg_program_step_sgd(tg_program *program, uint32_t root,
                            tg_node **params, const uint32_t *param_slot, const double *lr,
                            uint32_t nparams, uint32_t *failed)


# Reads of a Value's numbers while a recording runs: Python control flow on
# them would be baked into the recording. The hook is in Value.data and .grad.
# Per thread: another thread's reads are not this recording's control flow.
cdef Py_ssize_t _recording_depth = 0    # in all threads: the tape does not collect meanwhile
cdef dict _recording_threads = {}       # thread ident -> [depth, reads] of its recordings


# Handles made for nodes that had none (by _prev): only then can a recorded
# graph have gained a holder other than its outputs.
cdef size_t _new_handles = 0


cdef inline void _note_new_handle() noexcept:
    global _new_handles
    _new_handles += 1


cdef inline int _note_read() except -1:
    if _recording_depth:
        _count_read()
    return 0


cdef int _count_read() except -1:
    state = _recording_threads.get(PyThread_get_thread_ident())
    if state is not None:
        state[1] += 1
    return 0


def _recording_now():
    """Whether this thread is recording: a compiled function called inside
    another's recording runs eagerly, so that the outer one records its ops."""
    return _recording_depth > 0 and PyThread_get_thread_ident() in _recording_threads


# Python _backward closures given to Values: a recording checks its nodes
# again for one only when this changed.
cdef size_t _closures_set = 0


# The pending recordings, oldest first. The list holds them, and through
# their outputs their graphs, until they are flushed or replayed again.
cdef list _pending = []
cdef Py_ssize_t _npending = 0
# At most this many: a flush of the oldest makes room (each holds a graph).
cdef Py_ssize_t _MAX_PENDING = 16
# Live recordings with an operation among their inputs: their graphs reach
# into older ones without a Python touch (_flush_reached walks for all then).
cdef Py_ssize_t _operation_inputs = 0
# Nodes _prev unfolded: a recording with one writes back eagerly.
cdef size_t _unfolds = 0
# What the lazy write-back did, for tests: backward() over the flat arrays, flushes.
cdef size_t _flat_backwards = 0
cdef size_t _flushes = 0


def _replay_stats():
    """Counts since import: backward() calls run over a recording's flat arrays,
    and flushes of pending recordings into their nodes."""
    return {"flat_backwards": _flat_backwards, "flushes": _flushes}


cdef int _observe(tg_node *node) except -1:
    """Python is about to touch node, an operation in a segment of some
    pending recording: write that recording's numbers into its nodes first."""
    cdef _Recording recording
    cdef Py_ssize_t i = 0
    # cheap when node is in none of their ranges: an eager op on a node made
    # after a replay, in the replay's last segment, comes here at each use
    while i < len(_pending):
        recording = <_Recording>_pending[i]
        i += 1
        if not tg_program_in_range(&recording.program, node):
            continue
        if <size_t>node in recording.root_slots:
            recording.touched = True    # an output: a new op may take it (_flush_reached)
        else:
            recording.flush()           # leaves _pending
            i -= 1
    return 0


cdef int _flush_parents(tg_node *node) except -1:
    """Writes back the pending recordings that hold a parent of node."""
    cdef uint32_t k
    cdef tg_node *parent
    for k in range(node.nparents):
        parent = tg_node_parent(node, k)
        if parent.nparents and tg_node_segment(parent).replays:
            _observe(parent)
    return 0


cdef int _flush_all() except -1:
    """Writes every pending recording into its nodes: before an eager sweep,
    which may reach them."""
    while _pending:
        (<_Recording>_pending[-1]).flush()
    return 0


cdef int _drop_orphans() except -1:
    """Flushes and drops the pending recordings no one else holds (their
    compiled function is gone): their graphs are freed with them."""
    cdef Py_ssize_t i = 0
    while i < len(_pending):
        if Py_REFCNT(_pending[i]) > _ALONE:
            i += 1
        else:
            (<_Recording>_pending[i]).flush()
    return 0


cdef int _flush_reached(tg_node *root) except -1:
    """Writes into their nodes the pending recordings an eager sweep from root
    would reach, before it runs; the others stay pending (an eager step does
    not pay the write-back of every compiled graph alive). Holds the sweep
    lock: the walk uses the mark bits.

    A node made after a replay reaches its recording only through a Value
    Python touched since (an output, through _check: touched) or a graph
    whose inputs are operations (another recording's), so only such
    recordings, and the one root is in, are walked for; most sweeps walk
    for none. (A node made before the replay that reaches the graph would
    have made the replay in_use: see the note on in_use.)"""
    cdef _Recording recording
    _drop_orphans()     # else an eager training loop would keep their graphs for good
    cdef list pending = [recording for recording in _pending
                         if recording.touched or _operation_inputs
                         or tg_program_in_range(&recording.program, root)]
    cdef uint32_t nranges = 0, r = 0, i
    if not pending:
        return 0
    cdef tg_segment **segments
    cdef uint32_t *first
    cdef uint32_t *last
    cdef uint8_t *hit
    for recording in pending:
        nranges += recording.program.nsegments
    segments = <tg_segment **>malloc(max(nranges, 1) * sizeof(tg_segment *))
    first = <uint32_t *>malloc(max(nranges, 1) * sizeof(uint32_t))
    last = <uint32_t *>malloc(max(nranges, 1) * sizeof(uint32_t))
    hit = <uint8_t *>malloc(max(nranges, 1))
    try:
        if segments is NULL or first is NULL or last is NULL or hit is NULL:
            return _flush_all()
        for recording in pending:
            for i in range(recording.program.nsegments):
                segments[r] = recording.program.segments[i]
                first[r] = recording.program.first_index[i]
                last[r] = recording.program.last_index[i]
                r += 1
        with nogil:
            tg_reach_ranges(root, segments, first, last, nranges, hit)  # NOMEM: all hit
        r = 0
        for recording in pending:
            reached = False
            for i in range(recording.program.nsegments):
                reached = reached or hit[r]
                r += 1
            if reached:
                recording.flush()
    finally:
        free(segments)
        free(first)
        free(last)
        free(hit)
    return 0


cdef int _before_unfold() except -1:
    global _unfolds
    _unfolds += 1
    _flush_all()
    return 0


cdef bint _backward_replayed(tg_node *root) except -1:
    """backward() from an output of a pending recording, over its flat arrays.
    False if it did not run there: the caller runs the eager sweep."""
    cdef _Recording recording
    if not tg_node_segment(root).replays:
        return False
    for recording in _pending:
        slot = recording.root_slots.get(<size_t>root)
        if slot is not None:
            if recording.closures_seen != _closures_set and \
                    tg_program_has_closure(&recording.program):
                return False    # the eager sweep calls that _backward
            return recording.backward_from(slot)
    return False


def _leaf_addresses():
    """The addresses of the leaves in use now: what a recording did not make."""
    cdef tg_segment *segment = _tape.leaf_tail
    cdef uint32_t i
    addresses = set()
    while segment is not NULL:
        for i in range(segment.count):
            if segment.nodes[i].op != TG_FREE_SLOT:
                addresses.add(<size_t>&segment.nodes[i])
        segment = segment.prev
    return addresses


def _begin_recording():
    """Starts watching reads; returns the sentinel: every operation recorded
    after it is the recording's, everything older is an input."""
    global _recording_depth
    cdef tg_node *leaf = _constant(0.0, False)
    sentinel = _new_handle(_const_node(TG_OP_ADD, leaf, 0.0, False))
    _recording_threads.setdefault(PyThread_get_thread_ident(), [0, 0])[0] += 1
    _recording_depth += 1
    return sentinel


def _end_recording():
    """Stops watching; returns how many Value reads the recording made (the
    thread's recordings in progress all count them: a nested one is inside
    its parent)."""
    global _recording_depth
    cdef unsigned long me = PyThread_get_thread_ident()
    state = _recording_threads[me]
    state[0] -= 1
    if state[0] == 0:
        del _recording_threads[me]
    _recording_depth -= 1
    return state[1]


def _node_address(Value v):
    """The key of an argument Value: its node, which the recording reads."""
    _check(v)
    return <size_t>v.node


cdef bint _held_elsewhere(list values, Py_ssize_t lists=1):
    """Whether any of values is referred to from outside the lists that hold them."""
    cdef Py_ssize_t i
    for i in range(len(values)):
        if Py_REFCNT(values[i]) > _ALONE + lists - 1:
            return True
    return False


# The count _held_elsewhere sees for an object that only its list holds.
cdef Py_ssize_t _ALONE = 1
_ALONE = 0
_probe = [object()]
for _ in range(64):
    if not _held_elsewhere(_probe):
        break
    _ALONE += 1
del _probe


class NotReplayable(TypeError):
    """A recording holds a node whose value or _backward comes from Python."""


@cython.final
cdef class _Recording:
    """One recording of a compiled function: the nodes it recorded (kept alive
    by its outputs), and the compact program that replays them."""
    cdef tg_program program
    cdef readonly list outputs      # the distinct output Values
    cdef list made                  # those the recording made, which a replay changes
    cdef size_t handles             # handles into the graph when nobody else holds one
    cdef size_t checked             # _new_handles when the graph was last found unheld
    cdef bint busy
    cdef list sgd_params            # step_sgd's parameters, as nodes, slots and lrs below
    cdef tg_node **sgd_nodes
    cdef uint32_t *sgd_slots
    cdef double *sgd_lr
    cdef Py_ssize_t sgd_n
    cdef bint pending               # the nodes are stale: the flat arrays hold the replay
    cdef bint grads_valid           # program.grad holds the one flat backward's gradients, else 0
    cdef bint eager_write           # write every node at each replay, never pending
    cdef bint leaf_inputs           # every input is a leaf: backward can stay flat
    cdef bint touched               # Python touched an output since the replay
    cdef bint counted               # in _operation_inputs
    cdef size_t unfolds_seen        # _unfolds when the nodes were last checked
    cdef readonly dict root_slots   # output operation's node address -> its slot
    cdef size_t closures_seen       # _closures_set when no node had a closure
    cdef readonly bint replayable   # False: the call kept a Value a replay would change
    cdef dict reach                 # slot -> the operations it depends on (array 'I')
    cdef uint32_t flat_root         # the slot of the one flat backward since the replay

    def __cinit__(self, Value sentinel, list outputs, set old_leaves):
        cdef tg_node **nodes = <tg_node **>malloc(max(len(outputs), 1) * sizeof(tg_node *))
        cdef tg_node *bad = NULL
        cdef int status
        cdef uint32_t i
        if nodes is NULL:
            raise MemoryError()
        try:
            for i in range(len(outputs)):
                _check(<Value>outputs[i])
                nodes[i] = (<Value>outputs[i]).node
            status = tg_program_build(&self.program, sentinel.node, nodes, len(outputs), &bad)
        finally:
            free(nodes)
        if status == TG_ERR_CUSTOM:
            raise NotReplayable(
                "tapegrad.compile cannot replay this function: it made a custom Value "
                f"(op {_handle_of(bad)._op!r}) whose data or _backward comes from Python. "
                "Call the function eagerly, or build the node from Value operations.")
        if status != TG_OK:
            _raise(status, "tapegrad.compile")
        for i in range(self.program.ninputs):
            if self.program.inputs[i].nparents == 0 and \
                    <size_t>self.program.inputs[i] not in old_leaves:
                self.program.fresh[i] = 1
        self.outputs = list(outputs)
        wanted = {<size_t>(<Value>v).node: v for v in outputs}
        made = {}
        for i in range(self.program.nops):
            if <size_t>self.program.nodes[i] in wanted:
                made[<size_t>self.program.nodes[i]] = True
        for i in range(self.program.ninputs):
            if self.program.fresh[i] and <size_t>self.program.inputs[i] in wanted:
                made[<size_t>self.program.inputs[i]] = True
        self.made = [v for address, v in wanted.items() if address in made]
        wanted = None
        # Unheld, the graph has a handle per output it made (self.outputs holds
        # them). More, and the caller kept a Value of the graph from this very
        # call: a replay must not change it while it lives.
        self.handles = len(self.made)
        self.checked = _new_handles
        if tg_program_handles(&self.program) > self.handles:
            self.checked -= 1           # in_use counts again at every call
        self.root_slots = {}
        for i in range(self.program.noutput_ops):
            k = self.program.output_ops[i]
            self.root_slots[<size_t>self.program.nodes[k]] = self.program.ninputs + k
        self.leaf_inputs = all(self.program.inputs[i].nparents == 0
                               for i in range(self.program.ninputs))
        global _operation_inputs
        if not self.leaf_inputs:
            _operation_inputs += 1
            self.counted = True
        self.unfolds_seen = _unfolds
        self.closures_seen = _closures_set
        # Eager calls make new Values each time: a replay must not hand back, or
        # change the parents of, a Value the caller kept from this call. A leaf
        # output the call made is such a Value (no op makes it again), and so is
        # a held Value built in the call off the outputs' paths.
        self.replayable = tg_program_side_handles(&self.program) == 0 and not any(
            (<Value>v).node.nparents == 0 and <size_t>(<Value>v).node not in old_leaves
            for v in outputs)

    cdef bint holds(self, tg_node *node):
        """Whether node may be a stale node of this recording."""
        return self.pending and tg_program_in_range(&self.program, node) and \
            <size_t>node not in self.root_slots

    cdef int _pend(self) except -1:
        global _npending
        _drop_orphans()
        if len(_pending) >= _MAX_PENDING:
            (<_Recording>_pending[0]).flush()
        self.pending = True
        self.grads_valid = False
        self.touched = False
        tg_program_mark_segments(&self.program, 1)
        _pending.append(self)
        _npending += 1
        return 0

    cdef int _unpend(self) except -1:
        global _npending
        self.pending = False
        tg_program_mark_segments(&self.program, -1)
        _npending -= 1
        _pending.remove(self)
        return 0

    cdef int flush(self) except -1:
        """Writes the last replay (values, local derivatives, flags and the
        gradients of backward()) into the recorded nodes."""
        global _flushes
        cdef bint locked = _lock_tape()
        try:
            if self.pending:    # still: a wait for the lock runs other threads
                self._write_pending()
                self._unpend()
                _flushes += 1
        finally:
            _unlock_tape(locked)
        return 0

    cdef int _write_pending(self) except -1:
        cdef array.array ops = None
        if not self.grads_valid:
            tg_program_flush(&self.program, NULL, 0, NULL, 0)
            return 0
        if self.program.noutput_ops > 1:
            ops = self.reach[self.flat_root]
            tg_program_flush(&self.program, self.program.grad, self.flat_root,
                             ops.data.as_uints, len(ops))
        else:
            tg_program_flush(&self.program, self.program.grad, self.flat_root, NULL, 0)
        return 0

    cdef bint backward_from(self, uint32_t root) except -1:
        """backward() from the output in slot root, over the flat arrays, as
        the eager sweep would run it on the written-back nodes. False if it
        cannot: an input is an operation (eager backward goes on past it),
        some derivative is deferred (eager backward may raise), or a backward
        already ran since the replay (the nodes then hold what micrograd's
        leaves for folded numbers add up over the calls)."""
        cdef array.array ops
        cdef uint32_t *reach = NULL
        cdef uint32_t nreach = 0
        global _flat_backwards
        if not self.leaf_inputs or self.program.ndeferred or self.busy or self.grads_valid:
            return False
        if self.program.noutput_ops > 1:
            if self.reach is None:
                self.reach = {}
            ops = self.reach.get(root)
            if ops is None:
                ops = _array.array('I', bytes(4 * max(self.program.nops, 1)))
                if tg_program_reach(&self.program, root, ops.data.as_uints,
                                    &nreach) != TG_OK:
                    raise MemoryError()
                del ops[nreach:]
                self.reach[root] = ops
            reach = ops.data.as_uints
            nreach = len(ops)
        self.busy = True        # a replay in another thread would rewrite the arrays
        try:
            _enter_sweep()
            try:
                if not self.pending:    # flushed while this thread waited for the lock
                    return False
                if self.grads_valid:    # another thread's, while this one waited
                    return False
                self.grads_valid = True
                self.flat_root = root
                with nogil:
                    tg_program_backward(&self.program, root, reach, nreach)
                _flat_backwards += 1
            finally:
                _leave_sweep()
        finally:
            self.busy = False
        return True

    def __dealloc__(self):
        global _operation_inputs
        if self.counted:
            _operation_inputs -= 1
        tg_program_free(&self.program)
        self._sgd_release()

    def in_use(self):
        """Whether replaying would change Values someone else holds: an
        output, a handle onto a recorded node (from _prev, say), or an
        operation made on one since (z = loss * 2, kept after loss)."""
        if self.busy or not self.replayable:
            return True
        if tg_program_consumed(&self.program, &_tape, False) and self._consumed_live():
            return True
        if self.closures_seen != _closures_set:
            if tg_program_has_closure(&self.program):
                return True     # a replay would not call that _backward: record anew
            self.closures_seen = _closures_set
        if self.checked != _new_handles:    # else no handle can have appeared
            if tg_program_handles(&self.program) > self.handles:
                return True
            self.checked = _new_handles
        return _held_elsewhere(self.made, 2)   # made and outputs hold them

    cdef bint _consumed_live(self) except -1:
        """After a scan saw operations on the graph's nodes: whether one is
        live, by a collection now, which tells (True if it cannot run)."""
        cdef Py_ssize_t dropped = 0
        cdef int consumed = -1
        _collect_once(&dropped, &self.program, &consumed)
        if consumed == 0:
            tg_program_scanned(&self.program, &_tape)
        return consumed != 0

    def fusable(self):
        """Whether step_sgd can run: one output, made by the last operation, and
        every input a leaf (eager backward would go on past an older operation)."""
        cdef uint32_t i
        if len(self.outputs) != 1 or self.program.nops == 0 or \
                self.program.nodes[self.program.nops - 1] != (<Value>self.outputs[0]).node:
            return False
        for i in range(self.program.ninputs):
            if self.program.inputs[i].nparents != 0:
                return False
        return True

    cdef int _sgd_prepare(self, list groups) except -1:
        """The optimizer's parameters as nodes and input slots, and each one's
        lr, in the kept arrays: rebuilt only when the parameters are not the
        Values of the last call."""
        cdef Py_ssize_t n = 0, i = 0, j
        cdef bint same = self.sgd_params is not None
        cdef list lrs = [float(group["lr"]) for group in groups]  # may run Python: first
        cdef list sizes = []
        cdef list listed
        for group in groups:
            params = group["params"]
            listed = params if type(params) is list else list(params)  # indexed: no iterator
            sizes.append(len(listed))
            for j in range(len(listed)):
                p = listed[j]
                if same and (i >= self.sgd_n or self.sgd_params[i] is not p
                             or (<Value?>p).node != self.sgd_nodes[i]):
                    same = False
                i += 1
        n = i
        if not same or n != self.sgd_n:
            self._sgd_release()
            self.sgd_nodes = <tg_node **>malloc(max(n, 1) * sizeof(tg_node *))
            self.sgd_slots = <uint32_t *>malloc(max(n, 1) * sizeof(uint32_t))
            self.sgd_lr = <double *>malloc(max(n, 1) * sizeof(double))
            if self.sgd_nodes is NULL or self.sgd_slots is NULL or self.sgd_lr is NULL:
                self._sgd_release()
                raise MemoryError()
            input_slots = {<size_t>self.program.inputs[j]: j
                           for j in range(self.program.ninputs)}
            params = [p for group in groups for p in group["params"]]
            for i in range(n):
                _check(<Value>params[i])
                self.sgd_nodes[i] = (<Value>params[i]).node
                # TG_NO_SLOT is UINT32_MAX: as a Python int Cython would read -1
                slot = input_slots.get(<size_t>self.sgd_nodes[i])
                self.sgd_slots[i] = TG_NO_SLOT if slot is None else slot
            self.sgd_params = params
            self.sgd_n = n
        i = 0
        for j in range(len(lrs)):
            lr = lrs[j]
            for _ in range(<Py_ssize_t>sizes[j]):
                self.sgd_lr[i] = lr
                i += 1
        return 0

    cdef void _sgd_release(self) noexcept:
        free(self.sgd_nodes)
        free(self.sgd_slots)
        free(self.sgd_lr)
        self.sgd_nodes = NULL
        self.sgd_slots = NULL
        self.sgd_lr = NULL
        self.sgd_params = None
        self.sgd_n = 0

    def step_sgd(self, list groups):
        """Replays the forward into the flat arrays, then zero_grad, backward
        and p.data -= lr * p.grad over the parameters of groups (an SGD's
        param_groups) in C; returns the loss's number."""
        cdef uint32_t failed = 0
        cdef uint32_t root = self.program.ninputs + self.program.nops - 1
        cdef int status
        cdef bint locked
        self.busy = True
        try:
            self._sgd_prepare(groups)
            if self.pending:
                self._unpend()          # in_use: no one sees what it drops
            with nogil:
                status = tg_program_forward(&self.program, False, &failed)  # a step writes no node
            if status != TG_OK:
                self._raise_at(status, failed)
            locked = _lock_tape()
            status = tg_program_step_sgd(&self.program, root, self.sgd_nodes, self.sgd_slots,
                                         self.sgd_lr, self.sgd_n, &failed)
            _unlock_tape(locked)
            if status != TG_OK:
                x = self.program.value[self.program.a[failed]]
                e = self.program.value[self.program.b[failed]]   # a Value's or the exponent
                _raise(status, f"the derivative of {x!r} ** {e!r} needs {x!r} ** {e - 1!r}")
            loss = self.program.value[root]
            return int(loss) if self.program.flags[root] & TG_INT_DATA else loss
        finally:
            self.busy = False

    def replay_if_free(self):
        """replay() if no one uses this recording (in_use), else None. One
        call, which no other thread can enter between the check and the
        replay (Python code between them could let two threads take it)."""
        if self.in_use():
            return None
        return self.replay()

    def step_sgd_if_free(self, list groups):
        """step_sgd(groups) if no one uses this recording, else None."""
        if self.in_use():
            return None
        return self.step_sgd(groups)

    def replay(self):
        """Recomputes the recorded graph from the inputs' current data, in C
        without the GIL, and writes it into the recorded nodes. Returns the
        outputs, in a new list: the caller holds them before another thread
        can ask whether they are held (in_use)."""
        cdef uint32_t failed = 0
        cdef int status
        cdef bint locked
        self.busy = True
        try:
            if self.pending:
                # in_use: nothing holds its graph, so no one sees what it drops
                self._unpend()
            if self.unfolds_seen != _unfolds:
                self.unfolds_seen = _unfolds
                if tg_program_unfolded(&self.program):
                    self.eager_write = True     # write_back keeps the unfolded leaves right
            if not self.leaf_inputs:
                _flush_all()                    # the forward reads operations' data
            with nogil:
                status = tg_program_forward(&self.program, True, &failed)
            if status != TG_OK:
                self._raise_at(status, failed)
            locked = _lock_tape()
            if self.eager_write:
                tg_program_write_back(&self.program)
            else:
                tg_program_write_outputs(&self.program)
            _unlock_tape(locked)
            if not self.eager_write:
                self._pend()
            self._renew_outputs()
            return list(self.outputs)
        finally:
            self.busy = False

    cdef int _renew_outputs(self) except -1:
        """An eager call returns new Values: a label or attribute the user gave
        an output of the last call is not on this call's."""
        cdef Value v
        for v in self.made:
            if v.side is not None:
                v.side.label = None
                v.attrs = NULL      # first: the dict's values may run Python as they go
                v.side.attrs = None
        return 0

    cdef int _raise_at(self, int status, uint32_t k) except -1:
        """The error the eager op would have raised, with its wording."""
        cdef uint8_t op = self.program.op[k]
        x = self.program.value[self.program.a[k]]
        # the second operand: a Value's slot, or the constant slot of a folded number
        other = self.program.value[self.program.b[k]]
        if op == TG_OP_POW or op == TG_OP_POW_CONST or op == TG_OP_POW_INT:
            _raise(status, f"{x!r} ** {other!r}")
        if status == TG_ERR_INT_RANGE:     # an int + or * beyond a double, as eager names it
            _raise(status, f"{x!r} {_OP_NAMES[op]} {other!r}")
        _raise(status, f"{_OP_NAMES[op]}({x!r})")
        return -1

    @property
    def nops(self):
        return self.program.nops

    @property
    def ninputs(self):
        return self.program.ninputs
