# Tensor: TensorBase and the methods of the ops, each the op's function of the
# table (arithmetic.pxi, elementwise.pxi, ...) applied to self.

cdef class Tensor(TensorBase):
    # the first line is CPython's text signature: inspect.signature(Tensor) and help()
    """Tensor(*args, device=None, requires_grad=False, dtype=None)\n--\n\n
    A numpy array with PyTorch's autograd.

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

    def __floordiv__(self, other):
        return floor_divide(self, other)

    def __rfloordiv__(self, other):
        return floor_divide(_operand(other, self), self)

    def floor_divide(self, other):
        """floor(self / other), broadcast; integers stay integers."""
        return floor_divide(self, other)

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
        """self + alpha * other, broadcast."""
        return add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        """self - alpha * other, broadcast."""
        return sub(self, other, alpha=alpha)

    def mul(self, other):
        """self * other, broadcast."""
        return mul(self, other)

    def div(self, other):
        """self / other, broadcast."""
        return div(self, other)

    def pow(self, exponent):
        """self ** exponent, broadcast."""
        return pow_op(self, exponent)

    def neg(self):
        """-self."""
        return neg(self)

    def matmul(self, other):
        """The matrix product self @ other, with numpy's broadcasting rules."""
        return matmul(self, other)

    def mm(self, mat2):
        """The product of two matrices (2-d only)."""
        return mm(self, mat2)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """beta * self + alpha * (mat1 @ mat2), as nn.Linear records it."""
        return addmm(self, mat1, mat2, beta=beta, alpha=alpha)

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
        """Elementwise self == other, as a bool tensor."""
        return self == other

    def equal(self, other):
        """True when other has the same shape and the same elements."""
        return bool(isinstance(other, TensorBase)
                    and self._data.shape == (<TensorBase>other)._data.shape
                    and np.array_equal(self._data, (<TensorBase>other)._data))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """Whether all elements are within ``atol + rtol * abs(other)`` of other."""
        return bool(np.allclose(self._data, _operand(other, self)._data, rtol, atol, equal_nan))

    # -- elementwise

    def exp(self):
        """The elementwise exponential."""
        return _unary(exp, self)

    def log(self):
        """The elementwise natural logarithm."""
        return _unary(log, self)

    def tanh(self):
        """The elementwise hyperbolic tangent."""
        return _unary(tanh, self)

    def sigmoid(self):
        """The elementwise logistic sigmoid 1 / (1 + exp(-x))."""
        return _unary(sigmoid, self)

    def relu(self):
        """max(self, 0) elementwise."""
        return _unary(relu, self)

    def abs(self):
        """The elementwise absolute value."""
        return _unary(abs_op, self)

    def sqrt(self):
        """The elementwise square root."""
        return _unary(sqrt, self)

    def clamp(self, min=None, max=None):
        """Each element limited to [min, max]; either bound may be None."""
        return clamp(self, min, max)

    clip = clamp

    def clone(self):
        """A copy with its own storage that stays in the graph."""
        return clone(self)

    # -- reductions

    def sum(self, dim=None, keepdim=False, dtype=None):
        """The sum over all elements or along dim."""
        return sum_op(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        """The mean over all elements or along dim."""
        return mean(self, dim, keepdim, dtype=dtype)

    def max(self, dim=None, keepdim=False):
        """The largest element, (values, indices) along dim, or maximum(self, other)
        given a tensor."""
        if isinstance(dim, TensorBase):
            return maximum(self, dim)
        return _extreme(self, dim, keepdim, True)

    def min(self, dim=None, keepdim=False):
        """The smallest element, (values, indices) along dim, or minimum(self, other)
        given a tensor."""
        if isinstance(dim, TensorBase):
            return minimum(self, dim)
        return _extreme(self, dim, keepdim, False)

    def median(self, dim=None, keepdim=False):
        """The lower median, or (values, indices) along dim."""
        return median(self, dim, keepdim)

    def kthvalue(self, k, dim=-1, keepdim=False):
        """The k-th smallest element along dim, as (values, indices)."""
        return kthvalue(self, k, dim, keepdim)

    def aminmax(self, *, dim=None, keepdim=False):
        """(amin, amax), over every element or along dim."""
        return aminmax(self, dim=dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False):
        """The index of the largest element, over all elements or along dim."""
        return argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        """The index of the smallest element, over all elements or along dim."""
        return argmin(self, dim, keepdim)

    def softmax(self, dim, dtype=None):
        """exp(self) / sum(exp(self)) along dim, computed stably."""
        return softmax(self, dim, dtype)

    def log_softmax(self, dim, dtype=None):
        """log(softmax(self)) along dim, computed stably."""
        return log_softmax(self, dim, dtype)

    # --- math functions and reductions (issue 12, math)

    def sin(self):
        """The elementwise sine."""
        return _unary(sin, self)

    def cos(self):
        """The elementwise cosine."""
        return _unary(cos, self)

    def tan(self):
        """The elementwise tangent."""
        return _unary(tan, self)

    def asin(self):
        """The elementwise arcsine; NaN (and a NaN gradient) outside [-1, 1], as torch."""
        return _unary(asin, self)

    def acos(self):
        """The elementwise arccosine; NaN (and a NaN gradient) outside [-1, 1], as torch."""
        return _unary(acos, self)

    def atan(self):
        """The elementwise arctangent."""
        return _unary(atan, self)

    def sinh(self):
        """The elementwise hyperbolic sine."""
        return _unary(sinh, self)

    def cosh(self):
        """The elementwise hyperbolic cosine."""
        return _unary(cosh, self)

    def exp2(self):
        """2 ** self, elementwise."""
        return _unary(exp2, self)

    def expm1(self):
        """exp(self) - 1, elementwise, accurate near 0."""
        return _unary(expm1, self)

    def log2(self):
        """The elementwise base-2 logarithm."""
        return _unary(log2, self)

    def log10(self):
        """The elementwise base-10 logarithm."""
        return _unary(log10, self)

    def log1p(self):
        """log(1 + self), elementwise, accurate near 0."""
        return _unary(log1p, self)

    def sign(self):
        """-1, 0 or 1 by the sign of each element; its gradient is 0."""
        return _unary(sign, self)

    def floor(self):
        """Each element rounded down; its gradient is 0."""
        return _unary(floor, self)

    def ceil(self):
        """Each element rounded up; its gradient is 0."""
        return _unary(ceil, self)

    def round(self, *, decimals=0):
        """Each element rounded to decimals places, halves to even as torch; gradient 0."""
        return round_op(self, decimals=decimals)

    def trunc(self):
        """Each element rounded toward 0; its gradient is 0."""
        return _unary(trunc, self)

    def frac(self):
        """self - trunc(self): the fractional part, with the sign of self."""
        return _unary(frac, self)

    def reciprocal(self):
        """1 / self, elementwise."""
        return _unary(reciprocal, self)

    def rsqrt(self):
        """1 / sqrt(self), elementwise."""
        return _unary(rsqrt, self)

    def square(self):
        """self * self, elementwise."""
        return square(self)

    def erf(self):
        """The elementwise Gauss error function."""
        return _unary(erf, self)

    def sin_(self):
        """In place: self = sin(self)."""
        return _inplace_unary(sin, self)

    def cos_(self):
        """In place: self = cos(self)."""
        return _inplace_unary(cos, self)

    def log_(self):
        """In place: self = log(self)."""
        return _inplace_unary(log, self)

    def sqrt_(self):
        """In place: self = sqrt(self)."""
        return _inplace_unary(sqrt, self)

    def abs_(self):
        """In place: self = abs(self)."""
        return _inplace_unary(abs_op, self)

    def floor_(self):
        """In place: self = floor(self)."""
        return _inplace_unary(floor, self)

    def ceil_(self):
        """In place: self = ceil(self)."""
        return _inplace_unary(ceil, self)

    def round_(self):
        """In place: self = round(self), halves to even."""
        return _inplace_unary(round_half_even, self)

    def trunc_(self):
        """In place: self = trunc(self)."""
        return _inplace_unary(trunc, self)

    def reciprocal_(self):
        """In place: self = 1 / self."""
        return _inplace_unary(reciprocal, self)

    def maximum(self, other):
        """The elementwise maximum of self and other (broadcast); a tie shares the
        gradient equally, as torch."""
        return maximum(self, other)

    def minimum(self, other):
        """The elementwise minimum of self and other (broadcast); a tie shares the
        gradient equally, as torch."""
        return minimum(self, other)

    def fmod(self, other):
        """The remainder of self / other with the sign of self (C's fmod)."""
        return fmod(self, other)

    def remainder(self, other):
        """The remainder of self / other with the sign of other (Python's %)."""
        return remainder(self, other)

    def __mod__(self, other):
        return remainder(self, other)

    def __rmod__(self, other):
        return remainder(_operand(other, self), self)

    def atan2(self, other):
        """The elementwise angle of the point (other, self): atan(self / other) in the
        right quadrant."""
        return atan2(self, other)

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2

    def prod(self, dim=None, keepdim=False, dtype=None):
        """The product of all elements, or along dim; with one zero the gradient is the
        product of the others there, as torch."""
        return prod(self, dim, keepdim, dtype=dtype)

    def cumsum(self, dim, dtype=None):
        """The running sum along dim."""
        return cumsum(self, dim, dtype=dtype)

    def logsumexp(self, dim, keepdim=False):
        """log(sum(exp(self))) along dim, computed stably."""
        return logsumexp(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        """The maximum along dim (all dimensions where dim is ()); ties share the
        gradient equally, as torch."""
        return amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        """The minimum along dim (all dimensions where dim is ()); ties share the
        gradient equally, as torch."""
        return amin(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        """Whether every element (or every one along dim) is nonzero: a bool tensor."""
        return all_op(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        """Whether some element (or some along dim) is nonzero: a bool tensor."""
        return any_op(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """The variance over all elements or along dim, with torch's correction (1 by
        default, 0 where unbiased is False)."""
        return var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """The standard deviation: the root of var with the same arguments."""
        return std(self, dim, unbiased, keepdim, correction=correction)

    def norm(self, p='fro', dim=None, keepdim=False, dtype=None):
        """The p-norm over all elements or along dim ('fro' is the 2-norm, inf the
        largest absolute value)."""
        return norm(self, p, dim, keepdim, dtype)

    def sort(self, dim=-1, descending=False, stable=False):
        """(values, indices) sorted along dim, ascending unless descending; stable keeps
        equal elements in order."""
        return sort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """(values, indices) of the k largest elements along dim (the smallest where
        largest is False), sorted."""
        return topk(self, k, dim, largest, sorted)

    # -- shapes

    def reshape(self, *shape):
        """The elements in the given shape: a view where the layout allows, else a copy."""
        return _reshape(self, _shape_arg(shape), False)

    def view(self, *shape):
        """A view of the same storage in another shape."""
        return _reshape(self, _shape_arg(shape), True)

    def view_as(self, other):
        """self viewed in other's shape."""
        _check_tensor_argument("view_as", "other", other)
        return _reshape(self, tuple((<TensorBase>other)._data.shape), True)

    def reshape_as(self, other):
        """self reshaped to other's shape."""
        _check_tensor_argument("reshape_as", "other", other)
        return _reshape(self, tuple((<TensorBase>other)._data.shape), False)

    def flatten(self, start_dim=0, end_dim=-1):
        """The dimensions start_dim to end_dim merged into one."""
        return _flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        """A view with dimensions dim0 and dim1 swapped."""
        n = self._data.ndim
        axes = list(range(n))
        if n:
            a, b = _dim(dim0, n), _dim(dim1, n)
            axes[a], axes[b] = axes[b], axes[a]
        return _permute(self, tuple(axes))

    def t(self):
        """The transpose of a tensor of at most 2 dimensions."""
        if self._data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self._data.ndim}D")
        return self.transpose(0, 1) if self._data.ndim == 2 else self

    @property
    def T(self):
        """The tensor with its dimensions reversed (a view), as torch's .T."""
        return _permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    def permute(self, *dims):
        """A view with the dimensions in the given order."""
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
        """A view without the dimensions of size 1 (or without dim, if it is 1)."""
        return _squeeze(self, dim)

    def unsqueeze(self, dim):
        """A view with a new dimension of size 1 at dim."""
        return _unsqueeze(self, dim)

    def expand(self, *sizes):
        """A broadcast view of self to the given sizes (-1 keeps a size)."""
        sizes = _shape_arg(sizes)
        shape = self._data.shape
        lead = len(sizes) - len(shape)
        target = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        return _expand(self, target)

    def expand_as(self, other):
        """self expanded to other's shape."""
        _check_tensor_argument("expand_as", "other", other)
        return _expand(self, tuple((<TensorBase>other)._data.shape))

    # --- shapes, indexing and products (issue 12): shapes_more.pxi, gather_scatter.pxi,
    # products.pxi

    def repeat(self, *sizes):
        """The tensor tiled: sizes[i] copies along dimension i (torch's repeat, numpy's
        tile)."""
        return _repeat(self, _shape_arg(sizes))

    def chunk(self, chunks, dim=0):
        """The tensor split into at most chunks views along dim, of equal size but the
        last."""
        return _chunk(self, chunks, dim)

    def split(self, split_size, dim=0):
        """Views along dim, each split_size long (the last shorter), or of the given list
        of sizes."""
        return _split(self, split_size, dim)

    def unbind(self, dim=0):
        """The slices along dim, as a tuple of views without that dimension."""
        return _unbind(self, dim)

    def narrow(self, dim, start, length):
        """A view of length elements along dim, from start."""
        return _narrow(self, dim, start, length)

    def flip(self, *dims):
        """A copy with the order of elements reversed along each of dims."""
        return _flip(self, _shape_arg(dims))

    def roll(self, shifts, dims=None):
        """The elements shifted by shifts along dims, wrapping around (flattened where
        dims is None)."""
        return _roll(self, shifts, dims)

    def tril(self, diagonal=0):
        """The lower triangle of the last two dimensions (below diagonal and on it); the
        rest zero."""
        return _triangle(self, diagonal, True)

    def triu(self, diagonal=0):
        """The upper triangle of the last two dimensions (above diagonal and on it); the
        rest zero."""
        return _triangle(self, diagonal, False)

    def diag(self, diagonal=0):
        """A 1-D tensor's values on a diagonal of a square matrix, or a matrix's
        diagonal as a 1-D tensor."""
        return _diag(self, diagonal)

    def outer(self, vec2):
        """The outer product of two 1-D tensors: out[i, j] = self[i] * vec2[j]."""
        return _outer(self, vec2)

    def movedim(self, source, destination):
        """A view with dimensions source moved to destination (ints or sequences); the
        others keep their order."""
        return _movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0, axis1):
        """transpose(axis0, axis1), numpy's name."""
        return self.transpose(axis0, axis1)

    def swapdims(self, dim0, dim1):
        """transpose(dim0, dim1)."""
        return self.transpose(dim0, dim1)

    def gather(self, dim, index, *, sparse_grad=False):
        """out[i][j] = self[index[i][j]][j] for dim 0 (likewise for other dims): the
        values at index along dim. sparse_grad is accepted and ignored."""
        return gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        """A copy with src (or the number value) written at index along dim. reduce
        raises NotImplementedError."""
        return scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        """A copy with src added at index along dim; repeated indices add up."""
        return scatter_add(self, dim, index, src)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        """In place: write src (or value) at index along dim. reduce raises
        NotImplementedError."""
        if reduce is not None:
            raise NotImplementedError("scatter_(reduce=...) is not supported by tapegrad")
        return _scatter_(self, dim, index, src, value, False)

    def scatter_add_(self, dim, index, src):
        """In place: add src at index along dim; repeated indices add up."""
        return _scatter_(self, dim, index, src, None, True)

    def index_select(self, dim, index):
        """The slices along dim at the integer indices of a 0- or 1-D index."""
        return index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        """A copy with alpha * source added at the slices index along dim."""
        return index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim, index, source, *, alpha=1):
        """In place: alpha * source's slices added at index along dim."""
        return _index_add_(self, dim, index, source, alpha)

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        """Each element (slice along dim) repeated repeats times."""
        return repeat_interleave(self, repeats, dim)

    def masked_fill(self, mask, value):
        """A copy with value (a number or a 0-d tensor) where mask (broadcast) is True."""
        return masked_fill(self, mask, value)

    def masked_fill_(self, mask, value):
        """In place: value where mask (broadcast) is True."""
        return _masked_fill_(self, mask, value)

    def bmm(self, mat2):
        """The batched matrix product of (b, n, m) and (b, m, p): no broadcasting."""
        return bmm(self, mat2)

    def mv(self, vec):
        """The product of an (n, m) matrix and an (m,) vector."""
        return mv(self, vec)

    def dot(self, tensor):
        """The dot product of two 1-D tensors of the same length."""
        return dot(self, tensor)

    def __getitem__(self, index):
        return _getitem(self, index)

    def __setitem__(self, index, value):
        _setitem(self, index, value)

    # -- in place: the out-of-place ops' formulas

    def add_(self, other, *, alpha=1):
        """In place: self += alpha * other."""
        return _inplace_binary(ADD, np.add, self, other * alpha if alpha != 1 else other)

    def sub_(self, other, *, alpha=1):
        """In place: self -= alpha * other."""
        return _inplace_binary(SUB, np.subtract, self, other * alpha if alpha != 1 else other)

    def mul_(self, other):
        """In place: ``self *= other``."""
        return _inplace_binary(MUL, np.multiply, self, other)

    def div_(self, other):
        """In place: self /= other."""
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
        """In place: self = relu(self)."""
        return _inplace_unary(relu, self)

    def clamp_(self, min=None, max=None):
        """In place: self = clamp(self, min, max)."""
        return _clamp_(self, min, max)

    def exp_(self):
        """In place: self = exp(self)."""
        return _inplace_unary(exp, self)

    def tanh_(self):
        """In place: self = tanh(self)."""
        return _inplace_unary(tanh, self)

    def sigmoid_(self):
        """In place: self = sigmoid(self)."""
        return _inplace_unary(sigmoid, self)

    def zero_(self):
        """In place: every element set to 0."""
        return _fill(self, 0, ZERO)

    def fill_(self, value):
        """In place: every element set to value."""
        return _fill(self, value)

    def copy_(self, src):
        """In place: writes src (broadcast, cast) into self; the gradient flows to src."""
        return _copy(self, src)

    # --- the surface users meet first: formatting and DLPack (issue 12)

    def __format__(self, format_spec):
        """'{:.2f}'.format(t) formats a 0-d tensor's number, as torch; other tensors take
        only the empty spec (their repr)."""
        if self._data.ndim == 0:
            return self.item().__format__(format_spec)
        if format_spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Exports the storage without a copy (numpy's DLPack export), as torch does;
        a tensor that requires grad is refused with torch's BufferError."""
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use "
                              "tensor.detach()")
        if stream is not None and stream != -1:
            raise BufferError(f"stream {stream!r} given for a cpu tensor: only None is valid")
        kwargs = {}
        if max_version is not None:
            kwargs["max_version"] = max_version
        if dl_device is not None:
            kwargs["dl_device"] = dl_device
        if copy is not None:
            kwargs["copy"] = copy
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()


cdef int _check_tensor_argument(str method, str name, object value) except -1:
    if not isinstance(value, TensorBase):
        raise TypeError(f"{method}(): argument '{name}' (position 1) must be Tensor, not "
                        f"{type(value).__name__}")
    return 0
