"""Making tensors, with torch's names: tensor, zeros, ones, full, empty, eye, arange,
linspace, logspace, rand, randn, randint, randperm, normal, the ``*_like`` forms,
from_numpy, manual_seed, and the default dtype and device.

Float tensors are made in the default dtype (set_default_dtype). Random draws come
from tapegrad's global numpy Generator (manual_seed), or the numpy Generator given
as generator=.
"""
import numbers

import numpy as np

from tapegrad._tensor import (Device, Tensor, as_device, as_dtype, check_device,
                              get_default_dtype, infer_array, new_tensor, int64)

_generator = np.random.default_rng()


def manual_seed(seed):
    """Seeds rand and randn (and the layers' initialisers)."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator():
    """The random generator that rand, randn and the initialisers draw from."""
    return _generator


device = Device          # torch.device: a class, so isinstance(x, tapegrad.device) works


def set_default_device(device):
    """Only the cpu (or None) can be the default device: tapegrad has no other."""
    as_device(device)


def get_default_device():
    """The default device: always the cpu."""
    return Device("cpu")


def _rng(generator):
    if generator is None:
        return _generator
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"generator must be a numpy.random.Generator (as tapegrad.manual_seed "
                        f"returns) or None, not {type(generator).__name__}")
    return generator


def _float(dtype):
    return get_default_dtype() if dtype is None else dtype


def _make(arr, dtype, requires_grad, device):
    check_device(device)
    if dtype is not None:
        arr = arr.astype(as_dtype(dtype), copy=False)
    return new_tensor(arr, requires_grad)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise RuntimeError(f"sizes must be non-negative integers, got {size}")
    return tuple(int(s) for s in size)


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor copying data; floats are float32, ints int64, unless dtype says."""
    arr = np.array(infer_array(data, dtype), copy=True)
    return _make(arr, None, requires_grad, device)


def from_numpy(array):
    """A tensor sharing the array's memory."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, not {type(array).__name__}")
    return new_tensor(infer_array(array, None))     # refuses dtypes tensors do not have


def zeros(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of the given size filled with 0 (the default float dtype unless dtype says)."""
    return _make(np.zeros(_size(size), dtype=_float(dtype)), None, requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of the given size filled with 1 (the default float dtype unless dtype says)."""
    return _make(np.ones(_size(size), dtype=_float(dtype)), None, requires_grad, device)


def full(size, fill_value, *, dtype=None, requires_grad=False, device=None):
    """A tensor of size filled with fill_value: bool, int64 or the default float dtype,
    as the value is, unless dtype says."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, numbers.Number):
        raise TypeError(f"full(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(fill_value).__name__}")
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, (bool, np.bool_)) else
                 int64 if isinstance(fill_value, numbers.Integral) else get_default_dtype())
    return _make(np.full(_size(tuple(size)), fill_value, dtype=as_dtype(dtype)), None,
                 requires_grad, device)


def empty(*size, dtype=None, requires_grad=False, device=None):
    """torch leaves empty's memory uninitialised; tapegrad gives zeros (as cheap with numpy,
    and never a garbage value)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    """The n x m identity matrix (m defaults to n)."""
    return _make(np.eye(n, m, dtype=_float(dtype)), None, requires_grad, device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """The numbers from start up to end (excluded) by step; int64 when all are integers."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        whole = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if whole else get_default_dtype()
    return _make(np.arange(start, end, step, dtype=dtype), None, requires_grad, device)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """steps numbers evenly spaced from start to end, both included."""
    return _make(np.linspace(start, end, steps, dtype=_float(dtype)), None, requires_grad, device)


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, device=None):
    """steps values from base**start to base**end, evenly spaced in the exponent."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    exponents = np.linspace(float(start), float(end), int(steps))
    return _make(np.power(float(base), exponents).astype(_float(dtype)), None, requires_grad,
                 device)


def rand(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Uniform random numbers in [0, 1) of the given size, from manual_seed's generator."""
    arr = _rng(generator).random(_size(size), dtype=np.float64).astype(_float(dtype))
    return _make(arr, None, requires_grad, device)


def randn(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Standard normal random numbers of the given size, from manual_seed's generator."""
    arr = _rng(generator).standard_normal(_size(size)).astype(_float(dtype))
    return _make(arr, None, requires_grad, device)


def randint(*args, low=None, high=None, size=None, generator=None, dtype=None,
            requires_grad=False, device=None):
    """randint(high, size) or randint(low, high, size): integers in [low, high), int64
    unless dtype says."""
    given = [a for a in (low, high, size) if a is not None]
    args = list(args) + given
    if len(args) == 2:
        args.insert(0, 0)
    if len(args) != 3:
        raise TypeError("randint() takes (high, size) or (low, high, size)")
    low, high, size = args
    for name, value in (("low", low), ("high", high)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise TypeError(f"randint(): argument '{name}' must be int, not "
                            f"{type(value).__name__}")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be tuple of ints, not "
                        f"{type(size).__name__}")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    arr = _rng(generator).integers(low, high, _size(tuple(size)), dtype=np.int64)
    return _make(arr.astype(int64 if dtype is None else as_dtype(dtype)), None, requires_grad,
                 device)


def randperm(n, *, generator=None, dtype=None, requires_grad=False, device=None):
    """A random permutation of 0..n-1, int64 unless dtype says."""
    if not isinstance(n, numbers.Integral):
        raise TypeError(f"randperm(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    arr = _rng(generator).permutation(int(n)).astype(int64 if dtype is None else as_dtype(dtype))
    return _make(arr, None, requires_grad, device)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False,
           device=None):
    """Draws from N(mean, std**2): mean and std floats with a size, or tensors (broadcast
    together) that give the shape."""
    tensors = [x for x in (mean, std) if isinstance(x, Tensor)]
    if not tensors and size is None:
        raise TypeError("normal() takes tensors for mean or std, or floats with a size")
    means = np.asarray(mean.detach().numpy() if isinstance(mean, Tensor) else mean, np.float64)
    stds = np.asarray(std.detach().numpy() if isinstance(std, Tensor) else std, np.float64)
    if (stds < 0).any():
        raise RuntimeError(f"normal expects std >= 0.0, but found std {stds.min():g}")
    if tensors:
        shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
        out_dtype = tensors[0].dtype if dtype is None else as_dtype(dtype)
    else:
        shape = _size(tuple(size) if isinstance(size, (tuple, list)) else (size,))
        out_dtype = _float(dtype)
    if np.dtype(out_dtype).kind != 'f':
        raise RuntimeError(f'"normal_kernel_cpu" not implemented for '
                           f"'{np.dtype(out_dtype).name}'")
    arr = means + stds * _rng(generator).standard_normal(shape)
    return _make(arr.astype(out_dtype), None, requires_grad, device)


def zeros_like(t, dtype=None, requires_grad=False):
    """zeros of t's shape (and dtype, unless dtype is given)."""
    return _make(np.zeros(t.shape, dtype=dtype or t.dtype), None, requires_grad, None)


def ones_like(t, dtype=None, requires_grad=False):
    """ones of t's shape (and dtype, unless dtype is given)."""
    return _make(np.ones(t.shape, dtype=dtype or t.dtype), None, requires_grad, None)


def empty_like(t, dtype=None, requires_grad=False, device=None):
    """empty of t's shape (zeros, as empty)."""
    check_device(device)
    return zeros_like(t, dtype, requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None):
    """t's shape filled with fill_value, in t's dtype unless dtype says (as torch, 2.7 in an
    int64 tensor is 2)."""
    check_device(device)
    return full(tuple(t.shape), fill_value, dtype=t.dtype if dtype is None else dtype,
                requires_grad=requires_grad)


def randn_like(t, dtype=None, requires_grad=False):
    """randn of t's shape (and dtype, unless dtype is given)."""
    return randn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    """rand of t's shape (and dtype, unless dtype is given)."""
    return rand(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def is_tensor(obj):
    """True when obj is a tapegrad Tensor."""
    return isinstance(obj, Tensor)
