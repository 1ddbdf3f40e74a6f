"""What several test files share: the one finite-difference helper.

Tests import it by name (``from conftest import central_differences``): pytest puts
this directory on sys.path, so it is the same module everywhere.
"""
import numpy as np

EPS = 1e-6   # the step: central differences err by O(EPS**2), rounding by O(1e-16 / EPS)


def central_differences(loss, arrays, eps=EPS):
    """The gradient of loss(arrays), a float, with respect to each array, by central
    differences: element by element, loss at +eps and -eps. The arrays (or numbers,
    taken as 0-d float64 arrays) are copied; loss receives the perturbed copies."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in arrays:
        grad = np.zeros_like(a)
        for index in np.ndindex(a.shape):
            original = a[index]
            a[index] = original + eps
            plus = loss(arrays)
            a[index] = original - eps
            minus = loss(arrays)
            a[index] = original
            grad[index] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads
