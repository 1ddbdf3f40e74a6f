"""Gradient clipping, as torch.nn.utils ``clip_grad_norm_`` and ``clip_grad_value_``.

The total norm is the norm of the per-parameter gradient norms, computed in the
gradients' dtype; every gradient is then multiplied by
min(max_norm / (total + 1e-6), 1), in place, as torch does.
"""
import numpy as np

from tapegrad._tensor import Tensor, no_grad
from tapegrad.creation import from_numpy
from tapegrad.engine import Value


def _as_list(parameters):
    return [parameters] if isinstance(parameters, (Tensor, Value)) else list(parameters)


def _grad_array(p):
    """The gradient as an array (a Value's as a 0-d float64), or None."""
    if isinstance(p, Value):
        return np.array(float(p.grad))
    return None if p.grad is None else p.grad.detach().numpy()


def _vector_norm(array, norm_type):
    return np.linalg.norm(np.asarray(array).reshape(-1), ord=norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scales the gradients so that their total norm is at most max_norm; returns the
    total norm before clipping, as a 0-d tensor."""
    parameters = _as_list(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    grads = [(p, g) for p in parameters for g in [_grad_array(p)] if g is not None]
    if not grads:
        return from_numpy(np.array(0.0, dtype=np.float32))
    dtype = np.result_type(*[g.dtype for _, g in grads])
    norms = np.array([_vector_norm(g, norm_type) for _, g in grads], dtype=dtype)
    total = np.asarray(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = np.minimum(dtype.type(max_norm) / (total + dtype.type(1e-6)), dtype.type(1.0))
    with no_grad():
        for p, g in grads:
            if isinstance(p, Value):
                p.grad = float(g * coef)
            else:
                p.grad.mul_(float(coef))
    return from_numpy(np.array(total))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if isinstance(p, Value):
                p.grad = min(max(float(p.grad), -clip_value), clip_value)
            elif p.grad is not None:
                p.grad.copy_(p.grad.clamp(-clip_value, clip_value))
