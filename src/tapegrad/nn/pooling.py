"""torch.nn's pooling layers."""
from tapegrad.nn import functional as F
from tapegrad.nn.module import Module


class MaxPool2d(Module):
    """MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
    ceil_mode=False): the maximum over each window of (N, C, H, W) or (C, H, W) input.

    ``stride`` defaults to ``kernel_size``. With ``return_indices`` the forward returns
    (values, indices), the flat index of each maximum in its input plane, as torch does.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        """Pool the input: the maximum of each window (and its index if asked for)."""
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(MaxPool2d):
    """MaxPool1d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
    ceil_mode=False): MaxPool2d over the last dimension of (N, C, L) or (C, L) input."""

    def forward(self, input):
        """Pool the input: the maximum of each window (and its index if asked for)."""
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool2d(Module):
    """AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False,
    count_include_pad=True, divisor_override=None): the mean over each window of
    (N, C, H, W) or (C, H, W) input.

    ``stride`` defaults to ``kernel_size``; the zero padding counts in each mean unless
    ``count_include_pad`` is False; ``divisor_override`` replaces the window size.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        """Pool the input: the mean of each window."""
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False,
    count_include_pad=True): AvgPool2d over the last dimension of (N, C, L) or (C, L)
    input."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = (kernel_size,) if isinstance(kernel_size, int) else kernel_size
        stride = kernel_size if stride is None else stride
        self.stride = (stride,) if isinstance(stride, int) else stride
        self.padding = (padding,) if isinstance(padding, int) else padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        """Pool the input: the mean of each window."""
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """AdaptiveAvgPool2d(output_size): the mean over windows chosen so that the output's
    last two dimensions are ``output_size`` (an int, a pair, or a pair with None for
    "keep this size"), windows overlapping where the sizes do not divide, as torch's."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        """Pool the input to the output size."""
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"output_size={self.output_size}"
