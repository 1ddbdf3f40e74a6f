# numpy's floating-point warnings, muted where torch is silent: an overflow to
# inf, inf - inf or 0/0 giving NaN are values, not errors, in torch. np.errstate
# costs microseconds per use, more than a small op; numpy 2 keeps its error state
# in a context variable, and setting that to a prepared state through CPython's
# C API costs tens of ns.

from cpython.contextvars cimport PyContextVar_Set, PyContextVar_Reset

cdef object _numpy_errors = None      # numpy's error-state context variable
cdef object _quiet_state = None       # its value that ignores every error
try:
    from numpy._core.umath import _extobj_contextvar, _make_extobj
    _numpy_errors, _quiet_state = _extobj_contextvar, _make_extobj(all='ignore')
except ImportError:         # numpy 1.x: no context variable, errstate it is
    pass


cdef inline object _quiet_begin():
    """Mutes numpy's floating-point warnings until _quiet_end(what this returns)."""
    if _numpy_errors is not None:
        return PyContextVar_Set(_numpy_errors, _quiet_state)
    state = np.errstate(all='ignore')
    state.__enter__()
    return state


cdef inline int _quiet_end(object token) except -1:
    if _numpy_errors is not None:
        return PyContextVar_Reset(_numpy_errors, token)
    token.__exit__(None, None, None)
    return 0
