# Record once, replay (tapegrad.compile): the recordings of a compiled function,
# as compact programs over the nodes they recorded. Included by _engine.pyx.
# The Python API and the rules of when to record again are in compile.py.
from cpython.ref cimport Py_REFCNT

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
        double *y
        double *value

    int tg_program_build(tg_program *program, const tg_node *sentinel, tg_node **outputs,
                         uint32_t noutputs, tg_node **bad)
    void tg_program_free(tg_program *program)
    size_t tg_program_handles(const tg_program *program)
    int tg_program_forward(tg_program *program, uint32_t *failed)
    void tg_program_write_back(tg_program *program)
    int tg_program_step_sgd(tg_program *program, uint32_t root, double *grad,
                            tg_node **params, const uint32_t *param_slot, const double *lr,
                            uint32_t nparams, uint32_t *failed)


# Reads of a Value's numbers while a recording runs: Python control flow on
# them would be baked into the recording. The hook is in Value.data and .grad.
cdef Py_ssize_t _recording_depth = 0
cdef Py_ssize_t _value_reads = 0


# Handles made for nodes that had none (by _prev): only then can a recorded
# graph have gained a holder other than its outputs.
cdef size_t _new_handles = 0


cdef inline void _note_new_handle() noexcept:
    global _new_handles
    _new_handles += 1


cdef inline void _note_read() noexcept:
    global _value_reads
    if _recording_depth:
        _value_reads += 1


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
    _recording_depth += 1
    return sentinel


def _end_recording():
    """Stops watching; returns how many Value reads the recording made (all
    recordings in progress count them: a nested one is inside its parent)."""
    global _recording_depth, _value_reads
    _recording_depth -= 1
    reads = _value_reads
    if _recording_depth == 0:
        _value_reads = 0
    return reads


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


@cython.final
cdef class _Recording:
    """One recording of a compiled function: the nodes it recorded (kept alive
    by its outputs), and the compact program that replays them."""
    cdef tg_program program
    cdef readonly list outputs      # the distinct output Values
    cdef list made                  # those the recording made, which a replay changes
    cdef size_t handles             # handles into the graph when nobody else held one
    cdef size_t checked             # _new_handles when the graph was last found unheld
    cdef bint busy
    cdef dict input_slots           # input node address -> slot, for step_sgd

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
            raise TypeError(
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
        self.handles = tg_program_handles(&self.program)
        self.checked = _new_handles

    def __dealloc__(self):
        tg_program_free(&self.program)

    def in_use(self):
        """Whether replaying would change Values someone else holds: an
        output, or a handle onto a recorded node (from _prev, say)."""
        if self.busy:
            return True
        if self.checked != _new_handles:    # else no handle can have appeared
            if tg_program_handles(&self.program) > self.handles:
                return True
            self.checked = _new_handles
        return _held_elsewhere(self.made, 2)   # made and outputs hold them

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

    def step_sgd(self, list params, list lrs):
        """Replays the forward into the flat arrays, then zero_grad, backward
        and p.data -= lr * p.grad over params in C; returns the loss's number."""
        cdef Py_ssize_t n = len(params), i
        cdef uint32_t failed = 0, nslots = self.program.ninputs + self.program.nops
        cdef uint32_t root = nslots - 1
        cdef int status
        cdef tg_node **nodes = <tg_node **>malloc(max(n, 1) * sizeof(tg_node *))
        cdef uint32_t *slots = <uint32_t *>malloc(max(n, 1) * sizeof(uint32_t))
        cdef double *lr = <double *>malloc(max(n, 1) * sizeof(double))
        cdef double *grad = <double *>malloc(nslots * sizeof(double))
        if self.input_slots is None:
            self.input_slots = {<size_t>self.program.inputs[i]: i
                                for i in range(self.program.ninputs)}
        self.busy = True
        try:
            if nodes is NULL or slots is NULL or lr is NULL or grad is NULL:
                raise MemoryError()
            for i in range(n):
                _check(<Value>params[i])
                nodes[i] = (<Value>params[i]).node
                slots[i] = self.input_slots.get(<size_t>nodes[i], TG_NO_SLOT)
                lr[i] = lrs[i]
            with nogil:
                status = tg_program_forward(&self.program, &failed)
            if status != TG_OK:
                self._raise_at(status, failed)
            locked = _lock_tape()
            status = tg_program_step_sgd(&self.program, root, grad, nodes, slots, lr, n,
                                         &failed)
            _unlock_tape(locked)
            if status != TG_OK:
                x = self.program.value[self.program.a[failed]]
                e = (self.program.value[self.program.b[failed]]
                     if self.program.op[failed] == TG_OP_POW else self.program.y[failed])
                _raise(status, f"the derivative of {x!r} ** {e!r} needs {x!r} ** {e - 1!r}")
            loss = self.program.value[root]
            return int(loss) if self.program.flags[root] & TG_INT_DATA else loss
        finally:
            self.busy = False
            free(nodes)
            free(slots)
            free(lr)
            free(grad)

    def replay(self):
        """Recomputes the recorded graph from the inputs' current data, in C
        without the GIL, and writes it into the recorded nodes."""
        cdef uint32_t failed = 0
        cdef int status
        cdef bint locked
        self.busy = True
        try:
            with nogil:
                status = tg_program_forward(&self.program, &failed)
            if status != TG_OK:
                self._raise_at(status, failed)
            locked = _lock_tape()
            tg_program_write_back(&self.program)
            _unlock_tape(locked)
        finally:
            self.busy = False

    cdef int _raise_at(self, int status, uint32_t k) except -1:
        """The error the eager op would have raised, with its wording."""
        cdef tg_node *node = self.program.nodes[k]
        cdef uint8_t op = self.program.op[k]
        x = self.program.value[self.program.a[k]]
        if op == TG_OP_POW:
            _raise(status, f"{x!r} ** {self.program.value[self.program.b[k]]!r}")
        if op == TG_OP_POW_CONST or op == TG_OP_POW_INT:
            _raise(status, f"{x!r} ** {self.program.y[k]!r}")
        if status == TG_ERR_RANGE and (op == TG_OP_ADD or op == TG_OP_MUL or _is_folded(node)
                                       or node.op != op):
            raise OverflowError("integer result too large for a float: tapegrad holds "
                                "micrograd's ints as doubles")
        _raise(status, f"{_OP_NAMES[op]}({x!r})")
        return -1

    @property
    def nops(self):
        return self.program.nops

    @property
    def ninputs(self):
        return self.program.ninputs
