#include "tg_kernels.h"

#include <math.h>

#include "tg_debug.h"

/* One definition per kernel, instantiated for double and float. The loops are
 * branch-free selects over restrict pointers, so compilers vectorize them. */

#define DEFINE_KERNELS(SUFFIX, T, EXP)                                                        \
    void tg_unary_##SUFFIX(int op, const T *restrict x, T *restrict y, size_t n)             \
    {                                                                                         \
        size_t i;                                                                             \
        /* tanh's forward is numpy's: only these two have a C forward */                     \
        TG_ASSERT(op == TG_SIGMOID || op == TG_RELU, "tg_unary: op without a C forward");    \
        TG_ASSERT(n == 0 || (x != NULL && y != NULL), "tg_unary: NULL array");              \
        TG_ASSERT(TG_DISJOINT(x, y, n), "tg_unary: x and y overlap (restrict)");             \
        switch (op) {                                                                         \
        case TG_SIGMOID:                                                                      \
            for (i = 0; i < n; i++) {                                                         \
                /* exp's argument is -|x| <= 0 on both sides: it never overflows */          \
                T v = x[i];                                                                   \
                T z = EXP(v < 0 ? v : -v);                                                    \
                T s = (T)1 / ((T)1 + z);                                                      \
                y[i] = v >= 0 ? s : z * s;                                                    \
            }                                                                                 \
            break;                                                                            \
        case TG_RELU:                                                                         \
            /* NaN stays NaN, as torch has it */                                              \
            for (i = 0; i < n; i++) y[i] = (x[i] > 0 || x[i] != x[i]) ? x[i] : (T)0;          \
            break;                                                                            \
        default:                                                                              \
            break;                                                                            \
        }                                                                                     \
    }                                                                                         \
                                                                                              \
    void tg_unary_backward_##SUFFIX(int op, const T *restrict g, const T *restrict v,        \
                                    T *restrict dx, size_t n)                                 \
    {                                                                                         \
        size_t i;                                                                             \
        TG_ASSERT(op >= 0 && op < TG_NUNARY, "tg_unary_backward: op out of range");          \
        TG_ASSERT(n == 0 || (g != NULL && v != NULL && dx != NULL),                           \
                  "tg_unary_backward: NULL array");                                           \
        TG_ASSERT(TG_DISJOINT(dx, g, n) && TG_DISJOINT(dx, v, n),                            \
                  "tg_unary_backward: dx overlaps an input (restrict)");                      \
        switch (op) {                                                                         \
        case TG_TANH:                                                                         \
            for (i = 0; i < n; i++) dx[i] = g[i] * ((T)1 - v[i] * v[i]);                      \
            break;                                                                            \
        case TG_SIGMOID:                                                                      \
            for (i = 0; i < n; i++) dx[i] = g[i] * (v[i] * ((T)1 - v[i]));                    \
            break;                                                                            \
        case TG_RELU:                                                                         \
            /* y <= 0 is false for NaN: NaN passes the gradient, as torch */                 \
            for (i = 0; i < n; i++) dx[i] = v[i] <= 0 ? (T)0 : g[i];                          \
            break;                                                                            \
        default:                                                                              \
            break;                                                                            \
        }                                                                                     \
    }

DEFINE_KERNELS(f64, double, exp)
DEFINE_KERNELS(f32, float, expf)
