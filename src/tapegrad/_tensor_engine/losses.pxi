# Each loss of class scores is one node: every form of cross-entropy and of the
# negative log likelihood (class weights, ignore_index, label smoothing, class
# probabilities) is -sum(q * log_probs) for a matrix q of per-class
# coefficients, so its gradient at the scores is p * sum(q) - q, and at the
# log-probabilities of nll_loss, -q.

cdef str _scalar_type(object dtype):
    """torch's lower-case name of a dtype's scalar type (float, double, long)."""
    return {'float32': 'float', 'float64': 'double', 'int64': 'long', 'int32': 'int',
            'int16': 'short', 'int8': 'char', 'bool': 'bool',
            'uint8': 'byte'}.get(dtype.name, dtype.name)


cdef int _check_class_target(object t) except -1:
    """torch's class-index targets are int64 or uint8."""
    if t.dtype != int64 and t.dtype.name != 'uint8':
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_scalar_type(t.dtype).capitalize()}")
    return 0


cdef int _check_weight_constant(str function, str argument, object weight) except -1:
    """torch's losses take no gradient for their weights: a weight that requires one
    is refused while grad mode records."""
    if _needs_grad(weight) and _grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to "
                           f"argument '{argument}'. This input cannot have requires_grad True.")
    return 0


cdef object _class_rows(object x, object t, bint indices, str name):
    """Scores (N, C, d1, ...) or (C,) as rows (M, C), and the target as M indices or
    (M, C) probabilities; with the shape of the unreduced loss."""
    if x.ndim == 0:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but "
                         "got 1)")
    if x.ndim == 1:
        if indices and t.ndim != 0 or not indices and t.shape != x.shape:
            raise RuntimeError(f"{name}: expected a 0-d class index or probabilities of shape "
                               f"{tuple(x.shape)} for unbatched scores, got {tuple(t.shape)}")
        return x[None, :], (t.reshape(1) if indices else t[None, :]), ()
    n, c = x.shape[:2]
    if indices:
        if t.ndim == 0 or t.shape[0] != n:
            raise ValueError(f"Expected input batch_size ({n}) to match target batch_size "
                             f"({t.shape[0] if t.ndim else 0}).")
        if t.shape != x.shape[:1] + x.shape[2:]:
            raise RuntimeError(f"{name}: expected target of shape "
                               f"{tuple(x.shape[:1] + x.shape[2:])}, got {tuple(t.shape)}")
        loss_shape = t.shape
    elif t.shape != x.shape:
        raise RuntimeError(f"{name}: probability targets must have the scores' shape "
                           f"{tuple(x.shape)}, got {tuple(t.shape)}")
    else:
        loss_shape = x.shape[:1] + x.shape[2:]
    if x.ndim > 2:     # classes last, positions as rows
        x = np.moveaxis(x, 1, -1).reshape(-1, c)
        t = t.reshape(-1) if indices else np.moveaxis(t, 1, -1).reshape(-1, c)
    return x, t, loss_shape


cdef object _index_coefficients(object t, Py_ssize_t c, object weight, Py_ssize_t ignore_index,
                                double smoothing, object dtype):
    """q for class indices, and the mean's denominator: torch's weights of the kept rows."""
    kept = t != ignore_index
    bad = kept & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {int(t[bad][0])} is out of bounds.")
    rows = np.arange(len(t))
    safe = np.where(kept, t, 0)
    w = np.ones(c, dtype=dtype) if weight is None else weight
    picked = np.where(kept, w[safe], 0).astype(dtype)
    q = np.zeros((len(t), c), dtype=dtype)
    q[rows, safe] = picked * (1 - smoothing)
    if smoothing:
        q += (smoothing / c) * w[None, :] * kept[:, None]
    return q, picked.sum()


cdef object _reduced(object losses, str reduction, object denominator, tuple loss_shape):
    if reduction == 'none':
        return losses.reshape(loss_shape)
    total = losses.sum()
    if reduction == 'sum':
        return np.asarray(total)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.asarray(total / denominator)


cdef object _row_scale(object grad, str reduction, object denominator, Py_ssize_t rows):
    """The upstream gradient of each row's loss."""
    g = np.asarray(grad)
    if reduction == 'none':
        return g.reshape(rows, 1)
    if reduction == 'mean':
        if denominator == 0:
            # every row ignored: the loss is NaN (0/0) but no row has a gradient, as
            # torch's (0 * g/0 would make every logit's gradient NaN)
            return np.zeros_like(g)
        return g / denominator
    return g


cdef object _as_rows_of(object g, tuple shape):
    """Row gradients (M, C) back in the scores' layout (N, C, d1, ...)."""
    if len(shape) <= 2:
        return g.reshape(shape)
    moved = g.reshape(shape[:1] + shape[2:] + shape[1:2])
    return np.moveaxis(moved, -1, 1)


cdef object _cross_entropy_grad(object grad, object probs, object q, str reduction,
                                object denominator, tuple shape):
    scale = _row_scale(grad, reduction, denominator, q.shape[0])
    out = probs * q.sum(axis=1, keepdims=True)
    out -= q
    out *= scale
    return _as_rows_of(out, shape)


cdef object _nll_grad(object grad, object q, str reduction, object denominator, tuple shape):
    return _as_rows_of(-q * _row_scale(grad, reduction, denominator, q.shape[0]), shape)


cdef dict _CROSS_ENTROPY_OPS = {}


cdef Op _cross_entropy_op(str name):
    """The fused op, named as the last op torch's composite records (NllLossBackward0
    for class indices, AddBackward0 with label smoothing, DivBackward1 for class
    probabilities, ...). A probability target has a gradient too: d loss / d target
    is the coefficient dq (-log_probs, smoothed and weighted) times the row's scale."""
    op = _CROSS_ENTROPY_OPS.get(name)
    if op is None:
        op = _CROSS_ENTROPY_OPS[name] = Op(
            name, ("self", "target"), ("probs", "q", "reduction", "denominator", "shape", "dq"),
            quiet=True,
            self=lambda grad, probs, q, reduction, denominator, shape:
            _cross_entropy_grad(grad, probs, q, reduction, denominator, shape),
            target=lambda grad, dq, reduction, denominator, shape:
            _as_rows_of(dq * _row_scale(grad, reduction, denominator, dq.shape[0]), shape))
    return op


NLL_LOSS = Op("NllLossBackward0", ("self",), ("q", "reduction", "denominator", "shape"),
              quiet=True,
              self=lambda grad, q, reduction, denominator, shape:
              _nll_grad(grad, q, reduction, denominator, shape))
NLL_LOSS_2D = Op("NllLoss2DBackward0", ("self",), ("q", "reduction", "denominator", "shape"),
                 quiet=True,
                 self=lambda grad, q, reduction, denominator, shape:
                 _nll_grad(grad, q, reduction, denominator, shape))


cdef object _target_array(object target):
    return (<TensorBase>target)._data if isinstance(target, TensorBase) else np.asarray(target)


cdef object _class_weight(object weight, Py_ssize_t c, object dtype):
    if weight is None:
        return None
    w = _target_array(weight)
    if w.shape != (c,):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or "
                           f"no classes but got weight tensor of shape: {list(w.shape)}")
    if w.dtype != dtype:
        raise RuntimeError(f"expected scalar type {_scalar_type(dtype).capitalize()} but found "
                           f"{_scalar_type(w.dtype).capitalize()}")
    return w


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction='mean', label_smoothing=0.0):
    """Cross-entropy of scores (N, C, ...) or (C,) against class indices or class
    probabilities, with log-softmax fused in."""
    cdef TensorBase scores = _as_tensor(input)
    if reduction not in ('mean', 'sum', 'none'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    x = scores._data
    if x.dtype.kind != 'f':
        raise RuntimeError(f"\"log_softmax_lastdim_kernel_impl\" not implemented for "
                           f"'{_torch_type_name(x.dtype)}'")
    t = _target_array(target)
    indices = t.dtype.kind in 'iu'
    if not indices and t.dtype.kind != 'f':
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {_scalar_type(t.dtype).capitalize()}")
    if indices:
        _check_class_target(t)
    _check_weight_constant("nll_loss_forward", "weight", weight)
    rows, t_rows, loss_shape = _class_rows(x, t, indices, "cross_entropy")
    m, c = rows.shape
    w = _class_weight(weight, c, x.dtype)
    if indices:
        q, denominator = _index_coefficients(t_rows, c, w, ignore_index, label_smoothing,
                                             x.dtype)
        name = "AddBackward0" if label_smoothing else \
            "NllLoss2DBackward0" if x.ndim > 2 else "NllLossBackward0"
    else:
        q = t_rows.astype(x.dtype)
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / c
        if w is not None:
            q = q * w
        denominator = float(m)
        name = "DivBackward1" if reduction == 'mean' else "NegBackward0"
    shifted = rows - rows.max(axis=1, keepdims=True) if rows.size else rows
    with np.errstate(divide='ignore', invalid='ignore'):
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        # a zero coefficient ignores its class even where log_probs is -inf
        losses = -np.where(q != 0, q * log_probs, 0).sum(axis=1)
    out = np.asarray(_reduced(losses, reduction, denominator, loss_shape), dtype=x.dtype)
    probs = np.exp(log_probs) if scores._requires_grad and _grad_enabled() else None
    dq = None
    if not indices and _needs_grad(target) and _grad_enabled():
        with np.errstate(invalid='ignore'):
            dq = -(1 - label_smoothing) * log_probs * (1 if w is None else w)
    # the target is saved: its version is checked, as torch checks it
    return _record(_cross_entropy_op(name), out,
                   (scores, target if isinstance(target, TensorBase) else None),
                   (probs, q, reduction, denominator, x.shape, dq),
                   (target,) if isinstance(target, TensorBase) else ())


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction='mean'):
    """-input[i, target[i]] (weighted), for log-probabilities input (N, C, ...) or (C,)."""
    cdef TensorBase log_probs = _as_tensor(input)
    if reduction not in ('mean', 'sum', 'none'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    x = log_probs._data
    t = _target_array(target)
    _check_class_target(t)
    _check_weight_constant("nll_loss_forward", "weight", weight)
    rows, t_rows, loss_shape = _class_rows(x, t, True, "nll_loss")
    m, c = rows.shape
    q, denominator = _index_coefficients(t_rows, c, _class_weight(weight, c, x.dtype),
                                         ignore_index, 0.0, x.dtype)
    with np.errstate(invalid='ignore'):
        losses = -np.where(q != 0, q * rows, 0).sum(axis=1)
    out = np.asarray(_reduced(losses, reduction, denominator, loss_shape), dtype=x.dtype)
    return _record(NLL_LOSS_2D if x.ndim > 2 else NLL_LOSS, out, (log_probs,),
                   (q, reduction, denominator, x.shape),
                   (target,) if isinstance(target, TensorBase) else ())


# ------------------------------------------------------------------ regression losses

cdef object _pointwise_grad(object grad, object derivative, str reduction):
    if reduction == 'mean':
        return derivative * (np.asarray(grad) / derivative.size)
    return derivative * grad


cdef object _smooth_l1_derivative(object d, double beta):
    if beta == 0:
        return np.sign(d)
    return np.where(np.abs(d) < beta, d / beta, np.sign(d))


cdef object _huber_derivative(object d, double delta):
    return np.clip(d, -delta, delta)


SMOOTH_L1 = Op("SmoothL1LossBackward0", ("self", "target"), ("reduction", "beta"),
               self=lambda grad, self, target, reduction, beta: _pointwise_grad(
                   grad, _smooth_l1_derivative(self - target, beta), reduction),
               target=lambda grad, self, target, reduction, beta: -_pointwise_grad(
                   grad, _smooth_l1_derivative(self - target, beta), reduction))
HUBER = Op("HuberLossBackward0", ("self", "target"), ("reduction", "delta"),
           self=lambda grad, self, target, reduction, delta: _pointwise_grad(
               grad, _huber_derivative(self - target, delta), reduction),
           target=lambda grad, self, target, reduction, delta: -_pointwise_grad(
               grad, _huber_derivative(self - target, delta), reduction))


MSE_LOSS = Op("MseLossBackward0", ("self", "target"), ("reduction",),
              self=lambda grad, self, target, reduction: _pointwise_grad(
                  grad, 2 * (self - target), reduction),
              target=lambda grad, self, target, reduction: -_pointwise_grad(
                  grad, 2 * (self - target), reduction))


cdef tuple _loss_operands(object input, object target, str reduction):
    cdef TensorBase a = _as_tensor(input)
    cdef TensorBase b = _operand(target, a)
    if reduction not in ('mean', 'sum', 'none'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if a._data.shape != b._data.shape:
        import warnings
        warnings.warn(f"Using a target size ({Size(b._data.shape)}) that is different to the "
                      f"input size ({Size(a._data.shape)}). This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=3)
    x, y = a._data, b._data
    dtype = _promote(x, y)
    if dtype.kind != 'f':
        dtype = _default_dtype
    x, y = np.broadcast_arrays(_cast_array(x, dtype), _cast_array(y, dtype))
    return a, b, x, y


cdef object _reduce_pointwise(object losses, str reduction):
    if reduction == 'none':
        return losses
    if reduction == 'sum':
        return np.asarray(losses.sum())
    with np.errstate(invalid='ignore'):
        return np.asarray(losses.mean())


def mse_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """The squared error (input - target)**2, reduced as reduction says: one node."""
    a, b, x, y = _loss_operands(input, target, reduction)
    d = x - y
    out = _cast_array(np.asarray(_reduce_pointwise(d * d, reduction)), x.dtype)
    return _record(MSE_LOSS, out, (a, b), (reduction,))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction='mean', beta=1.0):
    """Elementwise 0.5 * d ** 2 / beta where d = abs(input - target) < beta, else
    d - 0.5 * beta; reduced by reduction. size_average and reduce are ignored."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    a, b, x, y = _loss_operands(input, target, reduction)
    d = np.abs(x - y)
    losses = d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    out = _cast_array(np.asarray(_reduce_pointwise(losses, reduction)), x.dtype)
    return _record(SMOOTH_L1, out, (a, b), (reduction, float(beta)))


cdef object _l1_derivative(object d):
    # sign(d), with sign(NaN) 0: torch's l1_loss is abs then a reduction, and abs's
    # gradient is grad * sgn(d)
    return np.sign(np.nan_to_num(d))


cdef Op _l1_op(str name):
    return Op(name, ("self", "target"), ("reduction",),
              self=lambda grad, self, target, reduction: _pointwise_grad(
                  grad, _l1_derivative(self - target), reduction),
              target=lambda grad, self, target, reduction: -_pointwise_grad(
                  grad, _l1_derivative(self - target), reduction))


# torch's l1_loss is a composite: its grad_fn is the reduction's, or abs's for 'none'
cdef dict _L1_OPS = {'mean': _l1_op("MeanBackward0"), 'sum': _l1_op("SumBackward0"),
                     'none': _l1_op("AbsBackward0")}


def l1_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """The absolute error abs(input - target), reduced as reduction says: one node."""
    a, b, x, y = _loss_operands(input, target, reduction)
    out = _cast_array(np.asarray(_reduce_pointwise(np.abs(x - y), reduction)), x.dtype)
    return _record(<Op>_L1_OPS[reduction], out, (a, b), (reduction,))


def huber_loss(input, target, reduction='mean', delta=1.0):
    """Elementwise 0.5 * d ** 2 where d = abs(input - target) < delta, else
    delta * (d - 0.5 * delta); reduced by reduction."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    a, b, x, y = _loss_operands(input, target, reduction)
    d = np.abs(x - y)
    losses = np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    out = _cast_array(np.asarray(_reduce_pointwise(losses, reduction)), x.dtype)
    return _record(HUBER, out, (a, b), (reduction, float(delta)))


# ------------------------------------------------------------------ binary cross-entropy

# torch's floor of p (1 - p) in the gradient: 1e-12 as a C float
cdef double _BCE_EPSILON = <float>1e-12


cdef object _bce_grad_input(object grad, object p, object t, object weight, str reduction):
    d = (p - t) / np.maximum((1 - p) * p, _BCE_EPSILON)
    if weight is not None:
        d = d * weight
    return _pointwise_grad(grad, d, reduction)


cdef object _bce_grad_target(object grad, object p, object weight, str reduction):
    d = -np.log(p / (1 - p))             # -logit(p), unclamped, as torch's
    if weight is not None:
        d = d * weight
    return _pointwise_grad(grad, d, reduction)


BINARY_CROSS_ENTROPY = Op(
    "BinaryCrossEntropyBackward0", ("self", "target"), ("weight", "reduction"), quiet=True,
    self=lambda grad, self, target, weight, reduction:
    _bce_grad_input(grad, self, target, weight, reduction),
    target=lambda grad, self, weight, reduction:
    _bce_grad_target(grad, self, weight, reduction))


cdef tuple _binary_loss_operands(str function, object input, object target, object weight,
                                 str reduction):
    """input and target of one shape (torch refuses to broadcast them here), and the
    target and the weight as arrays of input's dtype."""
    cdef TensorBase a = _as_tensor(input)
    cdef TensorBase b = _operand(target, a)
    if reduction not in ('mean', 'sum', 'none'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if a._data.shape != b._data.shape:
        raise ValueError(f"Using a target size ({Size(b._data.shape)}) that is different to "
                         f"the input size ({Size(a._data.shape)}) is deprecated. Please ensure "
                         "they have the same size.")
    _check_weight_constant(function, "weight", weight)
    x = a._data
    w = None if weight is None else _cast_array(_target_array(weight), x.dtype)
    return a, b, x, _cast_array(b._data, x.dtype), w


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction='mean'):
    """-(t log p + (1 - t) log(1 - p)), each log clamped at -100 as torch's, times the
    weight (broadcast): one node."""
    a, b, x, t, w = _binary_loss_operands("binary_cross_entropy", input, target, weight,
                                          reduction)
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide='ignore', invalid='ignore'):
        log_p = np.maximum(np.log(x), -100)
        log_1mp = np.maximum(np.log(1 - x), -100)
        losses = -(t * log_p + (1 - t) * log_1mp)
    if w is not None:
        losses = losses * w
    out = _cast_array(np.asarray(_reduce_pointwise(losses, reduction)), x.dtype)
    return _record(BINARY_CROSS_ENTROPY, out, (a, b), (w, reduction))


cdef object _bce_logits_grad_input(object grad, object x, object t, object weight,
                                   object pos_weight, str reduction):
    s = _kernel_forward(TG_SIGMOID, x)
    if pos_weight is None:
        d = s - t
    else:
        d = (1 + (pos_weight - 1) * t) * s - pos_weight * t
    if weight is not None:
        d = d * weight
    return _pointwise_grad(grad, d, reduction)


cdef object _bce_logits_grad_target(object grad, object x, object weight, object pos_weight,
                                    str reduction):
    # d/dt of (1 - t) x + (1 + (p - 1) t) softplus(-x)
    d = -x if pos_weight is None else -x + (pos_weight - 1) * np.logaddexp(0, -x)
    if weight is not None:
        d = d * weight
    return _pointwise_grad(grad, np.broadcast_to(d, x.shape), reduction)


BCE_WITH_LOGITS = Op(
    "BinaryCrossEntropyWithLogitsBackward0", ("self", "target"),
    ("weight", "pos_weight", "reduction"),
    self=lambda grad, self, target, weight, pos_weight, reduction:
    _bce_logits_grad_input(grad, self, target, weight, pos_weight, reduction),
    target=lambda grad, self, weight, pos_weight, reduction:
    _bce_logits_grad_target(grad, self, weight, pos_weight, reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction='mean', pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target), computed stably, in one node."""
    cdef TensorBase a = _as_tensor(input)
    cdef TensorBase b = _operand(target, a)
    if reduction not in ('mean', 'sum', 'none'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if a._data.shape != b._data.shape:
        raise ValueError(f"Target size ({Size(b._data.shape)}) must be the same as input size "
                         f"({Size(a._data.shape)})")
    _check_weight_constant("binary_cross_entropy_with_logits", "weight", weight)
    _check_weight_constant("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    x = a._data
    t = _cast_array(b._data, x.dtype)
    w = None if weight is None else _cast_array(_target_array(weight), x.dtype)
    p = None if pos_weight is None else _cast_array(_target_array(pos_weight), x.dtype)
    softplus_neg = np.logaddexp(0, -x)          # log(1 + exp(-x)), stably
    losses = (1 - t) * x + (softplus_neg if p is None else (1 + (p - 1) * t) * softplus_neg)
    if w is not None:
        losses = losses * w
    out = _cast_array(np.asarray(_reduce_pointwise(losses, reduction)), x.dtype)
    return _record(BCE_WITH_LOGITS, out, (a, b), (w, p, reduction))
