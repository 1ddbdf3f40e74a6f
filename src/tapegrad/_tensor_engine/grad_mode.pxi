# Grad mode, per thread as torch's: a thread's no_grad() leaves other threads
# recording. The mode lives in a thread-specific slot of CPython's (a C-level
# lookup, a few ns per op): NULL is the default, grad enabled.

from cpython.pythread cimport PyThread_tss_create, PyThread_tss_get, PyThread_tss_set

cdef Py_tss_t _grad_mode_key
cdef Py_tss_t _inference_key      # NULL outside inference_mode, _INFERENCE_ON inside
if PyThread_tss_create(&_grad_mode_key) != 0 or PyThread_tss_create(&_inference_key) != 0:
    raise MemoryError("tapegrad: cannot create the thread-specific grad mode")

cdef void *_GRAD_OFF = <void *>1
cdef void *_GRAD_ON = <void *>2
cdef void *_INFERENCE_ON = <void *>1


cdef inline bint _inference_enabled() noexcept:
    return PyThread_tss_get(&_inference_key) != NULL


cdef inline bint _grad_enabled() noexcept:
    return PyThread_tss_get(&_grad_mode_key) != _GRAD_OFF and not _inference_enabled()


cdef inline void _set_grad_enabled(bint mode) noexcept:
    PyThread_tss_set(&_grad_mode_key, _GRAD_ON if mode else _GRAD_OFF)


def is_grad_enabled():
    """Whether ops record a graph in this thread."""
    return _grad_enabled()


def is_inference_mode_enabled():
    """Whether this thread is inside inference_mode()."""
    return _inference_enabled()


class set_grad_enabled:
    """set_grad_enabled(mode): sets grad mode for this thread; as a context manager or
    decorator, restores the previous mode afterwards (as torch's)."""

    def __init__(self, mode):
        self.previous = _grad_enabled()
        self.mode = bool(mode)
        _set_grad_enabled(self.mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set_grad_enabled(self.previous)
        return False

    def __call__(self, fn):
        _set_grad_enabled(self.previous)     # as a decorator it applies per call only
        return _with_grad_mode(fn, self.mode)


def _with_grad_mode(fn, mode):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        previous = _grad_enabled()
        _set_grad_enabled(mode)
        try:
            return fn(*args, **kwargs)
        finally:
            _set_grad_enabled(previous)
    return wrapper


class _GradMode:
    """A context manager and decorator that sets this thread's grad mode, then restores it."""
    mode = True

    def __enter__(self):
        self.previous = _grad_enabled()
        _set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        _set_grad_enabled(self.previous)
        return False

    def __call__(self, fn):
        return _with_grad_mode(fn, self.mode)


class no_grad(_GradMode):
    """Ops inside record no graph: ``with no_grad():`` or ``@no_grad()``."""
    mode = False


class enable_grad(_GradMode):
    """Ops inside record a graph, even within no_grad."""
    mode = True


class inference_mode:
    """torch's inference_mode, as a context manager or decorator (with or without
    parentheses): no graph is recorded, and the tensors made inside are inference
    tensors (is_inference()), which autograd refuses to save for backward and which
    cannot be changed in place outside inference mode. inference_mode(False) turns
    it off again inside, and enables grad, as torch's does."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return _with_inference_mode(mode, True)      # @inference_mode, no parentheses
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self.previous = (PyThread_tss_get(&_grad_mode_key) == _GRAD_OFF,
                         _inference_enabled())
        _set_inference(self.mode)
        _set_grad_enabled(not self.mode)
        return self

    def __exit__(self, *exc):
        grad_off, inference = self.previous
        _set_inference(inference)
        _set_grad_enabled(not grad_off)
        return False

    def __call__(self, fn):
        return _with_inference_mode(fn, self.mode)


cdef void _set_inference(bint mode) noexcept:
    PyThread_tss_set(&_inference_key, _INFERENCE_ON if mode else NULL)


def _with_inference_mode(fn, mode):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with inference_mode(mode):
            return fn(*args, **kwargs)
    return wrapper


cdef inline int _check_not_inference(TensorBase t) except -1:
    """torch's refusal to save an inference tensor for backward."""
    if t._inference:
        raise RuntimeError(
            "Inference tensors cannot be saved for backward. Please do not use Tensors created "
            "in inference mode in computation tracked by autograd. To work around this, you "
            "can make a clone to get a normal tensor and use it in autograd, or use "
            "`torch.no_grad()` instead of `torch.inference_mode()`.")
    return 0


# ---------------------------------------------------------------- versions

@cython.final
cdef class _Version:
    """The in-place version counter of a storage, shared by its views."""
    cdef public long long value


cdef inline _Version _version_of(TensorBase t):
    """t's version counter, made when first needed: most tensors never need one."""
    if t._version is None:
        t._version = _Version.__new__(_Version)
    return t._version


cdef inline void _bump(TensorBase t):
    """t was changed in place."""
    cdef _Version version = _version_of(t)
    version.value += 1
