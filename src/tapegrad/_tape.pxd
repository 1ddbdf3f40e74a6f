# Declarations of the C tape and the scalar ops (csrc/), nothing else.
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t


cdef extern from "tg_tape.h" nogil:
    enum:
        TG_SEGMENT_CAPACITY
        TG_OK
        TG_ERR_NOMEM
        TG_ERR_DOMAIN
        TG_ERR_RANGE
        TG_ERR_ZERODIV
        TG_ERR_INT_RANGE
        TG_MARK
        TG_CUSTOM
        TG_HAS_CLOSURE
        TG_INT_DATA
        TG_LIVE
        TG_WEAK_HANDLE
        TG_LOCAL_ZERODIV
        TG_LOCAL_RANGE

    cdef struct tg_folded:
        tg_node *parent
        double constant_grad

    cdef union tg_parents:
        tg_node *parent[2]
        tg_folded folded

    ctypedef struct tg_node:
        double data
        double grad
        double local[2]
        tg_parents up
        void *handle
        uint16_t index
        uint8_t op
        uint8_t flags
        uint32_t nparents

    ctypedef struct tg_segment:
        tg_segment *prev
        tg_segment *next
        uint32_t count
        uint32_t handles
        uint16_t replays
        tg_node nodes[1]

    ctypedef struct tg_tape:
        tg_segment *tail
        size_t nsegments
        tg_segment *leaf_tail
        size_t nleaf_segments
        tg_node *free_leaves
        uint32_t active_sweeps
        tg_segment *spare
        size_t nspare
        size_t collect_at
        size_t collect_leaves_at
        int collect_due
        size_t op_handles

    enum:
        TG_FREE_SLOT

    ctypedef struct tg_sweep:
        size_t pending
        int cleanup

    int tg_tape_init(tg_tape *tape)
    void tg_tape_release_spares(tg_tape *tape)
    tg_node *tg_tape_push(tg_tape *tape)
    tg_node *tg_tape_push_leaf(tg_tape *tape)
    void tg_tape_mark(tg_tape *tape)
    size_t tg_tape_reclaim(tg_tape *tape)
    tg_segment *tg_node_segment(const tg_node *node)
    tg_node *tg_node_parent(const tg_node *node, uint32_t k)
    void tg_node_set_handle(tg_tape *tape, tg_node *node, void *handle)
    int tg_node_set_parents(tg_node *node, tg_node **parents, uint32_t n)
    void tg_sweep_begin(tg_sweep *sweep, tg_tape *tape, tg_node *root)
    tg_node *tg_sweep_run(tg_sweep *sweep)


# The op codes are declared by the table in tg_ops.h; only the names used here are listed.
cdef extern from "tg_ops.h" nogil:
    enum:
        TG_OP_COUNT
        TG_OP_ADD
        TG_OP_MUL
        TG_OP_ADD_CONST
        TG_OP_ADD_INT_CONST
        TG_OP_MUL_CONST
        TG_OP_MUL_INT_CONST
        TG_OP_POW_CONST
        TG_OP_POW_INT
        TG_OP_POW
        TG_OP_RELU
        TG_OP_TANH
        TG_OP_EXP
        TG_OP_LOG
        TG_OP_SIGMOID
        TG_OP_CUSTOM

    const char *tg_op_name(int op)
    int tg_op_is_folded(int op)
    double tg_folded_derivative(int op, const double *local)
    int tg_pow_value(double x, double e, double *out)
    int tg_int_result(int op, int a_int, int b_int, double x, double y)
    double tg_int_value(double out)


cdef extern from "tg_record.h" nogil:
    int tg_record(tg_tape *tape, int op, tg_node *a, tg_node *b, double y, tg_node **out)
    int tg_record_neuron(tg_tape *tape, tg_node *bias, tg_node **weights, tg_node **inputs,
                         const double *numbers, const int *int_numbers, uint32_t n, int relu,
                         tg_node **out)
