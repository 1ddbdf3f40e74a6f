"""torch.nn.functional's forms of the layers and losses."""
import numpy as np

from tapegrad._tensor import Tensor, addmm, log_softmax, no_grad, softmax
from tapegrad.creation import generator
# --- nn layers (issue 12): convolution, pooling, activations and losses are ops of
# the engine's table, one node each
from tapegrad._tensor import (adaptive_avg_pool2d, avg_pool1d, avg_pool2d,  # noqa: F401
                              binary_cross_entropy, binary_cross_entropy_with_logits, conv1d,
                              conv2d, cross_entropy, elu, gelu, hardtanh, huber_loss, l1_loss,
                              leaky_relu, max_pool1d, max_pool2d, mse_loss, nll_loss, relu6, silu,
                              smooth_l1_loss, softplus)

__all__ = ["relu", "tanh", "sigmoid", "softmax", "log_softmax", "linear", "dropout",
           "layer_norm", "embedding", "mse_loss", "l1_loss", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy",
           "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
           "adaptive_avg_pool2d", "batch_norm", "dropout2d", "leaky_relu", "gelu", "elu", "silu",
           "softplus", "hardtanh", "relu6", "pad", "one_hot", "smooth_l1_loss", "huber_loss"]


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
    if bias is not None and input.ndim == 2 and input.dtype == weight.dtype == bias.dtype:
        return addmm(bias, input, weight.T)      # one AddmmBackward0 node, as torch's
    # (mixed dtypes, which torch refuses, keep matmul's promotion here)
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


# --------------------------------------------------------- nn layers (issue 12)

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalises each channel (dim 1) by the batch's statistics when training (and moves
    the running ones towards them: biased variance to normalise, unbiased to keep), by
    the running statistics otherwise. momentum None is left to the module."""
    if input.ndim < 2:
        raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
    channels = input.shape[1]
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input.numel() // channels
        if count <= 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
        mean = input.mean(dim=dims, keepdim=True)
        centred = input - mean
        variance = (centred * centred).mean(dim=dims, keepdim=True)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach().reshape(channels) * momentum)
                unbiased = variance.detach().reshape(channels) * (count / (count - 1))
                running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        centred = input - running_mean.reshape(shape)
        variance = running_var.reshape(shape)
    out = centred / (variance + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels: one draw per (sample, channel) of (N, C, H, W), or of (N, C, L)
    for a 3-D input, as torch 2.13 reads it (with its warning)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                           "not supported: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input")
    if input.ndim == 3:
        # torch 2.13 reads a 3-D input as (N, C, L) and says so
        import warnings
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape "
                      "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch "
                      "to using dropout1d instead.", UserWarning, stacklevel=2)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    channels = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    keep = generator().random(channels) >= p
    return input * Tensor(keep.astype(input.dtype) / (1 - p), dtype=input.dtype)


def _edge_index(size, before, after, mode):
    """The source positions of a reflect-, replicate- or circular-padded axis."""
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        if before > size or after > size:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        return positions % size
    if before >= size or after >= size:
        raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                           f"input dimension, but got: padding ({before}, {after}) at dimension "
                           f"of input size {size}")
    period = 2 * (size - 1)
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded >= size, period - folded, folded)


def pad(input, pad, mode="constant", value=None):
    """Pads the last len(pad) // 2 dimensions, last first, as torch: (left, right, top,
    bottom, ...); negative padding crops. constant, reflect, replicate and circular modes."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the "
                           "input dimension but got padding length "
                           f"{len(pad)} and input of dimension {input.ndim}")
    pairs = [(int(pad[2 * k]), int(pad[2 * k + 1])) for k in range(len(pad) // 2)]
    axes = [input.ndim - 1 - k for k in range(len(pairs))]
    if mode == "constant":
        crop = [slice(None)] * input.ndim
        for axis, (before, after) in zip(axes, pairs):
            crop[axis] = slice(max(-before, 0), input.shape[axis] - max(-after, 0))
        input = input[tuple(crop)]
        shape = list(input.shape)
        place = [slice(None)] * input.ndim
        for axis, (before, after) in zip(axes, pairs):
            shape[axis] += max(before, 0) + max(after, 0)
            place[axis] = slice(max(before, 0), max(before, 0) + input.shape[axis])
        out = Tensor(np.full(shape, 0 if value is None else value, dtype=input.dtype),
                     dtype=input.dtype)
        out[tuple(place)] = input
        return out
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: mode {mode!r} is not supported (constant, reflect, "
                                  "replicate, circular are)")
    if value:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    out = input
    for axis, (before, after) in zip(axes, pairs):
        index = [slice(None)] * input.ndim
        index[axis] = _edge_index(input.shape[axis], before, after, mode)
        out = out[tuple(index)]
    return out


def one_hot(tensor, num_classes=-1):
    """Class indices as int64 one-hot rows along a new last dimension."""
    labels = tensor.numpy() if isinstance(tensor, Tensor) else np.asarray(tensor)
    if labels.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if labels.size and labels.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if labels.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(labels.max()) + 1
    elif labels.size and labels.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (labels[..., None] == np.arange(num_classes)).astype(np.int64)
    return Tensor(out, dtype=np.int64)
