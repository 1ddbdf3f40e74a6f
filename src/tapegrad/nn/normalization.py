"""torch.nn's batch normalization and channel dropout."""
import numpy as np

from tapegrad.creation import from_numpy
from tapegrad.nn import functional as F
from tapegrad.nn.module import Module
from tapegrad.nn.parameter import Parameter


class _BatchNorm(Module):
    """Per-channel normalization: by the batch's statistics in training (moving the running
    ones, buffers saved in the state dict), by the running ones in eval."""

    _expected = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, *, bias=True):
        super().__init__()
        self.use_bias = bias and affine      # torch shows bias=False without affine
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            self.bias = Parameter(np.zeros(num_features, dtype=np.float32)) if bias else None
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", from_numpy(np.zeros(num_features, np.float32)))
            self.register_buffer("running_var", from_numpy(np.ones(num_features, np.float32)))
            self.register_buffer("num_batches_tracked", from_numpy(np.zeros((), np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _check_input_dim(self, input):
        if input.ndim not in self._expected:
            shapes = " or ".join(f"{d}D" for d in self._expected)
            raise ValueError(f"expected {shapes} input (got {input.ndim}D input)")

    def forward(self, input):
        """Normalize input by the batch's statistics in training (moving the running
        ones), by the running ones in eval; ValueError for input of the wrong rank."""
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:       # a cumulative average
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or self.running_mean is None
        tracked = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if tracked else None,
                            self.running_var if tracked else None, self.weight, self.bias,
                            use_batch, factor, self.eps)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.use_bias}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """``BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, *, bias=True)``: batch normalization per channel of (N, C)
    or (N, C, L) input.

    In training it normalizes by the batch's mean and biased variance and moves the
    running statistics (by ``momentum``, or by a cumulative average where momentum is
    None; the running variance is the unbiased one); in eval it uses the running
    statistics. ``affine`` adds a learnt per-channel weight and (with ``bias``) bias.
    """

    _expected = (2, 3)


class BatchNorm2d(_BatchNorm):
    """``BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True,
    track_running_stats=True, *, bias=True)``: BatchNorm1d's normalization per channel of
    (N, C, H, W) input."""

    _expected = (4,)


class Dropout2d(Module):
    """Dropout2d(p=0.5, inplace=False): in training, zero whole channels of (N, C, H, W)
    input with probability p and scale the rest by 1 / (1 - p); in eval, the identity.

    ``inplace`` is kept for torch's signature and repr; the output is a new tensor.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        """Drop channels in training; pass the input through in eval."""
        return F.dropout2d(input, self.p, self.training)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"p={self.p}, inplace={self.inplace}"
