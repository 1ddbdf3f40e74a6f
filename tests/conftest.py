"""What several test files share: the finite-difference helper, and the checks and
the parametrizer of the op tables.

Tests import them by name (``from conftest import central_differences``): pytest puts
this directory on sys.path, so it is the same module everywhere.

An op table maps a case's name to ``(fn, inputs)``: ``fn(lib, *tensors)`` is written
once for both libraries (``lib`` is ``tapegrad`` or ``torch``), ``inputs`` are the
input specs (``R(3, 4)``, ``P(2)``) its arrays are drawn from, seeded by the name.
``op_case_tests(table)`` gives the two tests every table gets; ``op_cases`` is the
parametrizer for a table's further tests over some of its cases.
"""
import zlib
from typing import NamedTuple

import numpy as np
import pytest

import tapegrad as tg

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


FD_RTOL, FD_ATOL = 1e-5, 1e-7       # finite differences vs analytic
TORCH_RTOL, TORCH_ATOL = 1e-10, 1e-12   # float64 vs torch float64
F32_RTOL, F32_ATOL = 1e-5, 1e-6     # float32 vs torch float32


# ------------------------------------------------------------------ inputs

class Input(NamedTuple):
    shape: tuple
    kind: str        # "real" (away from 0 and +-0.5) or "positive" (in [0.5, 2])


def R(*shape):
    """A real input of this shape, kept off the kinks at 0 and +-0.5."""
    return Input(shape, "real")


def P(*shape):
    """A positive input of this shape (for log, sqrt, pow bases, divisors)."""
    return Input(shape, "positive")


def sample(spec, seed):
    rng = np.random.default_rng(seed)
    if spec.kind == "positive":
        return np.asarray(rng.uniform(0.5, 2.0, size=spec.shape), dtype=np.float64)
    x = np.asarray(rng.uniform(-2.0, 2.0, size=spec.shape), dtype=np.float64)
    for kink in (-0.5, 0.0, 0.5):                   # relu, abs and clamp(-0.5, 0.5)
        x = np.where(np.abs(x - kink) < 0.05, x + 0.1, x)
    return x


def seed_of(text):
    """A stable seed per test case, so every run draws the same numbers."""
    return zlib.crc32(text.encode())


def arrays_for(case_id, specs):
    return [sample(spec, seed_of(f"{case_id}/{i}")) for i, spec in enumerate(specs)]


def upstream(shape, case_id, dtype=np.float64):
    rng = np.random.default_rng(seed_of(f"{case_id}/upstream"))
    return np.asarray(rng.standard_normal(shape), dtype=dtype)


def laid_out(a, layout):
    """A new array equal to a, with the given memory layout."""
    if layout == "contiguous":          # (not np.ascontiguousarray: it makes 0-d 1-d)
        return np.array(a, order="C", copy=True)
    if layout == "transposed":          # Fortran order: what tg.from_numpy(b.T) gives
        return np.array(a.T, order="C", copy=True).T
    if layout == "strided":             # every other element of a wider array
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        wide[..., ::2] = a
        return wide[..., ::2]
    raise ValueError(layout)


def leaf(a, layout="contiguous", dtype=np.float64):
    return tg.from_numpy(laid_out(np.asarray(a, dtype=dtype), layout)).requires_grad_()


def assert_close(actual, expected, rtol, atol, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=what)


# ------------------------------------------------------------------ checks

def tapegrad_run(fn, arrays, G, layout="contiguous", dtype=np.float64, g_layout="contiguous"):
    """Value of fn and gradients of its inputs for upstream gradient G."""
    xs = [leaf(a, layout, dtype) for a in arrays]
    out = fn(tg, *xs)
    out.backward(gradient=tg.from_numpy(laid_out(G.astype(dtype), g_layout)))
    return out.detach().numpy(), [None if x.grad is None else x.grad.numpy() for x in xs]


def numeric_gradients(fn, arrays, G, layout="contiguous"):
    """d/dx sum(G * fn(x)) by central differences, input by input, element by element."""
    def loss(values):
        out = fn(tg, *[tg.from_numpy(laid_out(v, layout)) for v in values])
        return float(np.sum(G * out.numpy()))

    return central_differences(loss, arrays)


def torch_run(fn, arrays, G, dtype="float64"):
    torch = pytest.importorskip("torch")
    tdtype = getattr(torch, dtype)
    ts = [torch.tensor(a, dtype=tdtype, requires_grad=True) for a in arrays]
    out = fn(torch, *ts)
    out.backward(gradient=torch.tensor(G, dtype=tdtype))
    return out.detach().numpy(), [None if t.grad is None else t.grad.numpy() for t in ts]


def check_finite_differences(fn, arrays, case_id, layout="contiguous", g_layout="contiguous"):
    with tg.no_grad():
        shape = fn(tg, *[tg.from_numpy(laid_out(a, layout)) for a in arrays]).shape
    G = upstream(tuple(shape), case_id)
    _, analytic = tapegrad_run(fn, arrays, G, layout, g_layout=g_layout)
    numeric = numeric_gradients(fn, arrays, G, layout)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        assert a is not None, f"input {i} got no gradient"
        assert a.dtype == np.float64, f"input {i}: gradient dtype {a.dtype}"
        assert_close(a, n, FD_RTOL, FD_ATOL, f"input {i}: analytic vs finite differences")


def check_against_torch(fn, arrays, case_id, layout="contiguous", dtype="float64",
                        rtol=TORCH_RTOL, atol=TORCH_ATOL, g_layout="contiguous"):
    with tg.no_grad():
        shape = fn(tg, *[tg.from_numpy(laid_out(a, layout)) for a in arrays]).shape
    G = upstream(tuple(shape), case_id)
    expected_value, expected_grads = torch_run(fn, arrays, G, dtype)
    value, grads = tapegrad_run(fn, arrays, G, layout, np.dtype(dtype), g_layout)
    assert value.dtype == np.dtype(dtype), f"output dtype {value.dtype}"
    assert_close(value, expected_value, rtol, atol, "value")
    for i, (g, e) in enumerate(zip(grads, expected_grads)):
        assert (g is None) == (e is None), f"input {i}: gradient {g} where torch has {e}"
        if g is not None:
            assert g.dtype == np.dtype(dtype), f"input {i}: gradient dtype {g.dtype}"
            assert_close(g, e, rtol, atol, f"input {i}: gradient vs torch")


# ------------------------------------------------------------------- cases

class Case(NamedTuple):
    fn: object
    inputs: list


def shape_id(shape):
    return "x".join(map(str, shape)) if shape else "0d"


# ------------------------------------------------------------- the op tables

class OpCase(NamedTuple):
    """One case of an op table, ready to check: check_finite_differences(*case)."""
    fn: object
    arrays: list
    id: str


def op_cases(table, names=None):
    """Parametrize a test over the cases of table (or only the named ones): the test
    takes ``case``, an OpCase whose arrays are drawn from the case's input specs."""
    names = list(table) if names is None else list(names)
    return pytest.mark.parametrize("case", [
        pytest.param(OpCase(table[name][0], arrays_for(name, table[name][1]), name), id=name)
        for name in names])


def op_case_tests(table):
    """The two tests of every op table, for a test module to bind by their names:
    each case's gradient against central finite differences, then its value and
    gradient against torch in float64 (skipped without torch)."""
    @op_cases(table)
    def test_gradient_matches_finite_differences(case):
        check_finite_differences(*case)

    @op_cases(table)
    def test_value_and_gradient_match_torch_float64(case):
        check_against_torch(*case)

    return test_gradient_matches_finite_differences, test_value_and_gradient_match_torch_float64
