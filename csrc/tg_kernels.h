/* Elementwise kernels of the tensor engine, for contiguous, aligned float32 and
 * float64 arrays: only where C beats numpy's ufuncs.
 *
 * Each backward kernel computes an input's gradient from the output gradient
 * g in one pass, with no temporaries (numpy needs several passes and arrays
 * for tanh's g * (1 - y*y)). It reads one array v: the op's result or its
 * input, whichever the derivative is cheapest in.
 */
#ifndef TG_KERNELS_H
#define TG_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tg_unary {
    TG_TANH,     /* backward reads the result y: g * (1 - y*y) */
    TG_SIGMOID,  /* forward: the stable sigmoid; backward reads y: g * y * (1 - y) */
    TG_RELU,     /* backward reads the result y: g where y > 0 or y is NaN, else 0 */
    TG_NUNARY
};

/* y[i] = f(x[i]) for i < n (TG_SIGMOID and TG_RELU: numpy's take several passes, or
 * convert a Python 0 on every call). */
void tg_unary_f64(int op, const double *x, double *y, size_t n);
void tg_unary_f32(int op, const float *x, float *y, size_t n);

/* dx[i] = g[i] * f'(...), reading v[i] as the op's comment says. No aliasing. */
void tg_unary_backward_f64(int op, const double *g, const double *v, double *dx, size_t n);
void tg_unary_backward_f32(int op, const float *g, const float *v, float *dx, size_t n);

#ifdef __cplusplus
}
#endif

#endif
