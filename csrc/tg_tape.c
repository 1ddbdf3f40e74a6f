#include "tg_tape.h"

#include <stdlib.h>
#include <string.h>

tg_segment *tg_segment_new(tg_tape *tape)
{
    size_t bytes = offsetof(tg_segment, nodes) + (size_t)TG_SEGMENT_CAPACITY * sizeof(tg_node);
    tg_segment *segment = (tg_segment *)malloc(bytes);
    if (segment == NULL)
        return NULL;
    segment->prev = tape->tail;
    segment->next = NULL;
    segment->count = 0;
    segment->live = 0;
    segment->has_many = 0;
    segment->has_side_data = 0;
    if (tape->tail != NULL)
        tape->tail->next = segment;
    tape->tail = segment;
    tape->nsegments++;
    return segment;
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

static void unlink_segment(tg_tape *tape, tg_segment *segment)
{
    if (segment->prev != NULL)
        segment->prev->next = segment->next;
    if (segment->next != NULL)
        segment->next->prev = segment->prev;
    if (tape->tail == segment)
        tape->tail = segment->prev;
    tape->nsegments--;
}

static void mark_live(tg_tape *tape)
{
    for (tg_segment *segment = tape->tail; segment != NULL; segment = segment->prev) {
        segment->live = segment == tape->tail;
        for (int64_t i = (int64_t)segment->count - 1; i >= 0; i--) {
            tg_node *node = &segment->nodes[i];
            if (node->handle != NULL && !(node->flags & TG_WEAK_HANDLE))
                node->flags |= TG_LIVE;
            if (!(node->flags & TG_LIVE))
                continue;
            segment->live = 1;
            for (uint32_t k = 0; k < node->nparents; k++)
                tg_node_parent(node, k)->flags |= TG_LIVE;
        }
    }
}

size_t tg_tape_collect(tg_tape *tape, tg_release_fn release, void *context)
{
    mark_live(tape);
    /* the dead leave the tape before any callback runs; prev links them */
    tg_segment *dead = NULL;
    size_t freed = 0;
    tg_segment *segment = tape->tail;
    while (segment != NULL) {
        tg_segment *older = segment->prev;
        if (!segment->live) {
            unlink_segment(tape, segment);
            segment->prev = dead;
            dead = segment;
            freed++;
        }
        segment = older;
    }
    if (release != NULL) {
        for (segment = dead; segment != NULL; segment = segment->prev) {
            if (segment->has_side_data)
                release(segment, 1, context);
        }
        for (segment = tape->tail; segment != NULL; segment = segment->prev) {
            if (segment->has_side_data)
                release(segment, 0, context);
        }
    }
    while (dead != NULL) {
        tg_segment *next = dead->prev;
        free_segment(dead);
        dead = next;
    }
    for (segment = tape->tail; segment != NULL; segment = segment->prev) {
        for (uint32_t i = 0; i < segment->count; i++)
            segment->nodes[i].flags &= (uint8_t)~TG_LIVE;
    }
    return freed;
}

void tg_tape_free(tg_tape *tape)
{
    while (tape->tail != NULL) {
        tg_segment *segment = tape->tail;
        unlink_segment(tape, segment);
        free_segment(segment);
    }
}

tg_node *tg_segment_push(tg_segment *segment)
{
    if (segment == NULL || segment->count >= TG_SEGMENT_CAPACITY)
        return NULL;
    tg_node *node = &segment->nodes[segment->count];
    memset(node, 0, sizeof *node);
    node->index = (uint16_t)segment->count;
    segment->count++;
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

void tg_sweep_begin(tg_sweep *sweep, tg_node *root)
{
    sweep->segment = tg_node_segment(root);
    sweep->position = root->index;
    sweep->pending = 1;
    sweep->cleanup = 0;
    root->flags |= TG_MARK;
}

static inline void mark(tg_node *node, size_t *pending)
{
    if (!(node->flags & TG_MARK)) {
        node->flags |= TG_MARK;
        ++*pending;
    }
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
            if ((node->flags & (TG_LOCAL_ZERODIV | TG_LOCAL_RANGE)) && !cleanup) {
                sweep->segment = segment;
                sweep->position = i - 1;
                sweep->pending = pending;
                return node;
            }
            if (node->flags & TG_CUSTOM) {
                for (uint32_t k = 0; k < node->nparents; k++)
                    mark(tg_node_parent(node, k), &pending);
                if ((node->flags & TG_HAS_CLOSURE) && !cleanup) {
                    sweep->segment = segment;
                    sweep->position = i - 1;
                    sweep->pending = pending;
                    return node;
                }
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
