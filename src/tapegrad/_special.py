"""erf of an array, since numpy has none (and scipy is no dependency).

math.erf element by element costs some 300 ns per element. Instead erf is two
Chebyshev interpolants, fitted once at import to math.erf at 200 Chebyshev nodes
each (about a millisecond), and evaluated by numpy in one Clenshaw pass per term:
about 3x faster than math.erf, and within a few ulp of it (~1e-15 relative).

* |x| < 1.5: erf(x) = x * p(x*x), p smooth on [0, 2.25];
* 1.5 <= |x| < 6: erf(x) = 1 - exp(-x*x) * q(|x|), q = erfc(x) * exp(x*x), smooth
  and slowly varying, so no cancellation in q;
* |x| >= 6: +-1 (erfc(6) is 2e-17, below half an ulp of 1).
"""
import math

import numpy as np
from numpy.polynomial import chebyshev

_SPLIT, _ONE = 1.5, 6.0


def _interpolant(f, lo, hi, degree, nodes=200):
    """Chebyshev coefficients of f on [lo, hi], in the variable mapped to [-1, 1]."""
    t = np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes)
    return chebyshev.chebfit(t, [f(lo + (hi - lo) * (s + 1) / 2) for s in t], degree)


def _erf_over_x(u):
    """erf(sqrt(u)) / sqrt(u), whose limit at 0 is 2 / sqrt(pi)."""
    if u == 0:
        return 2 / math.sqrt(math.pi)
    r = math.sqrt(u)
    return math.erf(r) / r


_NEAR = _interpolant(_erf_over_x, 0.0, _SPLIT ** 2, 18)
_TAIL = _interpolant(lambda x: math.erfc(x) * math.exp(x * x), _SPLIT, _ONE, 26)


def erf(x):
    """erf of each element of the float array x (float64 arithmetic, x's dtype back)."""
    x64 = np.asarray(x, dtype=np.float64)
    a = np.abs(x64)
    out = np.array(x64, copy=True)      # NaN stays NaN: no branch below takes it
    near = a < _SPLIT
    if near.any():
        v = x64[near]
        out[near] = v * chebyshev.chebval(v * v * (2 / _SPLIT ** 2) - 1, _NEAR)
    tail = (a >= _SPLIT) & (a < _ONE)
    if tail.any():
        b = a[tail]
        q = chebyshev.chebval((b - _SPLIT) * (2 / (_ONE - _SPLIT)) - 1, _TAIL)
        out[tail] = np.copysign(1 - np.exp(-b * b) * q, x64[tail])
    one = a >= _ONE
    out[one] = np.copysign(1.0, x64[one])
    return out.astype(np.asarray(x).dtype, copy=False)
