/* Recording one operation: its forward value and local derivatives
 * (tg_ops.h) on a new node at the end of the tape (tg_tape.h). Eager
 * recording makes this one call per op.
 */
#ifndef TG_RECORD_H
#define TG_RECORD_H

#include <math.h>

#include "tg_ops.h"
#include "tg_tape.h"

#ifdef __cplusplus
extern "C" {
#endif

/* tg_record_into, told by its caller whether the result may stand for an int
 * (ints as tg_op_evaluate takes it). */
static TG_ALWAYS_INLINE int tg_record_into_as(tg_node *node, uint16_t index, int op,
                                              tg_node *a, tg_node *b, double y, const int ints)
{
    double value = 0.0;
    double local[2] = {0.0, 0.0};
    uint8_t flags = 0;
    const int status = tg_op_evaluate(op, a->data, b != NULL ? b->data : y,
                                      a->flags & TG_INT_DATA,
                                      b != NULL && (b->flags & TG_INT_DATA), ints, &value, &flags,
                                      local);
    if (status != TG_OK)
        return status;
    node->data = value;
    node->grad = 0.0;
    node->local[0] = local[0];
    node->local[1] = local[1];
    node->up.parent[0] = a;
    node->up.parent[1] = b;
    node->handle = NULL;
    node->index = index;
    node->op = (uint8_t)op;
    node->flags = flags;
    node->nparents = b != NULL ? 2 : 1;
    return TG_OK;
}

/* op of parent a and either parent b (ADD, MUL, POW) or the number y (b
 * NULL: the constant of a folded op, the exponent of POW_CONST and POW_INT;
 * unused by the one-parent ops), written into node, whose index is given:
 * every field of it. Whether the result stands for a Python int is
 * micrograd's rule, tg_int_result, the same the replay uses.
 *
 * TG_OK, or the forward's error (TG_ERR_DOMAIN, _RANGE, _ZERODIV) or
 * TG_ERR_INT_RANGE for an int result beyond a double, and then node is not
 * written. An error that only the local derivative meets is deferred to
 * backward (TG_LOCAL_ZERODIV, TG_LOCAL_RANGE), as micrograd meets it there.
 *
 * Always inlined, so that where op is a constant the compiler drops the op
 * switches (tg_op_forward's and tg_int_result's). */
static TG_ALWAYS_INLINE int tg_record_into(tg_node *node, uint16_t index, int op,
                                           tg_node *a, tg_node *b, double y)
{
    return tg_record_into_as(node, index, op, a, b, y, 1);
}

/* Records op of a and b (or y), as tg_record_into says, on a new node at the
 * end of the tape: *out. On an error nothing is recorded; TG_ERR_NOMEM when
 * the tape cannot grow. Eager recording makes this one call per op. */
static TG_ALWAYS_INLINE int tg_record(tg_tape *tape, int op, tg_node *a, tg_node *b, double y,
                                      tg_node **out)
{
    tg_segment *segment = tape->tail;
    if (segment == NULL || segment->count >= TG_SEGMENT_CAPACITY) {
        segment = tg_tape_grow(tape);
        if (segment == NULL)
            return TG_ERR_NOMEM;
    }
    tg_node *node = &segment->nodes[segment->count];
    int status = tg_record_into(node, (uint16_t)segment->count, op, a, b, y);
    if (status != TG_OK)
        return status;
    segment->count++;
    *out = node;
    return TG_OK;
}

/* The terms of tg_record_neuron, from node *count of segment on: *acc + w0*x0
 * + w1*x1 + ..., a '*' and a '+' node each; ints as tg_record_into_as takes
 * it. *count and *acc are where it stopped: TG_OK, or the error of the op it
 * stopped at. */
static TG_ALWAYS_INLINE int record_terms(tg_segment *segment, uint32_t *count_io,
                                         tg_node **acc_io, tg_node *const *weights,
                                         tg_node *const *inputs, const double *numbers,
                                         const int *int_numbers, uint32_t n, const int ints)
{
    uint32_t count = *count_io;
    tg_node *acc = *acc_io;
    int status = TG_OK;
    for (uint32_t i = 0; i < n; i++) {
        tg_node *product = &segment->nodes[count];
        if (count + TG_PREFETCH_NODES + 1 < TG_SEGMENT_CAPACITY) {   /* a term's two nodes */
            TG_PREFETCH_WRITE(&segment->nodes[count + TG_PREFETCH_NODES]);
            TG_PREFETCH_WRITE(&segment->nodes[count + TG_PREFETCH_NODES + 1]);
        }
        if (inputs[i] != NULL)
            status = tg_record_into_as(product, (uint16_t)count, TG_OP_MUL, weights[i],
                                       inputs[i], 0.0, ints);
        else if (int_numbers[i])
            status = tg_record_into_as(product, (uint16_t)count, TG_OP_MUL_INT_CONST,
                                       weights[i], NULL, numbers[i], ints);
        else
            status = tg_record_into_as(product, (uint16_t)count, TG_OP_MUL_CONST, weights[i],
                                       NULL, numbers[i], ints);
        if (status != TG_OK)
            break;
        count++;
        tg_node *sum = &segment->nodes[count];
        status = tg_record_into_as(sum, (uint16_t)count, TG_OP_ADD, acc, product, 0.0, ints);
        if (status != TG_OK)
            break;
        count++;
        acc = sum;
    }
    *count_io = count;
    *acc_io = acc;
    return status;
}

/* micrograd's neuron, b + w0*x0 + w1*x1 + ... and then relu where asked, in
 * its order: a '*' node and a '+' node per term. Input i is the node inputs[i],
 * or where that is NULL the number numbers[i] (an int where int_numbers[i]),
 * folded into its '*'. The nodes go one after another into the tail segment
 * (a new one when it has too little room left), the segment's count and the
 * tape's tail kept in registers, not reloaded at every node.
 *
 * TG_OK and *out, the neuron's output; or an error of tg_record's, and then
 * the nodes recorded before it stay on the tape unreached (the caller records
 * the neuron again op by op to say which op failed). */
static inline int tg_record_neuron(tg_tape *tape, tg_node *bias, tg_node *const *weights,
                                   tg_node *const *inputs, const double *numbers,
                                   const int *int_numbers, uint32_t n, int relu, tg_node **out)
{
    const uint32_t need = 2 * n + (relu ? 1 : 0);
    if (need > TG_SEGMENT_CAPACITY)
        return TG_ERR_NOMEM;      /* never for micrograd's sizes: the caller goes op by op */
    tg_segment *segment = tape->tail;
    if (segment == NULL || segment->count + need > TG_SEGMENT_CAPACITY) {
        segment = tg_tape_grow(tape);
        if (segment == NULL)
            return TG_ERR_NOMEM;
    }
    /* A product with a float weight is a float, and so is every sum after it:
     * with no int weight (micrograd draws floats), the int rule has nothing to
     * decide until the relu. */
    int int_weights = 0;
    for (uint32_t i = 0; i < n; i++)
        int_weights |= weights[i]->flags & TG_INT_DATA;
    uint32_t count = segment->count;
    tg_node *acc = bias;
    int status = int_weights
        ? record_terms(segment, &count, &acc, weights, inputs, numbers, int_numbers, n, 1)
        : record_terms(segment, &count, &acc, weights, inputs, numbers, int_numbers, n, 0);
    if (status == TG_OK && relu) {
        tg_node *activation = &segment->nodes[count];
        status = tg_record_into(activation, (uint16_t)count, TG_OP_RELU, acc, NULL, 0.0);
        if (status == TG_OK) {
            count++;
            acc = activation;
        }
    }
    segment->count = count;
    *out = acc;
    return status;
}

#ifdef __cplusplus
}
#endif

#endif
