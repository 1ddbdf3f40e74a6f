"""torch.nn.functional's forms of the layers and losses."""
import numpy as np

from tapegrad._tensor import Tensor, cross_entropy as _cross_entropy, log_softmax, softmax
from tapegrad.creation import generator

__all__ = ["relu", "tanh", "sigmoid", "softmax", "log_softmax", "linear", "dropout",
           "layer_norm", "embedding", "mse_loss", "l1_loss", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy"]


def relu(input):
    """max(input, 0) elementwise."""
    return input.relu()


def tanh(input):
    """The elementwise hyperbolic tangent."""
    return input.tanh()


def sigmoid(input):
    """The elementwise logistic sigmoid."""
    return input.sigmoid()


def linear(input, weight, bias=None):
    """input @ weight.T + bias; names both sizes when input's width is not weight's."""
    if input.shape[-1:] != weight.shape[1:]:
        raise RuntimeError(f"linear: input has {input.shape[-1] if input.ndim else 0} features "
                           f"(shape {tuple(input.shape)}) but the layer expects "
                           f"{weight.shape[1]} (weight shape {tuple(weight.shape)})")
    out = input @ weight.T
    return out + bias if bias is not None else out


def dropout(input, p=0.5, training=True):
    """In training, each element zeroed with probability p and the rest scaled by 1/(1-p)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    keep = generator().random(tuple(input.shape)) >= p
    mask = Tensor(keep.astype(input.dtype) / (1 - p), dtype=input.dtype)
    return input * mask


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalizes over the last len(normalized_shape) dimensions, then scales and shifts."""
    normalized_shape = tuple(normalized_shape) if isinstance(normalized_shape, (tuple, list)) \
        else (normalized_shape,)
    if tuple(input.shape[-len(normalized_shape):]) != normalized_shape:
        raise RuntimeError(f"layer_norm: expected input with trailing shape {normalized_shape}, "
                           f"got {tuple(input.shape)}")
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    mean = input.mean(dim=dims, keepdim=True)
    centred = input - mean
    variance = (centred * centred).mean(dim=dims, keepdim=True)
    out = centred / (variance + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def embedding(input, weight):
    """The rows of weight that input's indices name."""
    indices = input.numpy() if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: indices must be integers, not {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise IndexError(f"embedding: index out of range for {weight.shape[0]} embeddings")
    return weight[indices]


def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _same_shape(input, target, name):
    if tuple(input.shape) != tuple(target.shape):
        raise RuntimeError(f"{name}: input shape {tuple(input.shape)} and target shape "
                           f"{tuple(target.shape)} differ")


def mse_loss(input, target, reduction="mean"):
    """The squared error (input - target)**2, reduced as reduction says."""
    _same_shape(input, target, "mse_loss")
    difference = input - target
    return _reduce(difference * difference, reduction)


def l1_loss(input, target, reduction="mean"):
    """The absolute error abs(input - target), reduced as reduction says."""
    _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def nll_loss(input, target, reduction="mean"):
    """-input[i, target[i]], for log-probabilities input (N, C)."""
    t = target.numpy() if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"nll_loss: target must hold class indices, not {t.dtype}")
    # the target tensor itself indexes: it is saved, so its version is checked
    index = target if isinstance(target, Tensor) else t
    if input.ndim == 1:
        input, t, index = input.unsqueeze(0), t.reshape(1), index.reshape(1)
    n, c = input.shape
    if t.shape != (n,):
        raise RuntimeError(f"nll_loss: expected target of shape ({n},), got {tuple(t.shape)}")
    if t.size and (t.min() < 0 or t.max() >= c):
        raise IndexError(f"Target {int(t[(t < 0) | (t >= c)][0])} is out of bounds for {c} "
                         "classes")
    return _reduce(-input[np.arange(n), index], reduction)


def binary_cross_entropy(input, target, reduction="mean"):
    """-(t log p + (1 - t) log(1 - p)), with the logs clamped at -100 as torch."""
    _same_shape(input, target, "binary_cross_entropy")
    if float(input.detach().min().item() if input.numel() else 0) < 0 or \
            float(input.detach().max().item() if input.numel() else 0) > 1:
        raise RuntimeError("all elements of input should be between 0 and 1")
    log_p = input.log().clamp(min=-100)
    log_1mp = (1 - input).log().clamp(min=-100)
    return _reduce(-(target * log_p + (1 - target) * log_1mp), reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """binary_cross_entropy(sigmoid(input), target), computed stably."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    # max(x, 0) - x*t + log(1 + exp(-|x|))
    losses = input.relu() - input * target + (1 + (-input.abs()).exp()).log()
    return _reduce(losses, reduction)


def cross_entropy(input, target, reduction="mean"):
    """log_softmax and nll_loss fused: class indices or class probabilities as target."""
    return _cross_entropy(input, target, reduction)

