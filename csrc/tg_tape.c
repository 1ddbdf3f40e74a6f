#include "tg_tape.h"

#include "tg_ops.h"

#include <stdlib.h>
#include <string.h>

/* Slack of the collection thresholds: a small tape is not collected at all.
 * A collection walks every live node, so a graph that lives across it (a
 * training step's, while it is built) is walked again at each one: a large
 * slack makes that rare. 128 segments are 16 MiB. */
#define TG_COLLECT_SLACK 128

static void schedule_collection(tg_tape *tape)
{
    tape->collect_at = 2 * tape->nsegments + TG_COLLECT_SLACK;
    /* a collection walks every leaf slot: with many leaves alive (a data
     * set kept as Values), wait for as many new segments of operations */
    tape->idle_collect_at = tape->nsegments
        + (tape->nleaf_segments > TG_IDLE_SLACK ? tape->nleaf_segments : TG_IDLE_SLACK);
    tape->collect_leaves_at = 2 * tape->nleaf_segments + TG_COLLECT_SLACK;
}

static tg_segment *append_segment(tg_tape *tape, tg_segment **tail, size_t *count)
{
    tg_segment *segment = tape->spare;
    if (segment != NULL) {
        tape->spare = segment->prev;
        tape->nspare--;
    } else {
        size_t bytes = offsetof(tg_segment, nodes) + (size_t)TG_SEGMENT_CAPACITY * sizeof(tg_node);
        segment = (tg_segment *)malloc(bytes);
        if (segment == NULL)
            return NULL;
    }
    segment->prev = *tail;
    segment->next = NULL;
    segment->count = 0;
    segment->handles = 0;
    segment->live = 0;
    segment->has_many = 0;
    segment->replays = 0;
    segment->recordings = 0;
    if (*tail != NULL)
        (*tail)->next = segment;
    *tail = segment;
    ++*count;
    if (tape->nsegments >= tape->collect_at || tape->nleaf_segments >= tape->collect_leaves_at)
        tape->collect_due = 1;   /* not now: the op being recorded holds unrooted nodes */
    return segment;
}

int tg_tape_init(tg_tape *tape)
{
    memset(tape, 0, sizeof *tape);
    schedule_collection(tape);
    if (append_segment(tape, &tape->tail, &tape->nsegments) == NULL)
        return TG_ERR_NOMEM;
    if (append_segment(tape, &tape->leaf_tail, &tape->nleaf_segments) == NULL) {
        free(tape->tail);
        memset(tape, 0, sizeof *tape);
        return TG_ERR_NOMEM;
    }
    return TG_OK;
}

tg_segment *tg_tape_grow(tg_tape *tape)
{
    return append_segment(tape, &tape->tail, &tape->nsegments);
}

tg_node *tg_tape_push_to_new_segment(tg_tape *tape)
{
    if (append_segment(tape, &tape->tail, &tape->nsegments) == NULL)
        return NULL;
    return tg_tape_push(tape);
}

static void unlink_segment(tg_segment **tail, size_t *count, tg_segment *segment)
{
    if (segment->prev != NULL)
        segment->prev->next = segment->next;
    if (segment->next != NULL)
        segment->next->prev = segment->prev;
    if (*tail == segment)
        *tail = segment->prev;
    --*count;
}

/* Frees a segment, or keeps it as a spare. */
static void free_segment(tg_tape *tape, tg_segment *segment)
{
    if (segment->has_many) {
        for (uint32_t i = 0; i < segment->count; i++) {
            if (segment->nodes[i].nparents > 2)
                free(segment->nodes[i].up.many);
        }
    }
    if (tape->nspare < TG_SPARE_SEGMENTS) {
        segment->prev = tape->spare;
        tape->spare = segment;
        tape->nspare++;
    } else {
        free(segment);
    }
}

void tg_tape_release_spares(tg_tape *tape)
{
    while (tape->spare != NULL) {
        tg_segment *next = tape->spare->prev;
        free(tape->spare);
        tape->spare = next;
    }
    tape->nspare = 0;
}

static tg_node *take_slot(tg_segment *segment)
{
    if (segment == NULL || segment->count >= TG_SEGMENT_CAPACITY)
        return NULL;
    tg_node *node = &segment->nodes[segment->count];
    memset(node, 0, sizeof *node);
    node->index = (uint16_t)segment->count;
    segment->count++;
    return node;
}

tg_node *tg_tape_push_leaf(tg_tape *tape)
{
    tg_node *node = tape->free_leaves;
    if (node == NULL) {
        node = take_slot(tape->leaf_tail);
        if (node == NULL && append_segment(tape, &tape->leaf_tail, &tape->nleaf_segments) != NULL)
            node = take_slot(tape->leaf_tail);
        return node;
    }
    tape->free_leaves = node->up.parent[0];
    uint16_t index = node->index;
    memset(node, 0, sizeof *node);
    node->index = index;
    return node;
}

int tg_node_set_parents(tg_node *node, tg_node *const *parents, uint32_t n)
{
    if (n > 2) {
        tg_node **many = (tg_node **)malloc((size_t)n * sizeof *many);
        if (many == NULL)
            return TG_ERR_NOMEM;
        memcpy(many, parents, (size_t)n * sizeof *many);
        node->up.many = many;
        tg_node_segment(node)->has_many = 1;
    } else {
        for (uint32_t k = 0; k < n; k++)
            node->up.parent[k] = parents[k];
    }
    node->nparents = n;
    return TG_OK;
}

/* ------------------------------------------------------------ collection */

static int rooted(const tg_node *node)
{
    return node->handle != NULL && !(node->flags & TG_WEAK_HANDLE);
}

void tg_tape_mark(tg_tape *tape)
{
    /* segment->live: set once a live node points into the segment */
    for (tg_segment *segment = tape->tail; segment != NULL; segment = segment->prev)
        segment->live = 0;
    /* operations, newest first: whoever points to a node has been seen */
    for (tg_segment *segment = tape->tail; segment != NULL; segment = segment->prev) {
        if (segment != tape->tail && segment->handles == 0 && !segment->live)
            continue;   /* no root in it and nothing live points into it: all dead */
        segment->live = segment == tape->tail;
        for (int64_t i = (int64_t)segment->count - 1; i >= 0; i--) {
            tg_node *node = &segment->nodes[i];
            if (rooted(node))
                node->flags |= TG_LIVE;
            if (!(node->flags & TG_LIVE))
                continue;
            segment->live = 1;
            for (uint32_t k = 0; k < node->nparents; k++) {
                tg_node *parent = tg_node_parent(node, k);
                parent->flags |= TG_LIVE;
                tg_node_segment(parent)->live = 1;
            }
        }
    }
    /* leaves: live if rooted or pointed to by a live operation */
    for (tg_segment *segment = tape->leaf_tail; segment != NULL; segment = segment->prev) {
        segment->live = segment == tape->leaf_tail;
        for (uint32_t i = 0; i < segment->count; i++) {
            tg_node *node = &segment->nodes[i];
            if (node->op == TG_FREE_SLOT)
                continue;
            if (rooted(node))
                node->flags |= TG_LIVE;
            if (node->flags & TG_LIVE)
                segment->live = 1;
        }
    }
}

/* Moves the dead segments of a list (its tail excepted) to *dead. */
static size_t unlink_dead(tg_segment **tail, size_t *count, tg_segment **dead)
{
    size_t freed = 0;
    tg_segment *segment = *tail;
    while (segment != NULL) {
        tg_segment *older = segment->prev;
        if (!segment->live && segment != *tail) {
            unlink_segment(tail, count, segment);
            segment->prev = *dead;
            *dead = segment;
            freed++;
        }
        segment = older;
    }
    return freed;
}

static void free_dead_leaf_slots(tg_tape *tape)
{
    tape->free_leaves = NULL;
    for (tg_segment *segment = tape->leaf_tail; segment != NULL; segment = segment->prev) {
        for (uint32_t i = 0; i < segment->count; i++) {
            tg_node *node = &segment->nodes[i];
            if (node->flags & TG_LIVE)
                continue;
            node->op = TG_FREE_SLOT;
            node->flags = 0;
            tg_node_set_handle(tape, node, NULL);
            node->up.parent[0] = tape->free_leaves;
            tape->free_leaves = node;
        }
    }
}

static void clear_live(tg_segment *list)
{
    for (tg_segment *segment = list; segment != NULL; segment = segment->prev) {
        for (uint32_t i = 0; i < segment->count; i++)
            segment->nodes[i].flags &= (uint8_t)~TG_LIVE;
    }
}

size_t tg_tape_reclaim(tg_tape *tape)
{
    tg_segment *dead = NULL;
    size_t freed = unlink_dead(&tape->tail, &tape->nsegments, &dead);
    freed += unlink_dead(&tape->leaf_tail, &tape->nleaf_segments, &dead);
    free_dead_leaf_slots(tape);
    if (dead != NULL)
        tape->reclaims++;
    while (dead != NULL) {
        tg_segment *next = dead->prev;
        free_segment(tape, dead);
        dead = next;
    }
    clear_live(tape->tail);
    clear_live(tape->leaf_tail);
    tape->collect_due = 0;
    schedule_collection(tape);
    return freed;
}

/* ------------------------------------------------------------ the sweep */

void tg_sweep_begin(tg_sweep *sweep, tg_tape *tape, tg_node *root)
{
    sweep->segment = tape->tail;
    sweep->position = -1;
    sweep->pending = 0;
    sweep->leaf_segment = tape->leaf_tail;
    sweep->leaf_position = tape->leaf_tail != NULL ? (int64_t)tape->leaf_tail->count - 1 : -1;
    sweep->leaf_pending = 0;
    sweep->cleanup = 0;
    if (root->nparents > 0) {
        sweep->segment = tg_node_segment(root);
        sweep->position = root->index;
        sweep->pending = 1;
        root->flags |= TG_MARK;
    } else if (root->flags & TG_HAS_CLOSURE) {
        sweep->leaf_pending = 1;
        root->flags |= TG_MARK;
    }
}

/* Leaves are not marked, but for those with a _backward: the others have
 * nothing to pass on, and their consumers already added into their grad. So
 * the sweep of operations ends with the oldest one it needs, however far back
 * the parameters were made. */
static inline void mark(tg_node *node, size_t *pending, size_t *leaf_pending)
{
    const uint8_t flags = node->flags;
    if (flags & TG_MARK)
        return;
    if (node->nparents > 0) {
        node->flags = (uint8_t)(flags | TG_MARK);
        ++*pending;
    } else if (flags & TG_HAS_CLOSURE) {
        node->flags = (uint8_t)(flags | TG_MARK);
        ++*leaf_pending;
    }
}

/* The leaves with a _backward, once no operation is pending: a scan of the
 * leaf pool, which only a backward that reached such a leaf makes. */
static tg_node *sweep_leaves(tg_sweep *sweep)
{
    tg_segment *segment = sweep->leaf_segment;
    int64_t i = sweep->leaf_position;
    while (segment != NULL && sweep->leaf_pending > 0) {
        for (; i >= 0; i--) {
            tg_node *node = &segment->nodes[i];
            if (node->op == TG_FREE_SLOT || !(node->flags & TG_MARK))
                continue;
            node->flags &= (uint8_t)~TG_MARK;
            sweep->leaf_pending--;
            if (!sweep->cleanup) {
                sweep->leaf_segment = segment;
                sweep->leaf_position = i - 1;
                return node;
            }
        }
        segment = segment->prev;
        if (segment != NULL)
            i = (int64_t)segment->count - 1;
    }
    sweep->leaf_segment = NULL;
    sweep->leaf_pending = 0;
    return NULL;
}

/* Saves where the sweep is and hands node to the caller of tg_sweep_run. */
static inline tg_node *sweep_stop_at(tg_sweep *sweep, tg_segment *segment, int64_t i,
                                     size_t pending, size_t leaf_pending, tg_node *node)
{
    sweep->segment = segment;
    sweep->position = i - 1;
    sweep->pending = pending;
    sweep->leaf_pending = leaf_pending;
    return node;
}

/* The sweep, with cleanup a constant: tg_sweep_run makes one copy of the loop
 * for each value, so the common one, which adds gradients, tests nothing of it
 * per node. */
static TG_ALWAYS_INLINE tg_node *sweep_run(tg_sweep *sweep, const int cleanup)
{
    tg_segment *segment = sweep->segment;
    int64_t i = sweep->position;
    size_t pending = sweep->pending;         /* locals: the flag stores may alias the struct */
    size_t leaf_pending = sweep->leaf_pending;

    while (segment != NULL && pending > 0) {
        tg_node *nodes = segment->nodes;
        for (; i >= 0; i--) {
            tg_node *node = &nodes[i];
            if (i >= TG_PREFETCH_NODES)
                TG_PREFETCH_WRITE(&nodes[i - TG_PREFETCH_NODES]);
            const uint8_t flags = node->flags;
            if (!(flags & TG_MARK))
                continue;
            node->flags = (uint8_t)(flags & ~TG_MARK);
            pending--;
            if (flags & (TG_LOCAL_ZERODIV | TG_LOCAL_RANGE | TG_CUSTOM)) {   /* rare */
                if ((flags & (TG_LOCAL_ZERODIV | TG_LOCAL_RANGE)) && !cleanup)
                    return sweep_stop_at(sweep, segment, i, pending, leaf_pending, node);
                if (flags & TG_CUSTOM) {
                    for (uint32_t k = 0; k < node->nparents; k++)
                        mark(tg_node_parent(node, k), &pending, &leaf_pending);
                    if ((flags & TG_HAS_CLOSURE) && !cleanup)
                        return sweep_stop_at(sweep, segment, i, pending, leaf_pending, node);
                    if (pending == 0)
                        break;
                    continue;
                }
            }
            /* local gradient x global gradient, accumulated: the chain rule */
            const double g = node->grad;
            tg_node *a = node->up.parent[0];
            if (!cleanup)
                a->grad += node->local[0] * g;
            mark(a, &pending, &leaf_pending);
            if (node->nparents == 2) {
                tg_node *b = node->up.parent[1];
                if (!cleanup)
                    b->grad += node->local[1] * g;
                mark(b, &pending, &leaf_pending);
            } else if (!cleanup && tg_op_is_folded(node->op)) {
                node->up.folded.constant_grad += tg_folded_derivative(node->op, node->local) * g;
            }
            if (pending == 0)
                break;
        }
        if (pending == 0)
            break;
        segment = segment->prev;
        if (segment != NULL)
            i = (int64_t)segment->count - 1;
    }
    sweep->segment = NULL;
    sweep->position = -1;
    sweep->pending = 0;
    sweep->leaf_pending = leaf_pending;
    return sweep_leaves(sweep);
}

tg_node *tg_sweep_run(tg_sweep *sweep)
{
    return sweep->cleanup ? sweep_run(sweep, 1) : sweep_run(sweep, 0);
}
