# Declarations of the tensor engine's C kernels (csrc/tg_kernels.h), nothing else.

cdef extern from "tg_kernels.h" nogil:
    enum tg_unary:
        TG_TANH
        TG_SIGMOID
        TG_RELU

    void tg_unary_f64(int op, const double *x, double *y, size_t n)
    void tg_unary_f32(int op, const float *x, float *y, size_t n)
    void tg_unary_backward_f64(int op, const double *g, const double *v, double *dx, size_t n)
    void tg_unary_backward_f32(int op, const float *g, const float *v, float *dx, size_t n)
