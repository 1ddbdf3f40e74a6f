"""Making tensors, with torch's names: tensor, zeros, ones, full, eye, arange,
linspace, rand, randn, zeros_like, ones_like, from_numpy, manual_seed."""
import numpy as np

from tapegrad._tensor import (Device, Tensor, as_dtype, check_device, infer_array,
                              new_tensor, float32, int64)

_generator = np.random.default_rng()


def manual_seed(seed):
    """Seeds rand and randn (and the layers' initialisers)."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator():
    """The random generator that rand, randn and the initialisers draw from."""
    return _generator


def device(kind='cpu'):
    """torch.device: tapegrad runs on the CPU, so only 'cpu' is accepted."""
    return Device(kind)


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
    """A tensor of the given size filled with 0 (float32 unless dtype says otherwise)."""
    return _make(np.zeros(_size(size), dtype=dtype or float32), None, requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of the given size filled with 1 (float32 unless dtype says otherwise)."""
    return _make(np.ones(_size(size), dtype=dtype or float32), None, requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of the given size filled with fill_value; the dtype follows it (bool, int64,
    float32)."""
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, bool) else
                 int64 if isinstance(fill_value, int) else float32)
    return _make(np.full(_size((size,)), fill_value, dtype=dtype), None, requires_grad, device)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    """The n x m identity matrix (m defaults to n)."""
    return _make(np.eye(n, m, dtype=dtype or float32), None, requires_grad, device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """The numbers from start up to end (excluded) by step; int64 when all are integers."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        whole = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if whole else float32
    return _make(np.arange(start, end, step, dtype=dtype), None, requires_grad, device)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """steps numbers evenly spaced from start to end, both included."""
    return _make(np.linspace(start, end, steps, dtype=dtype or float32), None, requires_grad,
                 device)


def rand(*size, dtype=None, requires_grad=False, device=None):
    """Uniform random numbers in [0, 1) of the given size, from manual_seed's generator."""
    arr = _generator.random(_size(size), dtype=np.float64).astype(dtype or float32)
    return _make(arr, None, requires_grad, device)


def randn(*size, dtype=None, requires_grad=False, device=None):
    """Standard normal random numbers of the given size, from manual_seed's generator."""
    arr = _generator.standard_normal(_size(size)).astype(dtype or float32)
    return _make(arr, None, requires_grad, device)


def zeros_like(t, dtype=None, requires_grad=False):
    """zeros of t's shape (and dtype, unless dtype is given)."""
    return _make(np.zeros(t.shape, dtype=dtype or t.dtype), None, requires_grad, None)


def ones_like(t, dtype=None, requires_grad=False):
    """ones of t's shape (and dtype, unless dtype is given)."""
    return _make(np.ones(t.shape, dtype=dtype or t.dtype), None, requires_grad, None)


def randn_like(t, dtype=None, requires_grad=False):
    """randn of t's shape (and dtype, unless dtype is given)."""
    return randn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    """rand of t's shape (and dtype, unless dtype is given)."""
    return rand(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def is_tensor(obj):
    """True when obj is a tapegrad Tensor."""
    return isinstance(obj, Tensor)
