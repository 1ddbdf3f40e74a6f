# Tensor: TensorBase and the methods of the ops, each the op's function of the
# table (arithmetic.pxi, elementwise.pxi, ...) applied to self.

cdef class Tensor(TensorBase):
    """A numpy array with PyTorch's autograd.

    Tensor(data) makes a float32 tensor, as torch.Tensor does;
    tapegrad.tensor(data, dtype=None, requires_grad=False) infers the dtype.
    """

    def __init__(self, *args, device=None, requires_grad=False, dtype=None):
        check_device(device)
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            arr = infer_array(args[0], dtype if dtype is not None else _default_dtype)
        elif all(isinstance(a, numbers.Integral) for a in args):
            arr = np.zeros(tuple(args), dtype=dtype if dtype is not None else _default_dtype)
        else:
            raise TypeError("Tensor() takes data, or sizes as integers")
        self._data = np.array(arr, copy=True)   # torch.Tensor(data) copies
        if requires_grad:
            self.requires_grad_(True)

    # -- arithmetic

    def __add__(self, other):
        return _binary(ADD, np.add, self, other)

    def __radd__(self, other):
        return _binary(ADD, np.add, self, other)

    def __sub__(self, other):
        return _binary(SUB, np.subtract, self, other)

    def __rsub__(self, other):
        return rsub(self, other)

    def __mul__(self, other):
        return _binary(MUL, np.multiply, self, other)

    def __rmul__(self, other):
        return _binary(MUL, np.multiply, self, other)

    def __truediv__(self, other):
        return _binary(DIV, np.true_divide, self, other, True)

    def __rtruediv__(self, other):
        return rdiv(self, other)

    def __pow__(self, other, modulo):
        if modulo is not None:
            return NotImplemented
        return pow_op(self, other)

    def __rpow__(self, other, modulo):
        if modulo is not None:
            return NotImplemented
        return pow_op(_operand(other, self), self)

    def __neg__(self):
        return neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return abs_op(self)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(_operand(other, self), self)

    def add(self, other, *, alpha=1):
        return add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return sub(self, other, alpha=alpha)

    def mul(self, other):
        return mul(self, other)

    def div(self, other):
        return div(self, other)

    def pow(self, exponent):
        return pow_op(self, exponent)

    def neg(self):
        return neg(self)

    def matmul(self, other):
        return matmul(self, other)

    def mm(self, mat2):
        return mm(self, mat2)

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

    def __hash__(self):
        return id(self)

    def eq(self, other):
        return self == other

    def equal(self, other):
        return bool(isinstance(other, TensorBase)
                    and self._data.shape == (<TensorBase>other)._data.shape
                    and np.array_equal(self._data, (<TensorBase>other)._data))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return bool(np.allclose(self._data, _operand(other, self)._data, rtol, atol, equal_nan))

    # -- elementwise

    def exp(self):
        return _unary(exp, self)

    def log(self):
        return _unary(log, self)

    def tanh(self):
        return _unary(tanh, self)

    def sigmoid(self):
        return _unary(sigmoid, self)

    def relu(self):
        return _unary(relu, self)

    def abs(self):
        return _unary(abs_op, self)

    def sqrt(self):
        return _unary(sqrt, self)

    def clamp(self, min=None, max=None):
        return clamp(self, min, max)

    clip = clamp

    def clone(self):
        return clone(self)

    # -- reductions

    def sum(self, dim=None, keepdim=False, dtype=None):
        return sum_op(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        return mean(self, dim, keepdim, dtype=dtype)

    def max(self, dim=None, keepdim=False):
        return _extreme(self, dim, keepdim, True)

    def min(self, dim=None, keepdim=False):
        return _extreme(self, dim, keepdim, False)

    def argmax(self, dim=None, keepdim=False):
        return argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return argmin(self, dim, keepdim)

    def softmax(self, dim, dtype=None):
        return softmax(self, dim, dtype)

    def log_softmax(self, dim, dtype=None):
        return log_softmax(self, dim, dtype)

    # -- shapes

    def reshape(self, *shape):
        return _reshape(self, _shape_arg(shape), False)

    def view(self, *shape):
        return _reshape(self, _shape_arg(shape), True)

    def view_as(self, other):
        _check_tensor_argument("view_as", "other", other)
        return _reshape(self, tuple((<TensorBase>other)._data.shape), True)

    def reshape_as(self, other):
        _check_tensor_argument("reshape_as", "other", other)
        return _reshape(self, tuple((<TensorBase>other)._data.shape), False)

    def flatten(self, start_dim=0, end_dim=-1):
        return _flatten(self, start_dim, end_dim)

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
        return _squeeze(self, dim)

    def unsqueeze(self, dim):
        return _unsqueeze(self, dim)

    def expand(self, *sizes):
        sizes = _shape_arg(sizes)
        shape = self._data.shape
        lead = len(sizes) - len(shape)
        target = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        return _expand(self, target)

    def expand_as(self, other):
        _check_tensor_argument("expand_as", "other", other)
        return _expand(self, tuple((<TensorBase>other)._data.shape))

    # --- shapes, indexing and products (issue 12): shapes_more.pxi, gather_scatter.pxi,
    # products.pxi

    def repeat(self, *sizes):
        return _repeat(self, _shape_arg(sizes))

    def chunk(self, chunks, dim=0):
        return _chunk(self, chunks, dim)

    def split(self, split_size, dim=0):
        return _split(self, split_size, dim)

    def unbind(self, dim=0):
        return _unbind(self, dim)

    def narrow(self, dim, start, length):
        return _narrow(self, dim, start, length)

    def flip(self, *dims):
        return _flip(self, _shape_arg(dims))

    def roll(self, shifts, dims=None):
        return _roll(self, shifts, dims)

    def tril(self, diagonal=0):
        return _triangle(self, diagonal, True)

    def triu(self, diagonal=0):
        return _triangle(self, diagonal, False)

    def diag(self, diagonal=0):
        return _diag(self, diagonal)

    def outer(self, vec2):
        return _outer(self, vec2)

    def movedim(self, source, destination):
        return _movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0, axis1):
        return self.transpose(axis0, axis1)

    def swapdims(self, dim0, dim1):
        return self.transpose(dim0, dim1)

    def gather(self, dim, index, *, sparse_grad=False):
        return gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return scatter_add(self, dim, index, src)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        if reduce is not None:
            raise NotImplementedError("scatter_(reduce=...) is not supported by tapegrad")
        return _scatter_(self, dim, index, src, value, False)

    def scatter_add_(self, dim, index, src):
        return _scatter_(self, dim, index, src, None, True)

    def index_select(self, dim, index):
        return index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        return index_add(self, dim, index, source, alpha=alpha)

    def masked_fill(self, mask, value):
        return masked_fill(self, mask, value)

    def masked_fill_(self, mask, value):
        return _masked_fill_(self, mask, value)

    def bmm(self, mat2):
        return bmm(self, mat2)

    def mv(self, vec):
        return mv(self, vec)

    def dot(self, tensor):
        return dot(self, tensor)

    def __getitem__(self, index):
        return _getitem(self, index)

    def __setitem__(self, index, value):
        _setitem(self, index, value)

    # -- in place: the out-of-place ops' formulas

    def add_(self, other, *, alpha=1):
        return _inplace_binary(ADD, np.add, self, other * alpha if alpha != 1 else other)

    def sub_(self, other, *, alpha=1):
        return _inplace_binary(SUB, np.subtract, self, other * alpha if alpha != 1 else other)

    def mul_(self, other):
        return _inplace_binary(MUL, np.multiply, self, other)

    def div_(self, other):
        return _inplace_binary(DIV, np.true_divide, self, other, True)

    def __iadd__(self, other):
        return _inplace_binary(ADD, np.add, self, other)

    def __isub__(self, other):
        return _inplace_binary(SUB, np.subtract, self, other)

    def __imul__(self, other):
        return _inplace_binary(MUL, np.multiply, self, other)

    def __itruediv__(self, other):
        return _inplace_binary(DIV, np.true_divide, self, other, True)

    def relu_(self):
        return _inplace_unary(relu, self)

    def exp_(self):
        return _inplace_unary(exp, self)

    def tanh_(self):
        return _inplace_unary(tanh, self)

    def sigmoid_(self):
        return _inplace_unary(sigmoid, self)

    def zero_(self):
        return _fill(self, 0, ZERO)

    def fill_(self, value):
        return _fill(self, value)

    def copy_(self, src):
        return _copy(self, src)


cdef int _check_tensor_argument(str method, str name, object value) except -1:
    if not isinstance(value, TensorBase):
        raise TypeError(f"{method}(): argument '{name}' (position 1) must be Tensor, not "
                        f"{type(value).__name__}")
    return 0
