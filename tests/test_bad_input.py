"""Bad input gets a clear, typed error, and leaves the tape as it was."""
import math

import pytest

from tapegrad import Value
from tapegrad._engine import tape_stats


def nodes():
    return tape_stats()["nodes"]


@pytest.mark.parametrize("data, kind", [("a", "str"), (None, "NoneType"), ([1.0], "list"),
                                        (1 + 2j, "complex"), (b"1", "bytes")])
def test_a_non_number_is_a_type_error_naming_the_type(data, kind):
    with pytest.raises(TypeError, match=f"real number.*not {kind}"):
        Value(data)


def test_a_value_of_a_value_is_refused():
    with pytest.raises(TypeError, match="not Value"):
        Value(Value(1.0))


@pytest.mark.parametrize("op", [
    lambda v: v + "a", lambda v: "a" + v, lambda v: v * None, lambda v: [1] * v,
    lambda v: v - "a", lambda v: "a" - v, lambda v: v / "a", lambda v: "a" / v,
    lambda v: v ** "a", lambda v: "a" ** v, lambda v: v + 1j,
])
def test_arithmetic_with_a_non_number_is_a_type_error(op):
    v = Value(2.0)
    before = nodes()
    with pytest.raises(TypeError):
        op(v)
    assert nodes() == before


def test_zero_to_a_negative_power_is_a_zero_division_error():
    before = nodes()
    with pytest.raises(ZeroDivisionError, match="negative power"):
        Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError):
        Value(2.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError):
        1 / Value(0)
    assert nodes() - before == 5  # the five operand leaves made above, nothing else


def test_log_of_a_non_positive_number_is_a_value_error():
    for x in (0.0, -1.0, -math.inf):
        with pytest.raises(ValueError, match="math domain error: log"):
            Value(x).log()
    assert math.isnan(Value(math.nan).log().data)


def test_exp_overflow_is_an_overflow_error_like_math_exp():
    with pytest.raises(OverflowError, match="exp"):
        Value(1000.0).exp()
    with pytest.raises(OverflowError):
        math.exp(1000.0)
    assert Value(-1000.0).exp().data == 0.0
    assert Value(math.inf).exp().data == math.inf


def test_pow_overflow_is_an_overflow_error_like_python_floats():
    with pytest.raises(OverflowError):
        Value(10.0) ** 400
    with pytest.raises(OverflowError):
        Value(10.0) ** Value(400.0)


def test_a_negative_base_with_a_fractional_exponent_is_a_value_error():
    with pytest.raises(ValueError, match="domain"):
        Value(-8.0) ** (1 / 3)
    with pytest.raises(ValueError, match="domain"):
        Value(-8.0) ** Value(0.5)
    assert (Value(-2.0) ** 3).data == -8.0
    assert (Value(-2.0) ** Value(2.0)).data == 4.0


def test_a_derivative_micrograd_cannot_compute_raises_in_backward_like_micrograd():
    x = Value(0.0)
    y = x ** 0.5          # the value is fine: 0.0
    assert y.data == 0.0
    with pytest.raises(ZeroDivisionError, match="derivative"):
        y.backward()
    # the tape is left clean: an unrelated backward works
    z = Value(3.0)
    w = z * z
    w.backward()
    assert z.grad == 6.0


def test_an_exception_in_a_custom_backward_leaves_the_tape_usable():
    a = Value(2.0)
    out = Value(a.data * 2, (a,), 'double')

    def broken():
        raise RuntimeError("broken closure")
    out._backward = broken
    y = out * 3
    with pytest.raises(RuntimeError, match="broken closure"):
        y.backward()
    b = Value(5.0)
    (b * b).backward()
    assert b.grad == 10.0


def test_backward_inside_a_custom_backward_is_refused_clearly():
    a = Value(1.0)
    out = Value(a.data, (a,), 'nested')

    def nested():
        (a * 2).backward()
    out._backward = nested
    with pytest.raises(RuntimeError, match="inside a custom _backward"):
        out.backward()
    (a * 2).backward()
    assert a.grad == 2.0


def test_an_uninitialised_value_raises_instead_of_crashing():
    v = Value.__new__(Value)
    with pytest.raises(ValueError, match="no node"):
        v.data
    with pytest.raises(ValueError, match="no node"):
        v + 1
    with pytest.raises(ValueError, match="no node"):
        Value(1.0) * v
    with pytest.raises(ValueError, match="no node"):
        v.backward()
    assert "uninitialised" in repr(v)


def test_reinitialising_a_value_is_refused():
    v = Value(1.0)
    with pytest.raises(RuntimeError, match="initialised"):
        v.__init__(2.0)
    assert v.data == 1.0


def test_bad_children_and_closures_are_type_errors():
    with pytest.raises(TypeError, match="_children must be Values"):
        Value(1.0, (1.0,))
    with pytest.raises(TypeError, match="callable"):
        Value(1.0)._backward = 3
    with pytest.raises(TypeError, match="real number"):
        Value(1.0).grad = "x"
    with pytest.raises(TypeError, match="real number"):
        Value(1.0).data = None


def test_huge_ints_are_an_overflow_error():
    with pytest.raises(OverflowError):
        Value(10**400)
    with pytest.raises(OverflowError):
        Value(1.0) + 10**400


def test_a_refused_backward_leaves_the_root_gradient_alone():
    a = Value(1.0)
    b = a * 2
    b.grad = 5.0
    out = Value(a.data, (a,), 'nested')

    def nested():
        b.backward()
    out._backward = nested
    with pytest.raises(RuntimeError, match="inside a custom _backward"):
        out.backward()
    assert b.grad == 5.0


def test_an_int_result_too_large_for_a_float_is_an_overflow_error():
    with pytest.raises(OverflowError, match="too large"):
        Value(10**200) * Value(10**200)


def test_the_manual_backward_raises_micrograd_errors_too():
    y = Value(0.0) ** 0.5
    y.grad = 1.0
    with pytest.raises(ZeroDivisionError):
        y._backward()
    z = Value(0.0) ** 0
    with pytest.raises(ZeroDivisionError):
        z.backward()
