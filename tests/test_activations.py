"""Activations with parameters: values and gradients against torch float64 and
finite differences, grad_fn names, dtypes, and the modules' reprs."""
import numpy as np
import pytest

import tapegrad as tg
from test_tensor_gradients import (R, arrays_for, check_against_torch,
                                   check_finite_differences)


def act(name, *args, **options):
    return lambda lib, x: getattr(lib.nn.functional, name)(x * 3.0, *args, **options)


CASES = {
    "leaky_relu": act("leaky_relu"),
    "leaky_relu_slope": act("leaky_relu", 0.2),
    "gelu": act("gelu"),
    "gelu_tanh": act("gelu", approximate="tanh"),
    "elu": act("elu"),
    "elu_alpha": act("elu", alpha=0.5),
    "silu": act("silu"),
    "softplus": act("softplus"),
    "softplus_beta_threshold": act("softplus", beta=2.0, threshold=3.0),
    "hardtanh": act("hardtanh"),
    "hardtanh_bounds": act("hardtanh", -2.0, 0.7),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x * 5.0 + 3.0),
}
SHAPES = [(3, 4), (), (0, 3), (2, 3, 4)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("case_id", sorted(CASES))
def test_against_torch(case_id, shape):
    check_against_torch(CASES[case_id], arrays_for(case_id, [R(*shape)]), case_id)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_finite_differences(case_id):
    check_finite_differences(CASES[case_id], arrays_for(case_id, [R(3, 4)]), case_id)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_float32_and_strided_against_torch(case_id):
    arrays = arrays_for(case_id, [R(3, 4)])
    check_against_torch(CASES[case_id], arrays, case_id, dtype="float32", rtol=1e-5,
                        atol=1e-6)
    check_against_torch(CASES[case_id], arrays, case_id, layout="strided")


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_grad_fn_name_as_torch(case_id):
    torch = pytest.importorskip("torch")
    x = np.linspace(-3, 3, 7)
    expected = CASES[case_id](torch, torch.tensor(x, requires_grad=True)).grad_fn.name()
    assert CASES[case_id](tg, tg.tensor(x, requires_grad=True)).grad_fn.name() == expected


def test_edges_and_kinks_as_torch():
    torch = pytest.importorskip("torch")
    x = np.array([-np.inf, -1.0, 0.0, 1.0, 6.0, np.inf, np.nan, 30.0, -30.0])
    for name, fn in CASES.items():
        t = torch.tensor(x, requires_grad=True)
        fn(torch, t).sum().backward()
        g = tg.tensor(x, requires_grad=True)
        out = fn(tg, g)
        out.sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), fn(torch, torch.tensor(x)).numpy(),
                                   rtol=1e-12, equal_nan=True, err_msg=name)
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-300,
                                   equal_nan=True, err_msg=name)


def test_integer_input_gives_default_float():
    out = tg.nn.functional.gelu(tg.tensor([-1, 0, 2]))
    assert out.dtype == tg.float32
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(out.numpy(), torch.nn.functional.gelu(
        torch.tensor([-1.0, 0.0, 2.0])).numpy(), rtol=1e-6)


def test_gelu_bad_approximate_raises_as_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.nn.functional.gelu(torch.zeros(2), approximate="fast")
    with pytest.raises(RuntimeError):
        tg.nn.functional.gelu(tg.zeros(2), approximate="fast")


def test_modules_match_torch_and_print_as_torch():
    torch = pytest.importorskip("torch")
    x = np.linspace(-4, 4, 11)
    for make in (lambda nn: nn.LeakyReLU(), lambda nn: nn.LeakyReLU(0.3),
                 lambda nn: nn.GELU(), lambda nn: nn.GELU("tanh"), lambda nn: nn.ELU(0.7),
                 lambda nn: nn.SiLU(), lambda nn: nn.Softplus(2.0, 5.0),
                 lambda nn: nn.Hardtanh(-0.5, 2.0), lambda nn: nn.ReLU6()):
        ours, theirs = make(tg.nn), make(torch.nn)
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(tg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                                   rtol=1e-10)
