"""What the hostile probe of the tensor engine found, each against torch 2.13 float64: type
promotion with 0-d tensors, integer powers, the gradient of abs().sqrt() at 0, numpy's
floating-point warnings where torch gives inf and NaN silently (division, exp and log,
matmul, casts, softmax, var, accumulated gradients), the
exception types and words of torch, l1_loss and binary_cross_entropy as engine ops,
and the grad and inference modes sharing one per-thread slot."""
import threading
import warnings

import numpy as np
import pytest

import tapegrad as tg
from torch_reference import raises_like_torch, same_numbers_as_torch


# ------------------------------------------------------------------ promotion

PROMOTIONS = {
    "int_1d_float_0d": lambda lib: lib.tensor([1, 2]) + lib.tensor(1.5),
    "int_1d_double_0d": lambda lib: lib.tensor([1, 2]) + lib.tensor(1.5, dtype=lib.float64),
    "float_1d_double_0d": lambda lib: lib.tensor([1.25, 2]) * lib.tensor(1.1, dtype=lib.float64),
    "double_0d_float_1d": lambda lib: lib.tensor(1.1, dtype=lib.float64) - lib.tensor([1.25, 2]),
    "float_1d_div_double_0d": lambda lib: lib.tensor([1.25, 2]) / lib.tensor(3.0,
                                                                           dtype=lib.float64),
    "int32_1d_long_0d": lambda lib: lib.tensor([1, 2], dtype=lib.int32) + lib.tensor(7),
    "bool_1d_long_0d": lambda lib: lib.tensor([True, False]) + lib.tensor(3),
    "float_0d_double_0d": lambda lib: lib.tensor(1.5) + lib.tensor(1.5, dtype=lib.float64),
    "long_0d_double_0d": lambda lib: lib.tensor(1) + lib.tensor(1.5, dtype=lib.float64),
    "where_float_1d_double_0d": lambda lib: lib.where(lib.tensor([True, False]),
                                                      lib.tensor([1.0, 2.0]),
                                                      lib.tensor(2.5, dtype=lib.float64)),
    "maximum_float_1d_double_0d": lambda lib: lib.maximum(lib.tensor([1.0, 3.0]),
                                                          lib.tensor(2.5, dtype=lib.float64)),
}


@pytest.mark.parametrize("case_id", sorted(PROMOTIONS))
def test_a_0d_tensor_promotes_as_a_scalar_as_torch(case_id):
    torch = pytest.importorskip("torch")
    expected = PROMOTIONS[case_id](torch)
    actual = PROMOTIONS[case_id](tg)
    assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    # computed in the result's dtype: the float64 0-d is rounded to float32 first
    np.testing.assert_array_equal(actual.numpy(), expected.numpy())


def test_a_0d_double_gives_a_float_gradient_of_its_own_dtype():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.tensor([1.5, -2.0], requires_grad=True)
        s = lib.tensor(0.7, dtype=lib.float64, requires_grad=True)
        (x * s).sum().backward()
        return x.grad, s.grad
    same_numbers_as_torch(torch, scenario, rtol=1e-6)
    x = tg.tensor([1.5, -2.0], requires_grad=True)
    s = tg.tensor(0.7, dtype=tg.float64, requires_grad=True)
    (x * s).sum().backward()
    assert x.grad.dtype == tg.float32 and s.grad.dtype == tg.float64


# ------------------------------------------------------------------ integer powers

def test_integer_tensor_to_negative_integer_tensor_powers_as_torch():
    torch = pytest.importorskip("torch")
    base = [0, 1, -1, 2, -2, 3, -1, 5]
    exponent = [-1, -2, -3, -1, -1, 2, -4, 0]
    same_numbers_as_torch(torch, lambda lib: lib.tensor(base) ** lib.tensor(exponent))
    same_numbers_as_torch(torch, lambda lib: lib.tensor(base) ** lib.tensor(-1))
    same_numbers_as_torch(torch, lambda lib: 2 ** lib.tensor([-1, 0, 3]))
    same_numbers_as_torch(torch, lambda lib: lib.tensor(2) ** lib.tensor([-1, 2]))
    same_numbers_as_torch(torch, lambda lib: lib.tensor([2], dtype=lib.int32) ** lib.tensor(-1))
    out = tg.tensor(base) ** tg.tensor(exponent)
    assert out.dtype == tg.int64


def test_integer_tensor_to_a_negative_python_int_raises_as_torch():
    torch = pytest.importorskip("torch")
    raises_like_torch(torch, lambda lib: lib.tensor([2]) ** -1,
                      "Integers to negative integer powers are not allowed")
    raises_like_torch(torch, lambda lib: lib.tensor([1, 2]).pow(-2),
                      "Integers to negative integer powers are not allowed")


# ------------------------------------------------------------------ gradients at kinks

def test_abs_then_sqrt_has_a_nan_gradient_at_zero_as_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.tensor([0.0, 1.0, -4.0], dtype=lib.float64, requires_grad=True)
        x.abs().sqrt().sum().backward()
        return x.grad
    grad = same_numbers_as_torch(torch, scenario)
    assert np.isnan(grad[0])


def test_abs_gradient_at_nan_is_zero_as_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.tensor([float("nan"), 0.0, -2.0], dtype=lib.float64, requires_grad=True)
        x.abs().backward(lib.tensor([1.0, float("inf"), 1.0], dtype=lib.float64))
        return x.grad
    same_numbers_as_torch(torch, scenario)


# ------------------------------------------------------------------ quiet numerics

QUIET = {
    "exp_1000": lambda lib: lib.tensor([1000.0]).exp(),
    "log_0": lambda lib: lib.tensor([0.0, -1.0]).log(),
    "zero_over_zero": lambda lib: lib.tensor([0.0]) / lib.tensor([0.0]),
    "zero_over_zero_number": lambda lib: lib.tensor([0.0, 1.0]) / 0,
    "int_over_zero": lambda lib: lib.tensor([0, 1]) / lib.tensor([0, 0]),
    "matmul_overflows": lambda lib: lib.tensor([[3e38, 3e38]]) @ lib.tensor([[3e38], [3e38]]),
    "softmax_of_inf": lambda lib: lib.tensor([float("inf"), 1.0]).softmax(0),
    "log_softmax_of_inf": lambda lib: lib.tensor([float("inf"), 1.0]).log_softmax(0),
    "double_to_float_overflows": lambda lib: lib.tensor([1e300], dtype=lib.float64).float(),
    "var_overflows": lambda lib: lib.tensor([3e38, -3e38]).var(),
}


@pytest.mark.parametrize("case_id", sorted(QUIET))
def test_inf_and_nan_come_without_a_warning_as_torch(case_id):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same_numbers_as_torch(torch, QUIET[case_id])


def test_gradients_overflowing_come_without_a_warning_as_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        y = lib.tensor([1000.0, 1.0], requires_grad=True)
        y.exp().sum().backward()
        x = lib.tensor([0.0, 2.0], requires_grad=True)
        x.log().sum().backward()
        w = lib.tensor([[3e38, 1.0]], requires_grad=True)
        other = lib.tensor([[3e38], [1.0]])
        (w @ other).sum().backward()
        (w @ other).sum().backward()      # w.grad: 3e38 + 3e38 overflows to inf, quietly
        return y.grad, x.grad, w.grad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same_numbers_as_torch(torch, scenario, rtol=1e-6)   # (float32 exp(1) is 1 ulp apart)


def test_numpy_keeps_the_users_error_state():
    before = np.geterr()
    tg.tensor([[3e38]]) @ tg.tensor([[3e38]])
    assert np.geterr() == before
    with np.errstate(over="raise"):
        tg.tensor([[3e38]]) @ tg.tensor([[3e38]])        # quiet inside our op ...
        with pytest.raises(FloatingPointError):
            np.float32(1e38) * np.array([1e38], dtype=np.float32)    # ... the user's stays


# ------------------------------------------------------------------ errors as torch

ERRORS = {
    "addmm_input_cannot_expand": (lambda lib: lib.addmm(lib.zeros(2, 3), lib.zeros(2, 3),
                                                        lib.zeros(3, 2)),
                                  r"The expanded size of the tensor \(2\) must match the "
                                  r"existing size \(3\) at non-singleton dimension 1"),
    "addmm_input_too_many_dims": (lambda lib: lib.addmm(lib.zeros(2, 2, 2), lib.zeros(2, 3),
                                                        lib.zeros(3, 2)),
                                  r"must be greater or equal to the number of dimensions"),
    "float_of_2_elements": (lambda lib: float(lib.zeros(2)),
                            "only one element tensors can be converted to Python scalars"),
    "int_of_0_elements": (lambda lib: int(lib.zeros(0)),
                          "only one element tensors can be converted to Python scalars"),
    "bool_minus_bool": (lambda lib: lib.tensor([True]) - lib.tensor([False]),
                        "Subtraction, the `-` operator, with two bool tensors is not supported"),
    "bool_sub_method": (lambda lib: lib.tensor([True]).sub(lib.tensor([True])),
                        "with two bool tensors is not supported"),
    "bool_minus_number": (lambda lib: lib.tensor([True]) - 1,
                          "Subtraction, the `-` operator, with a bool tensor is not supported"),
    "number_minus_bool": (lambda lib: 1 - lib.tensor([True]),
                          "with a bool tensor is not supported"),
    "float_minus_bool": (lambda lib: lib.tensor([1.0]) - lib.tensor([True]),
                         "with a bool tensor is not supported"),
    "ce_int32_target": (lambda lib: lib.nn.functional.cross_entropy(
        lib.zeros(2, 3), lib.tensor([0, 1], dtype=lib.int32)),
        "expected target dtype to be Long or Byte, but got Int"),
    "nll_float_target": (lambda lib: lib.nn.functional.nll_loss(
        lib.zeros(2, 3), lib.tensor([0.0, 1.0])),
        "expected target dtype to be Long or Byte, but got Float"),
    "ce_weight_requires_grad": (lambda lib: lib.nn.functional.cross_entropy(
        lib.zeros(2, 3), lib.tensor([0, 1]), weight=lib.ones(3, requires_grad=True)),
        "'nll_loss_forward' is not differentiable with respect to argument 'weight'"),
    "bce_weight_requires_grad": (lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.full((3,), 0.5), lib.ones(3), weight=lib.ones(3, requires_grad=True)),
        "'binary_cross_entropy' is not differentiable with respect to argument 'weight'"),
    "bce_logits_weight_requires_grad": (
        lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(
            lib.zeros(3), lib.ones(3), weight=lib.ones(3, requires_grad=True)),
        "'binary_cross_entropy_with_logits' is not differentiable with respect to argument "
        "'weight'"),
    "bce_target_of_another_shape": (lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.full((3,), 0.5), lib.ones(2, 3)),
        r"Using a target size .* that is different to the input size .* is deprecated"),
    "bce_input_out_of_range": (lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.tensor([0.5, 1.5]), lib.ones(2)), "all elements of input should be between 0 and 1"),
    "norm_fro_over_3_dims": (lambda lib: lib.zeros(2, 2, 2).norm(dim=(0, 1, 2)),
                             "linalg.matrix_norm: dim must be a 2-tuple. Got 0 1 2"),
    "torch_norm_fro_over_3_dims": (lambda lib: lib.norm(lib.zeros(2, 2, 2), p="fro",
                                                        dim=[0, 1, 2]),
                                   "dim must be a 2-tuple"),
}


@pytest.mark.parametrize("case_id", sorted(ERRORS))
def test_errors_as_torch(case_id):
    torch = pytest.importorskip("torch")
    scenario, match = ERRORS[case_id]
    raises_like_torch(torch, scenario, match)


def test_what_torch_accepts_near_those_errors():
    torch = pytest.importorskip("torch")
    same_numbers_as_torch(torch, lambda lib: float(lib.zeros(1, 1)) + 0 * lib.ones(1))
    same_numbers_as_torch(torch, lambda lib: lib.zeros(2, 2, 2).norm(p=2, dim=(0, 1, 2)))
    same_numbers_as_torch(torch, lambda lib: lib.zeros(2, 3, 2).norm(dim=(0, 1)))
    same_numbers_as_torch(torch, lambda lib: lib.addmm(lib.ones(3), lib.ones(2, 3),
                                                       lib.ones(3, 3)))
    # a weight that requires grad is fine where nothing is recorded
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for lib in (torch, tg):
            with lib.no_grad():
                lib.nn.functional.cross_entropy(
                    lib.zeros(2, 3), lib.tensor([0, 1]), weight=lib.ones(3, requires_grad=True))


# ------------------------------------------------------------------ the losses as engine ops

def test_binary_cross_entropy_clamps_its_logs_at_minus_100_as_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        p = lib.tensor([0.0, 1.0, 1e-50, 0.5], dtype=lib.float64, requires_grad=True)
        t = lib.tensor([1.0, 0.0, 1.0, 0.25], dtype=lib.float64)
        loss = lib.nn.functional.binary_cross_entropy(p, t, reduction="none")
        loss.sum().backward()
        return loss, p.grad
    loss, grad = same_numbers_as_torch(torch, scenario)
    assert loss[0] == loss[1] == 100.0


def test_binary_cross_entropy_is_one_node_with_torchs_gradient_of_its_target():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        p = lib.tensor([[0.2, 0.7], [0.9, 0.4]], dtype=lib.float64, requires_grad=True)
        t = lib.tensor([[0.1, 0.6], [1.0, 0.0]], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([0.5, 2.0], dtype=lib.float64)
        loss = lib.nn.functional.binary_cross_entropy(p, t, weight=w)
        loss.backward()
        return loss, p.grad, t.grad
    same_numbers_as_torch(torch, scenario)
    p = tg.tensor([0.2, 0.7], requires_grad=True)
    loss = tg.nn.functional.binary_cross_entropy(p, tg.tensor([0.0, 1.0]))
    assert loss.grad_fn.name() == "BinaryCrossEntropyBackward0"
    assert loss.grad_fn.next_functions[0][0].variable is p


def test_l1_loss_of_other_shapes_broadcasts_with_torchs_warning():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        a = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([[1.0], [0.0]], dtype=lib.float64, requires_grad=True)
        with pytest.warns(UserWarning, match="Using a target size .* different to the input"):
            loss = lib.nn.functional.l1_loss(a, b)
        loss.backward()
        return loss, a.grad, b.grad
    same_numbers_as_torch(torch, scenario)


def test_l1_loss_gradient_at_a_tie_and_at_nan_is_zero_as_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        a = lib.tensor([1.0, float("nan"), 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([1.0, 0.0, 0.0], dtype=lib.float64, requires_grad=True)
        lib.nn.functional.l1_loss(a, b, reduction="sum").backward()
        return a.grad, b.grad
    same_numbers_as_torch(torch, scenario)


def test_functional_has_no_private_copy_of_the_engines_reduction():
    import tapegrad.nn.functional as F
    assert not hasattr(F, "_reduce") and not hasattr(F, "_same_shape")
    assert F.l1_loss is tg._tensor.l1_loss
    assert F.binary_cross_entropy is tg._tensor.binary_cross_entropy


# ------------------------------------------------------------------ one slot for both modes

def test_grad_and_inference_modes_nest_as_torchs():
    torch = pytest.importorskip("torch")

    def states(lib):
        seen = [(lib.is_grad_enabled(), lib.is_inference_mode_enabled())]
        with lib.inference_mode():
            seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
            with lib.enable_grad():
                seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
                x = lib.ones(2, requires_grad=True)
                seen.append((x * 2).requires_grad)
            with lib.inference_mode(False):
                seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
                with lib.no_grad():
                    seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
                seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
            seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        with lib.no_grad():
            with lib.inference_mode():
                seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
            seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
            with lib.inference_mode(False):
                seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        lib.set_grad_enabled(False)
        seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        lib.set_grad_enabled(True)
        seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        return seen
    assert states(tg) == states(torch)


def test_each_thread_has_its_own_modes():
    seen = {}
    entered, release = threading.Event(), threading.Event()

    def inside():
        with tg.inference_mode():
            entered.set()
            release.wait(10)
            seen["worker"] = (tg.is_grad_enabled(), tg.is_inference_mode_enabled())
    worker = threading.Thread(target=inside)
    worker.start()
    entered.wait(10)
    x = tg.ones(2, requires_grad=True)
    seen["main"] = (tg.is_grad_enabled(), tg.is_inference_mode_enabled(), (x * 2).requires_grad)
    release.set()
    worker.join()
    assert seen == {"worker": (False, True), "main": (True, False, True)}
