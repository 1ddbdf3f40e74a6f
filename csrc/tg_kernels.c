#include "tg_kernels.h"

#include <math.h>

/* One definition per kernel, instantiated for double and float: T is the
 * element type, F(name) the libm function of that type. */

#define DEFINE_UNARY(SUFFIX, T, EXP, LOG, TANH, SQRT, FABS)                                   \
    void tg_unary_##SUFFIX(int op, const T *x, T *y, size_t n)                               \
    {                                                                                         \
        size_t i;                                                                             \
        switch (op) {                                                                         \
        case TG_EXP:                                                                          \
            for (i = 0; i < n; i++) y[i] = EXP(x[i]);                                         \
            break;                                                                            \
        case TG_LOG:                                                                          \
            for (i = 0; i < n; i++) y[i] = LOG(x[i]);                                         \
            break;                                                                            \
        case TG_TANH:                                                                         \
            for (i = 0; i < n; i++) y[i] = TANH(x[i]);                                        \
            break;                                                                            \
        case TG_SIGMOID:                                                                      \
            for (i = 0; i < n; i++) {                                                         \
                /* both branches keep exp's argument <= 0: no overflow */                     \
                T v = x[i];                                                                   \
                if (v >= 0) {                                                                 \
                    y[i] = (T)1 / ((T)1 + EXP(-v));                                           \
                } else {                                                                      \
                    T z = EXP(v);                                                             \
                    y[i] = z / ((T)1 + z);                                                    \
                }                                                                             \
            }                                                                                 \
            break;                                                                            \
        case TG_RELU:                                                                         \
            /* NaN stays NaN, as torch has it */                                              \
            for (i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : (x[i] != x[i] ? x[i] : (T)0);   \
            break;                                                                            \
        case TG_ABS:                                                                          \
            for (i = 0; i < n; i++) y[i] = FABS(x[i]);                                        \
            break;                                                                            \
        case TG_SQRT:                                                                         \
            for (i = 0; i < n; i++) y[i] = SQRT(x[i]);                                        \
            break;                                                                            \
        default:                                                                              \
            break;                                                                            \
        }                                                                                     \
    }                                                                                         \
                                                                                              \
    void tg_unary_backward_##SUFFIX(int op, const T *g, const T *x, const T *y, T *dx,       \
                                    size_t n)                                                 \
    {                                                                                         \
        size_t i;                                                                             \
        switch (op) {                                                                         \
        case TG_EXP:                                                                          \
            for (i = 0; i < n; i++) dx[i] = g[i] * y[i];                                      \
            break;                                                                            \
        case TG_LOG:                                                                          \
            for (i = 0; i < n; i++) dx[i] = g[i] / x[i];                                      \
            break;                                                                            \
        case TG_TANH:                                                                         \
            for (i = 0; i < n; i++) dx[i] = g[i] * ((T)1 - y[i] * y[i]);                      \
            break;                                                                            \
        case TG_SIGMOID:                                                                      \
            for (i = 0; i < n; i++) dx[i] = g[i] * (y[i] * ((T)1 - y[i]));                    \
            break;                                                                            \
        case TG_RELU:                                                                         \
            for (i = 0; i < n; i++) dx[i] = x[i] <= 0 ? (T)0 : g[i]; /* NaN passes g */      \
            break;                                                                            \
        case TG_ABS:                                                                          \
            for (i = 0; i < n; i++)                                                           \
                dx[i] = x[i] > 0 ? g[i] : (x[i] < 0 ? -g[i] : (T)0);                          \
            break;                                                                            \
        case TG_SQRT:                                                                         \
            for (i = 0; i < n; i++) dx[i] = g[i] / ((T)2 * y[i]);                             \
            break;                                                                            \
        default:                                                                              \
            break;                                                                            \
        }                                                                                     \
    }                                                                                         \
                                                                                              \
    void tg_clamp_##SUFFIX(const T *x, T *y, size_t n, T lo, T hi)                           \
    {                                                                                         \
        for (size_t i = 0; i < n; i++) {                                                      \
            /* min(max(x, lo), hi), as torch: hi wins when lo > hi */                         \
            T v = x[i] < lo ? lo : x[i];                                                      \
            y[i] = v > hi ? hi : v;                                                           \
        }                                                                                     \
    }                                                                                         \
                                                                                              \
    void tg_clamp_backward_##SUFFIX(const T *g, const T *x, T *dx, size_t n, T lo, T hi)     \
    {                                                                                         \
        for (size_t i = 0; i < n; i++)                                                        \
            dx[i] = (x[i] >= lo && x[i] <= hi) ? g[i] : (T)0;                                 \
    }

DEFINE_UNARY(f64, double, exp, log, tanh, sqrt, fabs)
DEFINE_UNARY(f32, float, expf, logf, tanhf, sqrtf, fabsf)
