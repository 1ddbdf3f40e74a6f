# Operands: dtypes, making arrays from what users pass, torch's type promotion,
# dimension arguments, sizes and the device.

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)

cdef object _default_dtype = float32

# the dtype kinds a tensor can have: float, signed and unsigned integers, bool
cdef str _TENSOR_KINDS = 'fiub'


cdef object _refuse_dtype(object dt):
    return TypeError(f"can't convert np.ndarray of type numpy.{dt.type.__name__}. The only "
                     "supported types are: float64, float32, float16, int64, int32, int16, "
                     "int8, uint64, uint32, uint16, uint8, and bool.")


def infer_array(data, dtype):
    """torch.tensor's inference: floats are the default float dtype, ints int64, bools bool.

    Integers beyond int64 and arrays of dtypes tensors do not have (str, object,
    complex, datetime) are refused, as torch refuses them."""
    if isinstance(data, TensorBase):
        arr = (<TensorBase>data)._data
    elif isinstance(data, np.ndarray):
        arr = data
        if arr.dtype.kind not in _TENSOR_KINDS:
            raise _refuse_dtype(arr.dtype)
    else:
        try:
            arr = np.asarray(data)
        except OverflowError:
            raise ValueError("Overflow when unpacking long long") from None
        kind = arr.dtype.kind
        if kind == 'u' or kind in 'Of' and _may_hold_big_int(arr) and _has_big_int(data):
            # numpy holds ints past int64 as uint64 or objects: torch refuses them
            raise ValueError("Overflow when unpacking long long")
        if dtype is None:
            if kind == 'f':
                arr = arr.astype(_default_dtype)
            elif kind == 'i':
                arr = arr.astype(np.int64)
            elif kind != 'b':
                raise TypeError(f"tensor(): cannot make a tensor of {type(data).__name__} "
                                f"(numpy dtype {arr.dtype}); give numbers, or nested lists of them")
        elif kind not in _TENSOR_KINDS:
            raise TypeError(f"tensor(): cannot make a tensor of {type(data).__name__} "
                            f"(numpy dtype {arr.dtype}); give numbers, or nested lists of them")
    if dtype is not None:
        arr = arr.astype(as_dtype(dtype))
    return arr


cdef bint _may_hold_big_int(object arr):
    """Whether arr (made from Python data) may stand for an int past int64: numpy
    makes such ints floats (or objects) when they sit beside small ones."""
    if arr.dtype.kind == 'O':
        return True
    # abs() >= 2**63 is False for NaN: no nanmax, which warns on an all-NaN array
    return arr.size > 0 and bool((np.abs(arr) >= 2.0 ** 63).any())


cdef bint _has_big_int(object data):
    """Whether data holds an int past int64 and no float (with a float, torch makes
    the tensor float, and the big int is a float too)."""
    stack = [data]
    big = False
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, float):
            return False
        elif isinstance(x, int) and not -2**63 <= x < 2**63:
            big = True
    return big


def as_dtype(dtype):
    """dtype as a numpy dtype that tensors can have, or TypeError."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r}") from None
    if dt.kind not in _TENSOR_KINDS:
        raise TypeError(f"unsupported dtype {dt}: tapegrad has float, integer and bool tensors")
    return dt


cdef TensorBase _operand(object x, TensorBase like):
    """A Python number, array or nested list as a tensor, with torch's type
    promotion against like: a Python float with an integer tensor is float32,
    a Python int keeps like's dtype, arrays keep their own."""
    if isinstance(x, TensorBase):
        return <TensorBase>x
    cdef object dt = like._data.dtype
    if isinstance(x, bool):
        arr = np.array(x, dtype=dt if dt.kind != 'b' else bool_)
    elif isinstance(x, numbers.Integral):
        arr = np.array(x, dtype=dt if dt.kind != 'b' else int64)
    elif isinstance(x, numbers.Real):
        arr = np.array(x, dtype=dt if dt.kind == 'f' else _default_dtype)
    elif isinstance(x, np.ndarray):
        if x.dtype.kind not in _TENSOR_KINDS:
            raise _refuse_dtype(x.dtype)
        arr = x
    elif isinstance(x, (list, tuple)):
        arr = infer_array(x, None)
    else:
        raise TypeError(f"unsupported operand type for a tensor op: {type(x).__name__}")
    return _wrap(arr, None)


cdef TensorBase _as_tensor(object x):
    """A tensor argument given as a tensor or as data."""
    if isinstance(x, TensorBase):
        return <TensorBase>x
    return _wrap(infer_array(x, None), None)


cdef inline int _category(object dtype) noexcept:
    """torch's promotion categories: bool < integers < floats."""
    cdef str kind = dtype.kind
    return 0 if kind == 'b' else 2 if kind == 'f' else 1


cdef object _promote(object a, object b):
    """torch's promotion of two arrays' dtypes: a 0-d array beside an n-d one counts
    only by its category (an int64 0-d leaves int32 int32, a float64 0-d leaves float32
    float32, a float 0-d makes integers its own float); otherwise float wins over
    integers and bool at its own width, and numpy's promotion decides the rest."""
    da, db = a.dtype, b.dtype
    if da is db:
        return da
    if (a.ndim == 0) != (b.ndim == 0):
        ca, cb = _category(da), _category(db)
        if a.ndim == 0:
            return da if ca > cb else db
        return db if cb > ca else da
    fa, fb = da.kind == 'f', db.kind == 'f'
    if fa and not fb:
        return da
    if fb and not fa:
        return db
    return np.result_type(da, db)


cdef inline object _cast_array(object arr, object dtype):
    return arr if arr.dtype is dtype else arr.astype(dtype)


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


cdef tuple _shape_arg(tuple args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


cdef object _shape_error(TensorBase a, TensorBase b, str op):
    return RuntimeError(f"{op}: the shapes {tuple(a._data.shape)} and {tuple(b._data.shape)} "
                        "cannot be broadcast together")


class Size(tuple):
    """A tensor's shape: a tuple, printed as torch prints it."""
    def __repr__(self):
        return f"tapegrad.Size({list(self)})"

    def numel(self):
        """The number of elements a tensor of this shape holds: the product of the sizes."""
        n = 1
        for s in self:
            n *= s
        return n


import operator

_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                 "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")


class Device:
    """torch.device, made as device(type, index=None), device("type:index") or
    device(another_device): any of torch's device types can be named (device('cuda:1')
    is fine, as in torch), but tensors live only on the cpu: moving data elsewhere
    raises (check_device).

    Attributes
    ----------
    type : str
        The device type, such as 'cpu' or 'cuda'.
    index : int or None
        The device's index, None where none was given.
    """
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, Device):
            if index is not None:
                raise TypeError("device(): give a device, or a type and an index, not both")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, numbers.Integral) and not isinstance(type, bool):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments: "
                            f"got ({_typename(type)})")
        kind, colon, number = type.partition(":")
        if kind not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at "
                               f"start of device string: {type}")
        if colon:
            if index is not None or not number.isdigit() or (len(number) > 1 and number[0] == "0"):
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(number)
        if index is not None:
            index = operator.index(index)
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self.type, self.index = kind, index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        # as torch's: a device equals a device of the same type and index, never a string
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (Device, (self.type, self.index))


cdef str _typename(object obj):
    return type(obj).__name__


_CPU = Device("cpu")


def as_device(device):
    """device (a string, Device or None) as a Device, refusing any but the cpu with
    the error torch's CPU build gives: AssertionError for cuda, RuntimeError others."""
    if device is None:
        return _CPU
    if not isinstance(device, Device):
        device = Device(device)
    if device.type == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled (tapegrad runs on the cpu "
                             f"only: cannot place data on {device})")
    if device.type != "cpu" or device.index not in (None, 0):
        raise RuntimeError(f"tapegrad supports only the cpu device, not {device}")
    return device


def check_device(device):
    """Return quietly where device (a device, a string, or None) is the cpu; raise as
    torch's CPU build does for any other: AssertionError for cuda, RuntimeError else."""
    as_device(device)


cdef object _check_device = check_device


# ------------------------------------------------------------ default dtype

def set_default_dtype(d):
    """The dtype of float tensors made from Python floats, of creation functions, and of
    float ops on integer tensors: float32 (the start) or float64, as torch allows."""
    global _default_dtype
    try:
        dt = np.dtype(d)
    except TypeError:
        dt = None
    if dt is None or dt.kind != 'f':
        raise TypeError("only floating-point types are supported as the default type")
    if dt != float32 and dt != float64:
        raise TypeError(f"tapegrad's default dtype can be float32 or float64, not {dt}")
    _default_dtype = float32 if dt == float32 else float64


def get_default_dtype():
    """The dtype new floating-point tensors get: float32 unless set_default_dtype changed it."""
    return _default_dtype
