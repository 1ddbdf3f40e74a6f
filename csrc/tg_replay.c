#include "tg_replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tg_ops.h"
#include "tg_record.h"     /* TG_ALWAYS_INLINE */

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

/* The ops whose two operands are Values (the others read a constant slot). */
static TG_ALWAYS_INLINE int two_operands(int op)
{
    return op == TG_OP_ADD || op == TG_OP_MUL || op == TG_OP_POW;
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
        const uint32_t operand[2] = {p->a[k], two_operands(p->op[k]) ? p->b[k] : TG_NO_SLOT};
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

/* ------------------------------------------------------------ replaying */

/* The ops whose local derivatives the forward stores: the others' are
 * their operands, or a comparison of one, cheaper to compute again where
 * they are read (op_local) than to store and load. */
static TG_ALWAYS_INLINE int keeps_local(int op)
{
    return op != TG_OP_ADD && op != TG_OP_MUL && op != TG_OP_ADD_CONST
        && op != TG_OP_ADD_INT_CONST && op != TG_OP_MUL_CONST && op != TG_OP_MUL_INT_CONST
        && op != TG_OP_RELU;
}

/* The + and * ops: only an int result of theirs can overflow a double. */
static TG_ALWAYS_INLINE int is_add_or_mul(int op)
{
    return op == TG_OP_ADD || op == TG_OP_MUL || op == TG_OP_ADD_CONST
        || op == TG_OP_ADD_INT_CONST || op == TG_OP_MUL_CONST || op == TG_OP_MUL_INT_CONST;
}

/* The program's arrays, in locals the compiler may keep in registers: a
 * store through a uint8_t pointer may alias anything, the program struct
 * too, so reading the arrays through it would reload them after each flag. */
typedef struct arrays {
    const uint32_t *restrict a;
    const uint32_t *restrict b;
    double *restrict value;
    uint8_t *restrict flags;
    double *restrict local;
    double *restrict grad;
    uint32_t ninputs;
} arrays;

static TG_ALWAYS_INLINE arrays arrays_of(const tg_program *p)
{
    arrays r = {p->a, p->b, p->value, p->flags, p->local, p->grad, p->ninputs};
    return r;
}

/* The local derivatives of operation k (of op, its code) in the last
 * forward: kept, or tg_ops.h's own function run again on the operand slots
 * (whose numbers stay those of the forward until the next one). With a
 * constant op the switches fold to the one op's arithmetic. */
static TG_ALWAYS_INLINE void op_local(const arrays r, uint32_t k, int op, double local[2])
{
    if (keeps_local(op)) {
        local[0] = r.local[2 * k];
        local[1] = r.local[2 * k + 1];
        return;
    }
    double out = 0.0;
    int deferred = TG_OK;
    local[0] = local[1] = 0.0;
    (void)tg_op_forward(op, r.value[r.a[k]], r.value[r.b[k]], &out, local, &deferred);
}

/* The value of op of x and y (a_int, b_int: whether they stand for ints),
 * its flags (TG_INT_DATA, and a deferred error's TG_LOCAL_*) and local
 * derivatives: tg_ops.h's arithmetic and micrograd's int rule
 * (tg_int_result), as eager recording takes them (tg_record_into). */
static TG_ALWAYS_INLINE int op_value(int op, double x, double y, int a_int, int b_int,
                                     double *out, uint8_t *flag, double local[2])
{
    int deferred = TG_OK;
    const int status = tg_op_forward(op, x, y, out, local, &deferred);
    if (status != TG_OK)
        return status;
    const int is_int = tg_int_result(op, a_int, b_int, x, y);
    if (is_int) {
        if (is_add_or_mul(op) && !isfinite(*out))
            return TG_ERR_RANGE;
        *out = tg_int_value(*out);
    }
    *flag = (uint8_t)((is_int ? TG_INT_DATA : 0)
                      | (deferred == TG_ERR_ZERODIV ? TG_LOCAL_ZERODIV : 0)
                      | (deferred != TG_OK && deferred != TG_ERR_ZERODIV ? TG_LOCAL_RANGE : 0));
    return TG_OK;
}

/* Operation k, of the constant op, from its operands' slots into its own
 * (and its local derivatives where keeps_local); clear: its gradient is set
 * to 0 too, for the flat backward. */
static TG_ALWAYS_INLINE int forward_op(const arrays r, uint32_t k, int op, int clear,
                                       uint32_t *ndeferred)
{
    const uint32_t a = r.a[k], b = r.b[k];
    double out = 0.0;
    double local[2] = {0.0, 0.0};
    uint8_t flag = 0;
    const int status = op_value(op, r.value[a], r.value[b], r.flags[a] & TG_INT_DATA,
                                two_operands(op) && (r.flags[b] & TG_INT_DATA), &out, &flag,
                                local);
    if (status != TG_OK)
        return status;
    r.value[r.ninputs + k] = out;
    r.flags[r.ninputs + k] = flag;
    if (clear)
        r.grad[r.ninputs + k] = 0.0;
    if (keeps_local(op)) {
        r.local[2 * k] = local[0];
        r.local[2 * k + 1] = local[1];
    }
    *ndeferred += (flag & (TG_LOCAL_ZERODIV | TG_LOCAL_RANGE)) != 0;
    return TG_OK;
}

/* The n pairs of a neuron chain from operation k (tg_program.chain): each a
 * product and then the running sum plus it, the sum kept in a register from
 * one pair to the next instead of read back from its slot. Without inner
 * (a constant), only the last sum is written: the slots inside the chain
 * are read by nothing but the chain itself, and by the write-back, which a
 * fused step does not make. With inner, the last sum's gradient is set to 0
 * (the flat backward writes those inside: their one consumer is here). */
static TG_ALWAYS_INLINE int forward_chain(const arrays r, uint32_t k, uint32_t n, int inner,
                                          uint32_t *failed)
{
    double sum = r.value[r.a[k + 1]];
    int sum_int = r.flags[r.a[k + 1]] & TG_INT_DATA;
    for (uint32_t j = 0; j < n; j++, k += 2) {
        const uint32_t a = r.a[k], b = r.b[k];
        double product = 0.0, next = 0.0;
        double local[2];
        uint8_t product_flag = 0, sum_flag = 0;
        int status = op_value(TG_OP_MUL, r.value[a], r.value[b], r.flags[a] & TG_INT_DATA,
                              r.flags[b] & TG_INT_DATA, &product, &product_flag, local);
        if (status != TG_OK) {
            *failed = k;
            return status;
        }
        status = op_value(TG_OP_ADD, sum, product, sum_int, product_flag & TG_INT_DATA, &next,
                          &sum_flag, local);
        if (status != TG_OK) {
            r.value[r.a[k + 1]] = sum;          /* the operands, for the error's message */
            r.value[r.ninputs + k] = product;
            *failed = k + 1;
            return status;
        }
        if (inner || j + 1 == n) {
            r.value[r.ninputs + k] = product;
            r.flags[r.ninputs + k] = product_flag;
            r.value[r.ninputs + k + 1] = next;
            r.flags[r.ninputs + k + 1] = sum_flag;
        }
        if (inner && j + 1 == n)
            r.grad[r.ninputs + k + 1] = 0.0;
        sum = next;
        sum_int = sum_flag & TG_INT_DATA;
    }
    return TG_OK;
}

/* forward_chain where no slot of the chain can stand for an int (see
 * TG_CHAIN_OF_INPUTS): no flag to read, and no error (only ints overflow). */
static TG_ALWAYS_INLINE void forward_float_chain(const arrays r, uint32_t k, uint32_t n,
                                                 int inner)
{
    double sum = r.value[r.a[k + 1]];
    for (uint32_t j = 0; j < n; j++, k += 2) {
        double product = 0.0, next = 0.0;
        double local[2];
        uint8_t flag = 0;
        (void)op_value(TG_OP_MUL, r.value[r.a[k]], r.value[r.b[k]], 0, 0, &product, &flag,
                       local);
        (void)op_value(TG_OP_ADD, sum, product, 0, 0, &next, &flag, local);
        if (inner || j + 1 == n) {
            r.value[r.ninputs + k] = product;
            r.value[r.ninputs + k + 1] = next;
            r.flags[r.ninputs + k] = 0;
            r.flags[r.ninputs + k + 1] = 0;
        }
        if (inner && j + 1 == n)
            r.grad[r.ninputs + k + 1] = 0.0;
        sum = next;
    }
}

/* tg_program_forward, with inner a constant */
static TG_ALWAYS_INLINE int forward(tg_program *p, int inner, uint32_t *failed)
{
    uint32_t ndeferred = 0;
    uint8_t int_inputs = 0;
    p->grads_cleared = 0;       /* until it has gone through without an error */
    for (uint32_t i = 0; i < p->ninputs; i++) {
        p->value[i] = p->inputs[i]->data;
        p->flags[i] = p->inputs[i]->flags & TG_INT_DATA;
        int_inputs |= p->flags[i];
    }
    const arrays r = arrays_of(p);
    const uint8_t *restrict op = p->op;
    const uint16_t *restrict chain = p->chain;
    const uint32_t nops = p->nops;
    for (uint32_t k = 0; k < nops; k++) {
        int status;
        if (op[k] == TG_OP_MUL && chain[k] > 0) {
            const uint32_t n = chain[k] & TG_CHAIN_LENGTH;
            if ((chain[k] & TG_CHAIN_OF_INPUTS) && !int_inputs) {
                forward_float_chain(r, k, n, inner);
            } else {
                status = forward_chain(r, k, n, inner, failed);
                if (status != TG_OK)
                    return status;
            }
            k += 2 * n - 1;
            continue;
        }
        /* one case per op, each forward_op with a constant op */
        switch (op[k]) {
#define TG_FORWARD_CASE(name, string, forward) \
        case TG_OP_##name: status = forward_op(r, k, TG_OP_##name, inner, &ndeferred); break;
        TG_OP_TABLE(TG_FORWARD_CASE)
#undef TG_FORWARD_CASE
        default: status = TG_ERR_DOMAIN;
        }
        if (status != TG_OK) {
            *failed = k;
            return status;
        }
    }
    p->ndeferred = ndeferred;
    p->grads_cleared = inner;
    return TG_OK;
}

int tg_program_forward(tg_program *p, int inner, uint32_t *failed)
{
    return inner ? forward(p, 1, failed) : forward(p, 0, failed);
}

/* Writes operation k of the last forward into its node, with gradient grad
 * (and, folded, micrograd's leaf for its number with constant_grad). */
static void write_node(tg_program *p, uint32_t k, double grad, double constant_grad)
{
    const uint8_t replayed = TG_INT_DATA | TG_LOCAL_ZERODIV | TG_LOCAL_RANGE;
    tg_node *node = p->nodes[k];
    const uint32_t s = p->ninputs + k;
    double local[2];
    op_local(arrays_of(p), k, p->op[k], local);
    if (node->op != p->op[k]) {
        /* _prev unfolded it into a plain + or * onto a constant leaf */
        if (p->op[k] == TG_OP_ADD_CONST || p->op[k] == TG_OP_ADD_INT_CONST)
            local[1] = 1.0;
        node->up.parent[1]->grad = 0.0;
    } else if (tg_op_is_folded(node->op)) {
        node->up.folded.constant_grad = constant_grad;
    }
    node->data = p->value[s];
    node->grad = grad;
    node->local[0] = local[0];
    node->local[1] = local[1];
    node->flags = (uint8_t)((node->flags & ~replayed) | p->flags[s]);
}

static void zero_fresh_leaves(tg_program *p)
{
    for (uint32_t i = 0; i < p->ninputs; i++) {
        if (p->fresh[i])
            p->inputs[i]->grad = 0.0;
    }
}

void tg_program_write_back(tg_program *p)
{
    for (uint32_t k = 0; k < p->nops; k++)
        write_node(p, k, 0.0, 0.0);
    zero_fresh_leaves(p);
}

void tg_program_write_outputs(tg_program *p)
{
    for (uint32_t i = 0; i < p->noutput_ops; i++)
        write_node(p, p->output_ops[i], 0.0, 0.0);
    zero_fresh_leaves(p);
}

/* The grad micrograd's leaf for the number of folded operation k gets from
 * one sweep: 0 + its derivative x the operation's gradient. */
static double constant_grad(const tg_program *p, uint32_t k, const double *grad)
{
    double local[2];
    op_local(arrays_of(p), k, p->op[k], local);
    return 0.0 + tg_folded_derivative(p->op[k], local) * grad[p->ninputs + k];
}

/* Whether the one backward of the last forward passed operation k: ops is
 * newest first (tg_program_reach), or NULL for every operation up to root. */
static int passed(const tg_program *p, uint32_t root, const uint32_t *ops, uint32_t nreach,
                  uint32_t k)
{
    if (ops == NULL)
        return p->ninputs + k <= root;
    uint32_t lo = 0, hi = nreach;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ops[mid] == k)
            return 1;
        if (ops[mid] > k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void tg_program_flush(tg_program *p, const double *grad, uint32_t root, const uint32_t *ops,
                      uint32_t nreach)
{
    for (uint32_t k = 0; k < p->nops; k++) {
        if (p->is_output[k])
            continue;
        const int folded = grad != NULL && tg_op_is_folded(p->op[k])
                           && passed(p, root, ops, nreach, k);
        write_node(p, k, grad != NULL ? grad[p->ninputs + k] : 0.0,
                   folded ? constant_grad(p, k, grad) : 0.0);
    }
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
        if (two_operands(p->op[k]) && p->b[k] >= p->ninputs)
            reached[p->b[k] - p->ninputs] = 1;
    }
    free(reached);
    *nreach = n;
    return TG_OK;
}

void tg_program_clear_grads(tg_program *p)
{
    memset(p->grad + p->ninputs, 0, (size_t)p->nops * sizeof *p->grad);
    p->grads_zero = 1;
}

/* local derivative x gradient of operation k, of the constant op,
 * accumulated into its operands: the eager sweep's arithmetic (tg_sweep_run),
 * in its order. A constant slot takes no gradient. */
static TG_ALWAYS_INLINE void backward_op(const arrays r, double *restrict grad, uint32_t k,
                                         int op, int consume)
{
    double local[2];
    op_local(r, k, op, local);
    const double g = grad[r.ninputs + k];
    if (consume)
        grad[r.ninputs + k] = 0.0;
    grad[r.a[k]] += local[0] * g;
    if (two_operands(op))
        grad[r.b[k]] += local[1] * g;
}

/* The n pairs of the neuron chain that ends at operation k, newest first,
 * as backward_op runs them one by one: the sum's gradient is kept in a
 * register from one pair to the next (nothing else in the chain writes it).
 * consume: the gradients of the chain's slots are not kept but left 0. */
static TG_ALWAYS_INLINE void backward_chain(const arrays r, double *restrict grad, uint32_t k,
                                            uint32_t n, int consume)
{
    double g = grad[r.ninputs + k];
    if (consume)
        grad[r.ninputs + k] = 0.0;
    for (uint32_t j = 0; j < n; j++, k -= 2) {
        double local[2];
        op_local(r, k, TG_OP_ADD, local);
        /* the product and the sums inside the chain have this one consumer:
         * their gradient is 0 before it adds */
        const double g_product = 0.0 + local[1] * g;
        if (j + 1 < n) {
            const double g_below = 0.0 + local[0] * g;
            if (!consume) {
                grad[r.ninputs + k - 2] = g_below;
                grad[r.ninputs + k - 1] = g_product;
            }
            g = g_below;
        } else {
            grad[r.a[k]] += local[0] * g;
            if (!consume)
                grad[r.ninputs + k - 1] = g_product;
        }
        op_local(r, k - 1, TG_OP_MUL, local);
        grad[r.a[k - 1]] += local[0] * g_product;
        grad[r.b[k - 1]] += local[1] * g_product;
    }
}

/* backward_op of operation k: one case per op, each with its op constant */
static TG_ALWAYS_INLINE void backward_any(const arrays r, const uint8_t *restrict op,
                                          double *restrict grad, uint32_t k, int consume)
{
    switch (op[k]) {
#define TG_BACKWARD_CASE(name, string, forward) \
    case TG_OP_##name: backward_op(r, grad, k, TG_OP_##name, consume); break;
    TG_OP_TABLE(TG_BACKWARD_CASE)
#undef TG_BACKWARD_CASE
    }
}

/* The reverse sweep over the flat gradients, from the root slot: every
 * operation up to it, or with ops, the nreach of them, newest first.
 * consume (a constant; every operation up to the root): the operations'
 * gradients are used up, each set back to 0 once read, so none is kept
 * and the next sweep needs no clearing (tg_program.grads_zero). */
static TG_ALWAYS_INLINE void sweep(tg_program *p, uint32_t root, const uint32_t *ops,
                                   uint32_t nreach, int consume)
{
    const arrays r = arrays_of(p);
    const uint8_t *restrict op = p->op;
    double *restrict grad = p->grad;
    if (ops == NULL) {
        const uint16_t *restrict chain = p->chain;
        for (uint32_t k = root - p->ninputs + 1; k-- > 0;) {
            if (op[k] == TG_OP_ADD && chain[k] > 0) {
                backward_chain(r, grad, k, chain[k], consume);
                k -= 2 * chain[k] - 1;
            } else {
                backward_any(r, op, grad, k, consume);
            }
        }
    } else {
        for (uint32_t i = 0; i < nreach; i++)
            backward_any(r, op, grad, ops[i], 0);
    }
    p->grads_zero = consume && root == p->ninputs + p->nops - 1;
}

void tg_program_backward(tg_program *p, uint32_t root, const uint32_t *ops, uint32_t nreach)
{
    double *grad = p->grad;
    if (ops == NULL && p->grads_cleared) {
        /* the forward cleared the gradients that the sweep up to the root
         * adds to, and the sweep writes those inside the chains: only the
         * operations above the root are left */
        memset(grad + root + 1, 0, (size_t)(p->ninputs + p->nops - root - 1) * sizeof *grad);
    } else {
        tg_program_clear_grads(p);
    }
    p->grads_cleared = 0;
    p->grads_zero = 0;
    for (uint32_t i = 0; i < p->ninputs; i++)
        grad[i] = p->inputs[i]->grad;
    for (uint32_t i = 0; i < p->noutput_ops; i++)
        grad[p->ninputs + p->output_ops[i]] = p->nodes[p->output_ops[i]]->grad;
    grad[root] = 1.0;
    sweep(p, root, ops, nreach, 0);
    for (uint32_t i = 0; i < p->ninputs; i++)
        p->inputs[i]->grad = grad[i];
    for (uint32_t i = 0; i < p->noutput_ops; i++) {
        const uint32_t k = p->output_ops[i];
        tg_node *node = p->nodes[k];
        node->grad = grad[p->ninputs + k];
        if (tg_op_is_folded(p->op[k]) && node->op == p->op[k] && passed(p, root, ops, nreach, k)) {
            double local[2];
            op_local(arrays_of(p), k, p->op[k], local);
            node->up.folded.constant_grad += tg_folded_derivative(p->op[k], local)
                                             * grad[p->ninputs + k];
        }
    }
}

int tg_program_step_sgd(tg_program *p, uint32_t root, tg_node *const *params,
                        const uint32_t *param_slot, const double *lr, uint32_t nparams,
                        uint32_t *failed)
{
    double *grad = p->grad;
    if (p->ndeferred > 0) {
        /* every operation depends on the root (one output): eager backward
         * raises at the newest one with a deferred error */
        for (uint32_t k = root - p->ninputs + 1; k-- > 0;) {
            const uint8_t flags = p->flags[p->ninputs + k];
            if (flags & (TG_LOCAL_ZERODIV | TG_LOCAL_RANGE)) {
                *failed = k;
                return flags & TG_LOCAL_ZERODIV ? TG_ERR_ZERODIV : TG_ERR_RANGE;
            }
        }
    }
    for (uint32_t i = 0; i < p->ninputs; i++)
        grad[i] = p->inputs[i]->grad;
    if (!p->grads_zero)
        tg_program_clear_grads(p);
    for (uint32_t i = 0; i < nparams; i++) {
        if (param_slot[i] != TG_NO_SLOT)
            grad[param_slot[i]] = 0.0;                  /* zero_grad */
    }
    grad[root] = 1.0;
    sweep(p, root, NULL, 0, 1);
    for (uint32_t i = 0; i < p->ninputs; i++) {
        if (!p->fresh[i])
            p->inputs[i]->grad = grad[i];
    }
    for (uint32_t i = 0; i < nparams; i++) {
        tg_node *param = params[i];
        const double g = param_slot[i] != TG_NO_SLOT ? grad[param_slot[i]] : 0.0;
        param->grad = g;
        param->data = param->data - lr[i] * g;
        param->flags = (uint8_t)(param->flags & ~TG_INT_DATA);
    }
    return TG_OK;
}
