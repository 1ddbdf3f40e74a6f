/* The scalar tape: fixed-size segments of nodes, appended in creation order.
 *
 * Creation order is a topological order (a node's parents exist before it),
 * so backward is one reverse walk over the tape: no sort, no recursion.
 * Segments never move once allocated, so node pointers stay valid for as long
 * as their segment lives.
 *
 * Memory is reclaimed by a tracing collection (tg_tape_mark, tg_tape_reclaim) whose roots are
 * the nodes with a live Python handle. Its mark phase is one reverse walk too:
 * a node is live if it has a handle or a live node points to it, and every
 * node that points to it is newer, so it has been visited already.
 *
 * No Python.h here: the only Python-facing field is an opaque borrowed
 * pointer to the handle object, which this file never dereferences.
 */
#ifndef TG_TAPE_H
#define TG_TAPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* For the functions whose callers pass constants that should fold their
 * branches away (an op, a mode) */
#if defined(__GNUC__) || defined(__clang__)
#define TG_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define TG_ALWAYS_INLINE __forceinline
#else
#define TG_ALWAYS_INLINE inline
#endif

/* A hint that the node at address p will soon be written: its line is fetched
 * ahead of the loop reaching it. The sweep walks a graph of a few MB, beyond
 * L2, down the tape, and each + or * node adds into the grads of the nodes just
 * below it; recording a neuron writes node after node up the tape. Waiting for
 * each line as the loop reached it cost a fifth of both (moons step, measured). */
#if defined(__GNUC__) || defined(__clang__)
#define TG_PREFETCH_WRITE(p) __builtin_prefetch((p), 1)
#else
#define TG_PREFETCH_WRITE(p) ((void)(p))
#endif

/* How far ahead, in nodes (4 KB): 8, 16 and 32 gained less on the moons step,
 * 128 and 256 no more. */
#define TG_PREFETCH_NODES 64

/* Nodes per segment. Large enough that crossing a segment is rare during a
 * sweep, small enough that a short-lived graph pins little memory. Must fit
 * in tg_node.index. */
#define TG_SEGMENT_CAPACITY 2048

enum tg_status {
    TG_OK = 0,
    TG_ERR_NOMEM = -1,
    TG_ERR_DOMAIN = -2,   /* math domain error: Python's ValueError */
    TG_ERR_RANGE = -3,    /* result overflows: Python's OverflowError */
    TG_ERR_ZERODIV = -4,  /* 0.0 to a negative power: ZeroDivisionError */
    TG_ERR_INT_RANGE = -5 /* an int result (micrograd's) beyond a double: OverflowError */
};

/* node flags */
#define TG_MARK 0x01u        /* reachable from the root of the running sweep */
#define TG_CUSTOM 0x02u      /* parents come from Python; no recorded local gradients */
#define TG_HAS_CLOSURE 0x04u /* a custom node whose Python _backward must be called */
#define TG_INT_DATA 0x08u    /* data stands for a Python int, as micrograd would hold it */
#define TG_LIVE 0x10u        /* reachable from a handle, during a collection */
#define TG_WEAK_HANDLE 0x20u /* its handle is held only by the tape's own closures: not a root */
/* Its local derivative could not be computed (x**(e-1) at a pole or out of
 * range): like micrograd, whose closure computes it, backward raises here. */
#define TG_LOCAL_ZERODIV 0x40u
#define TG_LOCAL_RANGE 0x80u
#define TG_STOPS (TG_HAS_CLOSURE | TG_LOCAL_ZERODIV | TG_LOCAL_RANGE)

struct tg_node;

union tg_parents {
    struct tg_node *parent[2];    /* when nparents <= 2 */
    struct tg_node **many;        /* custom nodes with more than two parents */
    /* a folded x + c or x * c (tg_op_is_folded): its one parent, and the grad
     * micrograd's leaf for c would hold, added to by each sweep that passes
     * the node (0.0 when recorded: the bits of a NULL second parent) */
    struct tg_folded {
        struct tg_node *parent;
        double constant_grad;
    } folded;
};

typedef struct tg_node {
    double data;
    double grad;
    /* d(this)/d(parent[k]), recorded in the forward pass. A node with one
     * parent keeps a number of its op in local[1] instead: the exponent of
     * x ** c (POW_CONST, POW_INT), for its _op name; what the leaf of a
     * folded constant is rebuilt from: c of x + c (ADD_*CONST), and x, the
     * derivative by c, of x * c (MUL_*CONST). See tg_ops.h. */
    double local[2];
    union tg_parents up;
    void *handle;                 /* the live Python handle of this node, borrowed; or NULL */
    uint16_t index;               /* position in its segment: leads back to the segment */
    uint8_t op;                   /* tg_op code, for naming the node */
    uint8_t flags;
    uint32_t nparents;
} tg_node;

typedef struct tg_segment {
    struct tg_segment *prev;      /* older segment of its list */
    struct tg_segment *next;      /* newer segment of its list */
    uint32_t count;               /* slots used */
    uint32_t handles;             /* nodes with a Python handle: see tg_node_attach_handle */
    uint8_t live;                 /* scratch of tg_tape_mark */
    uint8_t has_many;             /* some node holds a heap parent array */
    /* replays whose flat arrays hold newer numbers than some node here
     * (tapegrad.compile's lazy write-back): 0 means every node is current */
    uint16_t replays;
    /* kept recordings (tapegrad.compile) with operations here: a node whose
     * segment has none is no recording's (in the header's padding) */
    uint32_t recordings;
    tg_node nodes[];
} tg_segment;

/* The tape keeps two lists of segments. Operations go to the tape proper, in
 * creation order, which the sweep walks. Leaves (nodes without parents:
 * parameters, inputs, constants) need no order, and the sweep never visits
 * them: their consumers add into their grad. They go to a pool whose dead
 * slots are reused, so a leaf kept for long pins no segment of operations. */
typedef struct tg_tape {
    tg_segment *tail;             /* the newest segment of operations, being filled */
    size_t nsegments;
    tg_segment *leaf_tail;        /* the newest segment of leaves */
    size_t nleaf_segments;
    tg_node *free_leaves;         /* free leaf slots, linked through up.parent[0] */
    uint32_t active_sweeps;       /* no collection while a sweep walks the tape */
    tg_segment *spare;            /* freed segments kept for the next ones, linked through prev */
    size_t nspare;
    /* A collection is due once either list has grown to twice what survived
     * the last one, plus slack, so that collections cost O(1) per node. The
     * tape only raises collect_due; its owner collects at a safe point (and
     * may raise it for reasons of its own). */
    size_t collect_at;
    size_t collect_leaves_at;
    int collect_due;
    /* Handles of operations (nodes with parents). Only a handle roots a node,
     * and a leaf roots no operation, so when the last one goes every
     * operation on the tape is garbage: a training step that drops its graph.
     * Collecting then costs next to nothing, however big the graph was, and
     * the next step reuses its segments while they are still in cache: the
     * tape collects then once it has grown by TG_IDLE_SLACK segments. */
    size_t op_handles;
    size_t idle_collect_at;
    size_t reclaims;              /* collections that freed segments, ever */
} tg_tape;

/* At most this many freed segments are kept for reuse: a training loop frees
 * and makes segments at every step, and fresh memory costs a page fault per
 * page. */
#define TG_SPARE_SEGMENTS 64

/* Segments of operations the tape grows by before a collection is due once no
 * handle of an operation is left (see tg_tape.op_handles), or as many as there
 * are segments of leaves, if more. */
#define TG_IDLE_SLACK 4

/* A tape with one empty segment in each list. TG_ERR_NOMEM when they cannot be
 * allocated (the tape is then empty and holds nothing). */
int tg_tape_init(tg_tape *tape);

/* op of a free leaf slot */
#define TG_FREE_SLOT 0xFFu

/* The resumable state of one backward sweep: first the operations, newest
 * first, then the leaves that have a Python _backward of their own. */
typedef struct tg_sweep {
    tg_segment *segment;
    int64_t position;             /* next index to visit in segment, downwards */
    size_t pending;               /* marked operations not yet visited */
    tg_segment *leaf_segment;     /* the leaves, walked once the operations are done */
    int64_t leaf_position;
    size_t leaf_pending;          /* marked leaves with a _backward not yet visited */
    int cleanup;                  /* after an error: only clear marks */
} tg_sweep;

/* tg_tape_push once the tail segment is full: a new segment of operations and
 * its first node. NULL when out of memory. */
tg_node *tg_tape_push_to_new_segment(tg_tape *tape);

/* A new, empty tail segment of operations, the rest of the old tail left
 * unused: for a run of nodes that must not straddle two segments. NULL when
 * out of memory. */
tg_segment *tg_tape_grow(tg_tape *tape);

/* A cleared node for an operation, at the end of the tape, in a new segment
 * when the tail is full; NULL only when out of memory. Inline: every recorded
 * operation takes this path. */
static inline tg_node *tg_tape_push(tg_tape *tape)
{
    tg_segment *segment = tape->tail;
    if (segment == NULL || segment->count >= TG_SEGMENT_CAPACITY)
        return tg_tape_push_to_new_segment(tape);
    tg_node *node = &segment->nodes[segment->count];
    memset(node, 0, sizeof *node);
    node->index = (uint16_t)segment->count++;
    return node;
}

/* A cleared leaf slot, reused or new (in a new segment when every one is
 * taken); NULL only when out of memory. */
tg_node *tg_tape_push_leaf(tg_tape *tape);

/* A collection in two steps, so the caller can look at what is live in between
 * (and drop its own data for the dead nodes). tg_tape_mark sets TG_LIVE on every
 * node reachable from a node with a handle (TG_WEAK_HANDLE excepted).
 * tg_tape_reclaim frees the segments, but the tails, with no live node, frees
 * the dead leaf slots for reuse, and clears TG_LIVE; it returns the number of
 * segments freed, and sets when the next collection is due. Neither may run
 * while a sweep does. */
void tg_tape_mark(tg_tape *tape);
size_t tg_tape_reclaim(tg_tape *tape);

/* Returns the spare segments to the allocator. */
void tg_tape_release_spares(tg_tape *tape);

static inline tg_segment *tg_node_segment(const tg_node *node)
{
    return (tg_segment *)((char *)(node - node->index) - offsetof(tg_segment, nodes));
}

/* Gives node its Python handle, or takes it away (handle NULL). Every change
 * of node->handle goes through here: a collection skips the segments without
 * a handle that no live node points into, without reading their nodes; and
 * the count of handles of operations says when all of them are garbage. */
static inline void tg_node_set_handle(tg_tape *tape, tg_node *node, void *handle)
{
    tg_segment *segment = tg_node_segment(node);
    if (node->handle == NULL && handle != NULL) {
        segment->handles++;
        if (node->nparents > 0)
            tape->op_handles++;
    } else if (node->handle != NULL && handle == NULL) {
        segment->handles--;
        if (node->nparents > 0 && --tape->op_handles == 0
                && tape->nsegments >= tape->idle_collect_at)
            tape->collect_due = 1;
    }
    node->handle = handle;
}

static inline tg_node *tg_node_parent(const tg_node *node, uint32_t k)
{
    return node->nparents > 2 ? node->up.many[k] : node->up.parent[k];
}

/* Gives a custom node its parents. TG_ERR_NOMEM when the array cannot be allocated. */
int tg_node_set_parents(tg_node *node, tg_node *const *parents, uint32_t n);

/* Starts a sweep from root, whose grad the caller has already seeded, over the
 * operations and the leaves of tape. */
void tg_sweep_begin(tg_sweep *sweep, tg_tape *tape, tg_node *root);

/* Runs the sweep: every operation reachable from the root, newest first, adds
 * local * grad to each parent's grad. Leaves are reached, not visited, except
 * those with a Python _backward (TG_HAS_CLOSURE), visited after every
 * operation, as micrograd calls a leaf's _backward after its consumers'.
 * Returns NULL when done, or a node the caller must handle before calling
 * tg_sweep_run again: one with TG_HAS_CLOSURE, whose Python _backward the
 * caller runs, or one with a TG_LOCAL_* error, which the caller raises (then
 * sets cleanup and runs the sweep to its end, which only clears marks). Needs
 * no Python and may run without the GIL. */
tg_node *tg_sweep_run(tg_sweep *sweep);

#ifdef __cplusplus
}
#endif

#endif
