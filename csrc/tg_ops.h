/* The scalar operations: each one's forward value and local derivatives,
 * defined here and nowhere else.
 *
 * Forward values reproduce Python float arithmetic bit for bit (micrograd
 * computes with Python floats): a + b, a * b, and pow with the errors that
 * Python's float ** raises. Local derivatives are computed in the forward
 * pass, so the backward sweep only multiplies and accumulates.
 */
#ifndef TG_OPS_H
#define TG_OPS_H

#include <math.h>
#include <stdint.h>

#include "tg_tape.h"

#ifdef __cplusplus
extern "C" {
#endif



static inline int tg_add(double a, double b, double *out, double local[2])
{
    *out = a + b;
    local[0] = 1.0;
    local[1] = 1.0;
    return TG_OK;
}

static inline int tg_mul(double a, double b, double *out, double local[2])
{
    *out = a * b;
    local[0] = b;
    local[1] = a;
    return TG_OK;
}

/* a Value plus a Python number, folded into one node: the number is kept in
 * local[1], where the leaf micrograd would make for it can be rebuilt from */
static inline int tg_add_const(double a, double c, double *out, double local[2])
{
    *out = a + c;
    local[0] = 1.0;
    local[1] = c;
    return TG_OK;
}

/* a Value times a Python number: the number is local[0] (the derivative), and
 * local[1] keeps a, the constant's derivative, should its leaf be rebuilt */
static inline int tg_mul_const(double a, double c, double *out, double local[2])
{
    *out = a * c;
    local[0] = c;
    local[1] = a;
    return TG_OK;
}

/* x ** e with the outcomes of Python's float.__pow__, except that a negative
 * base with a fractional exponent is a domain error instead of a complex. */
static inline int tg_pow_value(double x, double e, double *out)
{
    if (isfinite(x) && isfinite(e)) {
        if (x == 0.0 && e < 0.0)
            return TG_ERR_ZERODIV;
        if (x < 0.0 && e != floor(e))
            return TG_ERR_DOMAIN;
    }
    double r = pow(x, e);
    if (isinf(r) && isfinite(x) && isfinite(e))
        return TG_ERR_RANGE;
    *out = r;
    return TG_OK;
}

/* micrograd: d/dx x**e = e * x**(e-1). Where that power raises in Python,
 * *deferred gets the error, which backward raises if it reaches the node
 * (micrograd computes it in backward). The node has one parent: local[1]
 * keeps the exponent, for its _op name ('**2'). */
static inline int tg_pow_const(double x, double e, double *out, double local[2], int *deferred)
{
    int status = tg_pow_value(x, e, out);
    if (status != TG_OK)
        return status;
    double power = 0.0;
    *deferred = tg_pow_value(x, e - 1.0, &power);
    local[0] = *deferred != TG_OK ? INFINITY : e * power;
    local[1] = e;
    return TG_OK;
}

/* Value ** Value. d/db a**b = a**b * log(a), taken as 0 where a == 0 and
 * b >= 0, as torch does. */
static inline int tg_pow(double a, double b, double *out, double local[2], int *deferred)
{
    int status = tg_pow_const(a, b, out, local, deferred);
    if (status != TG_OK)
        return status;
    local[1] = (a == 0.0 && b >= 0.0) ? 0.0 : *out * log(a);
    return TG_OK;
}

/* micrograd: 0 if x < 0 else x, gradient (out > 0): 0 at 0. */
static inline int tg_relu(double x, double *out, double local[2])
{
    *out = x < 0.0 ? 0.0 : x;
    local[0] = *out > 0.0 ? 1.0 : 0.0;
    local[1] = 0.0;
    return TG_OK;
}

static inline int tg_tanh(double x, double *out, double local[2])
{
    double t = tanh(x);
    *out = t;
    local[0] = 1.0 - t * t;
    local[1] = 0.0;
    return TG_OK;
}

/* math.exp raises OverflowError where the result is not representable */
static inline int tg_exp(double x, double *out, double local[2])
{
    double e = exp(x);
    if (isinf(e) && isfinite(x))
        return TG_ERR_RANGE;
    *out = e;
    local[0] = e;
    local[1] = 0.0;
    return TG_OK;
}

/* math.log raises ValueError for x <= 0 */
static inline int tg_log(double x, double *out, double local[2])
{
    if (x <= 0.0)
        return TG_ERR_DOMAIN;
    *out = log(x);
    local[0] = 1.0 / x;
    local[1] = 0.0;
    return TG_OK;
}

/* The two branches keep exp's argument non-positive, so it never overflows. */
static inline int tg_sigmoid(double x, double *out, double local[2])
{
    double s;
    if (x >= 0.0) {
        s = 1.0 / (1.0 + exp(-x));
    } else {
        double z = exp(x);
        s = z / (1.0 + z);
    }
    *out = s;
    local[0] = s * (1.0 - s);
    local[1] = 0.0;
    return TG_OK;
}

/* A node without a forward of its own: a leaf, or a custom node whose value
 * Python gives. */
static inline int tg_given(double x, double *out, double local[2])
{
    *out = x;
    local[0] = 0.0;
    local[1] = 0.0;
    return TG_OK;
}

/* Every op, once: X(NAME, micrograd's _op string, forward).
 * The enum, the op names and tg_op_forward come from this table. In forward,
 * x and y are the parents' data (y: the number of a folded constant or an
 * exponent), and deferred receives an error backward must raise. The _CONST ops
 * are a Value and a Python number in one node (INT: the number was an int). */
#define TG_OP_TABLE(X)                                                     \
    X(LEAF,          "",        tg_given(x, out, local))                   \
    X(ADD,           "+",       tg_add(x, y, out, local))                  \
    X(MUL,           "*",       tg_mul(x, y, out, local))                  \
    X(ADD_CONST,     "+",       tg_add_const(x, y, out, local))            \
    X(ADD_INT_CONST, "+",       tg_add_const(x, y, out, local))            \
    X(MUL_CONST,     "*",       tg_mul_const(x, y, out, local))            \
    X(MUL_INT_CONST, "*",       tg_mul_const(x, y, out, local))            \
    X(POW_CONST,     "**",      tg_pow_const(x, y, out, local, deferred))  \
    X(POW_INT,       "**",      tg_pow_const(x, y, out, local, deferred))  \
    X(POW,           "**",      tg_pow(x, y, out, local, deferred))        \
    X(RELU,          "ReLU",    tg_relu(x, out, local))                    \
    X(TANH,          "tanh",    tg_tanh(x, out, local))                    \
    X(EXP,           "exp",     tg_exp(x, out, local))                     \
    X(LOG,           "log",     tg_log(x, out, local))                     \
    X(SIGMOID,       "sigmoid", tg_sigmoid(x, out, local))                 \
    X(CUSTOM,        "",        tg_given(x, out, local))

#define TG_OP_ENUM_ENTRY(name, string, forward) TG_OP_##name,
enum tg_op { TG_OP_TABLE(TG_OP_ENUM_ENTRY) TG_OP_COUNT };
#undef TG_OP_ENUM_ENTRY

/* micrograd's _op string of an op ("**" for both powers: Python adds the exponent) */
static inline const char *tg_op_name(int op)
{
    switch (op) {
#define TG_OP_NAME_CASE(name, string, forward) case TG_OP_##name: return string;
    TG_OP_TABLE(TG_OP_NAME_CASE)
#undef TG_OP_NAME_CASE
    }
    return "";
}

/* A Value and a Python number in one node (x + c, x * c): micrograd made a
 * leaf for c; the node keeps that leaf's grad in up.folded.constant_grad. */
static inline int tg_op_is_folded(int op)
{
    return op >= TG_OP_ADD_CONST && op <= TG_OP_MUL_INT_CONST;
}

/* d(x + c)/dc = 1 (micrograd adds out.grad itself: 1.0 * g is g), and
 * d(x * c)/dc = x, which local[1] of a folded product keeps. */
static inline double tg_folded_derivative(int op, const double local[2])
{
    return op <= TG_OP_ADD_INT_CONST ? 1.0 : local[1];
}

/* The forward value and local derivatives of op. TG_ERR_DOMAIN for an unknown op. */
static inline int tg_op_forward(int op, double x, double y, double *out, double local[2],
                                int *deferred)
{
    *deferred = TG_OK;
    switch (op) {
#define TG_OP_FORWARD_CASE(name, string, forward) case TG_OP_##name: return forward;
    TG_OP_TABLE(TG_OP_FORWARD_CASE)
#undef TG_OP_FORWARD_CASE
    }
    return TG_ERR_DOMAIN;
}

/* Whether the result of op stands for a Python int, as micrograd would hold
 * it: int op int stays an int, int ** int is an int for a non-negative
 * exponent, and micrograd's relu gives the int 0 for a negative input. x and
 * y are the operands' data (y: the folded number or exponent), a_int and
 * b_int whether they stand for ints (b_int: a Value operand only). */
static inline int tg_int_result(int op, int a_int, int b_int, double x, double y)
{
    switch (op) {
    case TG_OP_ADD: case TG_OP_MUL:
        return a_int && b_int;
    case TG_OP_ADD_INT_CONST: case TG_OP_MUL_INT_CONST:
        return a_int;
    case TG_OP_POW_INT:
        return a_int && y >= 0.0;
    case TG_OP_POW:
        return a_int && b_int && y >= 0.0;
    case TG_OP_RELU:
        return x < 0.0 || a_int;
    default:
        return 0;
    }
}

/* An int result as Python holds it: a Python int has no negative zero. */
static inline double tg_int_value(double out)
{
    return out == 0.0 ? 0.0 : out;
}

/* op of x and y as micrograd computes it, for eager recording and the replay
 * alike: the value (*out), the local derivatives, and *flags: TG_INT_DATA by
 * micrograd's int rule (a_int, b_int: whether the operands stand for ints),
 * and TG_LOCAL_ZERODIV or TG_LOCAL_RANGE for an error that backward meets.
 * ints 0 (a constant): the caller knows tg_int_result gives 0, as for any sum
 * or product with a float operand. TG_OK, the forward's error, or
 * TG_ERR_INT_RANGE for an int result beyond a double; then nothing is set but
 * *out and local. Always inlined: with op a constant, the switches fold. */
static TG_ALWAYS_INLINE int tg_op_evaluate(int op, double x, double y, int a_int, int b_int,
                                           const int ints, double *out, uint8_t *flags,
                                           double local[2])
{
    int deferred = TG_OK;
    const int status = tg_op_forward(op, x, y, out, local, &deferred);
    if (status != TG_OK)
        return status;
    const int is_int = ints && tg_int_result(op, a_int, b_int, x, y);
    if (is_int) {
        if (!isfinite(*out))
            return TG_ERR_INT_RANGE;
        *out = tg_int_value(*out);
    }
    *flags = (uint8_t)((is_int ? TG_INT_DATA : 0)
                       | (deferred == TG_ERR_ZERODIV ? TG_LOCAL_ZERODIV : 0)
                       | (deferred != TG_OK && deferred != TG_ERR_ZERODIV ? TG_LOCAL_RANGE : 0));
    return TG_OK;
}

#ifdef __cplusplus
}
#endif

#endif
