# The glue to the C kernels (csrc/tg_kernels.c): they take contiguous, aligned
# float32 or float64 arrays, so whatever else comes is copied into that form
# first, and each kernel stays the one definition of its math.

from tapegrad._kernels cimport (tg_unary_f32, tg_unary_f64, tg_unary_backward_f32,
                                tg_unary_backward_f64, TG_TANH, TG_SIGMOID, TG_RELU)


cdef inline object _kernel_form(object arr, object dtype):
    """arr as a contiguous, aligned array of dtype (float32 or float64)."""
    if arr.dtype is dtype:
        flags = arr.flags
        if flags.c_contiguous and flags.aligned:
            return arr
    return np.array(arr, dtype=dtype, order='C')


cdef object _kernel_dtype(object dtype):
    return dtype if dtype is float64 or dtype is float32 else float64


cdef object _kernel_forward(int op, object x):
    """f(x) by the C kernel."""
    cdef Py_buffer bx, by
    dtype = _kernel_dtype(x.dtype)
    x = _kernel_form(x, dtype)
    y = np.empty(x.shape, dtype=dtype)
    PyObject_GetBuffer(x, &bx, PyBUF_SIMPLE)
    try:
        PyObject_GetBuffer(y, &by, PyBUF_SIMPLE | PyBUF_WRITABLE)
        try:
            if dtype is float64:
                with nogil:
                    tg_unary_f64(op, <double *>bx.buf, <double *>by.buf, <size_t>(bx.len // 8))
            else:
                with nogil:
                    tg_unary_f32(op, <float *>bx.buf, <float *>by.buf, <size_t>(bx.len // 4))
        finally:
            PyBuffer_Release(&by)
    finally:
        PyBuffer_Release(&bx)
    return y


cdef object _fused_backward(int op, object g, object v):
    """The input's gradient from g and v (the op's input or result, as the kernel
    reads it), in one pass by the C kernel."""
    cdef Py_buffer bg, bv, bd
    dtype = _kernel_dtype(v.dtype)
    g = _kernel_form(g, dtype)
    v = _kernel_form(v, dtype)
    dx = np.empty(v.shape, dtype=dtype)
    PyObject_GetBuffer(g, &bg, PyBUF_SIMPLE)
    PyObject_GetBuffer(v, &bv, PyBUF_SIMPLE)
    PyObject_GetBuffer(dx, &bd, PyBUF_SIMPLE | PyBUF_WRITABLE)
    try:
        if dtype is float64:
            with nogil:
                tg_unary_backward_f64(op, <double *>bg.buf, <double *>bv.buf, <double *>bd.buf,
                                      <size_t>(bv.len // 8))
        else:
            with nogil:
                tg_unary_backward_f32(op, <float *>bg.buf, <float *>bv.buf, <float *>bd.buf,
                                      <size_t>(bv.len // 4))
    finally:
        PyBuffer_Release(&bd)
        PyBuffer_Release(&bv)
        PyBuffer_Release(&bg)
    return dx
