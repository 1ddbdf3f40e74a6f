"""tapegrad: autodiff with its hot path in native code.

The scalar engine, Value, is a drop-in for micrograd's; the tensor engine,
Tensor, follows PyTorch's autograd conventions, so tutorial code runs with
``import tapegrad as torch``.
"""
from tapegrad import autograd, nn, optim, utils, viz
from tapegrad import linalg  # noqa: E402  (torch.linalg's norms)
from tapegrad._tensor import (Device, Size, Tensor, bool_, cat, enable_grad, float32,
                              float64, int32, int64, is_grad_enabled, log_softmax, matmul,
                              inference_mode, no_grad, set_grad_enabled, softmax, stack, where)
from tapegrad.creation import (arange, device, eye, from_numpy, full, is_tensor, linspace,
                               manual_seed, ones, ones_like, rand, rand_like, randn, randn_like,
                               tensor, zeros, zeros_like)
# creation, devices and the rest of the surface users meet first (issue 12)
from tapegrad import accelerator, backends, cuda
from tapegrad._tensor import get_default_dtype, is_inference_mode_enabled, set_default_dtype
from tapegrad.creation import (empty, empty_like, full_like, get_default_device, logspace,
                               normal, randint, randperm, set_default_device)
from tapegrad.dlpack import from_dlpack
from tapegrad._format import set_printoptions
from tapegrad._version import __version__ as __version__  # the one version source
from tapegrad.engine import Value
from tapegrad.compiled import compile
from tapegrad.gradcheck import GradcheckError, gradcheck
from tapegrad.serialization import load, save
from tapegrad.functions import *  # noqa: F401,F403  (exp, sum, reshape, ...)
from tapegrad.functions import __all__ as _function_names

bool = bool_          # torch.bool
float = float32       # torch.float
double = float64      # torch.double
long = int64          # torch.long

__all__ = ["Value", "compile", "Tensor", "gradcheck", "GradcheckError", "optim", "utils", "save",
           "load", "tensor", "nn", "autograd", "viz", "no_grad", "enable_grad", "inference_mode",
           "set_grad_enabled", "is_grad_enabled", "matmul", "cat", "stack", "where", "softmax",
           "log_softmax", "zeros", "ones", "full", "eye", "arange", "linspace", "rand", "randn",
           "zeros_like", "ones_like", "rand_like", "randn_like", "from_numpy", "manual_seed",
           "device", "Device", "Size", "is_tensor", "float32", "float64", "int32", "int64",
           "bool", "float", "double", "long", "linalg", *_function_names,
           "accelerator", "backends", "cuda", "get_default_dtype", "set_default_dtype",
           "is_inference_mode_enabled", "empty", "empty_like", "full_like", "logspace", "normal",
           "randint", "randperm", "set_default_device", "get_default_device", "from_dlpack",
           "set_printoptions"]
