"""The API the probe found missing, against torch 2.13 float64: values, gradients, and
torch's errors: //, binary max and min, roll by a 0-d tensor, is_cuda, clamp_,
index_add_, var_mean, std_mean, aminmax, median, kthvalue, repeat_interleave,
from_dlpack of a raw capsule, and F.pad's circular mode."""
import numpy as np
import pytest

import tapegrad as tg
from test_tensor_gradients import R, arrays_for, check_against_torch, check_finite_differences
from torch_reference import raises_like_torch, same_numbers_as_torch

DISTINCT = np.array([[0.3, -1.2, 2.5, 0.9], [1.7, 0.1, -0.4, -2.2], [0.6, 1.1, -0.8, 3.0]])

CASES = {
    "max_binary": (lambda lib, a, b: lib.max(a, b), [R(3, 4), R(3, 4)]),
    "min_binary_method": (lambda lib, a, b: a.min(b), [R(3, 4), R(4)]),
    "median": (lambda lib, x: x.median(), [R(3, 4)]),
    "median_dim": (lambda lib, x: x.median(1).values, [R(3, 4)]),
    "median_dim0_keepdim": (lambda lib, x: lib.median(x, 0, keepdim=True)[0], [R(3, 4)]),
    "kthvalue": (lambda lib, x: x.kthvalue(2).values, [R(3, 4)]),
    "kthvalue_dim0": (lambda lib, x: lib.kthvalue(x, 3, 0, True).values, [R(3, 4)]),
    "aminmax_dim": (lambda lib, x: lib.stack(list(lib.aminmax(x, dim=1))), [R(3, 4)]),
    "var_mean": (lambda lib, x: lib.stack(list(lib.var_mean(x, 1))), [R(3, 4)]),
    "std_mean_correction": (lambda lib, x: lib.stack(list(lib.std_mean(
        x, dim=0, correction=0, keepdim=True))), [R(3, 4)]),
    "repeat_interleave": (lambda lib, x: x.repeat_interleave(2), [R(2, 3)]),
    "repeat_interleave_counts": (lambda lib, x: lib.repeat_interleave(
        x, lib.tensor([2, 0, 3]), dim=1), [R(2, 3)]),
    "roll_by_0d_tensor": (lambda lib, x: lib.roll(x, lib.tensor(2), 1), [R(2, 4)]),
    "pad_circular": (lambda lib, x: lib.nn.functional.pad(x, (2, 1, 1, 0), mode="circular"),
                     [R(1, 2, 3, 4)]),
    "clamp_": (lambda lib, x: (x * 1).clamp_(-0.5, 0.7), [R(3, 4)]),
    "index_add_": (lambda lib, x, s: (x * 1).index_add_(0, lib.tensor([2, 0, 2]), s, alpha=1.5),
                   [R(3, 4), R(3, 4)]),
}


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_against_torch(case_id):
    fn, specs = CASES[case_id]
    check_against_torch(fn, arrays_for(case_id, specs), case_id)


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_finite_differences(case_id):
    fn, specs = CASES[case_id]
    check_finite_differences(fn, arrays_for(case_id, specs), case_id)


def test_median_and_kthvalue_indices_as_torch():
    torch = pytest.importorskip("torch")
    same_numbers_as_torch(torch, lambda lib: list(lib.tensor(DISTINCT).median(1)))
    same_numbers_as_torch(torch, lambda lib: list(lib.tensor(DISTINCT).median(0, True)))
    same_numbers_as_torch(torch, lambda lib: list(lib.tensor(DISTINCT).kthvalue(3, 1)))
    same_numbers_as_torch(torch, lambda lib: list(lib.tensor(DISTINCT).kthvalue(1, 0)))
    # the lower median of an even count, and NaN winning, as torch's
    same_numbers_as_torch(torch, lambda lib: lib.tensor([4.0, 1.0, 3.0, 2.0]).median())
    same_numbers_as_torch(torch, lambda lib: lib.tensor([1.0, float("nan"), 3.0]).median())
    same_numbers_as_torch(torch, lambda lib: list(
        lib.tensor([[1.0, float("nan"), 3.0], [2.0, 0.0, 1.0]]).median(1)))
    same_numbers_as_torch(torch, lambda lib: lib.tensor([5, 2, 9, 1]).median())
    values, indices = tg.tensor(DISTINCT).median(1)
    assert indices.dtype == tg.int64 and type(tg.tensor(DISTINCT).median(1)).__name__ == "median"


def test_kthvalue_out_of_range_raises_as_torch():
    torch = pytest.importorskip("torch")
    raises_like_torch(torch, lambda lib: lib.zeros(2, 3).kthvalue(4), "out of range")


def test_aminmax_everything_as_torch():
    torch = pytest.importorskip("torch")
    same_numbers_as_torch(torch, lambda lib: list(lib.aminmax(lib.tensor(DISTINCT))))
    result = tg.tensor(DISTINCT).aminmax()
    assert result.min.item() == -2.2 and result.max.item() == 3.0


def test_floor_divide_as_torch():
    torch = pytest.importorskip("torch")
    same_numbers_as_torch(torch, lambda lib: lib.tensor([5, -3, 7]) // 2)
    same_numbers_as_torch(torch, lambda lib: lib.tensor([5, -3]) // lib.tensor([2, 2]))
    same_numbers_as_torch(torch, lambda lib: 7 // lib.tensor([2, -2]))
    same_numbers_as_torch(torch, lambda lib: lib.tensor([5.0, -3.5, 0.0]) // 0)
    same_numbers_as_torch(torch, lambda lib: lib.floor_divide(lib.tensor([5.0, -3.5]), 2.5))
    assert (tg.tensor([5, -3]) // 2).dtype == tg.int64
    raises_like_torch(torch, lambda lib: lib.tensor([5]) // 0, "ZeroDivisionError")


def test_floor_divide_has_no_derivative_as_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.tensor([5.0, -3.5], requires_grad=True)
        (x // 2).sum().backward()
    raises_like_torch(torch, scenario, "derivative for aten::floor_divide is not implemented")


def test_is_cuda_is_false_as_torch():
    torch = pytest.importorskip("torch")
    assert tg.zeros(2).is_cuda is torch.zeros(2).is_cuda is False


def test_clamp_in_place_as_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.tensor([-2.0, 0.5, 3.0], dtype=lib.float64)
        y = x.clamp_(min=0.0)
        return x, y, lib.tensor([-2, 5, 9]).clamp_(0, 6)
    same_numbers_as_torch(torch, scenario)
    def written_after_saving(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y.exp()             # saves its result, y's exp: clamp_ of it bumps its version
        z.clamp_(max=3.0)
        z.sum().backward()
    raises_like_torch(torch, written_after_saving, "modified by an inplace operation")
    x = tg.tensor([1.0, 2.0])
    assert x.clamp_(max=1.5) is x
    raises_like_torch(torch, lambda lib: lib.ones(2, requires_grad=True).clamp_(0, 1),
                      "leaf Variable that requires grad")
    raises_like_torch(torch, lambda lib: lib.tensor([1, 2]).clamp_(0.5, 1.5),
                      "result type Float can't be cast to the desired output type long int")


def test_index_add_in_place_as_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.zeros(3, 2, dtype=lib.float64)
        y = x.index_add_(0, lib.tensor([0, 2, 0]), lib.ones(3, 2, dtype=lib.float64))
        return x, y
    same_numbers_as_torch(torch, scenario)
    x = tg.zeros(3)
    assert x.index_add_(0, tg.tensor([1]), tg.ones(1)) is x


def test_repeat_interleave_as_torch():
    torch = pytest.importorskip("torch")
    same_numbers_as_torch(torch, lambda lib: lib.tensor([1, 2, 3]).repeat_interleave(2))
    same_numbers_as_torch(torch, lambda lib: lib.tensor([[1, 2], [3, 4]]).repeat_interleave(
        lib.tensor([1, 2]), dim=0))
    x = tg.ones(2, 2, requires_grad=True)
    assert x.repeat_interleave(tg.tensor([1, 2]), dim=0).grad_fn.name() == "IndexSelectBackward0"
    raises_like_torch(torch, lambda lib: lib.ones(3).repeat_interleave(lib.tensor([1, 2])),
                      "repeats must have the same size as input along dim")


def test_roll_by_a_0d_tensor_as_torch():
    torch = pytest.importorskip("torch")
    same_numbers_as_torch(torch, lambda lib: lib.roll(lib.arange(4), lib.tensor(1)))
    same_numbers_as_torch(torch, lambda lib: lib.arange(6).reshape(2, 3).roll(
        (lib.tensor(1), -1), (0, 1)))


def test_from_dlpack_of_a_raw_capsule_shares_memory():
    torch = pytest.importorskip("torch")
    source = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    ours = tg.from_dlpack(torch.utils.dlpack.to_dlpack(source))
    np.testing.assert_array_equal(ours.numpy(), source.numpy())
    source[0, 0] = 42.0
    assert ours[0, 0].item() == 42.0


def test_pad_circular_as_torch():
    torch = pytest.importorskip("torch")
    same_numbers_as_torch(torch, lambda lib: lib.nn.functional.pad(
        lib.arange(6.0).reshape(1, 2, 3), (2, 1), mode="circular"))
    raises_like_torch(torch, lambda lib: lib.nn.functional.pad(
        lib.arange(6.0).reshape(1, 2, 3), (4, 1), mode="circular"),
        "Padding value causes wrapping around more than once")
