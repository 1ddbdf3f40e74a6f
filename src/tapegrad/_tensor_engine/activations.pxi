# Activations with parameters (torch.nn.functional's leaky_relu, gelu, elu,
# silu, softplus, hardtanh, relu6): elementwise ops of one tensor, each an Op
# whose vjp reads the input (or the result) and the parameters, as torch's
# derivatives.yaml declares them. Their vjps may meet inf * 0 at +-inf (quiet:
# torch gives NaN there without a warning). gelu's erf is elementwise.pxi's.

cdef double _SQRT_HALF = 0.7071067811865476
cdef double _INV_SQRT_2PI = 0.3989422804014327
cdef double _SQRT_2_OVER_PI = 0.7978845608028654


cdef TensorBase _activation(Op op, object input, object forward, tuple params):
    """forward(x, *params) as the op of input: integer inputs become the default float."""
    cdef TensorBase a = _as_tensor(input)
    x = a._data
    if x.dtype.kind != 'f':
        x = x.astype(_default_dtype)
    with np.errstate(over='ignore', invalid='ignore'):
        out = np.asarray(forward(x, *params))
    return _record(op, _cast_array(out, x.dtype), (a,), params)


LEAKY_RELU = Op("LeakyReluBackward0", ("self",), ("negative_slope",), quiet=True,
                self=lambda grad, self, negative_slope:
                np.where(self > 0, grad, grad * negative_slope))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input where it is > 0, else negative_slope * input. inplace is accepted and
    ignored: the result is always a new tensor."""
    return _activation(LEAKY_RELU, input,
                       lambda x, s: np.where(x > 0, x, x * np.asarray(s, x.dtype)),
                       (float(negative_slope),))


cdef object _gelu(object x, str approximate):
    if approximate == 'tanh':
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
        return 0.5 * x * (1 + np.tanh(inner))
    return 0.5 * x * (1 + _erf_array(x * _SQRT_HALF))


cdef object _gelu_grad(object grad, object x, str approximate):
    if approximate == 'tanh':
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)
        t = np.tanh(inner)
        d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)
    cdf = 0.5 * (1 + _erf_array(x * _SQRT_HALF))
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
    return grad * (cdf + x * pdf)


GELU = Op("GeluBackward0", ("self",), ("approximate",), quiet=True,
          self=lambda grad, self, approximate: _gelu_grad(grad, self, approximate))


def gelu(input, approximate='none'):
    """input * Phi(input), Phi the standard normal CDF (computed with erf), or torch's
    tanh approximation of it where approximate is 'tanh'."""
    if approximate not in ('none', 'tanh'):
        raise RuntimeError(f"approximate argument must be either none or tanh.")
    return _activation(GELU, input, _gelu, (approximate,))


ELU = Op("EluBackward0", ("self",), ("alpha",), quiet=True,
         # alpha * exp(x) = result + alpha below 0, as torch's formula from the result
         self=lambda grad, self, alpha: np.where(self > 0, grad, grad * alpha * np.exp(self)))


def elu(input, alpha=1.0, inplace=False):
    """input where it is > 0, else alpha * (exp(input) - 1). inplace is accepted and
    ignored."""
    return _activation(ELU, input, lambda x, a: np.where(x > 0, x, a * np.expm1(x)),
                       (float(alpha),))


cdef object _silu_grad(object grad, object x):
    s = _kernel_forward(TG_SIGMOID, x)
    return grad * s * (1 + x * (1 - s))


SILU = Op("SiluBackward0", ("self",), quiet=True, self=lambda grad, self: _silu_grad(grad, self))


def silu(input, inplace=False):
    """input * sigmoid(input). inplace is accepted and ignored."""
    return _activation(SILU, input, lambda x: x * _kernel_forward(TG_SIGMOID, x), ())


cdef object _softplus(object x, double beta, double threshold):
    # linear above the threshold, as torch: log1p(exp(beta*x)) would overflow there
    bx = x * beta
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)


cdef object _softplus_grad(object grad, object x, double beta, double threshold):
    bx = x * beta
    return np.where(bx > threshold, grad, grad * _kernel_forward(TG_SIGMOID, bx))


SOFTPLUS = Op("SoftplusBackward0", ("self",), ("beta", "threshold"), quiet=True,
              self=lambda grad, self, beta, threshold: _softplus_grad(grad, self, beta,
                                                                      threshold))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * input)) / beta, and input itself where beta * input >
    threshold, as torch."""
    return _activation(SOFTPLUS, input, lambda x, b, t: _softplus(x, b, t),
                       (float(beta), float(threshold)))


HARDTANH = Op("HardtanhBackward0", ("self",), ("min_val", "max_val"), quiet=True,
              # zero at and beyond the bounds, as torch's hardtanh_backward
              self=lambda grad, self, min_val, max_val:
              np.where((self > min_val) & (self < max_val), grad, 0))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """input clamped to [min_val, max_val]; the gradient is 0 at the bounds and beyond,
    as torch's. inplace is accepted and ignored."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _activation(HARDTANH, input, lambda x, lo, hi: np.clip(x, lo, hi),
                       (float(min_val), float(max_val)))


def relu6(input, inplace=False):
    """input clamped to [0, 6]: hardtanh(input, 0, 6)."""
    return hardtanh(input, 0.0, 6.0)
