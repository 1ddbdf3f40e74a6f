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

#if defined(__GNUC__) || defined(__clang__)
#define TG_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define TG_ALWAYS_INLINE __forceinline
#else
#define TG_ALWAYS_INLINE inline
#endif

/* Records op of parent a and either parent b (ADD, MUL, POW) or the number y
 * (b NULL: the constant of a folded op, the exponent of POW_CONST and POW_INT;
 * unused by the one-parent ops). Whether the result stands for a Python int
 * is micrograd's rule, tg_int_result, the same the replay uses.
 *
 * On success *out is the new node and the result TG_OK. Otherwise nothing is
 * recorded, and the result is the forward's error (TG_ERR_DOMAIN, _RANGE,
 * _ZERODIV), TG_ERR_INT_RANGE for an int result beyond a double, or
 * TG_ERR_NOMEM. An error that only the local derivative meets is deferred to
 * backward (TG_LOCAL_ZERODIV, TG_LOCAL_RANGE), as micrograd meets it there.
 *
 * Always inlined, so that where op is a constant the compiler drops the op
 * switches (tg_op_forward's and tg_int_result's). */
static TG_ALWAYS_INLINE int tg_record(tg_tape *tape, int op, tg_node *a, tg_node *b, double y,
                            tg_node **out)
{
    const double x2 = b != NULL ? b->data : y;
    const int is_int = tg_int_result(op, a->flags & TG_INT_DATA,
                                     b != NULL && (b->flags & TG_INT_DATA), a->data, x2);
    double value = 0.0;
    double local[2] = {0.0, 0.0};
    int deferred = TG_OK;
    int status = tg_op_forward(op, a->data, x2, &value, local, &deferred);
    if (status != TG_OK)
        return status;
    if (is_int && !isfinite(value))
        return TG_ERR_INT_RANGE;
    tg_node *node = tg_tape_push(tape);
    if (node == NULL)
        return TG_ERR_NOMEM;
    node->data = is_int ? tg_int_value(value) : value;
    node->local[0] = local[0];
    node->local[1] = local[1];
    node->up.parent[0] = a;
    node->up.parent[1] = b;
    node->nparents = b != NULL ? 2 : 1;
    node->op = (uint8_t)op;
    node->flags = (uint8_t)((is_int ? TG_INT_DATA : 0)
                            | (deferred == TG_ERR_ZERODIV ? TG_LOCAL_ZERODIV : 0)
                            | (deferred != TG_OK && deferred != TG_ERR_ZERODIV ? TG_LOCAL_RANGE : 0));
    *out = node;
    return TG_OK;
}

#ifdef __cplusplus
}
#endif

#endif
