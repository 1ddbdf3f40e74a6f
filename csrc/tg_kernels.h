/* Elementwise kernels of the tensor engine, for contiguous float32 and float64.
 *
 * Each unary op has a forward kernel, y = f(x), and a fused backward kernel
 * that computes the input gradient from the output gradient g in one pass,
 * with no temporaries: tanh's is g * (1 - y*y). Backward kernels read
 * whichever of x and y the derivative is cheapest in.
 */
#ifndef TG_KERNELS_H
#define TG_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tg_unary {
    TG_EXP,      /* dy/dx = y */
    TG_LOG,      /* 1/x */
    TG_TANH,     /* 1 - y*y */
    TG_SIGMOID,  /* y * (1 - y) */
    TG_RELU,     /* x > 0 */
    TG_ABS,      /* sign(x), 0 at 0 */
    TG_SQRT,     /* 0.5 / y */
    TG_NUNARY
};

/* y[i] = f(x[i]) for i < n; x and y may be the same array. */
void tg_unary_f64(int op, const double *x, double *y, size_t n);
void tg_unary_f32(int op, const float *x, float *y, size_t n);

/* dx[i] = g[i] * f'(x[i]), from x or y as the op needs; dx may alias g. */
void tg_unary_backward_f64(int op, const double *g, const double *x, const double *y,
                           double *dx, size_t n);
void tg_unary_backward_f32(int op, const float *g, const float *x, const float *y,
                           float *dx, size_t n);

/* clamp to [lo, hi] (either bound may be infinite), and its backward: g where
 * lo <= x <= hi, else 0, as torch passes the gradient at the bounds. */
void tg_clamp_f64(const double *x, double *y, size_t n, double lo, double hi);
void tg_clamp_f32(const float *x, float *y, size_t n, float lo, float hi);
void tg_clamp_backward_f64(const double *g, const double *x, double *dx, size_t n,
                           double lo, double hi);
void tg_clamp_backward_f32(const float *g, const float *x, float *dx, size_t n,
                           float lo, float hi);

#ifdef __cplusplus
}
#endif

#endif
