# Fused losses: cross-entropy is log_softmax and the negative log likelihood in
# one node, whose gradient at the scores is softmax(scores) - target, the y - t
# of the textbooks.

cdef object _cross_entropy_grad(object grad, object probs, object target, bint indices,
                                str reduction, double count, tuple shape):
    out = np.array(probs, copy=True)
    if indices:
        out[np.arange(len(target)), target] -= 1
    else:
        out -= target
    g = np.asarray(grad)
    if reduction == 'none':
        out *= g.reshape(-1)[:, None]
    else:
        out *= g / count if reduction == 'mean' else g
    return out.reshape(shape)


CROSS_ENTROPY = Op("CrossEntropyBackward0", ("self",),
                   ("probs", "labels", "indices", "reduction", "count", "shape"), quiet=True,
                   self=lambda grad, probs, labels, indices, reduction, count, shape:
                   _cross_entropy_grad(grad, probs, labels, indices, reduction, count, shape))


def cross_entropy(input, target, reduction='mean'):
    """Cross-entropy of scores (N, C) or (C,) against class indices or class
    probabilities, with log-softmax fused in."""
    cdef TensorBase scores = _as_tensor(input)
    if reduction not in ('mean', 'sum', 'none'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    x = scores._data
    if x.dtype.kind != 'f':
        raise RuntimeError(f"cross_entropy expects floating point scores, got {x.dtype}")
    t = (<TensorBase>target)._data if isinstance(target, TensorBase) else np.asarray(target)
    unbatched = x.ndim == 1
    if unbatched:
        x = x[None, :]
        t = t[None] if t.ndim == 0 or t.ndim == 1 and t.dtype.kind == 'f' else t
    if x.ndim != 2:
        raise RuntimeError(f"cross_entropy expects scores of shape (N, C) or (C,), got "
                           f"{tuple(scores._data.shape)}")
    n, c = x.shape
    indices = t.dtype.kind in 'iu'
    if indices:
        t = t.reshape(-1)
        if t.shape != (n,):
            raise RuntimeError(f"cross_entropy: expected target of shape ({n},) for scores of "
                               f"shape {tuple(x.shape)}, got {tuple(t.shape)}")
        if t.size and (t.min() < 0 or t.max() >= c):
            bad = t[(t < 0) | (t >= c)][0]
            raise IndexError(f"Target {int(bad)} is out of bounds for {c} classes")
    elif t.dtype.kind == 'f':
        if t.shape != x.shape:
            raise RuntimeError(f"cross_entropy: probability targets must have the scores' shape "
                               f"{tuple(x.shape)}, got {tuple(t.shape)}")
        t = t.astype(x.dtype, copy=False)
    else:
        raise RuntimeError(f"cross_entropy: target must be class indices (integers) or class "
                           f"probabilities (floats), not {t.dtype}")
    shifted = x - x.max(axis=1, keepdims=True) if x.size else x
    with np.errstate(divide='ignore'):
        log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_z
    losses = -log_probs[np.arange(n), t] if indices else -(t * log_probs).sum(axis=1)
    if reduction == 'none':
        out = losses.reshape(()) if unbatched else losses
    elif reduction == 'sum':
        out = np.asarray(losses.sum())
    else:
        with np.errstate(invalid='ignore', divide='ignore'):
            out = np.asarray(losses.sum() / n)
    out = np.asarray(out, dtype=x.dtype)
    probs = np.exp(log_probs) if scores._requires_grad and _grad_enabled() else None
    # the target is saved: its version is checked, as torch checks it
    return _record(CROSS_ENTROPY, out, (scores,),
                   (probs, t, indices, reduction, float(n), scores._data.shape),
                   (target,) if isinstance(target, TensorBase) else ())
