"""torch.nn's convolution layers: Conv1d and Conv2d."""
import math

from tapegrad.nn import functional as F
from tapegrad.nn.layers import _uniform
from tapegrad.nn.module import Module


def _tuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class _ConvNd(Module):
    """Weight (out, in / groups, *kernel) and bias (out,), initialised as torch: kaiming
    uniform with a=sqrt(5), which bounds both by 1/sqrt(fan_in)."""

    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros"):
        super().__init__()
        n = self._dims
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode != "zeros":
            raise NotImplementedError(f"padding_mode {padding_mode!r}: tapegrad's convolutions "
                                      "pad with zeros only")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _tuple(kernel_size, n), _tuple(stride, n)
        self.dilation = _tuple(dilation, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "['valid', 'same']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _tuple(padding, n)
        self.groups, self.padding_mode = groups, padding_mode
        fan_in = in_channels // groups * math.prod(self.kernel_size)
        bound = 1 / math.sqrt(fan_in) if fan_in else 0
        self.weight = _uniform((out_channels, in_channels // groups) + self.kernel_size, bound)
        self.bias = _uniform((out_channels,), bound) if bias else None

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        n = self._dims
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvNd):
    """Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, padding_mode="zeros"): a 2-D convolution (cross-correlation, as
    torch's) over (N, C, H, W) or (C, H, W) input.

    ``padding`` is a number, a pair, or "valid" / "same". Only zero padding is supported:
    another ``padding_mode`` raises NotImplementedError. Weight and bias are drawn as
    torch draws them, uniform in +-1/sqrt(fan_in).
    """

    def forward(self, input):
        """Convolve the input with the layer's weight, then add its bias."""
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class Conv1d(_ConvNd):
    """Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, padding_mode="zeros"): a 1-D convolution over (N, C, L) or
    (C, L) input; as Conv2d in every other respect."""

    _dims = 1

    def forward(self, input):
        """Convolve the input with the layer's weight, then add its bias."""
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)
