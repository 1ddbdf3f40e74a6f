"""torch.nn's activation layers with parameters (ReLU, Tanh, Sigmoid are in layers)."""
from tapegrad.nn import functional as F
from tapegrad.nn.module import Module


def _inplace(inplace):
    return ", inplace=True" if inplace else ""


class LeakyReLU(Module):
    """LeakyReLU(negative_slope=0.01, inplace=False): x where x > 0, else negative_slope * x.

    ``inplace`` is accepted for torch's signature and shown in the repr; the output is
    always a new tensor.
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        """Apply the leaky ReLU elementwise."""
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"negative_slope={self.negative_slope}{_inplace(self.inplace)}"


class GELU(Module):
    """GELU(approximate="none"): x * Phi(x), Phi the standard normal CDF; with
    ``approximate="tanh"``, torch's tanh approximation of it."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        """Apply GELU elementwise."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"approximate={self.approximate!r}"


class ELU(Module):
    """ELU(alpha=1.0, inplace=False): x where x > 0, else alpha * (exp(x) - 1).

    ``inplace`` is kept for torch's signature and repr; the output is a new tensor.
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        """Apply ELU elementwise."""
        return F.elu(input, self.alpha)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"alpha={self.alpha}{_inplace(self.inplace)}"


class SiLU(Module):
    """SiLU(inplace=False): x * sigmoid(x), also called swish.

    ``inplace`` is kept for torch's signature and repr; the output is a new tensor.
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """Apply SiLU elementwise."""
        return F.silu(input)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """Softplus(beta=1.0, threshold=20.0): log(1 + exp(beta * x)) / beta, and x itself
    where beta * x > threshold, as torch."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        """Apply softplus elementwise."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """Hardtanh(min_val=-1.0, max_val=1.0, inplace=False): x clamped to [min_val, max_val].

    Raises AssertionError, as torch does, unless min_val < max_val. ``inplace`` is kept
    for torch's signature and repr; the output is a new tensor.
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val >= max_val:
            raise AssertionError("max_val must be greater than min_val")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        """Clamp the input elementwise."""
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace(self.inplace)}"


class ReLU6(Hardtanh):
    """ReLU6(inplace=False): x clamped to [0, 6], a Hardtanh with fixed bounds."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        """The options shown inside the module's repr, as torch shows them."""
        return "inplace=True" if self.inplace else ""
