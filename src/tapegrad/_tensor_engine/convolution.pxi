# Convolution and pooling over (N, C, H, W) arrays; 1-d forms are the 2-d ones
# with H = 1. A convolution is im2col and one matrix product per group: a
# strided view of the padded input holds every window, without copying, and
# the product copies it once into BLAS's form. Backward is a matrix product for
# the weight and, for the input, col2im: one strided add per kernel offset
# (kh*kw of them), never a loop over output pixels or batch items.

from numpy.lib.stride_tricks import as_strided as _as_strided


cdef tuple _pair(object value, str name):
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            return (int(value[0]), int(value[0]))
        if len(value) != 2:
            raise RuntimeError(f"{name} must be an int or a pair of ints, got {tuple(value)}")
        return (int(value[0]), int(value[1]))
    return (int(value), int(value))


cdef Py_ssize_t _single(object value, str name) except? -1:
    """A 1-d op's argument: an int, or a tuple of one int."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(f"{name} must be an int or a tuple of one int, got {tuple(value)}")
        value = value[0]
    return int(value)


cdef object _padded(object x, tuple pads, object fill):
    """x (N, C, H, W) with pads = (top, bottom, left, right) rows and columns of fill."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    if fill == 0:
        out = np.zeros((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
    else:
        out = np.full((n, c, h + top + bottom, w + left + right), fill, dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


cdef object _windows(object xp, tuple kernel, tuple stride, tuple dilation, tuple out_hw):
    """The view (N, C, kh, kw, OH, OW) of every window of xp: no copy."""
    sn, sc, sh, sw = xp.strides
    return _as_strided(xp, shape=xp.shape[:2] + kernel + out_hw,
                       strides=(sn, sc, sh * dilation[0], sw * dilation[1],
                                sh * stride[0], sw * stride[1]), writeable=False)


cdef object _col2im(object cols, tuple padded_shape, tuple pads, tuple stride,
                    tuple dilation):
    """The adjoint of _windows: cols (N, C, kh, kw, OH, OW) summed into the padded
    input's positions, then the padding cut away."""
    n, c, kh, kw, oh, ow = cols.shape
    out = np.zeros(padded_shape, dtype=cols.dtype)
    for i in range(kh):
        r = i * dilation[0]
        for j in range(kw):
            s = j * dilation[1]
            out[:, :, r:r + stride[0] * (oh - 1) + 1:stride[0],
                s:s + stride[1] * (ow - 1) + 1:stride[1]] += cols[:, :, i, j]
    top, bottom, left, right = pads
    return out[:, :, top:padded_shape[2] - bottom, left:padded_shape[3] - right]


# ------------------------------------------------------------------ convolution

class _ConvGeometry:
    """What a convolution's backward needs to know of its forward."""
    __slots__ = ("input_shape", "weight_shape", "x4_shape", "padded_shape", "pads", "kernel",
                 "stride", "dilation", "groups", "out4_shape")


cdef object _conv_grad_input(object grad, object weight, object geo):
    n, o, oh, ow = geo.out4_shape
    g = geo.groups
    kh, kw = geo.kernel
    c = geo.x4_shape[1]
    w = weight.reshape(g, o // g, -1)
    grad_cols = np.matmul(w.transpose(0, 2, 1), grad.reshape(n, g, o // g, oh * ow))
    cols = grad_cols.reshape(n, c, kh, kw, oh, ow)
    gx = _col2im(cols, geo.padded_shape, geo.pads, geo.stride, geo.dilation)
    return gx.reshape(geo.input_shape)


cdef object _conv_grad_weight(object grad, object cols, object geo):
    n, o, oh, ow = geo.out4_shape
    g = geo.groups
    grad = grad.reshape(n, g, o // g, oh * ow)
    if g == 1:
        gw = np.tensordot(grad[:, 0], cols[:, 0], axes=((0, 2), (0, 2)))
    else:
        gw = np.stack([np.tensordot(grad[:, k], cols[:, k], axes=((0, 2), (0, 2)))
                       for k in range(g)])
    return gw.reshape(geo.weight_shape)


cdef object _conv_grad_bias(object grad, object geo):
    return grad.reshape(geo.out4_shape).sum(axis=(0, 2, 3))


CONVOLUTION = Op("ConvolutionBackward0", ("input", "weight", "bias"), ("cols", "geometry"),
                 input=lambda grad, weight, geometry: _conv_grad_input(grad, weight, geometry),
                 weight=lambda grad, cols, geometry: _conv_grad_weight(grad, cols, geometry),
                 bias=lambda grad, geometry: _conv_grad_bias(grad, geometry))


cdef tuple _same_pads(tuple kernel, tuple dilation):
    """'same' padding: the total d*(k-1) split with the odd one at the end, as torch."""
    total_h, total_w = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
    return (total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2)


cdef TensorBase _convolution(str name, int spatial, object input, object weight, object bias,
                             object stride, object padding, object dilation, object groups):
    cdef TensorBase x = _as_tensor(input)
    cdef TensorBase w = _as_tensor(weight)
    cdef TensorBase b = None if bias is None else _as_tensor(bias)
    xa, wa = x._data, w._data
    if xa.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) "
                           f"input to {name}, but got input of size: {list(xa.shape)}")
    if wa.ndim != spatial + 2:
        raise RuntimeError(f"weight should have {spatial + 2} dimensions for {name}, "
                           f"got shape {list(wa.shape)}")
    if xa.dtype != wa.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_type(xa.dtype).capitalize()} but "
                           f"found {_scalar_type(wa.dtype).capitalize()}")
    if b is not None and b._data.dtype != xa.dtype:
        raise RuntimeError(f"Input type ({_scalar_type(xa.dtype)}) and bias type "
                           f"({_scalar_type(b._data.dtype)}) should be the same")
    if xa.dtype.kind != 'f':
        raise RuntimeError(f"\"{name}\" not implemented for '{_torch_type_name(xa.dtype)}'")
    groups = int(groups)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    batched = xa.ndim == spatial + 2
    x4 = xa if batched else xa[None]
    w4 = wa
    if spatial == 1:
        x4, w4 = x4[:, :, None, :], wa[:, :, None, :]
        stride2 = (1, _single(stride, "stride"))
        dilation2 = (1, _single(dilation, "dilation"))
        pad2 = padding if isinstance(padding, str) else (0, _single(padding, "padding"))
    else:
        stride2, dilation2 = _pair(stride, "stride"), _pair(dilation, "dilation")
        pad2 = padding if isinstance(padding, str) else _pair(padding, "padding")
    n, c, h, wd = x4.shape
    o, cg, kh, kw = w4.shape
    if c != cg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(wa.shape)}, expected "
                           f"input{list(xa.shape if batched else (1,) + xa.shape)} to have "
                           f"{cg * groups} channels, but got {c} channels instead")
    if o % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size {list(wa.shape)}")
    if b is not None and b._data.shape != (o,):
        raise RuntimeError(f"Given weight of size {list(wa.shape)}, expected bias to be "
                           f"1-dimensional with {o} elements, but got bias of size "
                           f"{list(b._data.shape)} instead")
    if min(stride2) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation2) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    if isinstance(pad2, str):
        if pad2 == 'valid':
            pads = (0, 0, 0, 0)
        elif pad2 == 'same':
            if stride2 != (1, 1):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = _same_pads((kh, kw), dilation2)
        else:
            raise RuntimeError(f"Invalid padding string: '{pad2}'")
    else:
        if min(pad2) < 0:
            raise RuntimeError("negative padding is not supported")
        pads = (pad2[0], pad2[0], pad2[1], pad2[1])
    hp, wp = h + pads[0] + pads[1], wd + pads[2] + pads[3]
    eh, ew = dilation2[0] * (kh - 1) + 1, dilation2[1] * (kw - 1) + 1
    if hp < eh or wp < ew:
        sizes = f"({hp} x {wp})" if spatial == 2 else f"({wp})"
        ks = f"({kh} x {kw})" if spatial == 2 else f"({kw})"
        raise RuntimeError(f"Calculated padded input size per channel: {sizes}. Kernel size: "
                           f"{ks}. Kernel size can't be greater than actual input size")
    oh, ow = (hp - eh) // stride2[0] + 1, (wp - ew) // stride2[1] + 1
    xp = _padded(x4, pads, 0)
    # im2col: the one copy of the windows, laid out for the product of each group
    cols = _windows(xp, (kh, kw), stride2, dilation2, (oh, ow)).reshape(
        n, groups, cg * kh * kw, oh * ow)
    out = np.matmul(w4.reshape(groups, o // groups, cg * kh * kw), cols)
    out = out.reshape(n, o, oh, ow)
    if b is not None:
        out += b._data[:, None, None]
    out_shape = (n, o, oh, ow) if spatial == 2 else (n, o, ow)
    out = out.reshape(out_shape if batched else out_shape[1:])
    geo = _ConvGeometry()
    geo.input_shape, geo.weight_shape, geo.x4_shape = xa.shape, wa.shape, x4.shape
    geo.padded_shape, geo.pads, geo.kernel = xp.shape, pads, (kh, kw)
    geo.stride, geo.dilation, geo.groups, geo.out4_shape = stride2, dilation2, groups, \
        (n, o, oh, ow)
    return _record(CONVOLUTION, out, (x, w, b), (cols, geo))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The 2-D cross-correlation of (N, C, H, W) or (C, H, W) input with weight
    (out, C / groups, kH, kW), plus bias (out,); padding is a number, a pair, 'valid' or
    'same', and pads with zeros."""
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The 1-D cross-correlation of (N, C, L) or (C, L) input with weight
    (out, C / groups, k), plus bias (out,); padding as conv2d's."""
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


# ------------------------------------------------------------------ pooling

cdef Py_ssize_t _pooled_size(Py_ssize_t size, Py_ssize_t kernel, Py_ssize_t stride,
                             Py_ssize_t pad, Py_ssize_t dilation, bint ceil_mode):
    """torch's pooling output size: the last window must start inside the input or
    its left padding."""
    cdef Py_ssize_t span = size + 2 * pad - dilation * (kernel - 1) - 1
    cdef Py_ssize_t out
    if ceil_mode:
        out = -((-span) // stride) + 1
        if (out - 1) * stride >= size + pad:
            out -= 1
    else:
        out = span // stride + 1
    return out


class _PoolGeometry:
    __slots__ = ("input_shape", "x4_shape", "padded_shape", "pads", "kernel", "stride",
                 "dilation", "out_hw", "divisor")


cdef object _pool_setup(str name, int spatial, TensorBase x, object kernel_size, object stride,
                        object padding, object dilation, bint ceil_mode):
    """The geometry of a pooling, and x as (N, C, H, W)."""
    xa = x._data
    if xa.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{name}: Expected {spatial + 1}D or {spatial + 2}D (batch mode) "
                           f"tensor for input, but got: {list(xa.shape)}")
    if spatial == 1:
        x4 = xa[..., None, :] if xa.ndim == 3 else xa[None, :, None, :]
        kernel = (1, _single(kernel_size, "kernel_size"))
        stride2 = kernel if stride is None or isinstance(stride, (tuple, list)) and \
            not stride else (1, _single(stride, "stride"))
        pad2, dil2 = (0, _single(padding, "padding")), (1, _single(dilation, "dilation"))
    else:
        x4 = xa if xa.ndim == 4 else xa[None]
        kernel = _pair(kernel_size, "kernel_size")
        stride2 = kernel if stride is None or isinstance(stride, (tuple, list)) and \
            not stride else _pair(stride, "stride")
        pad2, dil2 = _pair(padding, "padding"), _pair(dilation, "dilation")
    if min(kernel) <= 0:
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got "
                           f"kernel_size={kernel}")
    if min(stride2) <= 0:
        raise RuntimeError(f"{name}: stride must be greater than zero")
    if min(dil2) <= 0:
        raise RuntimeError(f"{name}: dilation must be greater than zero")
    for k in range(2):
        if pad2[k] < 0 or pad2[k] > (dil2[k] * (kernel[k] - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pad2[k]}, kernel_size={kernel[k]} and dilation={dil2[k]}")
    n, c, h, w = x4.shape
    oh = _pooled_size(h, kernel[0], stride2[0], pad2[0], dil2[0], ceil_mode)
    ow = _pooled_size(w, kernel[1], stride2[1], pad2[1], dil2[1], ceil_mode)
    if oh <= 0 or ow <= 0:
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{oh}x{ow}). Output size is too small")
    # ceil_mode's last window may run past the padding: pad it out further
    extra_h = max(0, (oh - 1) * stride2[0] + dil2[0] * (kernel[0] - 1) + 1 - h - 2 * pad2[0])
    extra_w = max(0, (ow - 1) * stride2[1] + dil2[1] * (kernel[1] - 1) + 1 - w - 2 * pad2[1])
    geo = _PoolGeometry()
    geo.input_shape, geo.x4_shape = xa.shape, x4.shape
    geo.pads = (pad2[0], pad2[0] + extra_h, pad2[1], pad2[1] + extra_w)
    geo.padded_shape = (n, c, h + 2 * pad2[0] + extra_h, w + 2 * pad2[1] + extra_w)
    geo.kernel, geo.stride, geo.dilation, geo.out_hw = kernel, stride2, dil2, (oh, ow)
    return geo, x4


cdef object _pooled_shape(object geo, int spatial):
    """The output's shape, in the input's own rank."""
    oh, ow = geo.out_hw
    lead = geo.input_shape[:-spatial]
    return lead + ((oh, ow) if spatial == 2 else (ow,))


cdef object _max_pool_grad(object grad, object argmax, object geo):
    n, c = geo.x4_shape[:2]
    oh, ow = geo.out_hw
    kh, kw = geo.kernel
    grad = grad.reshape(n, c, oh, ow)
    cols = np.zeros((n, c, kh, kw, oh, ow), dtype=grad.dtype)
    for k in range(kh * kw):
        cols[:, :, k // kw, k % kw] = np.where(argmax == k, grad, 0)
    return _col2im(cols, geo.padded_shape, geo.pads, geo.stride, geo.dilation).reshape(
        geo.input_shape)


MAX_POOL = Op("MaxPool2DWithIndicesBackward0", ("self",), ("argmax", "geometry"),
              self=lambda grad, argmax, geometry: _max_pool_grad(grad, argmax, geometry))


cdef object _max_pool(str name, int spatial, object input, object kernel_size, object stride,
                      object padding, object dilation, bint ceil_mode, bint return_indices):
    cdef TensorBase x = _as_tensor(input)
    geo, x4 = _pool_setup(name, spatial, x, kernel_size, stride, padding, dilation, ceil_mode)
    kh, kw = geo.kernel
    oh, ow = geo.out_hw
    lowest = -np.inf if x4.dtype.kind == 'f' else np.iinfo(x4.dtype).min
    xp = _padded(x4, geo.pads, lowest)
    n, c = x4.shape[:2]
    flat = _windows(xp, geo.kernel, geo.stride, geo.dilation, geo.out_hw).reshape(
        n, c, kh * kw, oh, ow)
    # the first maximum of each window gets the gradient, as torch's (a NaN counts as one)
    argmax = flat.argmax(axis=2)
    out = np.take_along_axis(flat, argmax[:, :, None], 2).reshape(_pooled_shape(geo, spatial))
    result = _record(MAX_POOL, out, (x,), (argmax, geo))
    if not return_indices:
        return result
    h, w = x4.shape[2:]
    rows = (np.arange(oh) * geo.stride[0] - geo.pads[0])[:, None] + (argmax // kw) * \
        geo.dilation[0]
    columns = np.arange(ow) * geo.stride[1] - geo.pads[2] + (argmax % kw) * geo.dilation[1]
    indices = (rows * w + columns).astype(int64).reshape(_pooled_shape(geo, spatial))
    return result, _wrap(indices, None)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window over the last two dimensions (stride defaults to
    kernel_size); with return_indices, (values, flat indices into each input plane)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """max_pool2d over the last dimension only."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


cdef object _window_counts(Py_ssize_t size, Py_ssize_t out, Py_ssize_t kernel,
                           Py_ssize_t stride, Py_ssize_t pad, bint include_pad):
    """Per output position along one axis: how many elements its window averages, as
    torch's avg_pool counts them (padding included or not; never past the padding)."""
    start = np.arange(out) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    if include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


cdef object _avg_pool_grad(object grad, object geo):
    n, c = geo.x4_shape[:2]
    oh, ow = geo.out_hw
    kh, kw = geo.kernel
    share = grad.reshape(n, c, oh, ow) / geo.divisor
    cols = np.broadcast_to(share[:, :, None, None], (n, c, kh, kw, oh, ow))
    return _col2im(cols, geo.padded_shape, geo.pads, geo.stride, geo.dilation).reshape(
        geo.input_shape)


AVG_POOL = Op("AvgPool2DBackward0", ("self",), ("geometry",),
              self=lambda grad, geometry: _avg_pool_grad(grad, geometry))


cdef TensorBase _avg_pool(str name, int spatial, object input, object kernel_size,
                          object stride, object padding, bint ceil_mode,
                          bint count_include_pad, object divisor_override):
    cdef TensorBase x = _as_tensor(input)
    if x._data.dtype.kind != 'f':
        raise RuntimeError(f"\"{name}\" not implemented for '{_torch_type_name(x._data.dtype)}'")
    geo, x4 = _pool_setup(name, spatial, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError("divisor must be not zero")
    h, w = x4.shape[2:]
    oh, ow = geo.out_hw
    if divisor_override is not None:
        divisor = np.full((oh, ow), float(divisor_override))
    else:
        divisor = np.multiply.outer(
            _window_counts(h, oh, geo.kernel[0], geo.stride[0], geo.pads[0], count_include_pad),
            _window_counts(w, ow, geo.kernel[1], geo.stride[1], geo.pads[2], count_include_pad))
    geo.divisor = divisor.astype(x4.dtype)
    xp = _padded(x4, geo.pads, 0)
    sums = _windows(xp, geo.kernel, geo.stride, geo.dilation, geo.out_hw).sum(axis=(2, 3))
    out = (sums / geo.divisor).reshape(_pooled_shape(geo, spatial))
    return _record(AVG_POOL, out, (x,), (geo,))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window over the last two dimensions (stride defaults to
    kernel_size); zero padding counts unless count_include_pad is False, and
    divisor_override replaces the divisor."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """avg_pool2d over the last dimension only."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


cdef object _averaging_matrix(Py_ssize_t size, Py_ssize_t out, object dtype):
    """A (out, size) matrix whose row o averages torch's adaptive window
    [floor(o*size/out), ceil((o+1)*size/out))."""
    o = np.arange(out)
    start = (o * size) // out
    end = -((-(o + 1) * size) // out)
    positions = np.arange(size)
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


ADAPTIVE_AVG_POOL = Op("AdaptiveAvgPool2DBackward0", ("self",), ("rows", "columns"),
                       self=lambda grad, rows, columns: np.matmul(np.matmul(rows.T, grad),
                                                                  columns))
# torch averages to 1x1 by mean(dim=(-1, -2), keepdim=True)
ADAPTIVE_AVG_POOL_MEAN = Op("MeanBackward1", ("self",), ("rows", "columns"),
                            self=lambda grad, rows, columns: np.matmul(np.matmul(rows.T, grad),
                                                                       columns))


def adaptive_avg_pool2d(input, output_size):
    """Averages over torch's adaptive windows: a product with an averaging matrix on
    each side, out = R @ x @ C.T, so the gradient is R.T @ grad @ C."""
    cdef TensorBase x = _as_tensor(input)
    xa = x._data
    if xa.ndim not in (3, 4):
        raise RuntimeError("adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{list(xa.shape)}")
    if xa.dtype.kind != 'f':
        raise RuntimeError("\"adaptive_avg_pool2d\" not implemented for "
                           f"'{_torch_type_name(xa.dtype)}'")
    h, w = xa.shape[-2:]
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
        oh = h if output_size[0] is None else int(output_size[0])
        ow = w if output_size[1] is None else int(output_size[1])
    else:
        oh = ow = int(output_size)
    if oh < 0 or ow < 0:
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than "
                           f"or equal to 0 but received {{{oh}, {ow}}}")
    rows = _averaging_matrix(h, oh, xa.dtype)
    columns = _averaging_matrix(w, ow, xa.dtype)
    out = np.matmul(np.matmul(rows, xa), columns.T)
    op = ADAPTIVE_AVG_POOL_MEAN if oh == 1 and ow == 1 else ADAPTIVE_AVG_POOL
    return _record(op, out, (x,), (rows, columns))
