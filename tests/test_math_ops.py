"""The math functions of issue 12: elementwise (sin ... erf) and binary (maximum,
minimum, fmod, remainder, atan2).

Gradients follow test_tensor_gradients.py's layout: each case is fn(lib, *tensors),
checked by finite differences in float64 and against torch float64. Edges (NaN,
inf, +-0, domain errors, ties, integer and bool dtypes, bad input) are checked
exactly against torch.
"""
import math

import numpy as np
import pytest

import tapegrad as tg
from conftest import (F32_ATOL, F32_RTOL, Case, Input, check_against_torch,
                      check_finite_differences, op_case_tests, op_cases, shape_id)
from torch_reference import raises_like_torch, same_numbers_as_torch

# asin, acos: inputs in [-0.8, 0.8] (the "real" ones scaled), off the domain's edges
UNARY = {
    "sin": (lambda lib, x: x.sin(), "real"),
    "cos": (lambda lib, x: x.cos(), "real"),
    "tan": (lambda lib, x: (x * 0.7).tan(), "real"),
    "asin": (lambda lib, x: (x * 0.4).asin(), "real"),
    "acos": (lambda lib, x: (x * 0.4).acos(), "real"),
    "atan": (lambda lib, x: x.atan(), "real"),
    "arcsin": (lambda lib, x: (x * 0.4).arcsin(), "real"),
    "sinh": (lambda lib, x: x.sinh(), "real"),
    "cosh": (lambda lib, x: x.cosh(), "real"),
    "exp2": (lambda lib, x: x.exp2(), "real"),
    "expm1": (lambda lib, x: x.expm1(), "real"),
    "log2": (lambda lib, x: x.log2(), "positive"),
    "log10": (lambda lib, x: x.log10(), "positive"),
    "log1p": (lambda lib, x: x.log1p(), "real_above_minus_one"),
    "reciprocal": (lambda lib, x: x.reciprocal(), "real"),
    "rsqrt": (lambda lib, x: x.rsqrt(), "positive"),
    "square": (lambda lib, x: x.square(), "real"),
    "erf": (lambda lib, x: x.erf(), "real"),
    "erf_wide": (lambda lib, x: (x * 2.5).erf(), "real"),
    "erf_narrow": (lambda lib, x: (x * 0.1).erf(), "real"),
    "sign": (lambda lib, x: x.sign() * x, "real"),
    "floor": (lambda lib, x: x.floor() + x, "real"),
    "ceil": (lambda lib, x: x.ceil() * x, "real"),
    "round": (lambda lib, x: x.round() * x, "real"),
    "round_decimals": (lambda lib, x: x.round(decimals=1) * x, "real"),
    "round_negative_decimals": (lambda lib, x: (x * 40).round(decimals=-1) + x, "real"),
    "trunc": (lambda lib, x: x.trunc() * x, "real"),
    "frac": (lambda lib, x: x.frac(), "real"),
    # the function forms
    "torch.sin": (lambda lib, x: lib.sin(x), "real"),
    "torch.erf": (lambda lib, x: lib.erf(x), "real"),
    "torch.log1p": (lambda lib, x: lib.log1p(x), "positive"),
    "torch.round": (lambda lib, x: lib.round(x, decimals=2) + x, "real"),
    "torch.square": (lambda lib, x: lib.square(x), "real"),
    # in place, on a non-leaf
    "sin_": (lambda lib, x: (x * 1.0).sin_(), "real"),
    "cos_": (lambda lib, x: (x * 1.0).cos_(), "real"),
    "log_": (lambda lib, x: (x * 1.0).log_(), "positive"),
    "sqrt_": (lambda lib, x: (x * 1.0).sqrt_(), "positive"),
    "reciprocal_": (lambda lib, x: (x * 1.0).reciprocal_(), "real"),
    "floor_": (lambda lib, x: (x * 1.0).floor_() * x, "real"),
}
SHAPES = [(3, 4), (), (2, 3, 4), (0, 3)]

BINARY = {
    "maximum": (lambda lib, a, b: lib.maximum(a, b), "real", "real"),
    "minimum": (lambda lib, a, b: lib.minimum(a, b), "real", "real"),
    "maximum_method": (lambda lib, a, b: a.maximum(b), "real", "real"),
    "minimum_method": (lambda lib, a, b: a.minimum(b), "real", "real"),
    "fmod": (lambda lib, a, b: lib.fmod(a, b), "real", "positive"),
    "fmod_method": (lambda lib, a, b: a.fmod(b), "real", "positive"),
    "remainder": (lambda lib, a, b: lib.remainder(a, b), "real", "positive"),
    "remainder_method": (lambda lib, a, b: a.remainder(b), "real", "positive"),
    "mod_operator": (lambda lib, a, b: a % b, "real", "positive"),
    "atan2": (lambda lib, a, b: lib.atan2(a, b), "real", "real"),
    "atan2_method": (lambda lib, a, b: a.atan2(b), "real", "real"),
}
BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (3,)),
                 ((0, 3), (3,))]

WITH_A_NUMBER = {
    "fmod_number": (lambda lib, x: x.fmod(0.7), "real"),
    "fmod_negative_number": (lambda lib, x: lib.fmod(x, -0.7), "real"),
    "remainder_number": (lambda lib, x: x.remainder(0.7), "real"),
    "remainder_negative_number": (lambda lib, x: lib.remainder(x, -0.7), "real"),
    "mod_number": (lambda lib, x: x % 0.7, "real"),
}


def _input(shape, kind):
    if kind == "real_above_minus_one":      # log1p: the positive inputs shifted to [-0.5, 1]
        return Input(shape, "positive")
    return Input(shape, kind)


def build_cases():
    cases = {}
    for name, (fn, kind) in UNARY.items():
        if kind == "real_above_minus_one":
            fn = (lambda f: lambda lib, x: f(lib, x - 1.0))(fn)
        for shape in SHAPES:
            cases[f"unary/{name}/{shape_id(shape)}"] = Case(fn, [_input(shape, kind)])
    for name, (fn, ka, kb) in BINARY.items():
        for sa, sb in BINARY_SHAPES:
            cases[f"binary/{name}/{shape_id(sa)}-{shape_id(sb)}"] = Case(
                fn, [Input(sa, ka), Input(sb, kb)])
    for name, (fn, kind) in WITH_A_NUMBER.items():
        for shape in [(3, 4), ()]:
            cases[f"number/{name}/{shape_id(shape)}"] = Case(fn, [Input(shape, kind)])
    return cases


CASES = build_cases()


# every case two ways: against finite differences, and against torch in float64
test_gradient_matches_finite_differences, test_value_and_gradient_match_torch_float64 = \
    op_case_tests(CASES)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
@op_cases(CASES, ["unary/sin/3x4", "unary/erf/2x3x4", "unary/round/3x4", "unary/log2/3x4",
                  "unary/sin_/3x4", "binary/maximum/3x4-3x4", "binary/fmod/3x4-3x4",
                  "binary/atan2/3x4-3x4"])
def test_non_contiguous_inputs_match_torch(case, layout):
    check_against_torch(*case, layout=layout)
    check_finite_differences(*case, layout=layout)


@op_cases(CASES, ["unary/sin/3x4", "unary/tan/3x4", "unary/erf/3x4", "unary/rsqrt/3x4",
                  "unary/exp2/3x4", "unary/frac/3x4", "binary/maximum/3x1-1x4",
                  "binary/remainder/3x4-3x4", "binary/atan2/3x4-3x4", "number/fmod_number/3x4"])
def test_float32_matches_torch_float32(case):
    check_against_torch(*case, dtype="float32", rtol=F32_RTOL, atol=F32_ATOL)


# ------------------------------------------------------------------ edges

EDGES = [math.nan, math.inf, -math.inf, 0.0, -0.0, 2.5, -2.5, 0.5, -1.5, 1.0, -1.0, 2.0, 1e-300,
         5.9, -6.5, 30.0]
EDGE_OPS = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "exp2", "expm1",
            "log2", "log10", "log1p", "sign", "floor", "ceil", "round", "trunc", "frac",
            "reciprocal", "rsqrt", "square", "erf"]


@pytest.mark.parametrize("op", EDGE_OPS)
def test_values_and_gradients_at_edges_match_torch_without_warnings(op):
    """NaN, infinities, signed zeros and domain errors (log of a negative, asin of 2)
    give torch's NaN and inf, in the value and in the gradient, and numpy's warnings
    do not escape (pytest turns them into errors)."""
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.tensor(EDGES, dtype=lib.float64, requires_grad=True)
        y = getattr(lib, op)(x)
        y.backward(lib.ones_like(y))
        return y, x.grad

    same_numbers_as_torch(torch, scenario, rtol=1e-14)


def test_erf_is_within_a_few_ulp_of_math_erf():
    x = np.concatenate([np.linspace(-7, 7, 20001), np.logspace(-310, 1, 500),
                        -np.logspace(-310, 1, 500)])
    expected = np.array([math.erf(v) for v in x])
    got = tg.from_numpy(x).erf().numpy()
    ulps = np.abs(got - expected) / np.spacing(np.abs(expected))
    assert ulps.max() <= 8, ulps.max()
    assert np.all(np.abs(got) <= 1)


@pytest.mark.parametrize("op", ["sin", "exp2", "log10", "reciprocal", "rsqrt", "erf",
                                "sign", "floor", "ceil", "round", "trunc", "square"])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_inputs_follow_torch_dtypes(op, dtype):
    """Float functions of integers are the default float dtype; sign, the rounding ops
    and square keep the integer dtype, as torch's."""
    torch = pytest.importorskip("torch")

    def scenario(lib):
        y = getattr(lib, op)(lib.tensor([1, 3, 0, 7], dtype=getattr(lib, dtype)))
        return [y, str(y.dtype).split(".")[-1]]

    same_numbers_as_torch(torch, scenario, rtol=1e-6)


@pytest.mark.parametrize("op", ["floor", "ceil", "round", "trunc", "frac"])
def test_rounding_bool_tensors_is_refused_like_torch(op):
    torch = pytest.importorskip("torch")
    raises_like_torch(torch, lambda lib: getattr(lib, op)(lib.tensor([True, False])),
                      match="not implemented for 'Bool'")


def test_sign_and_square_of_bool_tensors_match_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        b = lib.tensor([True, False])
        return [b.sign(), str(b.sign().dtype).split(".")[-1], b.square(),
                str(b.square().dtype).split(".")[-1]]

    same_numbers_as_torch(torch, scenario)


def test_frac_and_round_decimals_of_integers_are_refused_like_torch():
    torch = pytest.importorskip("torch")
    raises_like_torch(torch, lambda lib: lib.tensor([1, 2]).frac(),
                      match="not implemented for 'Long'")
    raises_like_torch(torch, lambda lib: lib.tensor([1, 2]).round(decimals=1),
                      match="not implemented for 'Long'")


def test_round_is_half_to_even_like_torch():
    torch = pytest.importorskip("torch")
    halves = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.125, 0.375, 1234.5678]
    same_numbers_as_torch(torch, lambda lib: [
        lib.tensor(halves, dtype=lib.float64).round(),
        lib.tensor(halves, dtype=lib.float64).round(decimals=2),
        lib.tensor(halves, dtype=lib.float64).round(decimals=-2),
        lib.round(lib.tensor(halves), decimals=1)])


def test_grad_fn_names_match_torch():
    torch = pytest.importorskip("torch")

    def names(lib):
        x = lib.tensor([0.3, 0.6], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([0.2, 0.9], dtype=lib.float64, requires_grad=True)
        out = [getattr(lib, op)(x).grad_fn.name() for op in EDGE_OPS]
        out += [x.round(decimals=1).grad_fn.name()]
        out += [getattr(lib, op)(x, y).grad_fn.name()
                for op in ["maximum", "minimum", "fmod", "remainder", "atan2"]]
        out += [lib.fmod(x, 2.0).grad_fn.name(), lib.remainder(x, 2.0).grad_fn.name()]
        return out

    assert names(tg) == names(torch)


def test_in_place_math_on_a_leaf_is_refused_and_on_integers_like_torch():
    torch = pytest.importorskip("torch")
    raises_like_torch(torch, lambda lib: lib.ones(3, requires_grad=True).sin_(),
                      match="a leaf Variable that requires grad")
    raises_like_torch(torch, lambda lib: lib.tensor([1, 2]).sin_(),
                      match="result type Float can't be cast")


def test_in_place_math_bumps_the_version_and_saved_values_are_checked():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.tensor([0.3, 0.6], dtype=lib.float64, requires_grad=True)
        y = x * 1.0
        z = y.sin()          # saves y
        y.cos_()
        z.sum().backward()

    raises_like_torch(torch, scenario, match="modified by an inplace operation")


# --------------------------------------------------------------- binary

def test_maximum_minimum_ties_and_nan_split_the_gradient_like_torch():
    """At a tie each side gets half the gradient; where either side is NaN, both get
    all of it (torch's formula)."""
    torch = pytest.importorskip("torch")

    def scenario(lib):
        a = lib.tensor([1.0, 2.0, math.nan, 3.0, -1.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([1.0, 3.0, 1.0, math.nan, -2.0], dtype=lib.float64, requires_grad=True)
        g = lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=lib.float64)
        hi, lo = lib.maximum(a, b), lib.minimum(a, b)
        (hi * g + lo * g * 10).sum().backward()
        return hi, lo, a.grad, b.grad

    same_numbers_as_torch(torch, scenario)


def test_maximum_of_the_same_tensor_gives_its_gradient_like_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        a = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        lib.maximum(a, a).sum().backward()
        return a.grad

    same_numbers_as_torch(torch, scenario)


@pytest.mark.parametrize("op", ["maximum", "minimum", "atan2"])
def test_a_number_as_other_is_refused_like_torch(op):
    torch = pytest.importorskip("torch")
    raises_like_torch(torch, lambda lib: getattr(lib, op)(lib.tensor([1.0]), 2.5),
                      match=r"argument 'other' \(position 2\) must be Tensor, not float")


@pytest.mark.parametrize("op", ["maximum", "minimum", "fmod", "remainder", "atan2"])
def test_type_promotion_matches_torch(op):
    torch = pytest.importorskip("torch")

    def scenario(lib):
        i = lib.tensor([5, -7, 9])
        f = lib.tensor([2.0, 3.0, -4.0])
        d = lib.tensor([2.0, 3.0, -4.0], dtype=lib.float64)
        pairs = [(i, i + 1), (i, f), (f, i), (f, d), (i, lib.tensor(2.0))] if op != "atan2" \
            else [(i, f), (f, d), (i, i + 1)]
        out = []
        for x, y in pairs:
            r = getattr(lib, op)(x, y)
            out += [r, str(r.dtype).split(".")[-1]]
        return out

    same_numbers_as_torch(torch, scenario, rtol=1e-6)


def test_fmod_and_remainder_signs_and_zero_divisors_match_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        a = lib.tensor([-5.0, 5.0, -5.0, 5.0, 1.0, -0.0], dtype=lib.float64)
        b = lib.tensor([3.0, -3.0, -3.0, 3.0, 0.0, 2.0], dtype=lib.float64)
        ints = lib.tensor([-5, 5, 7])
        return [lib.fmod(a, b), lib.remainder(a, b), a % 2.0, lib.fmod(a, -2.0),
                lib.fmod(ints, 3), lib.remainder(ints, -3), ints % 4, lib.fmod(ints, 2.5),
                lib.fmod(a, 0.0), lib.remainder(a, 0.0)]

    same_numbers_as_torch(torch, scenario)


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_integer_division_by_zero_is_refused_like_torch(op):
    torch = pytest.importorskip("torch")
    raises_like_torch(torch, lambda lib: getattr(lib, op)(lib.tensor([5, 3]), 0),
                      match="ZeroDivisionError")
    raises_like_torch(torch, lambda lib: getattr(lib, op)(lib.tensor([5, 3]),
                                                          lib.tensor([1, 0])),
                      match="ZeroDivisionError")


def test_atan2_at_the_origin_has_zero_gradient_like_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        y = lib.tensor([0.0, 1.0, -1.0, 0.0], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([0.0, 0.0, -1.0, -2.0], dtype=lib.float64, requires_grad=True)
        lib.atan2(y, x).sum().backward()
        return lib.atan2(y, x), y.grad, x.grad

    same_numbers_as_torch(torch, scenario)


def test_binary_shapes_that_do_not_broadcast_raise_like_torch():
    torch = pytest.importorskip("torch")
    for op in ["maximum", "fmod", "atan2"]:
        raises_like_torch(torch, lambda lib: getattr(lib, op)(lib.ones(3), lib.ones(4)))


def test_function_forms_refuse_a_non_tensor_input_like_torch():
    torch = pytest.importorskip("torch")
    raises_like_torch(torch, lambda lib: lib.sin(1.0), match="argument 'input'")


def test_a_number_modulo_a_tensor_matches_torch():
    """5.0 % t: torch has no gradient for it (its backward raises), so values only."""
    torch = pytest.importorskip("torch")
    same_numbers_as_torch(torch, lambda lib: [5.0 % lib.tensor([2.0, -3.0, 0.7]),
                                              7 % lib.tensor([2, -3, 4])])


def test_a_0d_result_of_arithmetic_with_a_number_can_be_written_in_place_like_torch():
    """numpy gives a scalar, not an array, for a 0-d array times a number: the
    tensor made of it must still hold an array that in-place ops write into."""
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
        y = x * 2.0
        y.sin_()
        z = (1.0 - x).add_(1.0)
        (y + z).backward()
        return [y, z, x.grad]

    same_numbers_as_torch(torch, scenario)


@pytest.mark.parametrize("bounds", [dict(min=0.5, max=2.5), dict(min=0), dict(max=1),
                                    dict(min=-1, max=2.0)], ids=str)
def test_clamp_of_integers_with_a_float_bound_is_float_as_torch(bounds):
    torch = pytest.importorskip("torch")
    ours = tg.clamp(tg.tensor([3, -7, 1]), **bounds)
    theirs = torch.clamp(torch.tensor([3, -7, 1]), **bounds)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
