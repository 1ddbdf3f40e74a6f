"""Gather and scatter ops of issue 12 (gather scatter scatter_add index_select
index_add masked_fill masked_fill_): values and gradients against finite
differences and torch float64, repeated indices, torch's grad_fn names, and
torch's errors for bad index dtypes and shapes."""
import numpy as np
import pytest

import tapegrad as tg
from conftest import P, R, check_against_torch, leaf, op_case_tests, op_cases, sample

IDX_2x3 = [[0, 2, 1], [2, 2, 0]]            # repeated entries: gradients add up
MASK = [[True, False, True, False], [False, False, True, True], [True, True, False, False]]

INDEX_CASES = {
    "gather_dim0": (lambda lib, x: x.gather(0, lib.tensor(IDX_2x3)), [R(3, 4)]),
    "gather_dim1": (lambda lib, x: lib.gather(x, 1, lib.tensor(IDX_2x3)), [R(3, 4)]),
    "gather_dim_neg": (lambda lib, x: x.gather(-1, lib.tensor([[[1], [0]]])), [R(2, 2, 3)]),
    "gather_int32_index": (lambda lib, x: x.gather(1, lib.tensor(IDX_2x3, dtype=lib.int32)),
                           [R(3, 4)]),
    "gather_empty_index": (lambda lib, x: x.gather(0, lib.zeros(0, 4, dtype=lib.int64)),
                           [R(3, 4)]),
    "scatter_src": (lambda lib, x, s: x.scatter(1, lib.tensor([[0, 3], [2, 1]]), s),
                    [R(3, 4), R(2, 2)]),
    "scatter_src_function": (lambda lib, x, s: lib.scatter(x, 0, lib.tensor([[2, 0, 1]]), s),
                             [R(3, 4), R(1, 3)]),
    "scatter_value": (lambda lib, x: x.scatter(1, lib.tensor([[0, 3], [2, 1]]), 1.5),
                      [R(3, 4)]),
    "scatter_value_keyword": (lambda lib, x: x.scatter(0, lib.tensor([[1, 2]]), value=-2.0),
                              [R(3, 4)]),
    "scatter_add": (lambda lib, x, s: x.scatter_add(0, lib.tensor(IDX_2x3), s),
                    [R(3, 4), R(2, 3)]),
    "scatter_add_function": (lambda lib, x, s: lib.scatter_add(x, 1, lib.tensor(IDX_2x3), s),
                             [R(3, 4), R(2, 3)]),
    "scatter_inplace": (lambda lib, x, s: (x * 1.0).scatter_(1, lib.tensor([[0, 3], [2, 1]]), s),
                        [R(3, 4), R(2, 2)]),
    "scatter_inplace_value": (lambda lib, x: (x + 0.0).scatter_(0, lib.tensor([[1, 2]]), 3.0),
                              [R(3, 4)]),
    "scatter_add_inplace": (lambda lib, x, s: (x * 2.0).scatter_add_(0, lib.tensor(IDX_2x3), s),
                            [R(3, 4), R(2, 3)]),
    "index_select": (lambda lib, x: x.index_select(0, lib.tensor([2, 0, 2])), [R(3, 4)]),
    "index_select_dim1": (lambda lib, x: lib.index_select(x, 1, lib.tensor([3, 3, 1])),
                          [R(3, 4)]),
    "index_select_0d_index": (lambda lib, x: x.index_select(-1, lib.tensor(1)), [R(2, 3)]),
    "index_select_empty": (lambda lib, x: x.index_select(0, lib.tensor([], dtype=lib.int64)),
                           [R(3, 4)]),
    "index_add": (lambda lib, x, s: x.index_add(0, lib.tensor([2, 0, 2]), s), [R(3, 4), R(3, 4)]),
    "index_add_alpha": (lambda lib, x, s: lib.index_add(x, 1, lib.tensor([1, 1]), s, alpha=-2.5),
                        [R(3, 4), R(3, 2)]),
    "masked_fill": (lambda lib, x: x.masked_fill(lib.tensor(MASK), 0.25), [R(3, 4)]),
    "masked_fill_broadcast": (lambda lib, x: x.masked_fill(lib.tensor([True, False, True, False]),
                                                           -1.0), [R(3, 4)]),
    "masked_fill_tensor_value": (lambda lib, x, v: x.masked_fill(lib.tensor(MASK), v.sum()),
                                 [R(3, 4), R(2)]),
    "masked_fill_function": (lambda lib, x: lib.masked_fill(x, x.detach() > 0.3, 0.0),
                             [R(3, 4)]),
    "masked_fill_inplace": (lambda lib, x: (x * 1.0).masked_fill_(lib.tensor(MASK), 2.0),
                            [R(3, 4)]),
    "masked_fill_inplace_tensor": (lambda lib, x, v: (x * 2.0).masked_fill_(lib.tensor(MASK),
                                                                            v[0]),
                                   [R(3, 4), R(2)]),
    "gather_of_log_softmax": (lambda lib, x: -lib.log_softmax(x, dim=1).gather(
        1, lib.tensor([[1], [0], [3]])).mean(), [R(3, 4)]),
    "one_hot_by_scatter": (lambda lib, x: lib.zeros(3, 4, dtype=lib.float64).scatter(
        1, lib.tensor([[1], [0], [3]]), 1.0) * x, [P(3, 4)]),
}


# every case two ways: against finite differences, and against torch in float64
test_gradient_matches_finite_differences, test_value_and_gradient_match_torch_float64 = \
    op_case_tests(INDEX_CASES)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
@op_cases(INDEX_CASES, ["gather_dim1", "scatter_src", "scatter_add", "index_select",
                        "index_add", "masked_fill"])
def test_non_contiguous_inputs_match_torch(case, layout):
    check_against_torch(*case, layout)


GRAD_FN_NAMES = {
    "gather": lambda lib, x: x.gather(0, lib.tensor([[0, 1, 2]])),
    "scatter": lambda lib, x: x.scatter(0, lib.tensor([[0, 1]]), x[:1, :2]),
    "scatter_value": lambda lib, x: x.scatter(0, lib.tensor([[0, 1]]), 2.0),
    "scatter_add": lambda lib, x: x.scatter_add(0, lib.tensor([[0, 1]]), x[:1, :2]),
    "index_select": lambda lib, x: x.index_select(0, lib.tensor([0, 2])),
    "index_add": lambda lib, x: x.index_add(0, lib.tensor([0, 2]), x[:2]),
    "masked_fill": lambda lib, x: x.masked_fill(x > 0, 1.0),
    "masked_fill_tensor": lambda lib, x: x.masked_fill(x > 0, x[0, 0]),
}


@pytest.mark.parametrize("name", sorted(GRAD_FN_NAMES))
def test_grad_fn_names_are_torch_names(name):
    torch = pytest.importorskip("torch")
    a = sample(R(3, 3), 3)
    fn = GRAD_FN_NAMES[name]
    assert fn(tg, leaf(a)).grad_fn.name() == fn(torch, torch.tensor(a, requires_grad=True)) \
        .grad_fn.name()


def test_integer_tensors_and_values_match_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(12).reshape(3, 4)
    cases = [lambda lib, x: x.gather(1, lib.tensor(IDX_2x3)),
             lambda lib, x: x.scatter(0, lib.tensor([[1, 2]]), 7),
             lambda lib, x: x.scatter_add(1, lib.tensor(IDX_2x3), x[:2, :3]),
             lambda lib, x: x.index_select(1, lib.tensor([3, 0])),
             lambda lib, x: x.index_add(0, lib.tensor([0, 0]), x[:2]),
             lambda lib, x: x.masked_fill(lib.tensor(MASK), -1)]
    for fn in cases:
        out, expected = fn(tg, tg.tensor(a)), fn(torch, torch.tensor(a))
        assert str(out.dtype) == str(expected.dtype).replace("torch.", "")
        np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_masked_fill_in_place_writes_the_tensor_and_bumps_its_version():
    x = tg.tensor([1.0, 2.0, 3.0])
    version = x._version_value
    assert x.masked_fill_(tg.tensor([True, False, True]), 0.0) is x
    assert x.tolist() == [0.0, 2.0, 0.0]
    assert x._version_value == version + 1


def test_masked_fill_in_place_on_a_leaf_that_requires_grad_raises_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (torch, tg):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x.masked_fill_(lib.tensor([True, False, True]), 0.0)


def test_scatter_in_place_writes_the_tensor_as_torch():
    torch = pytest.importorskip("torch")
    labels = [2, 0, 3]
    for lib in (tg, torch):
        one_hot = lib.zeros(3, 4)
        assert one_hot.scatter_(1, lib.tensor(labels).unsqueeze(1), 1.0) is one_hot
        np.testing.assert_array_equal(one_hot.numpy(), np.eye(4, dtype=np.float32)[labels])
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            lib.zeros(3, 4, requires_grad=True).scatter_add_(
                1, lib.tensor([[0], [1], [2]]), lib.ones(3, 1))


def test_writing_the_index_before_backward_raises():
    x = leaf(sample(R(3, 4), 4))
    index = tg.tensor(IDX_2x3)
    y = x.gather(1, index)
    index[0, 0] = 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


ERRORS = {
    "gather_float_index": lambda lib: lib.zeros(3, 4).gather(0, lib.tensor([[0.0]])),
    "gather_index_ndim": lambda lib: lib.zeros(3, 4).gather(0, lib.tensor([0])),
    "gather_index_too_large": lambda lib: lib.zeros(3, 4).gather(
        0, lib.zeros(1, 5, dtype=lib.int64)),
    "gather_out_of_bounds": lambda lib: lib.zeros(3, 4).gather(0, lib.tensor([[9]])),
    "gather_negative": lambda lib: lib.zeros(3, 4).gather(1, lib.tensor([[-1]])),
    "gather_dim_out_of_range": lambda lib: lib.zeros(3, 4).gather(2, lib.tensor([[0]])),
    "scatter_float_index": lambda lib: lib.zeros(3, 4).scatter(0, lib.tensor([[0.0]]), 1.0),
    "scatter_out_of_bounds": lambda lib: lib.zeros(3, 4).scatter(0, lib.tensor([[5]]), 1.0),
    "scatter_src_dtype": lambda lib: lib.zeros(3, 4).scatter(
        0, lib.tensor([[0]]), lib.ones(1, 1, dtype=lib.float64)),
    "scatter_src_too_small": lambda lib: lib.zeros(3, 4).scatter(
        0, lib.tensor([[0, 1]]), lib.ones(1, 1)),
    "scatter_add_float_index": lambda lib: lib.zeros(3, 4).scatter_add(
        0, lib.tensor([[0.0]]), lib.ones(1, 1)),
    "index_select_float_index": lambda lib: lib.zeros(3, 4).index_select(0, lib.tensor([0.0])),
    "index_select_2d_index": lambda lib: lib.zeros(3, 4).index_select(0, lib.tensor([[0]])),
    "index_select_out_of_range": lambda lib: lib.zeros(3, 4).index_select(0, lib.tensor([3])),
    "index_select_negative": lambda lib: lib.zeros(3, 4).index_select(0, lib.tensor([-1])),
    "masked_fill_float_mask": lambda lib: lib.zeros(3, 4).masked_fill(lib.ones(3, 4), 1.0),
    "masked_fill_int_mask": lambda lib: lib.zeros(3, 4).masked_fill(
        lib.ones(3, 4, dtype=lib.int64), 1.0),
    "masked_fill_vector_value": lambda lib: lib.zeros(3, 4).masked_fill(
        lib.ones(3, 4, dtype=lib.bool), lib.ones(2)),
    "masked_fill_mask_shape": lambda lib: lib.zeros(3, 4).masked_fill(
        lib.ones(3, dtype=lib.bool), 1.0),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as expected:
        ERRORS[name](torch)
    with pytest.raises(type(expected.value)) as got:
        ERRORS[name](tg)
    assert str(got.value) == str(expected.value).splitlines()[0]
