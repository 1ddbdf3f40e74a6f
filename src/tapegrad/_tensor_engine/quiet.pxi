# numpy's floating-point warnings, muted where torch is silent: an overflow to
# inf, inf - inf or 0/0 giving NaN are values, not errors, in torch. np.errstate
# costs microseconds per use, more than a small op; numpy 2 keeps its error state
# in a context variable, and setting that to a prepared state costs a few dozen ns.

try:
    from numpy._core.umath import _extobj_contextvar, _make_extobj
    _QUIET_STATE = _make_extobj(all='ignore')
except ImportError:         # numpy 1.x: no context variable, errstate it is
    _extobj_contextvar = None


cdef inline object _quiet_begin():
    """Mutes numpy's floating-point warnings until _quiet_end(what this returns)."""
    if _extobj_contextvar is not None:
        return _extobj_contextvar.set(_QUIET_STATE)
    state = np.errstate(all='ignore')
    state.__enter__()
    return state


cdef inline void _quiet_end(object token):
    if _extobj_contextvar is not None:
        _extobj_contextvar.reset(token)
    else:
        token.__exit__(None, None, None)
