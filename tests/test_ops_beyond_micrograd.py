"""Ops micrograd lacks (tanh, exp, log, sigmoid, Value ** Value, number ** Value):
gradients by central finite differences always, and against torch float64."""
import math

import pytest

from tapegrad import Value
from conftest import central_differences

CASES = {
    "tanh": (lambda a, b: a.tanh(), [(-2.0, 0), (0.3, 0), (4.0, 0)]),
    "exp": (lambda a, b: a.exp(), [(-3.0, 0), (0.5, 0), (2.0, 0)]),
    "log": (lambda a, b: a.log(), [(0.1, 0), (1.0, 0), (7.5, 0)]),
    "sigmoid": (lambda a, b: a.sigmoid(), [(-30.0, 0), (-1.0, 0), (0.0, 0), (2.5, 0)]),
    "pow_value": (lambda a, b: a ** b, [(1.5, 2.5), (0.7, -1.3), (3.0, 0.5)]),
    "rpow": (lambda a, b: 2.0 ** a, [(-1.5, 0), (3.0, 0)]),
    "composite": (lambda a, b: (a * b).tanh().exp() + (a ** b).log() * a.sigmoid(),
                  [(1.2, 0.8), (2.0, -0.5)]),
}


def gradient(f, a, b):
    x, y = Value(a), Value(b)
    out = f(x, y)
    out.backward()
    return out.data, x.grad, y.grad


def numeric(f, a, b):
    def value(point):
        p, q = point
        return f(Value(float(p)), Value(float(q))).data
    return tuple(float(g) for g in central_differences(value, [a, b]))


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_finite_differences(name):
    f, points = CASES[name]
    for a, b in points:
        _, ga, gb = gradient(f, a, b)
        na, nb = numeric(f, a, b)
        assert ga == pytest.approx(na, rel=1e-6, abs=1e-8)
        assert gb == pytest.approx(nb, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch_float64(name):
    torch = pytest.importorskip("torch")
    f, points = CASES[name]
    for a, b in points:
        data, ga, gb = gradient(f, a, b)
        x = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        y = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        torch_f = {
            "tanh": lambda: x.tanh(), "exp": lambda: x.exp(), "log": lambda: x.log(),
            "sigmoid": lambda: x.sigmoid(), "pow_value": lambda: x ** y,
            "rpow": lambda: 2.0 ** x,
            "composite": lambda: (x * y).tanh().exp() + (x ** y).log() * x.sigmoid(),
        }[name]
        out = torch_f()
        out.backward()
        assert data == pytest.approx(out.item(), rel=1e-14, abs=1e-300)
        assert ga == pytest.approx(x.grad.item(), rel=1e-12, abs=1e-300)
        assert gb == pytest.approx(y.grad.item() if y.grad is not None else 0.0,
                                   rel=1e-12, abs=1e-300)


def test_op_names_and_children():
    a, b = Value(2.0), Value(3.0)
    assert [v._op for v in (a.tanh(), a.exp(), a.log(), a.sigmoid(), a ** b)] == \
        ['tanh', 'exp', 'log', 'sigmoid', '**']
    assert (a ** b)._prev == {a, b}


def test_sigmoid_is_stable_at_large_magnitudes():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(0.0).sigmoid().data == 0.5


def test_tanh_does_not_overflow_where_the_exp_formula_would():
    x = Value(400.0)
    y = x.tanh()
    y.backward()
    assert y.data == 1.0 and x.grad == 0.0


def test_pow_value_gradient_at_zero_base_follows_torch():
    a, b = Value(0.0), Value(2.0)
    out = a ** b
    out.backward()
    assert out.data == 0.0 and a.grad == 0.0 and b.grad == 0.0


def test_nan_and_inf_propagate_like_python_floats():
    nan = Value(float("nan"))
    assert math.isnan((nan + 1).data) and math.isnan((nan * 0).data)
    inf = Value(float("inf"))
    assert (inf + 1).data == math.inf
    assert math.isnan((inf - inf).data)
    assert (inf * -1).data == -math.inf
    assert math.isnan(Value(float("nan")).relu().data)
