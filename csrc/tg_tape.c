#include "tg_tape.h"

#include <stdlib.h>
#include <string.h>

static tg_segment *append_segment(tg_segment **tail, size_t *count)
{
    size_t bytes = offsetof(tg_segment, nodes) + (size_t)TG_SEGMENT_CAPACITY * sizeof(tg_node);
    tg_segment *segment = (tg_segment *)malloc(bytes);
    if (segment == NULL)
        return NULL;
    segment->prev = *tail;
    segment->next = NULL;
    segment->count = 0;
    segment->live = 0;
    segment->has_many = 0;
    segment->has_side_data = 0;
    if (*tail != NULL)
        (*tail)->next = segment;
    *tail = segment;
    ++*count;
    return segment;
}

tg_segment *tg_segment_new(tg_tape *tape)
{
    return append_segment(&tape->tail, &tape->nsegments);
}

tg_segment *tg_leaf_segment_new(tg_tape *tape)
{
    return append_segment(&tape->leaf_tail, &tape->nleaf_segments);
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

static void free_segment(tg_segment *segment)
{
    if (segment->has_many) {
        for (uint32_t i = 0; i < segment->count; i++) {
            if (segment->nodes[i].nparents > 2)
                free(segment->nodes[i].up.many);
        }
    }
    free(segment);
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

tg_node *tg_tape_push(tg_tape *tape)
{
    return take_slot(tape->tail);
}

tg_node *tg_tape_push_leaf(tg_tape *tape)
{
    tg_node *node = tape->free_leaves;
    if (node == NULL)
        return take_slot(tape->leaf_tail);
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
    /* operations, newest first: whoever points to a node has been seen */
    for (tg_segment *segment = tape->tail; segment != NULL; segment = segment->prev) {
        segment->live = segment == tape->tail;
        for (int64_t i = (int64_t)segment->count - 1; i >= 0; i--) {
            tg_node *node = &segment->nodes[i];
            if (rooted(node))
                node->flags |= TG_LIVE;
            if (!(node->flags & TG_LIVE))
                continue;
            segment->live = 1;
            for (uint32_t k = 0; k < node->nparents; k++)
                tg_node_parent(node, k)->flags |= TG_LIVE;
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
            node->handle = NULL;
            node->up.parent[0] = tape->free_leaves;
            tape->free_leaves = node;
        }
    }
}

static void release_side_data(tg_segment *list, int dead, tg_release_fn release, void *context)
{
    for (tg_segment *segment = list; segment != NULL; segment = segment->prev) {
        if (segment->has_side_data)
            release(segment, dead, context);
    }
}

static void clear_live(tg_segment *list)
{
    for (tg_segment *segment = list; segment != NULL; segment = segment->prev) {
        for (uint32_t i = 0; i < segment->count; i++)
            segment->nodes[i].flags &= (uint8_t)~TG_LIVE;
    }
}

size_t tg_tape_sweep(tg_tape *tape, tg_release_fn release, void *context)
{
    tg_segment *dead = NULL;
    size_t freed = unlink_dead(&tape->tail, &tape->nsegments, &dead);
    freed += unlink_dead(&tape->leaf_tail, &tape->nleaf_segments, &dead);
    /* before any callback: a leaf made by one must not come from a dead segment */
    free_dead_leaf_slots(tape);
    if (release != NULL) {
        release_side_data(dead, 1, release, context);
        release_side_data(tape->tail, 0, release, context);
        release_side_data(tape->leaf_tail, 0, release, context);
    }
    while (dead != NULL) {
        tg_segment *next = dead->prev;
        free_segment(dead);
        dead = next;
    }
    clear_live(tape->tail);
    clear_live(tape->leaf_tail);
    return freed;
}

/* ------------------------------------------------------------ the sweep */

void tg_sweep_begin(tg_sweep *sweep, tg_node *root)
{
    sweep->segment = tg_node_segment(root);
    sweep->position = root->index;
    sweep->pending = 1;
    sweep->cleanup = 0;
    root->flags |= TG_MARK;
}

/* Leaves are not marked: they have nothing to pass on, and their consumers
 * already added into their grad. So the sweep ends with the oldest operation
 * it needs, however far back the parameters were made. */
static inline void mark(tg_node *node, size_t *pending)
{
    if (node->nparents > 0 && !(node->flags & TG_MARK)) {
        node->flags |= TG_MARK;
        ++*pending;
    }
}

static inline tg_node *pause(tg_sweep *sweep, tg_segment *segment, int64_t i, size_t pending,
                             tg_node *node)
{
    sweep->segment = segment;
    sweep->position = i - 1;
    sweep->pending = pending;
    return node;
}

tg_node *tg_sweep_run(tg_sweep *sweep)
{
    tg_segment *segment = sweep->segment;
    int64_t i = sweep->position;
    size_t pending = sweep->pending;
    const int cleanup = sweep->cleanup;

    while (segment != NULL && pending > 0) {
        tg_node *nodes = segment->nodes;
        for (; i >= 0; i--) {
            tg_node *node = &nodes[i];
            if (!(node->flags & TG_MARK))
                continue;
            node->flags &= (uint8_t)~TG_MARK;
            pending--;
            if ((node->flags & (TG_LOCAL_ZERODIV | TG_LOCAL_RANGE)) && !cleanup)
                return pause(sweep, segment, i, pending, node);
            if (node->flags & TG_CUSTOM) {
                for (uint32_t k = 0; k < node->nparents; k++)
                    mark(tg_node_parent(node, k), &pending);
                if ((node->flags & TG_HAS_CLOSURE) && !cleanup)
                    return pause(sweep, segment, i, pending, node);
            } else if (node->nparents > 0) {
                /* local gradient x global gradient, accumulated: the chain rule */
                const double g = node->grad;
                tg_node *a = node->up.parent[0];
                if (!cleanup)
                    a->grad += node->local[0] * g;
                mark(a, &pending);
                if (node->nparents == 2) {
                    tg_node *b = node->up.parent[1];
                    if (!cleanup)
                        b->grad += node->local[1] * g;
                    mark(b, &pending);
                }
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
    sweep->segment = segment;
    sweep->position = -1;
    sweep->pending = 0;
    return NULL;
}
