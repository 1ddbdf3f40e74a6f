/* Replaying a program (tg_replay.h): the forward, the write-back of its
 * numbers into the recorded nodes, the flat backward and the fused SGD step.
 * tg_replay.c builds the programs these run.
 *
 * Every op's arithmetic is tg_ops.h's: each loop switches on the op code and
 * calls the one op's functions with a constant op, so that each case folds
 * to that op alone. Neuron chains (tg_program.chain) run without a dispatch
 * per operation.
 */
#include "tg_replay.h"

#include <math.h>
#include <string.h>

#include "tg_ops.h"
#include "tg_record.h"     /* TG_ALWAYS_INLINE */

/* The ops whose local derivatives the forward stores: the others' are
 * their operands, or a comparison of one, cheaper to compute again where
 * they are read (op_local) than to store and load. */
static TG_ALWAYS_INLINE int keeps_local(int op)
{
    return op != TG_OP_ADD && op != TG_OP_MUL && op != TG_OP_ADD_CONST
        && op != TG_OP_ADD_INT_CONST && op != TG_OP_MUL_CONST && op != TG_OP_MUL_INT_CONST
        && op != TG_OP_RELU;
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
    const int b_int = tg_replay_two_operands(op) && (r.flags[b] & TG_INT_DATA);
    const int status = tg_op_evaluate(op, r.value[a], r.value[b], r.flags[a] & TG_INT_DATA, b_int,
                                      1, &out, &flag, local);
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
 * (the flat backward writes those inside: their one consumer is here).
 * ints 0 (a constant) where no slot of the chain can stand for an int (see
 * TG_CHAIN_OF_INPUTS): no flag is read, and no error can arise (only ints
 * overflow). */
static TG_ALWAYS_INLINE int forward_chain(const arrays r, uint32_t k, uint32_t n, int inner,
                                          const int ints, uint32_t *failed)
{
    double sum = r.value[r.a[k + 1]];
    int sum_int = ints && (r.flags[r.a[k + 1]] & TG_INT_DATA);
    for (uint32_t j = 0; j < n; j++, k += 2) {
        const uint32_t a = r.a[k], b = r.b[k];
        double product = 0.0, next = 0.0;
        double local[2];
        uint8_t product_flag = 0, sum_flag = 0;
        int status = tg_op_evaluate(TG_OP_MUL, r.value[a], r.value[b],
                                    ints && (r.flags[a] & TG_INT_DATA),
                                    ints && (r.flags[b] & TG_INT_DATA), ints, &product,
                                    &product_flag, local);
        if (status != TG_OK) {
            *failed = k;
            return status;
        }
        status = tg_op_evaluate(TG_OP_ADD, sum, product, sum_int, product_flag & TG_INT_DATA,
                                ints, &next, &sum_flag, local);
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
            status = (chain[k] & TG_CHAIN_OF_INPUTS) && !int_inputs
                ? forward_chain(r, k, n, inner, 0, failed)
                : forward_chain(r, k, n, inner, 1, failed);
            if (status != TG_OK)
                return status;
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
    if (tg_replay_two_operands(op))
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
