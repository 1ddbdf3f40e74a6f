# The surface the Python modules (creation, autograd, nn, optim) build on. It
# is public within tapegrad, not part of its API.

def adopt(TensorBase t, data):
    """Makes t (a new instance of a Tensor subclass, such as Parameter) a tensor over data."""
    t._data = data


def new_tensor(data, requires_grad=False):
    """A leaf over the array data, shared."""
    t = _wrap(data, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def gradient_tensor(arr, like):
    """A gradient array as a tensor with like's shape and dtype."""
    cdef TensorBase t = like
    return _wrap(np.array(np.broadcast_to(_cast_array(np.asarray(arr), t._data.dtype),
                                          t._data.shape)), None)


def bump_version(TensorBase t):
    """Records that t's storage was written outside the tensor ops (an optimizer's step)."""
    _bump(t)
