#include "tg_replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tg_ops.h"

/* ------------------------------------------------- building the program */

/* The segments of operations recorded after the sentinel, oldest first. */
typedef struct recorded {
    tg_segment **segments;
    uint32_t *first;           /* the first recorded index of each */
    size_t *base;              /* the position of that node among all recorded ones */
    size_t nsegments;
    size_t count;
    size_t last;               /* the segment found last: parents are mostly near */
} recorded;

static int recorded_init(recorded *r, const tg_node *sentinel)
{
    tg_segment *start = tg_node_segment(sentinel);
    size_t n = 0;
    for (tg_segment *s = start; s != NULL; s = s->next)
        n++;
    memset(r, 0, sizeof *r);
    r->segments = (tg_segment **)malloc(n * sizeof *r->segments);
    r->first = (uint32_t *)malloc(n * sizeof *r->first);
    r->base = (size_t *)malloc(n * sizeof *r->base);
    if (r->segments == NULL || r->first == NULL || r->base == NULL)
        return TG_ERR_NOMEM;
    for (tg_segment *s = start; s != NULL; s = s->next) {
        uint32_t first = s == start ? (uint32_t)sentinel->index + 1 : 0;
        r->segments[r->nsegments] = s;
        r->first[r->nsegments] = first;
        r->base[r->nsegments] = r->count;
        r->count += s->count > first ? s->count - first : 0;
        r->nsegments++;
    }
    return TG_OK;
}

static void recorded_free(recorded *r)
{
    free(r->segments);
    free(r->first);
    free(r->base);
}

/* The position of node among the recorded operations, or -1: a leaf, or a
 * node made before the recording began. */
static int64_t recorded_position(recorded *r, const tg_node *node)
{
    if (node->nparents == 0)
        return -1;
    tg_segment *segment = tg_node_segment(node);
    for (size_t tried = 0; tried < r->nsegments; tried++) {
        size_t s = (r->last + r->nsegments - tried) % r->nsegments;
        if (r->segments[s] != segment)
            continue;
        r->last = s;
        if (node->index < r->first[s])
            return -1;
        return (int64_t)(r->base[s] + node->index - r->first[s]);
    }
    return -1;
}

/* A pointer -> slot map, open addressing, for the inputs. */
typedef struct slot_map {
    const tg_node **keys;
    uint32_t *slots;
    size_t capacity;           /* a power of two */
    size_t count;
} slot_map;

static size_t hash_pointer(const tg_node *p, size_t capacity)
{
    uint64_t h = (uint64_t)(uintptr_t)p;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & (capacity - 1);
}

static int map_init(slot_map *m, size_t capacity)
{
    m->capacity = capacity;
    m->count = 0;
    m->keys = (const tg_node **)calloc(capacity, sizeof *m->keys);
    m->slots = (uint32_t *)malloc(capacity * sizeof *m->slots);
    return m->keys == NULL || m->slots == NULL ? TG_ERR_NOMEM : TG_OK;
}

static void map_free(slot_map *m)
{
    free((void *)m->keys);
    free(m->slots);
}

static uint32_t map_find(const slot_map *m, const tg_node *key)
{
    for (size_t i = hash_pointer(key, m->capacity);; i = (i + 1) & (m->capacity - 1)) {
        if (m->keys[i] == key)
            return m->slots[i];
        if (m->keys[i] == NULL)
            return TG_NO_SLOT;
    }
}

static void map_put(slot_map *m, const tg_node *key, uint32_t slot)
{
    size_t i = hash_pointer(key, m->capacity);
    while (m->keys[i] != NULL)
        i = (i + 1) & (m->capacity - 1);
    m->keys[i] = key;
    m->slots[i] = slot;
    m->count++;
}

/* Adds key with the next slot, unless it has one; grows at half full. */
static int map_add(slot_map *m, const tg_node *key)
{
    if (map_find(m, key) != TG_NO_SLOT)
        return TG_OK;
    if (2 * (m->count + 1) > m->capacity) {
        slot_map bigger;
        if (map_init(&bigger, 2 * m->capacity) != TG_OK) {
            map_free(&bigger);
            return TG_ERR_NOMEM;
        }
        for (size_t i = 0; i < m->capacity; i++) {
            if (m->keys[i] != NULL)
                map_put(&bigger, m->keys[i], m->slots[i]);
        }
        map_free(m);
        *m = bigger;
    }
    map_put(m, key, (uint32_t)m->count);
    return TG_OK;
}

static int allocate(tg_program *p)
{
    size_t nslots = (size_t)p->ninputs + p->nops;
    size_t nvalues = nslots + p->nconstants;
    size_t nops = p->nops > 0 ? p->nops : 1;
    p->inputs = (tg_node **)malloc((p->ninputs > 0 ? p->ninputs : 1) * sizeof *p->inputs);
    p->fresh = (uint8_t *)calloc(p->ninputs > 0 ? p->ninputs : 1, 1);
    p->nodes = (tg_node **)malloc(nops * sizeof *p->nodes);
    p->op = (uint8_t *)malloc(nops);
    p->a = (uint32_t *)malloc(nops * sizeof *p->a);
    p->b = (uint32_t *)malloc(nops * sizeof *p->b);
    p->value = (double *)malloc((nvalues > 0 ? nvalues : 1) * sizeof *p->value);
    p->flags = (uint8_t *)calloc(nslots > 0 ? nslots : 1, 1);
    p->local = (double *)malloc(2 * nops * sizeof *p->local);
    p->grad = (double *)calloc(nslots > 0 ? nslots : 1, sizeof *p->grad);
    p->is_output = (uint8_t *)calloc(nops, 1);
    p->chain = (uint16_t *)calloc(nops, sizeof *p->chain);
    p->grads_zero = 1;                  /* grad is calloc'd */
    if (!p->inputs || !p->fresh || !p->nodes || !p->op || !p->a || !p->b
        || !p->value || !p->flags || !p->local || !p->grad || !p->is_output
        || !p->chain)
        return TG_ERR_NOMEM;
    return TG_OK;
}

/* The number a one-operand op folded in: a constant, an exponent, or none. */
static double folded_number(const tg_node *node)
{
    switch (node->op) {
    case TG_OP_ADD_CONST: case TG_OP_ADD_INT_CONST:
    case TG_OP_POW_CONST: case TG_OP_POW_INT:
        return node->local[1];
    case TG_OP_MUL_CONST: case TG_OP_MUL_INT_CONST:
        return node->local[0];
    default:
        return 0.0;
    }
}

/* Whether operation k's slot is used once, by a later operation, and is no
 * output: then its gradient in a flat backward is 0 until that one
 * consumer adds to it (uses: each operation's consumers, 2 for more). */
static int used_once(const tg_program *p, const uint8_t *uses, uint32_t k)
{
    return uses[k] == 1 && !p->is_output[k];
}

/* Whether operations k, k + 1 are a pair of a neuron chain whose first
 * slot is start: a product of two slots older than start, used only by
 * the sum after it, which adds it to the sum before (sum: that slot, used
 * only here; or TG_NO_SLOT for the first pair: any slot older than start). */
static int chain_pair(const tg_program *p, const uint8_t *uses, uint32_t k, uint32_t start,
                      uint32_t sum)
{
    const uint32_t product = p->ninputs + k;
    return k + 1 < p->nops && p->op[k] == TG_OP_MUL && p->op[k + 1] == TG_OP_ADD
        && p->a[k] < start && p->b[k] < start && p->b[k + 1] == product
        && used_once(p, uses, k)
        && (sum == TG_NO_SLOT ? p->a[k + 1] < start
                              : p->a[k + 1] == sum && used_once(p, uses, sum - p->ninputs));
}

/* Marks the neuron chains (tg_program.chain), longest first from each
 * start, once the outputs are known. TG_ERR_NOMEM. */
static int find_chains(tg_program *p)
{
    uint8_t *uses = (uint8_t *)calloc(p->nops > 0 ? p->nops : 1, 1);
    if (uses == NULL)
        return TG_ERR_NOMEM;
    for (uint32_t k = 0; k < p->nops; k++) {
        const uint32_t second = tg_replay_two_operands(p->op[k]) ? p->b[k] : TG_NO_SLOT;
        const uint32_t operand[2] = {p->a[k], second};
        for (int j = 0; j < 2; j++) {
            if (operand[j] != TG_NO_SLOT && operand[j] >= p->ninputs
                && uses[operand[j] - p->ninputs] < 2)
                uses[operand[j] - p->ninputs]++;
        }
    }
    for (uint32_t k = 0; k < p->nops;) {
        const uint32_t start = p->ninputs + k;
        uint32_t n = 0;
        int of_inputs = 1;      /* the first sum and every product read an input */
        while (n < TG_CHAIN_LENGTH
               && chain_pair(p, uses, k + 2 * n, start,
                             n == 0 ? TG_NO_SLOT : start + 2 * n - 1)) {
            const uint32_t product = k + 2 * n;
            of_inputs = of_inputs && (n > 0 || p->a[k + 1] < p->ninputs)
                        && (p->a[product] < p->ninputs || p->b[product] < p->ninputs);
            n++;
        }
        if (n == 0) {
            k++;
            continue;
        }
        p->chain[k] = (uint16_t)(n | (of_inputs ? TG_CHAIN_OF_INPUTS : 0));
        p->chain[k + 2 * n - 1] = (uint16_t)n;
        k += 2 * n;
    }
    free(uses);
    return TG_OK;
}

static int build(tg_program *p, recorded *r, slot_map *inputs, uint8_t *reached,
                 uint32_t *slot_of, tg_node *const *outputs, uint32_t noutputs, tg_node **bad)
{
    size_t nsegments = r->nsegments > 0 ? r->nsegments : 1;
    p->segments = (tg_segment **)malloc(nsegments * sizeof *p->segments);
    p->first_index = (uint32_t *)malloc(nsegments * sizeof *p->first_index);
    p->last_index = (uint32_t *)malloc(nsegments * sizeof *p->last_index);
    if (p->segments == NULL || p->first_index == NULL || p->last_index == NULL)
        return TG_ERR_NOMEM;
    for (uint32_t i = 0; i < noutputs; i++) {
        int64_t at = recorded_position(r, outputs[i]);
        if (at >= 0)
            reached[at] = 1;
        else if (outputs[i]->flags & TG_HAS_CLOSURE) {
            *bad = outputs[i];
            return TG_ERR_CUSTOM;
        }
    }
    /* newest first: whoever depends on a node has been seen before it */
    size_t at = r->count;
    for (size_t s = r->nsegments; s-- > 0;) {
        tg_segment *segment = r->segments[s];
        for (uint32_t i = segment->count; i-- > r->first[s];) {
            tg_node *node = &segment->nodes[i];
            at--;
            if (!reached[at])
                continue;
            if (node->flags & (TG_CUSTOM | TG_HAS_CLOSURE)) {
                *bad = node;
                return TG_ERR_CUSTOM;
            }
            p->nops++;
            p->nconstants += node->nparents < 2;
            for (uint32_t k = 0; k < node->nparents; k++) {
                tg_node *parent = node->up.parent[k];
                int64_t where = recorded_position(r, parent);
                if (where >= 0) {
                    reached[where] = 1;
                } else if (parent->flags & TG_HAS_CLOSURE) {
                    *bad = parent;
                    return TG_ERR_CUSTOM;
                } else if (map_add(inputs, parent) != TG_OK) {
                    return TG_ERR_NOMEM;
                }
            }
        }
    }
    p->ninputs = (uint32_t)inputs->count;
    if (allocate(p) != TG_OK)
        return TG_ERR_NOMEM;
    for (size_t i = 0; i < inputs->capacity; i++) {
        if (inputs->keys[i] != NULL)
            p->inputs[inputs->slots[i]] = (tg_node *)inputs->keys[i];
    }
    /* oldest first: the order of the replay */
    uint32_t k = 0, constant = p->ninputs + p->nops;
    at = 0;
    for (size_t s = 0; s < r->nsegments; s++) {
        tg_segment *segment = r->segments[s];
        for (uint32_t i = r->first[s]; i < segment->count; i++, at++) {
            if (!reached[at])
                continue;
            tg_node *node = &segment->nodes[i];
            uint32_t operand[2] = {TG_NO_SLOT, TG_NO_SLOT};
            for (uint32_t j = 0; j < node->nparents; j++) {
                tg_node *parent = node->up.parent[j];
                int64_t where = recorded_position(r, parent);
                operand[j] = where >= 0 ? slot_of[where] : map_find(inputs, parent);
            }
            if (node->nparents < 2) {
                operand[1] = constant++;
                p->value[operand[1]] = folded_number(node);
            }
            slot_of[at] = p->ninputs + k;
            if (p->nsegments == 0 || p->segments[p->nsegments - 1] != segment) {
                p->segments[p->nsegments] = segment;
                p->first_index[p->nsegments++] = i;
            }
            p->last_index[p->nsegments - 1] = i;
            p->nodes[k] = node;
            p->op[k] = node->op;
            p->a[k] = operand[0];
            p->b[k] = operand[1];
            k++;
        }
    }
    p->output_ops = (uint32_t *)malloc((noutputs > 0 ? noutputs : 1) * sizeof *p->output_ops);
    if (p->output_ops == NULL)
        return TG_ERR_NOMEM;
    for (uint32_t i = 0; i < noutputs; i++) {
        int64_t where = recorded_position(r, outputs[i]);
        if (where < 0)
            continue;
        uint32_t op = slot_of[where] - p->ninputs;
        if (!p->is_output[op])
            p->output_ops[p->noutput_ops++] = op;
        p->is_output[op] = 1;
    }
    return find_chains(p);
}

int tg_program_build(tg_program *program, const tg_node *sentinel, tg_node *const *outputs,
                     uint32_t noutputs, tg_node **bad)
{
    recorded r;
    slot_map inputs;
    memset(program, 0, sizeof *program);
    *bad = NULL;
    int status = recorded_init(&r, sentinel);
    if (status == TG_OK)
        status = map_init(&inputs, 64);
    else
        memset(&inputs, 0, sizeof inputs);
    uint8_t *reached = NULL;
    uint32_t *slot_of = NULL;
    if (status == TG_OK) {
        reached = (uint8_t *)calloc(r.count > 0 ? r.count : 1, 1);
        slot_of = (uint32_t *)malloc((r.count > 0 ? r.count : 1) * sizeof *slot_of);
        if (reached == NULL || slot_of == NULL)
            status = TG_ERR_NOMEM;
    }
    if (status == TG_OK)
        status = build(program, &r, &inputs, reached, slot_of, outputs, noutputs, bad);
    if (status == TG_OK) {
        for (uint32_t i = 0; i < program->nsegments; i++)
            program->segments[i]->recordings++;
        program->counted = 1;
    }
    free(reached);
    free(slot_of);
    map_free(&inputs);
    recorded_free(&r);
    if (status != TG_OK)
        tg_program_free(program);
    return status;
}

void tg_program_free(tg_program *p)
{
    if (p->counted) {
        for (uint32_t i = 0; i < p->nsegments; i++)
            p->segments[i]->recordings--;
    }
    free(p->inputs);
    free(p->fresh);
    free(p->nodes);
    free(p->op);
    free(p->a);
    free(p->b);
    free(p->value);
    free(p->flags);
    free(p->local);
    free(p->grad);
    free(p->is_output);
    free(p->chain);
    free(p->output_ops);
    free(p->segments);
    free(p->first_index);
    free(p->last_index);
    memset(p, 0, sizeof *p);
}

size_t tg_program_handles(const tg_program *p)
{
    size_t n = 0;
    for (uint32_t k = 0; k < p->nops; k++) {
        const tg_node *node = p->nodes[k];
        n += node->handle != NULL;
        if (node->op != p->op[k])   /* unfolded by _prev: its constant leaf is the graph's too */
            n += node->up.parent[1]->handle != NULL;
    }
    for (uint32_t i = 0; i < p->ninputs; i++)
        n += p->fresh[i] && p->inputs[i]->handle != NULL;
    return n;
}

size_t tg_program_side_handles(const tg_program *p)
{
    size_t in_range = 0, own = 0;
    for (uint32_t i = 0; i < p->nsegments; i++) {
        const tg_segment *segment = p->segments[i];
        for (uint32_t j = p->first_index[i]; j <= p->last_index[i] && j < segment->count; j++)
            in_range += segment->nodes[j].op != TG_FREE_SLOT && segment->nodes[j].handle != NULL;
    }
    for (uint32_t k = 0; k < p->nops; k++)
        own += p->nodes[k]->handle != NULL;
    return in_range > own ? in_range - own : 0;
}

int tg_program_has_closure(const tg_program *p)
{
    for (uint32_t k = 0; k < p->nops; k++)
        if (p->nodes[k]->flags & TG_HAS_CLOSURE)
            return 1;
    for (uint32_t i = 0; i < p->ninputs; i++)
        if (p->inputs[i]->flags & TG_HAS_CLOSURE)
            return 1;
    return 0;
}

uint32_t tg_program_unfolded(const tg_program *p)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < p->nops; k++)
        n += p->nodes[k]->op != p->op[k];
    return n;
}

void tg_program_mark_segments(tg_program *p, int delta)
{
    for (uint32_t i = 0; i < p->nsegments; i++)
        p->segments[i]->replays = (uint16_t)(p->segments[i]->replays + delta);
}

int tg_program_in_range(const tg_program *p, const tg_node *node)
{
    const tg_segment *segment = tg_node_segment(node);
    for (uint32_t i = 0; i < p->nsegments; i++) {
        if (p->segments[i] == segment)
            return node->index >= p->first_index[i] && node->index <= p->last_index[i];
    }
    return 0;
}

int tg_program_consumed(tg_program *p, const tg_tape *tape, int live_only)
{
    if (p->nsegments == 0)
        return 0;
    tg_segment *segment = p->scan_segment;
    uint32_t i = p->scan_next;
    if (segment == NULL || p->scan_reclaims != tape->reclaims || live_only) {
        segment = p->segments[p->nsegments - 1];      /* alive: it holds recorded nodes */
        i = p->last_index[p->nsegments - 1] + 1;
    }
    int consumed = 0;
    for (;;) {
        for (; i < segment->count && !consumed; i++) {
            const tg_node *node = &segment->nodes[i];
            if (live_only && !(node->flags & TG_LIVE))
                continue;
            for (uint32_t k = 0; k < node->nparents; k++) {
                const tg_node *parent = tg_node_parent(node, k);
                if (tg_node_segment(parent)->recordings > 0 && tg_program_in_range(p, parent)) {
                    consumed = 1;
                    break;
                }
            }
        }
        if (consumed || segment->next == NULL)
            break;
        segment = segment->next;
        i = 0;
    }
    /* a consumer found is found again by the next call: stop before it */
    p->scan_segment = segment;
    p->scan_next = consumed ? i - 1 : i;
    p->scan_reclaims = tape->reclaims;
    return consumed;
}

void tg_program_scanned(tg_program *p, const tg_tape *tape)
{
    p->scan_segment = tape->tail;
    p->scan_next = tape->tail != NULL ? tape->tail->count : 0;
    p->scan_reclaims = tape->reclaims;
}

int tg_reach_ranges(const tg_node *root, tg_segment *const *segments, const uint32_t *first,
                    const uint32_t *last, uint32_t nranges, uint8_t *hit)
{
    /* here: the ranges of the segment being walked, so a node checks only those */
    uint32_t *here = (uint32_t *)malloc((nranges > 0 ? nranges : 1) * sizeof *here);
    if (here == NULL) {
        memset(hit, 1, nranges);
        return TG_ERR_NOMEM;
    }
    memset(hit, 0, nranges);
    if (root->nparents == 0) {
        free(here);
        return TG_OK;      /* a leaf: the sweep visits no operation */
    }
    tg_segment *segment = tg_node_segment(root);
    int64_t i = root->index;
    size_t pending = 1;
    segment->nodes[i].flags |= TG_MARK;
    while (segment != NULL && pending > 0) {
        uint32_t nhere = 0;
        for (uint32_t r = 0; r < nranges; r++) {
            if (segments[r] == segment)
                here[nhere++] = r;
        }
        for (; i >= 0 && pending > 0; i--) {
            tg_node *node = &segment->nodes[i];
            if (!(node->flags & TG_MARK))
                continue;
            node->flags &= (uint8_t)~TG_MARK;
            pending--;
            for (uint32_t j = 0; j < nhere; j++) {
                const uint32_t r = here[j];
                if ((uint32_t)i >= first[r] && (uint32_t)i <= last[r])
                    hit[r] = 1;
            }
            for (uint32_t k = 0; k < node->nparents; k++) {
                tg_node *parent = tg_node_parent(node, k);
                if (parent->nparents > 0 && !(parent->flags & TG_MARK)) {
                    parent->flags |= TG_MARK;
                    pending++;
                }
            }
        }
        segment = segment->prev;
        if (segment != NULL)
            i = (int64_t)segment->count - 1;
    }
    free(here);
    return TG_OK;
}

int tg_program_reach(const tg_program *p, uint32_t root, uint32_t *ops, uint32_t *nreach)
{
    uint8_t *reached = (uint8_t *)calloc(p->nops > 0 ? p->nops : 1, 1);
    uint32_t n = 0;
    if (reached == NULL)
        return TG_ERR_NOMEM;
    if (root >= p->ninputs)
        reached[root - p->ninputs] = 1;
    for (uint32_t k = root >= p->ninputs ? root - p->ninputs + 1 : 0; k-- > 0;) {
        if (!reached[k])
            continue;
        ops[n++] = k;
        if (p->a[k] >= p->ninputs)
            reached[p->a[k] - p->ninputs] = 1;
        if (tg_replay_two_operands(p->op[k]) && p->b[k] >= p->ninputs)
            reached[p->b[k] - p->ninputs] = 1;
    }
    free(reached);
    *nreach = n;
    return TG_OK;
}
