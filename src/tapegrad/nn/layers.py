"""torch.nn's layers on the tensor engine."""
import math

import numpy as np

from tapegrad.creation import generator
from tapegrad.nn import functional as F
from tapegrad.nn.containers import Sequential  # noqa: F401  (imported from here before)
from tapegrad.nn.module import Module, Parameter


def _uniform(shape, bound):
    return Parameter(generator().uniform(-bound, bound, shape).astype(np.float32))


class Linear(Module):
    """Linear(in_features, out_features, bias=True): y = x @ weight.T + bias.

    weight is (out_features, in_features), bias (out_features,), float32, initialised as
    torch: kaiming-uniform with a=sqrt(5), which bounds both by 1/sqrt(in_features).
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear sizes must be non-negative, got ({in_features}, "
                             f"{out_features})")
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features) if in_features else 0
        self.weight = _uniform((out_features, in_features), bound)
        self.bias = _uniform((out_features,), bound) if bias else None

    def forward(self, input):
        """input @ weight.T + bias, over the input's last dimension."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class ReLU(Module):
    """ReLU(): max(x, 0) elementwise. (torch's ``inplace`` argument is not taken.)"""

    def forward(self, input):
        """max(input, 0), a new tensor."""
        return input.relu()


class Tanh(Module):
    """Tanh(): the elementwise hyperbolic tangent."""

    def forward(self, input):
        """tanh(input), a new tensor."""
        return input.tanh()


class Sigmoid(Module):
    """Sigmoid(): the elementwise logistic sigmoid, 1 / (1 + exp(-x))."""

    def forward(self, input):
        """sigmoid(input), a new tensor."""
        return input.sigmoid()


class Softmax(Module):
    """Softmax(dim=None): exp(x) / sum(exp(x)) along dim, computed stably.

    With dim None it takes the last dimension; torch instead warns and takes dim 0 for
    0-, 1- and 3-D input, dim 1 otherwise.
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """The softmax of input along the module's dim."""
        return F.softmax(input, -1 if self.dim is None else self.dim)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """LogSoftmax(dim=None): log(softmax(x)) along dim, computed stably (x - logsumexp).

    dim None takes the last dimension, as Softmax.
    """

    def forward(self, input):
        """The log-softmax of input along the module's dim."""
        return F.log_softmax(input, -1 if self.dim is None else self.dim)


class Dropout(Module):
    """Dropout(p=0.5): in training, zero each element with probability p and scale the
    rest by 1 / (1 - p); in eval, the identity.

    torch's ``inplace`` argument is not taken; the repr shows ``inplace=False``, as torch's.
    """

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, input):
        """Drop elements in training; pass the input through in eval."""
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"p={self.p}, inplace=False"


class LayerNorm(Module):
    """LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True): normalize over the
    last dimensions, those of normalized_shape (an int or a tuple), by their mean and
    biased variance plus eps; with elementwise_affine, then scale by a learnt weight
    (ones) and shift by a learnt bias (zeros) of that shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True):
        super().__init__()
        self.normalized_shape = tuple(normalized_shape) \
            if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=np.float32))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=np.float32))
        else:
            self.weight = self.bias = None

    def forward(self, input):
        """The input normalized over its last dimensions, scaled and shifted."""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class Embedding(Module):
    """Embedding(num_embeddings, embedding_dim): a lookup table of num_embeddings vectors
    of size embedding_dim, initialised N(0, 1) as torch. (torch's padding_idx, max_norm
    and sparse options are not taken.)"""

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(
            generator().standard_normal((num_embeddings, embedding_dim)).astype(np.float32))

    def forward(self, input):
        """The rows of the table at the integer indices in input: shape input.shape +
        (embedding_dim,)."""
        return F.embedding(input, self.weight)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Flatten(Module):
    """Flatten(start_dim=1, end_dim=-1): merge dimensions start_dim to end_dim into one
    (from 1, so that the batch dimension stays)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        """The input with its dimensions start_dim to end_dim merged."""
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Unflatten(dim, unflattened_size): split dimension dim of the input into
    unflattened_size, a tuple of ints with at most one -1 (the inverse of Flatten).
    tapegrad has no named tensors, so dim must be an int."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, str):
            raise TypeError("tapegrad has no named tensors: Unflatten's dim must be an int")
        if not isinstance(dim, int):
            raise TypeError("invalid argument type for dim parameter")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError("unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        for index, size in enumerate(unflattened_size):
            if not isinstance(size, int):
                raise TypeError("unflattened_size must be tuple of ints, but found element of "
                                f"type {type(size).__name__} at pos {index}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        """The input with dimension dim split; RuntimeError where the sizes do not
        multiply up to it, as torch."""
        shape = tuple(input.shape)
        dim = self.dim + len(shape) if self.dim < 0 else self.dim
        sizes = list(self.unflattened_size)
        if -1 not in sizes and math.prod(sizes) != shape[dim]:
            raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the "
                               f"size of dim {self.dim} ({shape[dim]}) in the input tensor")
        return input.reshape(*shape[:dim], *self.unflattened_size, *shape[dim + 1:])

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Identity(Module):
    """Identity(): returns its input. (torch's also takes, and ignores, any arguments.)"""

    def forward(self, input):
        """The input itself."""
        return input


# ------------------------------------------------------------------ losses

class _Loss(Module):
    # torch's signature: size_average and reduce (deprecated there) come first, so
    # MSELoss(None, None, "sum") means what it means in torch
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        self.reduction = reduction


class MSELoss(_Loss):
    """MSELoss(size_average=None, reduce=None, reduction="mean"): the squared error
    (input - target) ** 2, averaged, summed or elementwise by reduction ("mean", "sum",
    "none"). size_average and reduce are accepted in torch's positions and ignored."""

    def forward(self, input, target):
        """The loss of input against target (same shape, or broadcastable as torch)."""
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """L1Loss(size_average=None, reduce=None, reduction="mean"): the absolute error
    abs(input - target), reduced as MSELoss."""

    def forward(self, input, target):
        """The loss of input against target."""
        return F.l1_loss(input, target, reduction=self.reduction)


class _WeightedLoss(_Loss):
    """A loss with per-class weights, kept as a buffer as torch keeps them."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction=reduction)
        self.register_buffer("weight", weight)


class NLLLoss(_WeightedLoss):
    """NLLLoss(weight=None, size_average=None, ignore_index=-100, reduce=None,
    reduction="mean"): the negative log-likelihood of the target classes, given
    log-probabilities (N, C) or (N, C, d1, ...).

    weight, a (C,) tensor kept as a buffer, weighs each class; targets equal to
    ignore_index count for nothing; "mean" divides by the total weight of the others.
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        """The loss of the log-probabilities input at the class indices target."""
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_Loss):
    """BCELoss(size_average=None, reduce=None, reduction="mean"): the binary
    cross-entropy of probabilities against targets in [0, 1], each log clamped at -100
    as torch's. (torch's weight argument is not taken.)"""

    def forward(self, input, target):
        """The loss of the probabilities input against target."""
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """BCEWithLogitsLoss(weight=None, size_average=None, reduce=None, reduction="mean",
    pos_weight=None): the binary cross-entropy of sigmoid(input), computed stably from
    the logits. weight scales each element's loss, pos_weight the positive term; both
    are kept as buffers."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(reduction=reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        """The loss of the logits input against targets in [0, 1]."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """CrossEntropyLoss(weight=None, size_average=None, ignore_index=-100, reduce=None,
    reduction="mean", label_smoothing=0.0): log-softmax and NLLLoss fused, of raw scores
    (N, C) or (N, C, d1, ...) against class indices or class probabilities.

    weight and ignore_index are as NLLLoss's; label_smoothing mixes each target with the
    uniform distribution. The gradient at the scores is softmax - target.
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        """The loss of the scores input against target."""
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class SmoothL1Loss(_Loss):
    """SmoothL1Loss(size_average=None, reduce=None, reduction="mean", beta=1.0): where
    abs(input - target) < beta, half its square over beta; elsewhere, it less beta / 2."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(reduction=reduction)
        self.beta = beta

    def forward(self, input, target):
        """The loss of input against target."""
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """HuberLoss(reduction="mean", delta=1.0): where abs(input - target) < delta, half its
    square; elsewhere, delta * (it less delta / 2). SmoothL1Loss times delta (beta=delta).
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        """The loss of input against target."""
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)
