# TensorBase: a tensor's storage, metadata and autograd state, and the API that
# is not an op (torch's torch._C.TensorBase plays the same part). The ops'
# methods are Tensor's, in tensor.pxi.

cdef inline bint _is_float(object arr):
    return arr.dtype.kind == 'f'


cdef inline TensorBase _wrap(object arr, Node node):
    """A new tensor over arr; node is its grad_fn, or None."""
    cdef TensorBase out = Tensor.__new__(Tensor)
    out._data = arr
    if _inference_enabled():
        out._inference = True
    if node is not None:
        out._grad_fn = node
        out._requires_grad = True
    return out


cdef inline TensorBase _alias(TensorBase base, object arr):
    """A tensor over base's storage that records nothing (detach): same version counter."""
    cdef TensorBase out = _wrap(arr, None)
    out._version = _version_of(base)
    out._base = base if base._base is None else base._base
    out._inference = base._inference
    return out


@cython.freelist(256)
cdef class TensorBase:
    """Storage (a numpy array), gradient and graph of a tensor."""
    cdef object _data
    cdef object _grad
    cdef bint _requires_grad
    cdef Node _grad_fn
    cdef _Version _version
    cdef TensorBase _base         # the tensor whose storage this one views, or None
    cdef bint _retains_grad
    cdef list _hooks              # a leaf's hooks (register_hook)
    cdef bint _inference          # made inside inference_mode: never saved for backward
    cdef object __weakref__

    # -- storage and metadata

    @property
    def data(self):
        """The same storage as a tensor that records no graph. As torch's .data, changes
        through it are not seen by autograd: it has a version counter of its own."""
        return _wrap(self._data, None)

    @data.setter
    def data(self, value):
        if not isinstance(value, TensorBase):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = (<TensorBase>value)._data

    @property
    def shape(self):
        """The size of each dimension, a tapegrad.Size."""
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the size of dimension dim."""
        if dim is None:
            return Size(self._data.shape)
        if self._data.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return self._data.shape[_dim(dim, self._data.ndim)]

    @property
    def ndim(self):
        """The number of dimensions."""
        return self._data.ndim

    def dim(self):
        """The number of dimensions."""
        return self._data.ndim

    def numel(self):
        """The number of elements."""
        return self._data.size

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self):
        """The element type (tapegrad.float32, float64, int64, ...)."""
        return self._data.dtype

    @property
    def device(self):
        """The device the tensor lives on: always the CPU."""
        return _CPU

    @property
    def is_cuda(self):
        """Whether the tensor is on a CUDA device: never."""
        return False

    @property
    def is_leaf(self):
        """True for a tensor no recorded op made (what gets .grad)."""
        return self._grad_fn is None

    def is_inference(self):
        """Whether this tensor was made inside inference_mode (or views one that was)."""
        return self._inference

    @property
    def grad_fn(self):
        """The node that made this tensor in the graph, or None for a leaf."""
        return self._grad_fn

    @property
    def _version_value(self):
        return 0 if self._version is None else self._version.value

    @property
    def requires_grad(self):
        """Whether ops record a graph through this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Sets requires_grad on a leaf, in place; returns self."""
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
        """The gradient backward accumulated into this tensor, or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, TensorBase):
                raise TypeError(f"assigned grad must be a Tensor or None, "
                                f"not {type(value).__name__}")
            if (<TensorBase>value)._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has shape "
                                   f"{tuple((<TensorBase>value)._data.shape)} "
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
        """Whether this non-leaf keeps .grad (retain_grad() was called)."""
        return self._retains_grad

    def register_hook(self, hook):
        """hook(grad) runs when this tensor's gradient is computed; it may return a new
        gradient to use instead. Returns a handle whose remove() takes it away."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return self._grad_fn.register_hook(hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def detach(self):
        """The same storage, cut off from the graph (and sharing its version counter)."""
        return _alias(self, self._data)

    def detach_(self):
        """In place: cuts self off from the graph and makes it a leaf."""
        self._grad_fn = None
        self._requires_grad = False
        return self

    def numpy(self):
        """The storage as a numpy array (shared, not copied); refused while it requires grad."""
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        """The one element as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        """The elements as nested Python lists of numbers."""
        return self._data.tolist()

    def __float__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
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
        return format_tensor(self, _default_dtype)

    def __reduce__(self):
        return (_rebuild_tensor, (self._data.copy(), self._requires_grad))

    # -- conversions

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False,
           memory_format=None):
        """torch's three forms: to(device=None, dtype=None), to(dtype), to(other_tensor),
        each with non_blocking and copy. self itself when nothing changes and not copy."""
        args = list(args)
        if args and isinstance(args[0], TensorBase):
            dtype, device = (<TensorBase>args.pop(0))._data.dtype, None
        elif args and _is_device_like(args[0]):
            device = args.pop(0)
            if args and not isinstance(args[0], bool):
                dtype = args.pop(0)
        elif args and not isinstance(args[0], bool):
            dtype = args.pop(0)
        if args and isinstance(args[0], bool):
            non_blocking = args.pop(0)
        if args and isinstance(args[0], bool):
            copy = args.pop(0)
        if args or not (dtype is None or isinstance(dtype, np.dtype) or
                        isinstance(dtype, type) and issubclass(dtype, np.generic)):
            raise TypeError("to() received an invalid combination of arguments: expected "
                            "(device=None, dtype=None, non_blocking=False, copy=False), "
                            "(dtype, non_blocking=False, copy=False) or "
                            "(tensor, non_blocking=False, copy=False)")
        as_device(device)
        if dtype is None:
            return self.clone() if copy else self
        return _cast(self, as_dtype(dtype), copy)

    def cuda(self, device=None, non_blocking=False):
        """Always raises, as torch's CPU build does: tapegrad has no CUDA."""
        as_device("cuda" if device is None else device if isinstance(device, (str, Device))
                  else f"cuda:{device}")

    def float(self):
        """A copy as float32 (self when it already is)."""
        return _cast(self, float32, False)

    def double(self):
        """A copy as float64 (self when it already is)."""
        return _cast(self, float64, False)

    def long(self):
        """A copy as int64 (self when it already is)."""
        return _cast(self, int64, False)

    def int(self):
        """A copy as int32 (self when it already is)."""
        return _cast(self, int32, False)

    def bool(self):
        """A copy as torch.bool (self when it already is)."""
        return _cast(self, bool_, False)

    def type(self, dtype=None, non_blocking=False):
        """With no argument, torch's type string ('tapegrad.FloatTensor'); with a dtype or
        such a string ('torch.DoubleTensor' too), the tensor converted."""
        if dtype is None:
            return "tapegrad." + _TENSOR_TYPE_NAMES[self._data.dtype]
        if isinstance(dtype, str):
            dtype = _dtype_of_type_name(dtype)
        return _cast(self, as_dtype(dtype), False)

    def cpu(self):
        """self: tensors live on the CPU."""
        return self

    def contiguous(self):
        """self when its storage is C-contiguous, else a contiguous copy."""
        return self if self._data.flags.c_contiguous else self.clone()

    def is_contiguous(self):
        """Whether the storage is C-contiguous."""
        return bool(self._data.flags.c_contiguous)

    # -- autograd

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulates d(self)/d(leaf) x gradient into the .grad of every leaf."""
        if create_graph:
            raise NotImplementedError("create_graph=True (higher-order gradients) is not "
                                      "supported by tapegrad")
        run_backward((self,), (gradient,), bool(retain_graph), inputs)


cdef bint _is_device_like(object x):
    return (isinstance(x, (str, Device)) or
            isinstance(x, numbers.Integral) and not isinstance(x, bool))


_TENSOR_TYPE_NAMES = {np.dtype(np.float64): "DoubleTensor", np.dtype(np.float32): "FloatTensor",
                      np.dtype(np.float16): "HalfTensor", np.dtype(np.int64): "LongTensor",
                      np.dtype(np.int32): "IntTensor", np.dtype(np.int16): "ShortTensor",
                      np.dtype(np.int8): "CharTensor", np.dtype(np.uint8): "ByteTensor",
                      np.dtype(np.bool_): "BoolTensor"}
_TENSOR_TYPES = {name: dtype for dtype, name in _TENSOR_TYPE_NAMES.items()}


cdef object _dtype_of_type_name(str name):
    """'torch.FloatTensor' or 'tapegrad.FloatTensor' as its dtype; CUDA types raise."""
    library, _, rest = name.partition(".")
    if rest.startswith("cuda."):
        # torch's CPU build: RuntimeError here (not the AssertionError of .to('cuda'))
        raise RuntimeError(f"Cannot initialize CUDA for '{name}': tapegrad is not compiled "
                           "with CUDA enabled (it runs on the cpu only)")
    if library in ("torch", "tapegrad") and rest in _TENSOR_TYPES:
        return _TENSOR_TYPES[rest]
    raise ValueError(f"invalid type: '{name}'")


def _rebuild_tensor(data, requires_grad):
    t = _wrap(data, None)
    if requires_grad:
        t.requires_grad_(True)
    return t
