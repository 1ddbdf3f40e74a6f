# cython: language_level=3
"""The tensor engine: a numpy-backed Tensor with PyTorch's autograd conventions.

Each differentiable op records one Node (its grad_fn) holding what its
vector-Jacobian product needs and edges to the nodes of its inputs. Nodes get
increasing sequence numbers, so the order of recording is a topological order:
backward collects the nodes the root reaches, sorts them by sequence number in
C and runs them newest first. No recursion, no Python-level topological sort.

An op is declared once: its function records a Node subclass whose apply()
is its backward; the class name is the grad_fn name (MulBackward0, as torch).
Elementwise unary kernels, forward and fused backward, are C (csrc/tg_kernels.c)
for contiguous float32/float64 arrays; anything else goes through numpy.
"""
cimport cython
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE, PyBUF_WRITABLE
from libc.stdlib cimport malloc, free, qsort

from tapegrad._kernels cimport *

import numbers
import weakref
from collections import namedtuple

import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)

cdef object _default_dtype = float32


# ---------------------------------------------------------------- grad mode

cdef bint _grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


def set_grad_enabled(bint mode):
    global _grad_enabled
    _grad_enabled = mode


class _GradMode:
    """A context manager and decorator that sets grad mode, then restores it."""
    mode = True

    def __enter__(self):
        self.previous = is_grad_enabled()
        set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self.previous)
        return False

    def __call__(self, fn):
        import functools
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Ops inside record no graph: ``with no_grad():`` or ``@no_grad()``."""
    mode = False


class enable_grad(_GradMode):
    """Ops inside record a graph, even within no_grad."""
    mode = True


# ---------------------------------------------------------------- versions

@cython.final
cdef class _Version:
    """The in-place version counter of a storage, shared by its views."""
    cdef public long long value


cdef inline _Version _new_version():
    return _Version.__new__(_Version)


cdef inline _Version _version_of(Tensor t):
    """t's version counter, made when first needed: most tensors never need one."""
    if t._version is None:
        t._version = _new_version()
    return t._version


cdef inline void _bump(Tensor t):
    """t was changed in place."""
    cdef _Version version = _version_of(t)
    version.value += 1


# ------------------------------------------------------------------- nodes

cdef long long _seq = 0
cdef long long _epoch = 0


cdef class Node:
    """A recorded operation: the grad_fn of the tensors it made."""
    cdef tuple edges          # per differentiable input: Node, leaf Tensor, or None
    cdef object acc           # the gradient reaching it during a backward
    cdef long long seq
    cdef long long visited    # the epoch of the backward that last reached it
    cdef bint freed
    cdef tuple versions       # (_Version, value at save) of what it saved
    cdef object retain        # weakref to its output, when that called retain_grad()

    cdef tuple apply(self, object g):
        raise NotImplementedError

    cdef void release(self):
        """Drops what was saved for backward."""
        pass

    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        return tuple((_edge_as_function(e), 0) for e in self.edges)

    def __repr__(self):
        return f"<{type(self).__name__} object at {id(self):#x}>"


cdef class AccumulateGrad:
    """What next_functions shows for a leaf: it adds into the leaf's .grad."""
    cdef public object variable

    def name(self):
        return "AccumulateGrad"

    @property
    def next_functions(self):
        return ()

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


cdef object _edge_as_function(object edge):
    if isinstance(edge, Tensor):
        acc = AccumulateGrad()
        acc.variable = edge
        return acc
    return edge


cdef inline object _edge(Tensor t):
    if t._grad_fn is not None:
        return t._grad_fn
    if t._requires_grad:
        return t
    return None


cdef inline Node _record(Node node, tuple edges):
    global _seq
    _seq += 1
    node.seq = _seq
    node.edges = edges
    return node


cdef void _save_versions(Node node, tuple tensors):
    cdef Tensor t
    cdef list versions = []
    for obj in tensors:
        t = <Tensor>obj
        versions.append((_version_of(t), t._version.value))
    node.versions = tuple(versions)


cdef int _check_versions(Node node) except -1:
    if node.versions is None:
        return 0
    for version, value in node.versions:
        if (<_Version>version).value != value:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: it is at version {(<_Version>version).value}; "
                f"expected version {value} instead. The output of {type(node).__name__} "
                "or one of its inputs was changed in place after it was used.")
    return 0


# ------------------------------------------------------------------ Tensor

cdef inline bint _is_float(object arr):
    return arr.dtype.kind == 'f'


cdef inline Tensor _wrap(object arr, Node node):
    """A new tensor over arr; node is its grad_fn, or None."""
    cdef Tensor out = Tensor.__new__(Tensor)
    out._data = arr
    if node is not None:
        out._grad_fn = node
        out._requires_grad = True
    return out


cdef inline Tensor _view(Tensor base, object arr, Node node):
    """A tensor over a view of base's storage: it shares the version counter."""
    cdef Tensor out = _wrap(arr, node)
    out._version = _version_of(base)
    return out


def _infer_array(data, dtype):
    """torch.tensor's inference: floats float32, ints int64, bools bool."""
    if isinstance(data, Tensor):
        arr = (<Tensor>data)._data
    elif isinstance(data, np.ndarray):
        arr = data
    else:
        arr = np.asarray(data)
        if dtype is None:
            kind = arr.dtype.kind
            if kind == 'f':
                arr = arr.astype(_default_dtype)
            elif kind in 'iu':
                arr = arr.astype(np.int64)
            elif kind not in 'b':
                raise TypeError(f"tensor(): cannot make a tensor of {type(data).__name__} "
                                f"(numpy dtype {arr.dtype}); give numbers, or nested lists of them")
    if dtype is not None:
        arr = arr.astype(_as_dtype(dtype))
    return arr


def _as_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r}") from None
    if dt.kind not in 'fiub':
        raise TypeError(f"unsupported dtype {dt}: tapegrad has float, integer and bool tensors")
    return dt


@cython.freelist(256)
cdef class Tensor:
    """A numpy array with PyTorch's autograd.

    Tensor(data) makes a float32 tensor, as torch.Tensor does;
    tapegrad.tensor(data, dtype=None, requires_grad=False) infers the dtype.
    """
    cdef object _data
    cdef object _grad
    cdef bint _requires_grad
    cdef Node _grad_fn
    cdef _Version _version
    cdef bint _retains_grad
    cdef object __weakref__

    def __init__(self, *args, device=None, requires_grad=False, dtype=None):
        _check_device(device)
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            arr = _infer_array(args[0], dtype if dtype is not None else _default_dtype)
        elif all(isinstance(a, numbers.Integral) for a in args):
            arr = np.zeros(tuple(args), dtype=dtype if dtype is not None else _default_dtype)
        else:
            raise TypeError("Tensor() takes data, or sizes as integers")
        self._data = np.array(arr, copy=True)   # torch.Tensor(data) copies
        if requires_grad:
            self.requires_grad_(True)

    # -- storage and metadata

    @property
    def data(self):
        """The same storage, as a tensor that records no graph."""
        return _view(self, self._data, None)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = (<Tensor>value)._data

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim(dim, self._data.ndim)]

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return _CPU

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return self
        if requires_grad and not _is_float(self._data):
            raise RuntimeError("only Tensors of floating point dtype can require gradients, "
                               f"not {self._data.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad must be a Tensor or None, not {type(value).__name__}")
            if (<Tensor>value)._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has shape {tuple((<Tensor>value)._data.shape)} "
                                   f"but the tensor has shape {tuple(self._data.shape)}")
        self._grad = value

    def retain_grad(self):
        """Keep .grad on this non-leaf tensor after backward."""
        if self._grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        self._retains_grad = True
        self._grad_fn.retain = weakref.ref(self)

    @property
    def retains_grad(self):
        return self._retains_grad

    def detach(self):
        """The same storage, cut off from the graph."""
        return _view(self, self._data, None)

    def detach_(self):
        self._grad_fn = None
        self._requires_grad = False
        return self

    def numpy(self):
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in 'iub':
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} elements is "
                               "ambiguous")
        return bool(self.item())

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self):
        return id(self)

    def __repr__(self):
        from tapegrad._format import format_tensor
        return format_tensor(self)

    def __reduce__(self):
        return (_rebuild_tensor, (self._data.copy(), self._requires_grad))

    # -- conversions

    def to(self, *args, dtype=None, device=None, copy=False):
        for a in args:
            if isinstance(a, (str, Device)) and str(a) in ('cpu', 'cpu:0'):
                continue
            dtype = a
        _check_device(device)
        if dtype is None:
            return self.clone() if copy else self
        return _cast(self, _as_dtype(dtype), copy)

    def float(self):
        return _cast(self, float32, False)

    def double(self):
        return _cast(self, float64, False)

    def long(self):
        return _cast(self, int64, False)

    def int(self):
        return _cast(self, int32, False)

    def bool(self):
        return _cast(self, bool_, False)

    def type(self, dtype=None):
        if dtype is None:
            return f"tapegrad.{self._data.dtype}"
        return _cast(self, _as_dtype(dtype), False)

    def cpu(self):
        return self

    def clone(self):
        return _unary_op(self, CloneBackward0)

    def contiguous(self):
        return self if self._data.flags.c_contiguous else self.clone()

    def is_contiguous(self):
        return bool(self._data.flags.c_contiguous)

    # -- autograd

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulates d(self)/d(leaf) x gradient into the .grad of every leaf."""
        if create_graph:
            raise NotImplementedError("create_graph=True (higher-order gradients) is not "
                                      "supported by tapegrad")
        _backward((self,), (gradient,), bool(retain_graph), inputs)

    # -- arithmetic

    def __add__(self, other):
        return _add(self, other, 1)

    def __radd__(self, other):
        return _add(self, other, 1)

    def __sub__(self, other):
        return _add(self, other, -1)

    def __rsub__(self, other):
        return _add(_operand(other, self), self, -1)

    def __mul__(self, other):
        return _mul(self, other)

    def __rmul__(self, other):
        return _mul(self, other)

    def __truediv__(self, other):
        return _div(self, other)

    def __rtruediv__(self, other):
        return _div(_operand(other, self), self)

    def __pow__(self, other, modulo):
        if modulo is not None:
            return NotImplemented
        return _pow(self, other)

    def __rpow__(self, other, modulo):
        if modulo is not None:
            return NotImplemented
        return _pow(_operand(other, self), self)

    def __neg__(self):
        return _neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(_operand(other, self), self)

    def add(self, other, alpha=1):
        return _add(self, other * alpha if alpha != 1 else other, 1)

    def sub(self, other, alpha=1):
        return _add(self, other * alpha if alpha != 1 else other, -1)

    def mul(self, other):
        return _mul(self, other)

    def div(self, other):
        return _div(self, other)

    def pow(self, exponent):
        return _pow(self, exponent)

    def neg(self):
        return _neg(self)

    def matmul(self, other):
        return matmul(self, other)

    def mm(self, other):
        return matmul(self, other)

    # -- comparisons: bool tensors, no graph

    def __eq__(self, other):
        return _compare(np.equal, self, other)

    def __ne__(self, other):
        return _compare(np.not_equal, self, other)

    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    def eq(self, other):
        return self == other

    def equal(self, other):
        return bool(isinstance(other, Tensor) and self._data.shape == (<Tensor>other)._data.shape
                    and np.array_equal(self._data, (<Tensor>other)._data))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return bool(np.allclose(self._data, _operand(other, self)._data, rtol, atol, equal_nan))

    # -- elementwise

    def exp(self):
        return _unary_kernel(self, TG_EXP, ExpBackward0)

    def log(self):
        return _unary_kernel(self, TG_LOG, LogBackward0)

    def tanh(self):
        return _unary_kernel(self, TG_TANH, TanhBackward0)

    def sigmoid(self):
        return _unary_kernel(self, TG_SIGMOID, SigmoidBackward0)

    def relu(self):
        return _unary_kernel(self, TG_RELU, ReluBackward0)

    def abs(self):
        return _unary_kernel(self, TG_ABS, AbsBackward0)

    def sqrt(self):
        return _unary_kernel(self, TG_SQRT, SqrtBackward0)

    def clamp(self, min=None, max=None):
        return _clamp(self, min, max)

    clip = clamp

    # -- reductions

    def sum(self, dim=None, keepdim=False, dtype=None):
        return _sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        return _mean(self, dim, keepdim, dtype)

    def max(self, dim=None, keepdim=False):
        return _extreme(self, dim, keepdim, True)

    def min(self, dim=None, keepdim=False):
        return _extreme(self, dim, keepdim, False)

    def argmax(self, dim=None, keepdim=False):
        return _arg_extreme(self, dim, keepdim, np.argmax)

    def argmin(self, dim=None, keepdim=False):
        return _arg_extreme(self, dim, keepdim, np.argmin)

    def softmax(self, dim):
        return softmax(self, dim)

    def log_softmax(self, dim):
        return log_softmax(self, dim)

    # -- shapes

    def reshape(self, *shape):
        return _reshape(self, _shape_arg(shape), False)

    def view(self, *shape):
        return _reshape(self, _shape_arg(shape), True)

    def view_as(self, other):
        return _reshape(self, tuple((<Tensor>other)._data.shape), True)

    def reshape_as(self, other):
        return _reshape(self, tuple((<Tensor>other)._data.shape), False)

    def flatten(self, start_dim=0, end_dim=-1):
        shape = self._data.shape
        n = len(shape)
        if n == 0:
            return _reshape(self, (1,), False)
        s, e = _dim(start_dim, n), _dim(end_dim, n)
        size = 1
        for d in shape[s:e + 1]:
            size *= d
        return _reshape(self, tuple(shape[:s]) + (size,) + tuple(shape[e + 1:]), False)

    def transpose(self, dim0, dim1):
        n = self._data.ndim
        axes = list(range(n))
        if n:
            a, b = _dim(dim0, n), _dim(dim1, n)
            axes[a], axes[b] = axes[b], axes[a]
        return _permute(self, tuple(axes))

    def t(self):
        if self._data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self._data.ndim}D")
        return self.transpose(0, 1) if self._data.ndim == 2 else self

    @property
    def T(self):
        return _permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    def permute(self, *dims):
        dims = _shape_arg(dims)
        n = self._data.ndim
        if len(dims) != n:
            raise RuntimeError(f"permute: number of dims don't match: the tensor has {n} "
                               f"dimensions, {len(dims)} given")
        axes = tuple(_dim(d, n) for d in dims)
        if sorted(axes) != list(range(n)):
            raise RuntimeError(f"permute: dims {dims} are not a permutation of {n} dimensions")
        return _permute(self, axes)

    def squeeze(self, dim=None):
        shape = self._data.shape
        if dim is None:
            new = tuple(s for s in shape if s != 1)
        else:
            dims = (dim,) if isinstance(dim, int) else tuple(dim)
            drop = {_dim(d, len(shape)) for d in dims} if shape else set()
            new = tuple(s for i, s in enumerate(shape) if not (i in drop and s == 1))
        return _reshape(self, new, False)

    def unsqueeze(self, dim):
        shape = list(self._data.shape)
        shape.insert(_dim(dim, len(shape) + 1), 1)
        return _reshape(self, tuple(shape), False)

    def expand(self, *sizes):
        sizes = _shape_arg(sizes)
        shape = self._data.shape
        lead = len(sizes) - len(shape)
        target = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        return _broadcast_to(self, target)

    def __getitem__(self, index):
        return _getitem(self, index)

    def __setitem__(self, index, value):
        _setitem(self, index, value)

    # -- in place

    def add_(self, other, alpha=1):
        return _inplace(self, other * alpha if alpha != 1 else other, 'add')

    def sub_(self, other, alpha=1):
        return _inplace(self, other * alpha if alpha != 1 else other, 'sub')

    def mul_(self, other):
        return _inplace(self, other, 'mul')

    def div_(self, other):
        return _inplace(self, other, 'div')

    def __iadd__(self, other):
        return _inplace(self, other, 'add')

    def __isub__(self, other):
        return _inplace(self, other, 'sub')

    def __imul__(self, other):
        return _inplace(self, other, 'mul')

    def __itruediv__(self, other):
        return _inplace(self, other, 'div')

    def zero_(self):
        return _inplace(self, 0, 'fill')

    def fill_(self, value):
        return _inplace(self, value, 'fill')

    def copy_(self, src):
        return _inplace(self, src, 'copy')


def _rebuild_tensor(data, requires_grad):
    t = _wrap(data, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


class Size(tuple):
    """A tensor's shape: a tuple, printed as torch prints it."""
    def __repr__(self):
        return f"tapegrad.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


class Device:
    """tapegrad runs on the CPU: device('cpu') is accepted for compatibility."""
    def __init__(self, kind='cpu'):
        if str(kind) not in ('cpu', 'cpu:0'):
            raise RuntimeError(f"tapegrad supports only the cpu device, not {kind!r}")
        self.type = 'cpu'

    def __repr__(self):
        return "device(type='cpu')"

    def __str__(self):
        return 'cpu'

    def __eq__(self, other):
        return str(other) in ('cpu', 'cpu:0')

    def __hash__(self):
        return hash('cpu')


_CPU = Device()


def _check_device(device):
    if device is not None and str(device) not in ('cpu', 'cpu:0'):
        raise RuntimeError(f"tapegrad supports only the cpu device, not {device!r}")


# --------------------------------------------------------------- operands

cdef inline bint _wants_graph(Tensor a):
    return _grad_enabled and a._requires_grad


cdef Tensor _operand(object x, Tensor like):
    """A Python number, array or nested list as a tensor, with torch's type
    promotion against like: a Python float with an integer tensor is float32,
    a Python int keeps like's dtype, arrays keep their own."""
    if isinstance(x, Tensor):
        return <Tensor>x
    cdef object dt = like._data.dtype
    if isinstance(x, bool):
        arr = np.array(x, dtype=dt if dt.kind != 'b' else bool_)
    elif isinstance(x, numbers.Integral):
        arr = np.array(x, dtype=dt if dt.kind != 'b' else int64)
    elif isinstance(x, numbers.Real):
        arr = np.array(x, dtype=dt if dt.kind == 'f' else _default_dtype)
    elif isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, (list, tuple)):
        arr = _infer_array(x, None)
    else:
        raise TypeError(f"unsupported operand type for a tensor op: {type(x).__name__}")
    return _wrap(arr, None)


cdef object _promote(object a, object b):
    """torch's promotion of two arrays' dtypes: float wins over integers and
    bool at its own width; otherwise numpy's."""
    da, db = a.dtype, b.dtype
    if da is db:
        return da
    fa, fb = da.kind == 'f', db.kind == 'f'
    if fa and not fb:
        return da
    if fb and not fa:
        return db
    return np.result_type(da, db)


cdef inline object _cast_array(object arr, object dtype):
    return arr if arr.dtype is dtype else arr.astype(dtype)


cdef object _unbroadcast(object g, tuple shape):
    """Sums g back to shape: the gradient of numpy's broadcasting."""
    if g.shape == shape:
        return g
    cdef Py_ssize_t lead = g.ndim - len(shape)
    if lead > 0:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


cdef object _shape_error(Tensor a, Tensor b, str op):
    return RuntimeError(f"{op}: the shapes {tuple(a._data.shape)} and {tuple(b._data.shape)} "
                        "cannot be broadcast together")


cdef inline tuple _shape(Tensor t):
    return t._data.shape


# ------------------------------------------------------------- arithmetic

cdef class AddBackward0(Node):
    cdef tuple a_shape, b_shape
    cdef object a_dtype, b_dtype
    cdef int sign

    cdef tuple apply(self, object g):
        cdef tuple edges = self.edges
        return (_cast_array(_unbroadcast(g, self.a_shape), self.a_dtype)
                if edges[0] is not None else None,
                _cast_array(_unbroadcast(g if self.sign > 0 else -g, self.b_shape), self.b_dtype)
                if edges[1] is not None else None)


cdef class SubBackward0(AddBackward0):
    pass


cdef Tensor _add(Tensor a, object other, int sign):
    """a + other, or a - other with sign -1."""
    cdef AddBackward0 scalar_node
    if (type(other) is float or type(other) is int) and a._data.dtype.kind == 'f':
        # a Python number: no operand tensor, and the float dtype stays
        out = a._data + other if sign > 0 else a._data - other
        if not _wants_graph(a):
            return _wrap(out, None)
        scalar_node = AddBackward0.__new__(AddBackward0) if sign > 0 else \
            SubBackward0.__new__(SubBackward0)
        scalar_node.a_shape, scalar_node.a_dtype, scalar_node.sign = a._data.shape, a._data.dtype, sign
        return _wrap(out, _record(scalar_node, (_edge(a), None)))
    cdef Tensor b = _operand(other, a)
    cdef object dtype = _promote(a._data, b._data)
    try:
        out = a._data + b._data if sign > 0 else a._data - b._data
    except ValueError:
        raise _shape_error(a, b, "add" if sign > 0 else "sub") from None
    out = _cast_array(out, dtype)
    if not (_grad_enabled and (a._requires_grad or b._requires_grad)):
        return _wrap(out, None)
    node_type = AddBackward0 if sign > 0 else SubBackward0
    cdef AddBackward0 node = node_type.__new__(node_type)
    node.a_shape, node.b_shape = a._data.shape, b._data.shape
    node.a_dtype, node.b_dtype = a._data.dtype, b._data.dtype
    node.sign = sign
    return _wrap(out, _record(node, (_edge(a), _edge(b))))


cdef class _BinaryBackward(Node):
    """A node of an op of two tensors that saves both inputs' arrays."""
    cdef object a, b
    cdef bint need_a, need_b

    cdef void release(self):
        self.a = self.b = None


cdef Tensor _binary_result(object node_type, Tensor a, Tensor b, object out):
    """out as the result of a two-tensor op: recorded with a node_type node
    when a gradient is wanted."""
    if not (_grad_enabled and (a._requires_grad or b._requires_grad)):
        return _wrap(out, None)
    cdef _BinaryBackward node = node_type.__new__(node_type)
    node.a, node.b = a._data, b._data
    node.need_a, node.need_b = a._requires_grad, b._requires_grad
    _save_versions(node, (a, b))
    return _wrap(out, _record(node, (_edge(a), _edge(b))))


cdef class MulBackward0(_BinaryBackward):
    cdef tuple apply(self, object g):
        _check_versions(self)
        ga = _cast_array(_unbroadcast(g * self.b, self.a.shape), self.a.dtype) if self.need_a else None
        gb = _cast_array(_unbroadcast(g * self.a, self.b.shape), self.b.dtype) if self.need_b else None
        return (ga, gb)


cdef Tensor _mul(Tensor a, object other):
    cdef MulBackward0 scalar_node
    if (type(other) is float or type(other) is int) and a._data.dtype.kind == 'f':
        out = a._data * other
        if not _wants_graph(a):
            return _wrap(out, None)
        scalar_node = MulBackward0.__new__(MulBackward0)
        scalar_node.a, scalar_node.b, scalar_node.need_a = a._data, other, True
        _save_versions(scalar_node, (a,))
        return _wrap(out, _record(scalar_node, (_edge(a), None)))
    cdef Tensor b = _operand(other, a)
    cdef object dtype = _promote(a._data, b._data)
    try:
        out = _cast_array(a._data * b._data, dtype)
    except ValueError:
        raise _shape_error(a, b, "mul") from None
    return _binary_result(MulBackward0, a, b, out)


cdef class DivBackward0(_BinaryBackward):
    cdef tuple apply(self, object g):
        _check_versions(self)
        ga = _cast_array(_unbroadcast(g / self.b, self.a.shape), self.a.dtype) if self.need_a else None
        gb = (_cast_array(_unbroadcast(-g * self.a / (self.b * self.b), self.b.shape), self.b.dtype)
              if self.need_b else None)
        return (ga, gb)


cdef Tensor _div(Tensor a, object other):
    cdef Tensor b = _operand(other, a)
    cdef object dtype = _promote(a._data, b._data)
    if dtype.kind != 'f':
        dtype = _default_dtype       # true division, as torch
    try:
        with np.errstate(divide='ignore', invalid='ignore'):
            out = _cast_array(np.true_divide(a._data, b._data), dtype)
    except ValueError:
        raise _shape_error(a, b, "div") from None
    return _binary_result(DivBackward0, a, b, out)


cdef class NegBackward0(Node):
    cdef tuple apply(self, object g):
        return (-g,)


cdef Tensor _neg(Tensor a):
    if a._data.dtype.kind == 'b':
        raise TypeError("negation of a bool tensor: use ~ or logical_not()")
    out = -a._data
    if not _wants_graph(a):
        return _wrap(out, None)
    return _wrap(out, _record(NegBackward0.__new__(NegBackward0), (_edge(a),)))


cdef class PowBackward0(Node):
    """a ** e for a number e."""
    cdef object a
    cdef double e

    cdef tuple apply(self, object g):
        _check_versions(self)
        with np.errstate(divide='ignore', invalid='ignore'):
            if self.e == 0:
                d = np.zeros_like(self.a)
            else:
                d = self.e * self.a ** (self.e - 1)
        return (_cast_array(g * d, self.a.dtype),)

    cdef void release(self):
        self.a = None


cdef class PowBackward1(_BinaryBackward):
    """a ** b for two tensors."""
    cdef object out

    cdef tuple apply(self, object g):
        _check_versions(self)
        ga = gb = None
        with np.errstate(divide='ignore', invalid='ignore'):
            if self.need_a:
                ga = _cast_array(_unbroadcast(
                    g * np.where(self.b == 0, 0, self.b * self.a ** (self.b - 1)), self.a.shape),
                    self.a.dtype)
            if self.need_b:
                # a**b * log(a), taken as 0 where a == 0 and b >= 0
                d = np.where((self.a == 0) & (self.b >= 0), 0, self.out * np.log(self.a))
                gb = _cast_array(_unbroadcast(g * d, self.b.shape), self.b.dtype)
        return (ga, gb)

    cdef void release(self):
        self.a = self.b = self.out = None


cdef Tensor _pow(Tensor a, object exponent):
    cdef PowBackward0 node
    cdef PowBackward1 node1
    if not isinstance(exponent, Tensor) and isinstance(exponent, numbers.Real) \
            and not isinstance(exponent, bool):
        if a._data.dtype.kind in 'iub' and isinstance(exponent, numbers.Integral) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
            out = a._data ** exponent
        if a._data.dtype.kind in 'iub' and not isinstance(exponent, numbers.Integral):
            out = out.astype(_default_dtype)
        else:
            out = _cast_array(out, a._data.dtype)
        if not _wants_graph(a):
            return _wrap(out, None)
        node = PowBackward0.__new__(PowBackward0)
        node.a, node.e = a._data, exponent
        _save_versions(node, (a,))
        return _wrap(out, _record(node, (_edge(a),)))
    cdef Tensor b = _operand(exponent, a)
    cdef object dtype = _promote(a._data, b._data)
    try:
        with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
            out = _cast_array(np.power(a._data, b._data), dtype)
    except ValueError:
        raise _shape_error(a, b, "pow") from None
    cdef Tensor result = _binary_result(PowBackward1, a, b, out)
    if result._grad_fn is not None:
        node1 = <PowBackward1>result._grad_fn
        node1.out = out      # saved too: the output's version is checked with the inputs'
        node1.versions = node1.versions + ((_version_of(result), 0),)
    return result


cdef object _compare(object ufunc, Tensor a, object other):
    cdef Tensor b
    try:
        b = _operand(other, a)
    except TypeError:
        return NotImplemented
    try:
        return _wrap(ufunc(a._data, b._data), None)
    except ValueError:
        raise _shape_error(a, b, ufunc.__name__) from None


# ----------------------------------------------------------- matmul

cdef class MmBackward0(_BinaryBackward):
    cdef tuple apply(self, object g):
        _check_versions(self)
        a, b = self.a, self.b
        ga = gb = None
        if a.ndim == 2 and b.ndim == 2:     # the common case, without the reshaping below
            return (np.matmul(g, b.T) if self.need_a else None,
                    np.matmul(a.T, g) if self.need_b else None)
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if self.need_a else None, g * a if self.need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        if self.need_a:
            ga = np.matmul(g2, np.swapaxes(b2, -1, -2))
            ga = _unbroadcast(ga, a2.shape).reshape(a.shape)
        if self.need_b:
            gb = np.matmul(np.swapaxes(a2, -1, -2), g2)
            gb = _unbroadcast(gb, b2.shape).reshape(b.shape)
        return (ga, gb)


def matmul(a, b):
    """Matrix product, numpy's (BLAS) semantics and torch's gradients."""
    cdef Tensor ta = a if isinstance(a, Tensor) else _wrap(_infer_array(a, None), None)
    cdef Tensor tb = _operand(b, ta)
    if ta._data.ndim == 0 or tb._data.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{ta._data.ndim}D and {tb._data.ndim}D")
    dtype = _promote(ta._data, tb._data)
    try:
        out = np.matmul(_cast_array(ta._data, dtype), _cast_array(tb._data, dtype))
    except ValueError:
        raise RuntimeError(f"matmul: shapes {tuple(ta._data.shape)} and {tuple(tb._data.shape)} "
                           "cannot be multiplied") from None
    return _binary_result(MmBackward0, ta, tb, out)


# -------------------------------------------------- elementwise (C kernels)

cdef inline bint _kernel_ok(object arr):
    return arr.flags.c_contiguous and (arr.dtype is float64 or arr.dtype is float32)


cdef void _run_unary(int op, object x, object y) except *:
    """y = f(x) with the C kernel; both contiguous, one float dtype."""
    cdef Py_buffer bx, by
    PyObject_GetBuffer(x, &bx, PyBUF_SIMPLE)
    try:
        PyObject_GetBuffer(y, &by, PyBUF_SIMPLE | PyBUF_WRITABLE)
        try:
            if x.dtype is float64:
                with nogil:
                    tg_unary_f64(op, <double *>bx.buf, <double *>by.buf, <size_t>(bx.len // 8))
            else:
                with nogil:
                    tg_unary_f32(op, <float *>bx.buf, <float *>by.buf, <size_t>(bx.len // 4))
        finally:
            PyBuffer_Release(&by)
    finally:
        PyBuffer_Release(&bx)


cdef object _run_unary_backward(int op, object g, object x, object y):
    """g * f'(x) in one pass with the C kernel, into a new array."""
    cdef Py_buffer bg, bx, by, bd
    dx = np.empty_like(x)
    PyObject_GetBuffer(g, &bg, PyBUF_SIMPLE)
    PyObject_GetBuffer(x, &bx, PyBUF_SIMPLE)
    PyObject_GetBuffer(y, &by, PyBUF_SIMPLE)
    PyObject_GetBuffer(dx, &bd, PyBUF_SIMPLE | PyBUF_WRITABLE)
    try:
        if x.dtype is float64:
            with nogil:
                tg_unary_backward_f64(op, <double *>bg.buf, <double *>bx.buf, <double *>by.buf,
                                      <double *>bd.buf, <size_t>(bx.len // 8))
        else:
            with nogil:
                tg_unary_backward_f32(op, <float *>bg.buf, <float *>bx.buf, <float *>by.buf,
                                      <float *>bd.buf, <size_t>(bx.len // 4))
    finally:
        PyBuffer_Release(&bd)
        PyBuffer_Release(&by)
        PyBuffer_Release(&bx)
        PyBuffer_Release(&bg)
    return dx


# numpy forms of the kernels, for arrays the kernels do not take
cdef dict _NUMPY_UNARY = {
    TG_EXP: np.exp, TG_LOG: np.log, TG_TANH: np.tanh, TG_ABS: np.abs, TG_SQRT: np.sqrt,
    TG_SIGMOID: lambda x: np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                                   np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))),
    TG_RELU: lambda x: np.where(x > 0, x, np.where(np.isnan(x), x, 0)).astype(x.dtype),
}
cdef dict _NUMPY_UNARY_BACKWARD = {
    TG_EXP: lambda g, x, y: g * y,
    TG_LOG: lambda g, x, y: g / x,
    TG_TANH: lambda g, x, y: g * (1 - y * y),
    TG_SIGMOID: lambda g, x, y: g * (y * (1 - y)),
    TG_RELU: lambda g, x, y: np.where(x <= 0, 0, g),     # NaN passes the gradient, as torch
    TG_ABS: lambda g, x, y: np.where(x > 0, g, np.where(x < 0, -g, 0)),
    TG_SQRT: lambda g, x, y: g / (2 * y),
}


cdef class _UnaryBackward(Node):
    cdef object x, y
    cdef int op

    cdef tuple apply(self, object g):
        _check_versions(self)
        x, y = self.x, self.y
        if _kernel_ok(x) and _kernel_ok(y) and g.dtype is x.dtype and g.flags.c_contiguous \
                and g.shape == x.shape:
            return (_run_unary_backward(self.op, g, x, y),)
        with np.errstate(divide='ignore', invalid='ignore'):
            return (_cast_array(_NUMPY_UNARY_BACKWARD[self.op](g, x, y), x.dtype),)

    cdef void release(self):
        self.x = self.y = None


cdef class ExpBackward0(_UnaryBackward):
    pass
cdef class LogBackward0(_UnaryBackward):
    pass
cdef class TanhBackward0(_UnaryBackward):
    pass
cdef class SigmoidBackward0(_UnaryBackward):
    pass
cdef class ReluBackward0(_UnaryBackward):
    pass
cdef class AbsBackward0(_UnaryBackward):
    pass
cdef class SqrtBackward0(_UnaryBackward):
    pass


cdef Tensor _unary_kernel(Tensor a, int op, object node_type):
    x = a._data
    if x.dtype.kind != 'f':
        if op == TG_ABS or op == TG_RELU:
            out = _NUMPY_UNARY[op](x).astype(x.dtype)
            return _wrap(out, None)
        x = x.astype(_default_dtype)
    if _kernel_ok(x):
        out = np.empty_like(x)
        _run_unary(op, x, out)
    else:
        with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
            out = _cast_array(np.asarray(_NUMPY_UNARY[op](x)), x.dtype)
    if not _wants_graph(a):
        return _wrap(out, None)
    cdef _UnaryBackward node = node_type.__new__(node_type)
    node.x, node.y, node.op = x, out, op
    cdef Tensor result = _wrap(out, _record(node, (_edge(a),)))
    node.versions = ((_version_of(a), a._version.value), (_version_of(result), 0))
    return result


cdef class ClampBackward1(Node):
    cdef object x
    cdef double lo, hi

    cdef tuple apply(self, object g):
        _check_versions(self)
        x = self.x
        if _kernel_ok(x) and g.dtype is x.dtype and g.flags.c_contiguous and g.shape == x.shape:
            return (_run_clamp_backward(g, x, self.lo, self.hi),)
        return (np.where((x >= self.lo) & (x <= self.hi), g, 0).astype(x.dtype),)

    cdef void release(self):
        self.x = None


cdef object _run_clamp_backward(object g, object x, double lo, double hi):
    cdef Py_buffer bg, bx, bd
    dx = np.empty_like(x)
    PyObject_GetBuffer(g, &bg, PyBUF_SIMPLE)
    PyObject_GetBuffer(x, &bx, PyBUF_SIMPLE)
    PyObject_GetBuffer(dx, &bd, PyBUF_SIMPLE | PyBUF_WRITABLE)
    try:
        if x.dtype is float64:
            tg_clamp_backward_f64(<double *>bg.buf, <double *>bx.buf, <double *>bd.buf,
                                  <size_t>(bx.len // 8), lo, hi)
        else:
            tg_clamp_backward_f32(<float *>bg.buf, <float *>bx.buf, <float *>bd.buf,
                                  <size_t>(bx.len // 4), <float>lo, <float>hi)
    finally:
        PyBuffer_Release(&bd)
        PyBuffer_Release(&bx)
        PyBuffer_Release(&bg)
    return dx


cdef Tensor _clamp(Tensor a, object lo, object hi):
    cdef Py_buffer bx, by
    if lo is None and hi is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    cdef double l = -np.inf if lo is None else float(lo)
    cdef double h = np.inf if hi is None else float(hi)
    x = a._data
    if _kernel_ok(x):
        out = np.empty_like(x)
        PyObject_GetBuffer(x, &bx, PyBUF_SIMPLE)
        PyObject_GetBuffer(out, &by, PyBUF_SIMPLE | PyBUF_WRITABLE)
        try:
            if x.dtype is float64:
                tg_clamp_f64(<double *>bx.buf, <double *>by.buf, <size_t>(bx.len // 8), l, h)
            else:
                tg_clamp_f32(<float *>bx.buf, <float *>by.buf, <size_t>(bx.len // 4),
                             <float>l, <float>h)
        finally:
            PyBuffer_Release(&by)
            PyBuffer_Release(&bx)
    else:
        out = np.minimum(np.maximum(x, l), h).astype(x.dtype)
    if not _wants_graph(a):
        return _wrap(out, None)
    cdef ClampBackward1 node = ClampBackward1.__new__(ClampBackward1)
    node.x, node.lo, node.hi = x, l, h
    _save_versions(node, (a,))
    return _wrap(out, _record(node, (_edge(a),)))


cdef class CloneBackward0(Node):
    cdef tuple apply(self, object g):
        return (g,)


cdef class ToCopyBackward0(Node):
    cdef object dtype

    cdef tuple apply(self, object g):
        return (g.astype(self.dtype),)


cdef Tensor _unary_op(Tensor a, object node_type):
    out = a._data.copy()
    if not _wants_graph(a):
        return _wrap(out, None)
    return _wrap(out, _record(node_type.__new__(node_type), (_edge(a),)))


cdef Tensor _cast(Tensor a, object dtype, bint copy):
    if a._data.dtype is dtype and not copy:
        return a
    out = a._data.astype(dtype)
    if dtype.kind != 'f' or not _wants_graph(a):
        return _wrap(out, None)
    cdef ToCopyBackward0 node = ToCopyBackward0.__new__(ToCopyBackward0)
    node.dtype = a._data.dtype
    return _wrap(out, _record(node, (_edge(a),)))


# ------------------------------------------------------------ reductions

cdef object _dims(object dim, Py_ssize_t ndim):
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(_dim(d, ndim) for d in dim)
    return _dim(dim, ndim)


cdef Py_ssize_t _dim(object dim, Py_ssize_t ndim) except? -1:
    cdef Py_ssize_t d
    try:
        d = dim
    except TypeError:
        raise TypeError(f"dim must be an integer, not {type(dim).__name__}") from None
    cdef Py_ssize_t n = ndim if ndim > 0 else 1
    if d < -n or d >= n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {d})")
    return d + n if d < 0 else d


cdef object _ndarray = np.ndarray


cdef object _expand_reduced(object g, tuple shape, object axes, bint keepdim):
    """g, reduced over axes of shape, broadcast back to shape."""
    if g.size == 1 and g.flags.c_contiguous:
        # a full reduction: every element is g, through zero strides (numpy's
        # broadcast_to costs more than the rest of this node's backward)
        return _ndarray(shape, dtype=g.dtype, buffer=g, strides=(0,) * len(shape))
    if not keepdim and axes is not None and len(shape):
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


cdef class SumBackward0(Node):
    cdef tuple shape
    cdef object axes
    cdef bint keepdim
    cdef object dtype

    cdef tuple apply(self, object g):
        # a read-only broadcast view: nothing downstream writes into a gradient
        return (_expand_reduced(_cast_array(g, self.dtype), self.shape, self.axes, self.keepdim),)


cdef class SumBackward1(SumBackward0):
    pass


cdef class MeanBackward0(Node):
    cdef tuple shape
    cdef object axes
    cdef bint keepdim
    cdef object dtype
    cdef double count

    cdef tuple apply(self, object g):
        with np.errstate(divide='ignore', invalid='ignore'):   # an empty input: count 0
            g = g / self.count
        return (_expand_reduced(_cast_array(g, self.dtype), self.shape, self.axes, self.keepdim),)


cdef class MeanBackward1(MeanBackward0):
    pass


cdef Tensor _sum(Tensor a, object dim, bint keepdim, object dtype):
    x = a._data
    axes = _dims(dim, x.ndim)
    if x.ndim == 0:
        axes = None
    if dtype is not None:
        x = x.astype(_as_dtype(dtype))
    elif x.dtype.kind in 'ub':
        x = x.astype(np.int64)
    out = np.asarray(x.sum(axis=axes, keepdims=keepdim))
    if not _wants_graph(a):
        return _wrap(out, None)
    cdef SumBackward0 node = (SumBackward0 if dim is None else SumBackward1).__new__(
        SumBackward0 if dim is None else SumBackward1)
    node.shape, node.axes, node.keepdim, node.dtype = a._data.shape, axes, keepdim, a._data.dtype
    return _wrap(out, _record(node, (_edge(a),)))


cdef Tensor _mean(Tensor a, object dim, bint keepdim, object dtype):
    x = a._data
    if dtype is not None:
        x = x.astype(_as_dtype(dtype))
    if x.dtype.kind != 'f':
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be floating "
                           f"point, but got {x.dtype}")
    axes = _dims(dim, x.ndim)
    if x.ndim == 0:
        axes = None
    # sum / count: numpy's mean warns on empty input where torch quietly gives nan
    count = x.size / max(np.asarray(x.sum(axis=axes, keepdims=keepdim)).size, 1) if x.size else 0
    with np.errstate(invalid='ignore', divide='ignore'):
        out = np.asarray(np.true_divide(x.sum(axis=axes, keepdims=keepdim), count), dtype=x.dtype)
    if not _wants_graph(a):
        return _wrap(out, None)
    cdef MeanBackward0 node = (MeanBackward0 if dim is None else MeanBackward1).__new__(
        MeanBackward0 if dim is None else MeanBackward1)
    node.shape, node.axes, node.keepdim, node.dtype = a._data.shape, axes, keepdim, x.dtype
    node.count = x.size / max(out.size, 1) if x.size else 0.0
    if axes is not None and x.size == 0:
        node.count = 1.0
    return _wrap(out, _record(node, (_edge(a),)))


ReturnTypes = namedtuple("return_types", ["values", "indices"])


cdef class MaxBackward1(Node):
    """max()/min() over everything: the gradient is shared by the ties."""
    cdef object x, y

    cdef tuple apply(self, object g):
        _check_versions(self)
        mask = (self.x == self.y)
        return ((mask * (g / mask.sum())).astype(self.x.dtype),)

    cdef void release(self):
        self.x = self.y = None


cdef class MinBackward1(MaxBackward1):
    pass


cdef class MaxBackward0(Node):
    """max(dim)/min(dim): the gradient goes to the index returned."""
    cdef tuple shape
    cdef object indices
    cdef Py_ssize_t axis
    cdef bint keepdim
    cdef object dtype

    cdef tuple apply(self, object g):
        out = np.zeros(self.shape, dtype=self.dtype)
        idx = self.indices if self.keepdim else np.expand_dims(self.indices, self.axis)
        gg = g if self.keepdim else np.expand_dims(g, self.axis)
        np.put_along_axis(out, idx, gg, axis=self.axis)
        return (out,)


cdef class MinBackward0(MaxBackward0):
    pass


cdef object _extreme(Tensor a, object dim, bint keepdim, bint is_max):
    x = a._data
    cdef MaxBackward1 full
    cdef MaxBackward0 node
    if x.size == 0 and dim is None:
        raise RuntimeError(f"{'max' if is_max else 'min'}(): Expected reduction dim to be "
                           "specified for input.numel() == 0. Specify the reduction dim with "
                           "the 'dim' argument.")
    if dim is None:
        out = np.asarray(x.max() if is_max else x.min())
        if not _wants_graph(a):
            return _wrap(out, None)
        full = (MaxBackward1 if is_max else MinBackward1).__new__(
            MaxBackward1 if is_max else MinBackward1)
        full.x, full.y = x, out
        _save_versions(full, (a,))
        return _wrap(out, _record(full, (_edge(a),)))
    axis = _dim(dim, x.ndim)
    if x.ndim == 0:
        return ReturnTypes(a.clone(), _wrap(np.asarray(0), None))
    indices = (np.argmax if is_max else np.argmin)(x, axis=axis, keepdims=True)
    values = np.take_along_axis(x, indices, axis=axis)
    if not keepdim:
        values = values.squeeze(axis)
        indices = indices.squeeze(axis)
    indices = indices.astype(np.int64)
    if not _wants_graph(a):
        return ReturnTypes(_wrap(values, None), _wrap(indices, None))
    node = (MaxBackward0 if is_max else MinBackward0).__new__(
        MaxBackward0 if is_max else MinBackward0)
    node.shape, node.indices, node.axis, node.keepdim, node.dtype = \
        x.shape, indices, axis, keepdim, x.dtype
    return ReturnTypes(_wrap(values, _record(node, (_edge(a),))), _wrap(indices, None))


cdef object _arg_extreme(Tensor a, object dim, bint keepdim, object fn):
    x = a._data
    if dim is None:
        return _wrap(np.asarray(fn(x), dtype=np.int64), None)
    return _wrap(np.asarray(fn(x, axis=_dim(dim, x.ndim), keepdims=keepdim), dtype=np.int64), None)


cdef class SoftmaxBackward0(Node):
    cdef object y
    cdef Py_ssize_t axis

    cdef tuple apply(self, object g):
        _check_versions(self)
        y = self.y
        return ((y * (g - (g * y).sum(axis=self.axis, keepdims=True))).astype(y.dtype),)

    cdef void release(self):
        self.y = None


cdef class LogSoftmaxBackward0(Node):
    cdef object y
    cdef Py_ssize_t axis

    cdef tuple apply(self, object g):
        _check_versions(self)
        y = self.y
        return ((g - np.exp(y) * g.sum(axis=self.axis, keepdims=True)).astype(y.dtype),)

    cdef void release(self):
        self.y = None


def softmax(input, dim):
    """exp(x) / sum(exp(x)) along dim, computed stably."""
    cdef Tensor a = input
    x = a._data if a._data.dtype.kind == 'f' else a._data.astype(_default_dtype)
    axis = _dim(dim, x.ndim)
    if x.ndim == 0:
        axis = None
    shifted = x - x.max(axis=axis, keepdims=True) if x.size else x
    e = np.exp(shifted)
    out = (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)
    if not _wants_graph(a):
        return _wrap(out, None)
    cdef SoftmaxBackward0 node = SoftmaxBackward0.__new__(SoftmaxBackward0)
    node.y, node.axis = out, (axis if axis is not None else 0)
    cdef Tensor result = _wrap(out, _record(node, (_edge(a),)))
    node.versions = ((_version_of(result), 0),)
    return result


def log_softmax(input, dim):
    """x - log(sum(exp(x))) along dim, computed stably."""
    cdef Tensor a = input
    x = a._data if a._data.dtype.kind == 'f' else a._data.astype(_default_dtype)
    axis = _dim(dim, x.ndim)
    if x.ndim == 0:
        axis = None
    shifted = x - x.max(axis=axis, keepdims=True) if x.size else x
    with np.errstate(divide='ignore'):
        out = (shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))).astype(x.dtype)
    if not _wants_graph(a):
        return _wrap(out, None)
    cdef LogSoftmaxBackward0 node = LogSoftmaxBackward0.__new__(LogSoftmaxBackward0)
    node.y, node.axis = out, (axis if axis is not None else 0)
    cdef Tensor result = _wrap(out, _record(node, (_edge(a),)))
    node.versions = ((_version_of(result), 0),)
    return result


# ----------------------------------------------------------------- shapes

cdef tuple _shape_arg(tuple args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


cdef class ViewBackward0(Node):
    cdef tuple shape

    cdef tuple apply(self, object g):
        return (g.reshape(self.shape),)


cdef class ReshapeAliasBackward0(ViewBackward0):
    pass


cdef Tensor _reshape(Tensor a, tuple shape, bint view):
    x = a._data
    try:
        out = x.reshape(shape)
    except ValueError:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.size}") from None
    cdef bint shares = not out.flags.owndata
    if view and not shares:
        raise RuntimeError("view size is not compatible with input tensor's size and stride: "
                           "use .reshape(...) instead")
    cdef ViewBackward0 node
    if not _wants_graph(a):
        return _view(a, out, None) if shares else _wrap(out, None)
    node = (ViewBackward0 if view else ReshapeAliasBackward0).__new__(
        ViewBackward0 if view else ReshapeAliasBackward0)
    node.shape = x.shape
    if shares:
        return _view(a, out, _record(node, (_edge(a),)))
    return _wrap(out, _record(node, (_edge(a),)))


cdef class PermuteBackward0(Node):
    cdef tuple inverse

    cdef tuple apply(self, object g):
        return (np.transpose(g, self.inverse),)


cdef Tensor _permute(Tensor a, tuple axes):
    out = np.transpose(a._data, axes)
    if not _wants_graph(a):
        return _view(a, out, None)
    cdef PermuteBackward0 node = PermuteBackward0.__new__(PermuteBackward0)
    node.inverse = tuple(np.argsort(axes)) if axes else ()
    return _view(a, out, _record(node, (_edge(a),)))


cdef class ExpandBackward0(Node):
    cdef tuple shape

    cdef tuple apply(self, object g):
        return (_unbroadcast(g, self.shape),)


cdef Tensor _broadcast_to(Tensor a, tuple shape):
    try:
        out = np.broadcast_to(a._data, shape)
    except ValueError:
        raise RuntimeError(f"expand: the shape {tuple(a._data.shape)} cannot be expanded to "
                           f"{shape}") from None
    if not _wants_graph(a):
        return _view(a, out, None)
    cdef ExpandBackward0 node = ExpandBackward0.__new__(ExpandBackward0)
    node.shape = a._data.shape
    return _view(a, out, _record(node, (_edge(a),)))


cdef class CatBackward0(Node):
    cdef tuple bounds
    cdef Py_ssize_t axis

    cdef tuple apply(self, object g):
        return tuple(np.split(g, self.bounds, axis=self.axis)) if self.bounds else (g,)


cdef class _StackBackward(Node):
    cdef Py_ssize_t axis
    cdef Py_ssize_t count

    cdef tuple apply(self, object g):
        return tuple(np.take(g, i, axis=self.axis) for i in range(self.count))


cdef class StackBackward0(_StackBackward):
    pass


def cat(tensors, dim=0):
    """Concatenates along dim; tensors must have the same shape elsewhere."""
    ts = [t if isinstance(t, Tensor) else _wrap(_infer_array(t, None), None) for t in tensors]
    if not ts:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    arrays = [(<Tensor>t)._data for t in ts]
    dtype = arrays[0].dtype
    for arr in arrays[1:]:
        dtype = _promote(np.empty(0, dtype), arr)
    ndim = arrays[0].ndim
    if ndim == 0:
        raise RuntimeError("zero-dimensional tensor cannot be concatenated")
    axis = _dim(dim, ndim)
    try:
        out = np.concatenate([_cast_array(arr, dtype) for arr in arrays], axis=axis)
    except ValueError as error:
        raise RuntimeError(f"cat(): shapes {[tuple(arr.shape) for arr in arrays]} do not match "
                           f"outside dim {axis}: {error}") from None
    if not (_grad_enabled and any((<Tensor>t)._requires_grad for t in ts)):
        return _wrap(out, None)
    cdef CatBackward0 node = CatBackward0.__new__(CatBackward0)
    node.bounds = tuple(np.cumsum([arr.shape[axis] for arr in arrays])[:-1])
    node.axis = axis
    return _wrap(out, _record(node, tuple(_edge(<Tensor>t) for t in ts)))


def stack(tensors, dim=0):
    """Stacks tensors of one shape along a new dim."""
    ts = [t if isinstance(t, Tensor) else _wrap(_infer_array(t, None), None) for t in tensors]
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {tuple((<Tensor>t)._data.shape) for t in ts}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {sorted(shapes)}")
    arrays = [(<Tensor>t)._data for t in ts]
    dtype = arrays[0].dtype
    for arr in arrays[1:]:
        dtype = _promote(np.empty(0, dtype), arr)
    axis = _dim(dim, arrays[0].ndim + 1)
    out = np.stack([_cast_array(arr, dtype) for arr in arrays], axis=axis)
    if not (_grad_enabled and any((<Tensor>t)._requires_grad for t in ts)):
        return _wrap(out, None)
    cdef _StackBackward node = StackBackward0.__new__(StackBackward0)
    node.axis, node.count = axis, len(ts)
    return _wrap(out, _record(node, tuple(_edge(<Tensor>t) for t in ts)))


cdef class WhereBackward0(Node):
    cdef object cond
    cdef tuple a_shape, b_shape

    cdef tuple apply(self, object g):
        zero = np.zeros((), dtype=g.dtype)
        return (_unbroadcast(np.where(self.cond, g, zero), self.a_shape),
                _unbroadcast(np.where(self.cond, zero, g), self.b_shape))


def where(condition, input, other):
    """input where condition holds, else other; gradients flow to the chosen side."""
    cond = (<Tensor>condition)._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype.kind != 'b':
        raise TypeError(f"where expected condition to be a boolean tensor, but got {cond.dtype}")
    cdef Tensor a = input if isinstance(input, Tensor) else None
    cdef Tensor b = other if isinstance(other, Tensor) else None
    if a is None and b is None:
        raise TypeError("where: input or other must be a Tensor")
    if a is None:
        a = _operand(input, b)
    if b is None:
        b = _operand(other, a)
    dtype = _promote(a._data, b._data)
    try:
        out = np.where(cond, _cast_array(a._data, dtype), _cast_array(b._data, dtype))
    except ValueError:
        raise RuntimeError(f"where: the shapes {tuple(cond.shape)}, {tuple(a._data.shape)} and "
                           f"{tuple(b._data.shape)} cannot be broadcast together") from None
    if not (_grad_enabled and (a._requires_grad or b._requires_grad)):
        return _wrap(out, None)
    cdef WhereBackward0 node = WhereBackward0.__new__(WhereBackward0)
    node.cond, node.a_shape, node.b_shape = cond, a._data.shape, b._data.shape
    return _wrap(out, _record(node, (_edge(a), _edge(b))))


# ----------------------------------------------------------- cross-entropy

cdef class CrossEntropyBackward0(Node):
    """log_softmax and the negative log likelihood in one node: its gradient
    at the scores is softmax(scores) - target, the y - t of the textbooks."""
    cdef object probs, target
    cdef bint indices
    cdef str reduction
    cdef double count
    cdef tuple shape

    cdef tuple apply(self, object g):
        grad = np.array(self.probs, copy=True)
        if self.indices:
            grad[np.arange(len(self.target)), self.target] -= 1
        else:
            grad -= self.target
        if self.reduction == 'none':
            grad *= np.asarray(g).reshape(-1)[:, None]
        else:
            grad *= np.asarray(g) / self.count if self.reduction == 'mean' else np.asarray(g)
        return (grad.astype(self.probs.dtype, copy=False).reshape(self.shape), None)

    cdef void release(self):
        self.probs = self.target = None


def cross_entropy(input, target, reduction='mean'):
    """Cross-entropy of scores (N, C) or (C,) against class indices or class
    probabilities, with log-softmax fused in."""
    cdef Tensor scores = input
    if reduction not in ('mean', 'sum', 'none'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    x = scores._data
    if x.dtype.kind != 'f':
        raise RuntimeError(f"cross_entropy expects floating point scores, got {x.dtype}")
    t = (<Tensor>target)._data if isinstance(target, Tensor) else np.asarray(target)
    unbatched = x.ndim == 1
    if unbatched:
        x = x[None, :]
        t = t[None] if t.ndim == 0 or t.ndim == 1 and t.dtype.kind == 'f' else t
    if x.ndim != 2:
        raise RuntimeError(f"cross_entropy expects scores of shape (N, C) or (C,), got "
                           f"{tuple(scores._data.shape)}")
    n, c = x.shape
    indices = t.dtype.kind in 'iu'
    if indices:
        t = t.reshape(-1)
        if t.shape != (n,):
            raise RuntimeError(f"cross_entropy: expected target of shape ({n},) for scores of "
                               f"shape {tuple(x.shape)}, got {tuple(t.shape)}")
        if t.size and (t.min() < 0 or t.max() >= c):
            bad = t[(t < 0) | (t >= c)][0]
            raise IndexError(f"Target {int(bad)} is out of bounds for {c} classes")
    elif t.dtype.kind == 'f':
        if t.shape != x.shape:
            raise RuntimeError(f"cross_entropy: probability targets must have the scores' shape "
                               f"{tuple(x.shape)}, got {tuple(t.shape)}")
        t = t.astype(x.dtype, copy=False)
    else:
        raise RuntimeError(f"cross_entropy: target must be class indices (integers) or class "
                           f"probabilities (floats), not {t.dtype}")
    shifted = x - x.max(axis=1, keepdims=True) if x.size else x
    with np.errstate(divide='ignore'):
        log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_z
    losses = -log_probs[np.arange(n), t] if indices else -(t * log_probs).sum(axis=1)
    if reduction == 'none':
        out = losses.reshape(()) if unbatched else losses
    elif reduction == 'sum':
        out = np.asarray(losses.sum())
    else:
        with np.errstate(invalid='ignore', divide='ignore'):
            out = np.asarray(losses.sum() / n)
    out = np.asarray(out, dtype=x.dtype)
    if not _wants_graph(scores):
        return _wrap(out, None)
    cdef CrossEntropyBackward0 node = CrossEntropyBackward0.__new__(CrossEntropyBackward0)
    node.probs = np.exp(log_probs)
    node.target, node.indices, node.reduction, node.count = t, indices, reduction, n
    node.shape = scores._data.shape
    return _wrap(out, _record(node, (_edge(scores), None)))


# --------------------------------------------------------------- indexing

cdef object _index_arg(object index):
    """Tensors in an index become arrays; the rest is numpy's."""
    if isinstance(index, Tensor):
        return (<Tensor>index)._data
    if isinstance(index, tuple):
        return tuple(_index_arg(i) for i in index)
    if isinstance(index, list) and any(isinstance(i, Tensor) for i in index):
        return [_index_arg(i) for i in index]
    return index


cdef class IndexBackward0(Node):
    cdef tuple shape
    cdef object index
    cdef object dtype

    cdef tuple apply(self, object g):
        out = np.zeros(self.shape, dtype=self.dtype)
        np.add.at(out, self.index, g)     # repeated indices add up
        return (out,)


cdef Tensor _getitem(Tensor a, object index):
    idx = _index_arg(index)
    x = a._data
    try:
        out = x[idx]
    except IndexError as error:
        raise IndexError(str(error)) from None
    if not isinstance(out, np.ndarray):
        out = np.asarray(out)
    shared = not out.flags.owndata
    cdef IndexBackward0 node
    if not _wants_graph(a):
        return _view(a, out, None) if shared else _wrap(out, None)
    node = IndexBackward0.__new__(IndexBackward0)
    node.shape, node.index, node.dtype = x.shape, idx, x.dtype
    return _view(a, out, _record(node, (_edge(a),))) if shared else \
        _wrap(out, _record(node, (_edge(a),)))


cdef class CopySlices(Node):
    cdef object index
    cdef tuple value_shape
    cdef object value_dtype

    cdef tuple apply(self, object g):
        rest = g.copy()
        rest[self.index] = 0
        return (rest, _cast_array(_unbroadcast(np.asarray(g[self.index]), self.value_shape),
                                  self.value_dtype))


cdef void _setitem(Tensor a, object index, object value) except *:
    idx = _index_arg(index)
    cdef Tensor v = _operand(value, a)
    recording = _grad_enabled and (a._requires_grad or v._requires_grad)
    if recording and a._grad_fn is None and a._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    try:
        a._data[idx] = v._data
    except IndexError as error:
        raise IndexError(str(error)) from None
    except ValueError as error:
        raise RuntimeError(f"cannot assign a tensor of shape {tuple(v._data.shape)} to the "
                           f"indexed part: {error}") from None
    _bump(a)
    cdef CopySlices node
    if recording:
        node = CopySlices.__new__(CopySlices)
        node.index, node.value_shape, node.value_dtype = idx, v._data.shape, v._data.dtype
        a._grad_fn = _record(node, (_edge(a), _edge(v)))
        a._requires_grad = True


# --------------------------------------------------------------- in place

cdef class _InplaceBackward(Node):
    """The history of a tensor changed in place: old value and operand."""
    cdef str op
    cdef object old, other
    cdef tuple self_shape, other_shape
    cdef object self_dtype, other_dtype

    cdef tuple apply(self, object g):
        op = self.op
        if op == 'add':
            return (g, _cast_array(_unbroadcast(g, self.other_shape), self.other_dtype))
        if op == 'sub':
            return (g, _cast_array(_unbroadcast(-g, self.other_shape), self.other_dtype))
        if op == 'mul':
            return ((g * self.other).astype(self.self_dtype),
                    _cast_array(_unbroadcast(g * self.old, self.other_shape), self.other_dtype)
                    if self.old is not None else None)
        if op == 'div':
            return ((g / self.other).astype(self.self_dtype),
                    _cast_array(_unbroadcast(-g * self.old / (self.other * self.other),
                                             self.other_shape), self.other_dtype)
                    if self.old is not None else None)
        if op == 'copy':
            return (None, _cast_array(_unbroadcast(g, self.other_shape), self.other_dtype))
        return (None, None)     # fill: the old value no longer matters

    cdef void release(self):
        self.old = self.other = None


cdef class AddBackward1(_InplaceBackward):
    pass
cdef class SubBackward1(_InplaceBackward):
    pass
cdef class MulBackward1(_InplaceBackward):
    pass
cdef class DivBackward1(_InplaceBackward):
    pass
cdef class CopyBackwards(_InplaceBackward):
    pass
cdef class FillBackward0(_InplaceBackward):
    pass

cdef dict _INPLACE_NODES = {'add': AddBackward1, 'sub': SubBackward1, 'mul': MulBackward1,
                            'div': DivBackward1, 'copy': CopyBackwards, 'fill': FillBackward0}


cdef Tensor _inplace(Tensor a, object other, str op):
    cdef Tensor v = _operand(other, a)
    x = a._data
    recording = _grad_enabled and (a._requires_grad or v._requires_grad)
    if recording and a._grad_fn is None and a._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    if op in ('add', 'sub', 'mul', 'div') and x.dtype.kind != 'f' and v._data.dtype.kind == 'f':
        raise RuntimeError(f"result type {v._data.dtype} can't be cast to the desired output "
                           f"type {x.dtype}")
    if op == 'div' and x.dtype.kind != 'f':
        raise RuntimeError(f"result type float can't be cast to the desired output type {x.dtype}")
    if op in ('add', 'sub', 'mul', 'div') and v._data.shape != x.shape:
        try:
            broadcast = np.broadcast_shapes(x.shape, v._data.shape)
        except ValueError:
            broadcast = None
        if broadcast != x.shape:
            _raise_shape(a, v)
    old = x.copy() if recording and op in ('mul', 'div') and v._requires_grad else None
    if op == 'add':
        np.add(x, v._data, out=x, casting='unsafe')
    elif op == 'sub':
        np.subtract(x, v._data, out=x, casting='unsafe')
    elif op == 'mul':
        np.multiply(x, v._data, out=x, casting='unsafe')
    elif op == 'div':
        np.true_divide(x, v._data, out=x, casting='unsafe')
    elif op == 'fill':
        if v._data.size != 1:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{v._data.ndim} dimensions")
        x[...] = v._data.reshape(())
    else:
        try:
            np.copyto(x, np.broadcast_to(v._data, x.shape), casting='unsafe')
        except ValueError:
            _raise_shape(a, v)
    _bump(a)
    cdef _InplaceBackward node
    if recording:
        node_type = _INPLACE_NODES[op]
        node = node_type.__new__(node_type)
        node.op, node.old, node.other = op, old, v._data if op in ('mul', 'div') else None
        node.self_shape, node.self_dtype = x.shape, x.dtype
        node.other_shape, node.other_dtype = v._data.shape, v._data.dtype
        if op in ('mul', 'div'):
            _save_versions(node, (v,))
        a._grad_fn = _record(node, (_edge(a), _edge(v)))
        a._requires_grad = True
    return a


cdef int _raise_shape(Tensor a, Tensor v) except -1:
    raise RuntimeError(f"output with shape {list(a._data.shape)} doesn't match the broadcast "
                       f"shape of {list(a._data.shape)} and {list(v._data.shape)}")


# ----------------------------------------------------------------- backward

cdef int _by_seq_descending(const void *a, const void *b) noexcept nogil:
    cdef long long x = (<long long *>a)[0]
    cdef long long y = (<long long *>b)[0]
    return (x < y) - (x > y)


cdef object _accumulate(object current, object g):
    if current is None:
        return g
    return current + g


cdef list _reachable(list roots):
    """The nodes the roots reach, newest first: recording order reversed."""
    global _epoch
    _epoch += 1
    cdef list found = []
    cdef list stack = list(roots)
    cdef Node node
    while stack:
        node = stack.pop()
        if node.visited == _epoch:
            continue
        node.visited = _epoch
        found.append(node)
        for edge in node.edges:
            if isinstance(edge, Node) and (<Node>edge).visited != _epoch:
                stack.append(edge)
    # sort (seq, index) pairs in C
    cdef Py_ssize_t n = len(found), i
    cdef long long *keys = <long long *>malloc(2 * max(n, 1) * sizeof(long long))
    if keys is NULL:
        raise MemoryError()
    try:
        for i in range(n):
            keys[2 * i] = (<Node>found[i]).seq
            keys[2 * i + 1] = i
        with nogil:
            qsort(keys, n, 2 * sizeof(long long), _by_seq_descending)
        return [found[keys[2 * i + 1]] for i in range(n)]
    finally:
        free(keys)


cdef void _accumulate_leaf(Tensor leaf, object g) except *:
    g = _cast_array(g, leaf._data.dtype)
    if g.shape != leaf._data.shape:
        g = np.broadcast_to(g, leaf._data.shape)
    if leaf._grad is None:
        leaf._grad = _wrap(np.array(g, copy=True), None)
    else:
        grad = (<Tensor>leaf._grad)
        if grad._data.flags.writeable:
            grad._data += g
            _bump(grad)
        else:
            grad._data = grad._data + g


def _backward(tuple outputs, tuple grads, bint retain_graph, inputs=None, capture=None):
    """Runs backward from outputs seeded with grads. With capture (a dict of
    id(tensor) -> tensor), the gradients of those tensors are returned
    instead of accumulated into leaves: autograd.grad."""
    cdef Tensor out
    cdef Node node
    roots = []
    leaf_seeds = []
    for i, output in enumerate(outputs):
        if not isinstance(output, Tensor):
            raise TypeError(f"backward: outputs must be Tensors, not {type(output).__name__}")
        out = output
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        g = grads[i] if i < len(grads) else None
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = np.ones(out._data.shape, dtype=out._data.dtype)
        else:
            g = (<Tensor>g)._data if isinstance(g, Tensor) else np.asarray(g)
            if g.shape != out._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{tuple(g.shape)} and output[{i}] has a shape of "
                                   f"{tuple(out._data.shape)}.")
            g = _cast_array(g, out._data.dtype)
        if out._grad_fn is None:
            leaf_seeds.append((out, g))
        else:
            out._grad_fn.acc = _accumulate(out._grad_fn.acc, g)
            roots.append(out._grad_fn)

    wanted_nodes = {}
    wanted_leaves = {}
    results = {}
    if capture is not None:
        for key, t in capture.items():
            if (<Tensor>t)._grad_fn is not None:
                wanted_nodes[id((<Tensor>t)._grad_fn)] = key
            else:
                wanted_leaves[id(t)] = key
    elif inputs is not None:
        wanted_leaves = {id(t): id(t) for t in inputs}

    for leaf, g in leaf_seeds:
        if capture is not None:
            if id(leaf) in wanted_leaves:
                key = wanted_leaves[id(leaf)]
                results[key] = _accumulate(results.get(key), g)
        elif inputs is None or id(leaf) in wanted_leaves:
            _accumulate_leaf(leaf, g)

    cdef list order = _reachable(roots)
    try:
        _sweep(order, retain_graph, capture is not None, inputs is not None, wanted_nodes,
               wanted_leaves, results)
    finally:
        for node in order:
            node.acc = None
    return results


cdef object _freed_error():
    return RuntimeError(
        "Trying to backward through the graph a second time (or directly access saved tensors "
        "after they have already been freed). Saved intermediate values of the graph are freed "
        "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
        "backward through the graph a second time or if you need to access saved tensors after "
        "calling backward.")


cdef int _sweep(list order, bint retain_graph, bint capturing, bint filtering,
                dict wanted_nodes, dict wanted_leaves, dict results) except -1:
    """Runs the nodes newest first, passing each input its gradient."""
    cdef Node node
    cdef tuple edges, grads_in
    cdef Py_ssize_t k
    for node in order:
        g = node.acc
        if g is None:
            continue
        node.acc = None
        if node.freed:
            raise _freed_error()
        if wanted_nodes and id(node) in wanted_nodes:
            key = wanted_nodes[id(node)]
            results[key] = _accumulate(results.get(key), g)
        if node.retain is not None and not capturing:
            target = node.retain()
            if target is not None:
                _accumulate_leaf(<Tensor>target, g)
        grads_in = node.apply(g)
        if not retain_graph:
            node.release()
            node.freed = True
        edges = node.edges
        for k in range(len(edges)):
            edge = edges[k]
            gi = grads_in[k]
            if edge is None or gi is None:
                continue
            if isinstance(edge, Node):
                (<Node>edge).acc = _accumulate((<Node>edge).acc, gi)
            elif capturing:       # a leaf tensor (or a subclass: Parameter)
                if id(edge) in wanted_leaves:
                    key = wanted_leaves[id(edge)]
                    results[key] = _accumulate(results.get(key), gi)
            elif not filtering or id(edge) in wanted_leaves:
                _accumulate_leaf(<Tensor>edge, gi)
    return 0


# ------------------------------------------------------- custom functions

cdef class _FunctionNode(Node):
    """A node whose backward is a tapegrad.autograd.Function's."""
    cdef public object ctx
    cdef public object function

    cdef tuple apply(self, object g):
        _check_versions(self)
        grads = self.function.backward(self.ctx, _wrap(g, None))
        if not isinstance(grads, tuple):
            grads = (grads,)
        n = len(self.edges)
        if len(grads) < n:
            raise RuntimeError(f"function {self.function.__name__}.backward returned "
                               f"{len(grads)} gradients, expected {n}")
        result = []
        for k in range(n):
            gk = grads[k]
            if gk is None:
                result.append(None)
            elif isinstance(gk, Tensor):
                result.append((<Tensor>gk)._data)
            else:
                result.append(np.asarray(gk))
        return tuple(result)

    cdef void release(self):
        self.ctx = None

    def name(self):
        return f"{self.function.__name__}Backward"


def _function_apply(function, ctx, args, outputs, saved):
    """Records a Function's node: called by autograd.Function.apply."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    if not (_grad_enabled and any((<Tensor>t)._requires_grad for t in tensors)):
        return outputs
    cdef _FunctionNode node = _FunctionNode.__new__(_FunctionNode)
    node.ctx, node.function = ctx, function
    _record(node, tuple(_edge(<Tensor>a) if isinstance(a, Tensor) else None for a in args))
    _save_versions(node, tuple(saved))
    results = []
    for o in (outputs if isinstance(outputs, tuple) else (outputs,)):
        if isinstance(o, Tensor):
            t = _wrap((<Tensor>o)._data, node)
            results.append(t)
        else:
            results.append(o)
    return tuple(results) if isinstance(outputs, tuple) else results[0]


def _adopt(Tensor t, data):
    """Makes t (a new instance of a Tensor subclass) a tensor over data."""
    t._data = data


def _new_tensor(data, requires_grad=False):
    """A leaf over the array data, shared."""
    t = _wrap(data, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _gradient_tensor(arr, like):
    """A gradient array as a tensor with like's shape and dtype."""
    cdef Tensor t = like
    return _wrap(np.array(np.broadcast_to(_cast_array(np.asarray(arr), t._data.dtype),
                                          t._data.shape)), None)
