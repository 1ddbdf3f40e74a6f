# Declarations of the tensor engine's C kernels (csrc/tg_kernels.h), nothing else.

cdef extern from "tg_kernels.h" nogil:
    enum tg_unary:
        TG_EXP
        TG_LOG
        TG_TANH
        TG_SIGMOID
        TG_RELU
        TG_ABS
        TG_SQRT

    void tg_unary_f64(int op, const double *x, double *y, size_t n)
    void tg_unary_f32(int op, const float *x, float *y, size_t n)
    void tg_unary_backward_f64(int op, const double *g, const double *x, const double *y,
                               double *dx, size_t n)
    void tg_unary_backward_f32(int op, const float *g, const float *x, const float *y,
                               float *dx, size_t n)
    void tg_clamp_f64(const double *x, double *y, size_t n, double lo, double hi)
    void tg_clamp_f32(const float *x, float *y, size_t n, float lo, float hi)
    void tg_clamp_backward_f64(const double *g, const double *x, double *dx, size_t n,
                               double lo, double hi)
    void tg_clamp_backward_f32(const float *g, const float *x, float *dx, size_t n,
                               float lo, float hi)
