# Grad mode, per thread as torch's: a thread's no_grad() leaves other threads
# recording. The mode lives in one thread-specific slot of CPython's (a C-level
# lookup, a few ns per op), holding both of a thread's switches as bits: grad
# off, and inference mode on. NULL, the default, is grad on outside inference
# mode, so whether an op records is one lookup and one comparison.

from cpython.pythread cimport PyThread_tss_create, PyThread_tss_get, PyThread_tss_set
from libc.stdint cimport uintptr_t

cdef Py_tss_t _mode_key
if PyThread_tss_create(&_mode_key) != 0:
    raise MemoryError("tapegrad: cannot create the thread-specific grad mode")

cdef uintptr_t _GRAD_OFF = 1
cdef uintptr_t _INFERENCE_ON = 2


cdef inline uintptr_t _mode() noexcept:
    return <uintptr_t>PyThread_tss_get(&_mode_key)


cdef inline void _set_mode(uintptr_t mode) noexcept:
    PyThread_tss_set(&_mode_key, <void *>mode)


cdef inline bint _inference_enabled() noexcept:
    return _mode() & _INFERENCE_ON


cdef inline bint _grad_enabled() noexcept:
    # both bits clear: grad on and not in inference mode
    return PyThread_tss_get(&_mode_key) == NULL


cdef inline bint _grad_mode_on() noexcept:
    """The grad switch alone: on inside inference_mode() after enable_grad(), as torch's
    is_grad_enabled() says, though nothing records there."""
    return not (_mode() & _GRAD_OFF)


cdef inline void _set_grad_enabled(bint mode) noexcept:
    _set_mode(_mode() & ~_GRAD_OFF if mode else _mode() | _GRAD_OFF)


def is_grad_enabled():
    """Whether grad mode is on in this thread (ops record a graph, outside inference_mode)."""
    return _grad_mode_on()


def is_inference_mode_enabled():
    """Whether this thread is inside inference_mode()."""
    return _inference_enabled()


class set_grad_enabled:
    """set_grad_enabled(mode): sets grad mode for this thread; as a context manager or
    decorator, restores the previous mode afterwards (as torch's)."""

    def __init__(self, mode):
        self.previous = _grad_mode_on()
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
        previous = _grad_mode_on()
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
        self.previous = _grad_mode_on()
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
        self.previous = _mode()
        # inference mode turns grad off; inference_mode(False) turns it on, as torch's
        _set_mode(_GRAD_OFF | _INFERENCE_ON if self.mode else 0)
        return self

    def __exit__(self, *exc):
        _set_mode(self.previous)
        return False

    def __call__(self, fn):
        return _with_inference_mode(fn, self.mode)


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
