"""Gradients of every differentiable Tensor op.

Each op is checked two ways:

* by central finite differences in float64: the analytic gradient of
  L = sum(G * f(x)) for a random upstream gradient G (what out.backward(G)
  computes) against (L(x + eps) - L(x - eps)) / (2 eps), element by element;
* against torch in float64 (skipped when torch is not installed): same inputs,
  same G, values and gradients equal to ~1e-10.

A case is a function ``fn(lib, *tensors)`` written once for both libraries
(``lib`` is ``tapegrad`` or ``torch``), plus the inputs it takes. Inputs are
kept away from kinks (0 for relu/abs, +-0.5 for the clamps) and from ties, so
that finite differences are valid; the behaviour *at* kinks and ties is tested
separately, exactly, against torch.
"""
import numpy as np
import pytest

import tapegrad as tg
from conftest import (F32_ATOL, F32_RTOL, TORCH_ATOL, TORCH_RTOL, Case, Input, P, R, arrays_for,
                      assert_close, check_against_torch, check_finite_differences, leaf,
                      op_case_tests, op_cases, sample, shape_id, tapegrad_run, upstream)


# Elementwise ops of one tensor: the C-kernel unary ops, clamp, and the ops
# with a Python number on either side.
UNARY = {
    "exp": (lambda lib, x: x.exp(), "real"),
    "log": (lambda lib, x: x.log(), "positive"),
    "tanh": (lambda lib, x: x.tanh(), "real"),
    "sigmoid": (lambda lib, x: x.sigmoid(), "real"),
    "sigmoid_wide": (lambda lib, x: (x * 12.0).sigmoid(), "real"),
    "relu": (lambda lib, x: x.relu(), "real"),
    "abs": (lambda lib, x: x.abs(), "real"),
    "sqrt": (lambda lib, x: x.sqrt(), "positive"),
    "clamp": (lambda lib, x: x.clamp(-0.5, 0.5), "real"),
    "clamp_min": (lambda lib, x: x.clamp(min=-0.5), "real"),
    "clamp_max": (lambda lib, x: x.clamp(max=0.5), "real"),
    "neg": (lambda lib, x: -x, "real"),
}
SCALAR_OPS = {
    "add_scalar": (lambda lib, x: x + 2.5, "real"),
    "radd_scalar": (lambda lib, x: 2.5 + x, "real"),
    "sub_scalar": (lambda lib, x: x - 1.5, "real"),
    "rsub_scalar": (lambda lib, x: 1.5 - x, "real"),
    "mul_scalar": (lambda lib, x: x * 3.0, "real"),
    "rmul_scalar": (lambda lib, x: -3.0 * x, "real"),
    "div_scalar": (lambda lib, x: x / 4.0, "real"),
    "rdiv_scalar": (lambda lib, x: 2.0 / x, "positive"),
    "pow_2": (lambda lib, x: x ** 2, "real"),
    "pow_3": (lambda lib, x: x ** 3, "real"),
    "pow_1": (lambda lib, x: x ** 1, "real"),
    "pow_0": (lambda lib, x: x ** 0, "real"),
    "pow_half": (lambda lib, x: x ** 0.5, "positive"),
    "pow_neg": (lambda lib, x: x ** -1.5, "positive"),
    "rpow": (lambda lib, x: 2.0 ** x, "real"),
    "rpow_small_base": (lambda lib, x: 0.5 ** x, "real"),
}
ELEMENTWISE = {**UNARY, **SCALAR_OPS}
UNARY_SHAPES = [(3, 4), (), (1,), (2, 3, 4), (0, 3)]

BINARY = {
    "add": (lambda lib, a, b: a + b, "real", "real"),
    "sub": (lambda lib, a, b: a - b, "real", "real"),
    "mul": (lambda lib, a, b: a * b, "real", "real"),
    "div": (lambda lib, a, b: a / b, "real", "positive"),
    "pow": (lambda lib, a, b: a ** b, "positive", "real"),
    "add_method": (lambda lib, a, b: a.add(b), "real", "real"),
    "sub_method": (lambda lib, a, b: a.sub(b), "real", "real"),
    "mul_method": (lambda lib, a, b: a.mul(b), "real", "real"),
    "div_method": (lambda lib, a, b: a.div(b), "real", "positive"),
    "pow_method": (lambda lib, a, b: a.pow(b), "positive", "real"),
}
BINARY_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),           # both sides broadcast
    ((2, 3, 4), (4,)),          # fewer dims on the right
    ((4,), (2, 3, 4)),          # fewer dims on the left
    ((), (3,)),                 # 0-d tensor with a vector
    ((2, 3), ()),
    ((), ()),
    ((2, 1, 4), (3, 1)),        # -> (2, 3, 4)
    ((0, 3), (3,)),             # empty
    ((0, 3), (1, 3)),           # empty with a gradient that must still be (1, 3) zeros
]

REDUCTIONS = {
    "sum": lambda lib, x: x.sum(),
    "sum_dim0": lambda lib, x: x.sum(dim=0),
    "sum_dim_neg_keepdim": lambda lib, x: x.sum(dim=-1, keepdim=True),
    "sum_dims": lambda lib, x: x.sum(dim=(0, -1)),
    "mean": lambda lib, x: x.mean(),
    "mean_dim0": lambda lib, x: x.mean(dim=0),
    "mean_dim_neg_keepdim": lambda lib, x: x.mean(dim=-1, keepdim=True),
    "mean_dims": lambda lib, x: x.mean(dim=(0, -1)),
    "max": lambda lib, x: x.max(),
    "min": lambda lib, x: x.min(),
    "max_dim0": lambda lib, x: x.max(dim=0).values,
    "max_dim_neg_keepdim": lambda lib, x: x.max(dim=-1, keepdim=True).values,
    "max_dim1_tuple": lambda lib, x: x.max(1)[0],
    "min_dim1": lambda lib, x: x.min(dim=1).values,
    "min_dim_neg_keepdim": lambda lib, x: x.min(dim=-1, keepdim=True).values,
}
REDUCTIONS_0D = {
    "sum": lambda lib, x: x.sum(),
    "sum_dim0": lambda lib, x: x.sum(dim=0),
    "mean": lambda lib, x: x.mean(),
    "mean_dim0": lambda lib, x: x.mean(dim=0, keepdim=True),
    "max": lambda lib, x: x.max(),
    "max_dim0": lambda lib, x: x.max(dim=0).values,
    "min": lambda lib, x: x.min(),
    "min_dim_neg": lambda lib, x: x.min(dim=-1).values,
}
REDUCTIONS_EMPTY = {           # on a (0, 3) tensor
    "sum": lambda lib, x: x.sum(),
    "sum_dim0": lambda lib, x: x.sum(dim=0),
    "sum_dim1": lambda lib, x: x.sum(dim=1),
    "mean": lambda lib, x: x.mean(),                  # nan, as torch
    "mean_dim0": lambda lib, x: x.mean(dim=0),        # three nans
    "mean_dim1": lambda lib, x: x.mean(dim=1),        # empty
    "max_dim1": lambda lib, x: x.max(dim=1).values,
    "min_dim1_keepdim": lambda lib, x: x.min(dim=1, keepdim=True).values,
}

SOFTMAX_INPUTS = [((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((2, 3, 4), 1), ((5,), 0),
                  ((), 0), ((0, 3), 1), ((0, 3), 0)]

MATMUL_SHAPES = {
    "1d@1d": ((4,), (4,)),
    "1d@2d": ((4,), (4, 3)),
    "2d@1d": ((3, 4), (4,)),
    "2d@2d": ((3, 4), (4, 5)),
    "3d@2d": ((2, 3, 4), (4, 5)),
    "2d@3d": ((3, 4), (2, 4, 5)),
    "3d@3d": ((2, 3, 4), (2, 4, 5)),
    "1d@3d": ((4,), (2, 4, 3)),
    "3d@1d": ((2, 3, 4), (4,)),
    "broadcast_batch": ((2, 1, 3, 4), (5, 4, 2)),
    "broadcast_batch_of_one": ((1, 3, 4), (2, 4, 5)),
    "empty_rows": ((0, 3), (3, 2)),
    "empty_inner": ((2, 0), (0, 3)),
}

SHAPE_OPS = {
    "reshape": (lambda lib, x: x.reshape(4, 6), [R(2, 3, 4)]),
    "reshape_tuple": (lambda lib, x: x.reshape((6, -1)), [R(2, 3, 4)]),
    "reshape_flat": (lambda lib, x: x.reshape(-1), [R(2, 3, 4)]),
    "reshape_0d_to_1x1": (lambda lib, x: x.reshape(1, 1), [R()]),
    "reshape_empty": (lambda lib, x: x.reshape(3, 0), [R(0, 3)]),
    "view": (lambda lib, x: x.view(4, 6), [R(2, 3, 4)]),
    "view_inferred": (lambda lib, x: x.view(-1, 4), [R(2, 3, 4)]),
    "transpose": (lambda lib, x: x.transpose(0, 2), [R(2, 3, 4)]),
    "transpose_neg": (lambda lib, x: x.transpose(-1, -2), [R(2, 3, 4)]),
    "permute": (lambda lib, x: x.permute(2, 0, 1), [R(2, 3, 4)]),
    "T": (lambda lib, x: x.T, [R(3, 4)]),
    "t": (lambda lib, x: x.t(), [R(3, 4)]),
    "squeeze_all": (lambda lib, x: x.squeeze(), [R(3, 1, 4, 1)]),
    "squeeze_dim": (lambda lib, x: x.squeeze(1), [R(3, 1, 4, 1)]),
    "unsqueeze_front": (lambda lib, x: x.unsqueeze(0), [R(3, 4)]),
    "unsqueeze_back": (lambda lib, x: x.unsqueeze(-1), [R(3, 4)]),
    "unsqueeze_0d": (lambda lib, x: x.unsqueeze(0), [R()]),
    "transpose_then_reshape": (lambda lib, x: x.transpose(0, 1).reshape(4, 6), [R(2, 3, 4)]),
}

CAT_STACK = {
    "cat_dim0": (lambda lib, a, b: lib.cat([a, b], dim=0), [R(2, 3), R(4, 3)]),
    "cat_dim1": (lambda lib, a, b: lib.cat([a, b], dim=1), [R(2, 3), R(2, 5)]),
    "cat_dim_neg_three": (lambda lib, a, b, c: lib.cat([a, b, c], dim=-1),
                          [R(2, 1, 3), R(2, 1, 2), R(2, 1, 1)]),
    "cat_1d": (lambda lib, a, b: lib.cat([a, b]), [R(3), R(4)]),
    "cat_with_empty": (lambda lib, a, b: lib.cat([a, b], dim=0), [R(0, 3), R(2, 3)]),
    "stack_dim0": (lambda lib, a, b: lib.stack([a, b], dim=0), [R(2, 3), R(2, 3)]),
    "stack_dim1": (lambda lib, a, b: lib.stack([a, b], dim=1), [R(2, 3), R(2, 3)]),
    "stack_dim_neg_three": (lambda lib, a, b, c: lib.stack([a, b, c], dim=-1),
                            [R(2, 3), R(2, 3), R(2, 3)]),
    "stack_0d": (lambda lib, a, b: lib.stack([a, b]), [R(), R()]),
    "stack_empty": (lambda lib, a, b: lib.stack([a, b], dim=1), [R(0, 3), R(0, 3)]),
}

MASK_3x4 = np.array([[True, False, True, True],
                     [False, False, True, False],
                     [True, True, False, False]])
MASK_3x1 = np.array([[True], [False], [True]])
MASK_2x1x4 = np.array([[[True, False, False, True]], [[False, True, True, False]]])

# where(condition, input, other): each entry is (condition, fn(lib, condition, *inputs), inputs)
WHERE = {
    "same_shapes": (MASK_3x4, lambda lib, c, a, b: lib.where(c, a, b), [R(3, 4), R(3, 4)]),
    "broadcast_all_three": (MASK_3x1, lambda lib, c, a, b: lib.where(c, a, b),
                            [R(1, 4), R(3, 4)]),
    "vector_and_0d": (MASK_3x4, lambda lib, c, a, b: lib.where(c, a, b), [R(4), R()]),
    "to_3d": (MASK_2x1x4, lambda lib, c, a, b: lib.where(c, a, b), [R(3, 1), R(4)]),
    "scalar_other": (MASK_3x4, lambda lib, c, a: lib.where(c, a, 0.0), [R(3, 4)]),
    "scalar_input": (MASK_3x4, lambda lib, c, b: lib.where(c, 1.5, b), [R(3, 4)]),
    "same_tensor_both_sides": (MASK_3x4, lambda lib, c, x: lib.where(c, x, x * 2.0), [R(3, 4)]),
    "empty": (np.zeros((0, 3), bool), lambda lib, c, a, b: lib.where(c, a, b), [R(0, 3), R(3)]),
}


def where_case(mask, fn, condition_as_array=False):
    """The where case with its condition a bool tensor (the API), or, for
    tapegrad only, a bool numpy array (torch always gets a tensor)."""
    def case(lib, *xs):
        c = mask if condition_as_array and lib is tg else lib.tensor(mask)
        return fn(lib, c, *xs)
    return case


ROW_MASK = np.array([True, False, True])
COL_MASK = np.array([False, True, True, False])

INDEXING = {
    "int": (lambda lib, x: x[1], [R(3, 4)]),
    "int_negative": (lambda lib, x: x[-1], [R(3, 4)]),
    "int_pair": (lambda lib, x: x[2, -3], [R(3, 4)]),
    "slice": (lambda lib, x: x[1:3], [R(3, 4)]),
    "slice_step": (lambda lib, x: x[::2], [R(5, 4)]),
    "slice_negative_start": (lambda lib, x: x[-2:], [R(3, 4)]),
    "slice_columns": (lambda lib, x: x[:, 1:3], [R(3, 4)]),
    "slice_step_columns": (lambda lib, x: x[:, 1::2], [R(3, 5)]),
    "slice_empty": (lambda lib, x: x[:0], [R(3, 4)]),
    "ellipsis": (lambda lib, x: x[..., 1], [R(2, 3, 4)]),
    "new_axis": (lambda lib, x: x[None], [R(3, 4)]),
    "int_list": (lambda lib, x: x[[0, 2]], [R(3, 4)]),
    "int_list_negative": (lambda lib, x: x[[-1, 0, -2]], [R(3, 4)]),
    "int_list_repeated": (lambda lib, x: x[[0, 0, 2, 0]], [R(3, 4)]),
    "int_tensor_repeated": (lambda lib, x: x[lib.tensor([2, 0, 2])], [R(3, 4)]),
    "int_list_columns_repeated": (lambda lib, x: x[:, [1, 1, 3, -1]], [R(3, 4)]),
    "int_list_pairs_repeated": (lambda lib, x: x[[0, 1, 0], [2, 2, 2]], [R(3, 4)]),
    "bool_mask_full": (lambda lib, x: x[lib.tensor(MASK_3x4)], [R(3, 4)]),
    "bool_mask_rows": (lambda lib, x: x[lib.tensor(ROW_MASK)], [R(3, 4)]),
    "bool_mask_columns": (lambda lib, x: x[:, lib.tensor(COL_MASK)], [R(3, 4)]),
    "bool_list": (lambda lib, x: x[[True, False, True]], [R(3, 4)]),
    "bool_mask_none_selected": (lambda lib, x: x[lib.tensor(np.zeros(3, bool))], [R(3, 4)]),
    "slice_of_empty": (lambda lib, x: x[:, 1:], [R(0, 3)]),
}

# One input used more than once.
REPEATED = {
    "x*x": (lambda lib, x: x * x, [R(3, 4)]),
    "x+x": (lambda lib, x: x + x, [R(3, 4)]),
    "x-x": (lambda lib, x: x - x, [R(3, 4)]),
    "x/x": (lambda lib, x: x / x, [P(3, 4)]),
    "x**x": (lambda lib, x: x ** x, [P(3, 4)]),
    "x@x": (lambda lib, x: x @ x, [R(3, 3)]),
    "x@x.T": (lambda lib, x: x @ x.T, [R(3, 4)]),
    "cat_x_x": (lambda lib, x: lib.cat([x, x], dim=1), [R(3, 4)]),
    "stack_x_x_x": (lambda lib, x: lib.stack([x, x, x], dim=1), [R(3, 4)]),
    "x*x.sum": (lambda lib, x: x * x.sum(dim=0), [R(3, 4)]),
    "x.exp*x.tanh": (lambda lib, x: x.exp() * x.tanh() + x, [R(3, 4)]),
    "index_products": (lambda lib, x: x[[0, 0, 1]] * x[[1, 2, 2]], [R(3, 4)]),
    "softmax_times_x": (lambda lib, x: lib.softmax(x, dim=1) * x, [R(3, 4)]),
}

def normalise(x):
    """Layer norm without the affine part, over the last dim."""
    centred = x - x.mean(dim=-1, keepdim=True)
    return centred / ((centred ** 2).mean(dim=-1, keepdim=True) + 1e-5).sqrt()


def logsumexp(x):
    top = x.max(dim=-1, keepdim=True).values
    return (x - top).exp().sum(dim=-1).log() + top.squeeze(-1)


COMPOSITES = {
    "mlp": (lambda lib, x, w1, b1, w2: lib.log_softmax((x @ w1 + b1).tanh() @ w2, dim=1),
            [R(5, 3), R(3, 4), R(4), R(4, 2)]),
    "cross_entropy": (lambda lib, x, w: -lib.log_softmax(x @ w, dim=1)[[0, 1, 2], [1, 0, 3]]
                      .mean(), [R(3, 2), R(2, 4)]),
    "kernels_on_strided_views": (lambda lib, x: x[:, ::2].exp() * x[:, 1::2].sigmoid(),
                                 [R(3, 4)]),
    "kernel_on_transpose": (lambda lib, x: x.T.tanh() @ x, [R(3, 4)]),
    "kernels_on_chain_of_views": (
        lambda lib, x: (x.reshape(4, 3).T.unsqueeze(0).squeeze(0)[1:, ::2].relu() + 0.5).sqrt(),
        [R(3, 4)]),
    "normalise": (lambda lib, x: normalise(x), [R(3, 4)]),
    "logsumexp_by_hand": (lambda lib, x: logsumexp(x), [R(3, 4)]),
    "function_forms": (lambda lib, x, y: lib.matmul(lib.exp(x), lib.tanh(y)).sum(dim=0),
                       [R(2, 3), R(3, 4)]),
}


def build_cases():
    cases = {}
    for name, (fn, kind) in ELEMENTWISE.items():
        for shape in UNARY_SHAPES:
            cases[f"elementwise/{name}/{shape_id(shape)}"] = Case(fn, [Input(shape, kind)])
    for name, (fn, kind_a, kind_b) in BINARY.items():
        for sa, sb in BINARY_SHAPES:
            cases[f"binary/{name}/{shape_id(sa)}-{shape_id(sb)}"] = Case(
                fn, [Input(sa, kind_a), Input(sb, kind_b)])
    for name, fn in REDUCTIONS.items():
        for shape in [(3, 4), (2, 3, 4)]:
            cases[f"reduction/{name}/{shape_id(shape)}"] = Case(fn, [R(*shape)])
    for name, fn in REDUCTIONS_0D.items():
        cases[f"reduction/{name}/0d"] = Case(fn, [R()])
    for name, fn in REDUCTIONS_EMPTY.items():
        cases[f"reduction/{name}/0x3"] = Case(fn, [R(0, 3)])
    for shape, dim in SOFTMAX_INPUTS:
        sid = f"{shape_id(shape)}/dim{dim}"
        cases[f"softmax/{sid}"] = Case(lambda lib, x, d=dim: lib.softmax(x, dim=d), [R(*shape)])
        cases[f"softmax_method/{sid}"] = Case(lambda lib, x, d=dim: x.softmax(d), [R(*shape)])
        cases[f"log_softmax/{sid}"] = Case(lambda lib, x, d=dim: lib.log_softmax(x, dim=d),
                                           [R(*shape)])
        cases[f"log_softmax_method/{sid}"] = Case(lambda lib, x, d=dim: x.log_softmax(d),
                                                  [R(*shape)])
    for name, (sa, sb) in MATMUL_SHAPES.items():
        cases[f"matmul/{name}"] = Case(lambda lib, a, b: a @ b, [R(*sa), R(*sb)])
        cases[f"matmul_function/{name}"] = Case(lambda lib, a, b: lib.matmul(a, b),
                                                [R(*sa), R(*sb)])
    for name, (mask, fn, inputs) in WHERE.items():
        cases[f"where/{name}"] = Case(where_case(mask, fn), inputs)
        cases[f"where_array_condition/{name}"] = Case(where_case(mask, fn, True), inputs)
    for group, table in [("shape", SHAPE_OPS), ("cat_stack", CAT_STACK),
                         ("index", INDEXING), ("repeated", REPEATED),
                         ("composite", COMPOSITES)]:
        for name, (fn, inputs) in table.items():
            cases[f"{group}/{name}"] = Case(fn, inputs)
    return cases


CASES = build_cases()


# ------------------------------------------------------- every op, two ways

test_gradient_matches_finite_differences, test_value_and_gradient_match_torch_float64 = \
    op_case_tests(CASES)


# ------------------------------------------------------ non-contiguous inputs

NON_CONTIGUOUS_SHAPES = [(3, 4), (2, 3, 4)]


@pytest.mark.parametrize("layout", ["transposed", "strided"])
@pytest.mark.parametrize("shape", NON_CONTIGUOUS_SHAPES, ids=shape_id)
@pytest.mark.parametrize("op", sorted(ELEMENTWISE))
def test_elementwise_on_non_contiguous_input(op, shape, layout):
    fn, kind = ELEMENTWISE[op]
    case_id = f"noncontig/{op}/{shape_id(shape)}/{layout}"
    arrays = arrays_for(case_id, [Input(shape, kind)])
    assert not leaf(arrays[0], layout).is_contiguous()
    # the upstream gradient is laid out the same way, so neither reaches the C kernels'
    # contiguous fast path unless the op makes it contiguous
    check_finite_differences(fn, arrays, case_id, layout, g_layout=layout)
    check_against_torch(fn, arrays, case_id, layout, g_layout=layout)


NON_CONTIGUOUS_BINARY = {
    **{name: (fn, [Input((3, 4), ka), Input((3, 4), kb)])
       for name, (fn, ka, kb) in BINARY.items()},
    "mul_broadcast": (lambda lib, a, b: a * b, [R(2, 3, 4), R(3, 4)]),
    "div_broadcast": (lambda lib, a, b: a / b, [R(3, 4), P(2, 3, 4)]),
    "matmul": (lambda lib, a, b: a @ b, [R(3, 4), R(4, 5)]),
    "matmul_batched": (lambda lib, a, b: a @ b, [R(2, 3, 4), R(4, 3)]),
    "where": (where_case(MASK_3x4, lambda lib, c, a, b: lib.where(c, a, b)), [R(3, 4), R(3, 4)]),
    "where_array_condition": (where_case(MASK_3x4, lambda lib, c, a, b: lib.where(c, a, b), True),
                              [R(3, 4), R(3, 4)]),
    "cat": (lambda lib, a, b: lib.cat([a, b], dim=1), [R(3, 4), R(3, 4)]),
}


@pytest.mark.parametrize("layout", ["transposed", "strided"])
@pytest.mark.parametrize("op", sorted(NON_CONTIGUOUS_BINARY))
def test_binary_on_non_contiguous_inputs(op, layout):
    fn, inputs = NON_CONTIGUOUS_BINARY[op]
    case_id = f"noncontig-binary/{op}/{layout}"
    arrays = arrays_for(case_id, inputs)
    assert not any(leaf(a, layout).is_contiguous() for a in arrays)
    check_finite_differences(fn, arrays, case_id, layout)
    check_against_torch(fn, arrays, case_id, layout)


def test_transposed_leaf_from_numpy_through_c_kernel_and_back():
    """tg.from_numpy(a.T): an F-ordered view of a; gradients come back in a.T's shape."""
    a = sample(R(4, 3), 7)
    x = tg.from_numpy(a.T).requires_grad_()
    assert not x.is_contiguous()
    y = (x.tanh() * x.exp()).sum()
    y.backward()
    expected = (1 - np.tanh(a.T) ** 2) * np.exp(a.T) + np.tanh(a.T) * np.exp(a.T)
    assert_close(x.grad.numpy(), expected, 1e-12, 1e-12, "gradient")


# ------------------------------------------------------ repeated use of one input

@pytest.mark.parametrize("shape", [(3, 4), ()], ids=shape_id)
@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_op_with_the_same_tensor_on_both_sides(op, shape):
    fn, kind_a, kind_b = BINARY[op]
    kind = "positive" if "positive" in (kind_a, kind_b) else "real"
    same = lambda lib, x: fn(lib, x, x)         # noqa: E731
    case_id = f"same/{op}/{shape_id(shape)}"
    arrays = arrays_for(case_id, [Input(shape, kind)])
    check_finite_differences(same, arrays, case_id)
    check_against_torch(same, arrays, case_id)


# ---------------------------------------------------------------- float32

FLOAT32_LAYOUTS = [((3, 4), "contiguous"), ((), "contiguous"), ((0, 3), "contiguous"),
                   ((2, 3, 4), "contiguous"), ((3, 4), "transposed"), ((3, 4), "strided")]


@pytest.mark.parametrize("shape,layout", FLOAT32_LAYOUTS,
                         ids=[f"{shape_id(s)}-{lay}" for s, lay in FLOAT32_LAYOUTS])
@pytest.mark.parametrize("op", sorted(ELEMENTWISE))
def test_elementwise_float32_matches_torch_float32(op, shape, layout):
    """float32 stays float32 (values and gradients), through the C kernels when
    contiguous and through numpy otherwise."""
    fn, kind = ELEMENTWISE[op]
    case_id = f"float32/{op}/{shape_id(shape)}/{layout}"
    arrays = arrays_for(case_id, [Input(shape, kind)])
    check_against_torch(fn, arrays, case_id, layout, dtype="float32",
                        rtol=F32_RTOL, atol=F32_ATOL, g_layout=layout)


@op_cases(CASES, ["softmax/3x4/dim1", "log_softmax/2x3x4/dim1", "matmul/3d@2d",
                  "binary/mul/3x1-1x4", "reduction/max_dim0/3x4", "reduction/mean_dims/2x3x4",
                  "index/int_list_repeated", "composite/mlp"])
def test_other_ops_float32_match_torch_float32(case):
    check_against_torch(*case, dtype="float32", rtol=F32_RTOL, atol=F32_ATOL)


# ---------------------------------------------------- kinks and ties, exactly

KINKS = {
    "relu_at_0": (lambda lib, x: x.relu(), [-1.0, 0.0, -0.0, 2.0]),
    "abs_at_0": (lambda lib, x: x.abs(), [-1.0, 0.0, -0.0, 2.0]),
    "clamp_at_bounds": (lambda lib, x: x.clamp(-0.5, 0.5), [-1.0, -0.5, 0.0, 0.5, 1.0]),
    "clamp_min_at_bound": (lambda lib, x: x.clamp(min=-0.5), [-1.0, -0.5, 0.0, 0.5]),
    "clamp_max_at_bound": (lambda lib, x: x.clamp(max=0.5), [-0.5, 0.0, 0.5, 1.0]),
    "clamp_equal_bounds": (lambda lib, x: x.clamp(0.25, 0.25), [-1.0, 0.25, 1.0, 0.0]),
    "max_ties": (lambda lib, x: x.max(), [[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]]),
    "min_ties": (lambda lib, x: x.min(), [[1.0, -3.0, 3.0], [-3.0, 3.0, 0.0]]),
    "max_no_tie": (lambda lib, x: x.max(), [[1.0, 3.0, 2.0], [2.0, -3.0, 0.0]]),
    "max_0d": (lambda lib, x: x.max(), 2.0),
    "max_dim1_ties": (lambda lib, x: x.max(dim=1).values,
                      [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [5.0, 5.0, 5.0]]),
    "max_dim0_ties_keepdim": (lambda lib, x: x.max(dim=0, keepdim=True).values,
                              [[1.0, 3.0, 3.0], [1.0, 2.0, 3.0], [0.0, 3.0, 3.0]]),
    "min_dim_neg_ties": (lambda lib, x: x.min(dim=-1).values,
                         [[1.0, -3.0, -3.0], [0.0, 2.0, 0.0]]),
    "sqrt_at_0": (lambda lib, x: x.sqrt(), [0.0, 1.0]),
    "pow_2_at_0": (lambda lib, x: x ** 2, [0.0, 1.0]),
    "pow_0_at_0": (lambda lib, x: x ** 0, [0.0, 1.0]),
    "pow_half_at_0": (lambda lib, x: x ** 0.5, [0.0, 1.0]),
    "pow_tensor_exponent_zero_base": (lambda lib, x: x ** (x + 2.0), [0.0, 1.0]),
    "rpow_zero_base": (lambda lib, x: 0.0 ** x, [0.0, 1.0, 2.0]),
}
KINK_LAYOUTS = ["contiguous", "strided"]


def kink_params():
    params = []
    for name, (_, data) in KINKS.items():
        for layout in KINK_LAYOUTS if np.ndim(data) else ["contiguous"]:
            for dtype in ["float64", "float32"]:
                params.append(pytest.param(name, layout, dtype, id=f"{name}-{layout}-{dtype}"))
    return params


@pytest.mark.parametrize("name,layout,dtype", kink_params())
def test_kinks_and_ties_match_torch(name, layout, dtype):
    fn, data = KINKS[name]
    a = np.asarray(data, dtype=np.float64)
    # tolerances only for rounding: which elements get the gradient must be identical
    rtol, atol = (1e-12, 0.0) if dtype == "float64" else (1e-6, 0.0)
    check_against_torch(fn, [a], f"kink/{name}", layout, dtype=dtype, rtol=rtol, atol=atol)


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, False), (-1, True)])
def test_max_min_dim_with_ties_return_torch_indices(op, dim, keepdim):
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.0, 2.0], [3.0, 3.0, 3.0, -1.0]])
    values, indices = getattr(tg.tensor(a), op)(dim=dim, keepdim=keepdim)
    t_values, t_indices = getattr(torch.tensor(a), op)(dim=dim, keepdim=keepdim)
    assert_close(values.numpy(), t_values.numpy(), 0, 0, "values")
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())
    assert indices.dtype == tg.int64


@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_clamp_with_min_above_max_matches_torch(layout):
    """torch: if min > max, every element is max (and no gradient passes)."""
    fn = lambda lib, x: x.clamp(1.0, -1.0)       # noqa: E731
    a = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    check_against_torch(fn, [a], "clamp_min_above_max", layout, rtol=0, atol=0)


# ------------------------------------------------------- grad accumulation

ACCUMULATION_CASES = ["binary/mul/3x1-1x4", "matmul/3d@2d", "softmax/3x4/dim1",
                      "index/int_list_repeated", "repeated/x*x", "elementwise/tanh/3x4",
                      "reduction/max/3x4", "composite/mlp", "cat_stack/stack_dim1",
                      "where_array_condition/broadcast_all_three"]


@pytest.mark.parametrize("name", ACCUMULATION_CASES)
def test_backward_twice_with_retain_graph_accumulates_like_torch(name):
    torch = pytest.importorskip("torch")
    case = CASES[name]
    arrays = arrays_for(name, case.inputs)
    xs = [leaf(a) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, t_out = case.fn(tg, *xs), case.fn(torch, *ts)
    G1 = upstream(tuple(out.shape), name)
    G2 = upstream(tuple(out.shape), name + "/second")

    out.backward(gradient=tg.tensor(G1), retain_graph=True)
    t_out.backward(gradient=torch.tensor(G1), retain_graph=True)
    first = [x.grad.numpy().copy() for x in xs]
    out.backward(gradient=tg.tensor(G2))
    t_out.backward(gradient=torch.tensor(G2))

    _, separately = tapegrad_run(case.fn, arrays, G2)
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert_close(x.grad.numpy(), t.grad.numpy(), TORCH_RTOL, TORCH_ATOL,
                     f"input {i}: accumulated gradient vs torch")
        assert_close(x.grad.numpy(), first[i] + separately[i], 1e-12, 1e-12,
                     f"input {i}: accumulated gradient is the sum of both")


def test_gradients_of_two_graphs_accumulate_into_one_leaf():
    torch = pytest.importorskip("torch")
    a = sample(R(3, 4), 11)
    x, t = leaf(a), torch.tensor(a, requires_grad=True)
    for lib, v in [(tg, x), (torch, t)]:
        (v.exp() * v).sum().backward()
        lib.softmax(v, dim=0)[1].sum().backward()
        (v @ v.T).mean().backward()
    assert_close(x.grad.numpy(), t.grad.numpy(), TORCH_RTOL, TORCH_ATOL, "accumulated gradient")


def test_retained_grad_of_a_non_leaf_accumulates_like_torch():
    torch = pytest.importorskip("torch")
    a = sample(R(3, 4), 12)
    G = upstream((3,), "retained")
    results = []
    for lib, v in [(tg, leaf(a)), (torch, torch.tensor(a, requires_grad=True))]:
        h = v.tanh()
        h.retain_grad()
        y = (h * h).sum(dim=1)
        y.backward(gradient=lib.tensor(G), retain_graph=True)
        y.backward(gradient=lib.tensor(G))
        results.append((h.grad.numpy(), v.grad.numpy()))
    for got, want in zip(*results):
        assert_close(got, want, TORCH_RTOL, TORCH_ATOL, "gradient")


def test_a_second_backward_without_retain_graph_is_refused():
    x = leaf(sample(R(3), 13))
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()


def test_gradients_are_writable_and_share_no_memory():
    """Gradients come back through broadcast views (sum, mean, add); .grad must
    still be each leaf's own writable array, as torch's is."""
    a, b = leaf(sample(R(3, 4), 17)), leaf(sample(R(4), 18))
    G = upstream((3, 4), "writable")
    G_before = G.copy()
    (a + b).backward(gradient=tg.from_numpy(G))
    (a.sum() + b.mean()).backward()
    b_before = b.grad.numpy().copy()
    a.grad.zero_()
    a.grad.numpy()[0, 0] = 5.0
    assert np.all(a.grad.numpy()[1:] == 0) and a.grad.numpy()[0, 0] == 5.0
    assert_close(b.grad.numpy(), b_before, 0, 0, "b.grad after writing into a.grad")
    assert_close(G, G_before, 0, 0, "the upstream gradient after writing into a.grad")


# ------------------------------------------------------- autograd.grad

def test_autograd_grad_matches_torch_and_leaves_grad_alone():
    torch = pytest.importorskip("torch")
    fn = COMPOSITES["mlp"][0]
    name = "composite/mlp"
    arrays = arrays_for(name, CASES[name].inputs)
    xs = [leaf(a) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, t_out = fn(tg, *xs), fn(torch, *ts)
    G = upstream(tuple(out.shape), name)
    grads = tg.autograd.grad(out, [xs[0], xs[3]], grad_outputs=tg.tensor(G))
    expected = torch.autograd.grad(t_out, [ts[0], ts[3]], grad_outputs=torch.tensor(G))
    assert len(grads) == 2
    for g, e in zip(grads, expected):
        assert_close(g.numpy(), e.numpy(), TORCH_RTOL, TORCH_ATOL, "gradient")
    assert all(x.grad is None for x in xs)


def test_autograd_grad_of_a_scalar_and_with_respect_to_a_non_leaf():
    torch = pytest.importorskip("torch")
    a = sample(R(3, 4), 14)
    results = []
    for lib, v in [(tg, leaf(a)), (torch, torch.tensor(a, requires_grad=True))]:
        h = v.sigmoid() * v
        loss = lib.log_softmax(h, dim=1).sum() + (h ** 2).mean()
        results.append([g.numpy() for g in lib.autograd.grad(loss, [h, v], retain_graph=True)])
    for got, want in zip(*results):
        assert_close(got, want, TORCH_RTOL, TORCH_ATOL, "gradient")


def test_autograd_grad_of_several_outputs_sums_their_contributions():
    torch = pytest.importorskip("torch")
    a = sample(R(3), 15)
    G1, G2, G3 = (upstream((3,), f"outputs/{i}") for i in range(3))
    results = []
    for lib, v in [(tg, leaf(a)), (torch, torch.tensor(a, requires_grad=True))]:
        outputs = [v.exp(), v * 3.0, v]         # the last one is the input itself
        grads = lib.autograd.grad(outputs, [v], [lib.tensor(G) for G in (G1, G2, G3)])
        results.append(grads[0].numpy())
    assert_close(results[0], results[1], TORCH_RTOL, TORCH_ATOL, "gradient")


def test_autograd_grad_of_the_input_itself_twice():
    torch = pytest.importorskip("torch")
    a = sample(R(3), 16)
    G1, G2 = upstream((3,), "self/1"), upstream((3,), "self/2")
    results = []
    for lib, v in [(tg, leaf(a)), (torch, torch.tensor(a, requires_grad=True))]:
        results.append(lib.autograd.grad([v, v], [v], [lib.tensor(G1), lib.tensor(G2)])[0].numpy())
    assert_close(results[1], G1 + G2, 0, 0, "torch")
    assert_close(results[0], results[1], 0, 0, "gradient")


# ---------------------------------------------------------- other edge cases

EMPTY_OPS = {
    "mean": lambda x: x.mean(),
    "mean_dim0": lambda x: x.mean(dim=0),
    "mean_dim1": lambda x: x.mean(dim=1),
    "sum_dim0": lambda x: x.sum(dim=0),
    "softmax_dim0": lambda x: tg.softmax(x, dim=0),
    "log_softmax_dim0": lambda x: tg.log_softmax(x, dim=0),
    "log_softmax_dim1": lambda x: tg.log_softmax(x, dim=1),
}
@pytest.mark.parametrize("name", list(EMPTY_OPS))
def test_empty_tensor_ops_emit_no_numpy_warning(name, recwarn):
    """torch computes these (nan, or empty) silently; so must tapegrad, whose
    test configuration turns warnings into errors."""
    x = tg.zeros(0, 3, dtype=tg.float64, requires_grad=True)
    out = EMPTY_OPS[name](x)
    out.backward(gradient=tg.ones(out.shape, dtype=tg.float64))
    assert x.grad.shape == (0, 3)
    assert [str(w.message) for w in recwarn] == []


NAN_CASES = {
    "relu": lambda lib, x: x.relu(),
    "abs": lambda lib, x: x.abs(),
    "clamp": lambda lib, x: x.clamp(-0.5, 0.5),
    "max_dim": lambda lib, x: x.max(dim=0).values,
    # sum() passes back a broadcast (non-contiguous) gradient: the unary op's
    # numpy backward runs even for a contiguous input
    "relu_then_sum": lambda lib, x: x.relu().sum(),
    "abs_then_sum": lambda lib, x: x.abs().sum(),
}
@pytest.mark.parametrize("name,layout", [
    pytest.param(n, lay, id=f"{n}-{lay}")
    for n in NAN_CASES for lay in ["contiguous", "strided"]])
def test_nan_inputs_match_torch(name, layout):
    a = np.array([[np.nan, 1.0, -1.0, 0.25], [2.0, np.nan, -2.0, 0.0]])
    check_against_torch(NAN_CASES[name], [a], f"nan/{name}", layout, rtol=0, atol=0)


MIXED_PRECISION = {
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b.exp(),
    "sub": lambda lib, a, b: a.tanh() - b.sigmoid(),     # (torch's matmul refuses mixed dtypes)
    "cat": lambda lib, a, b: lib.cat([a.sigmoid(), b], dim=0),
    "stack": lambda lib, a, b: lib.stack([a, b.relu()], dim=1),
}


@pytest.mark.parametrize("order", ["float32,float64", "float64,float32"])
@pytest.mark.parametrize("name", sorted(MIXED_PRECISION))
def test_mixed_float32_float64_follow_torch_promotion(name, order):
    """float32 with float64 computes in float64; each leaf's gradient keeps its own dtype."""
    torch = pytest.importorskip("torch")
    fn = MIXED_PRECISION[name]
    dtypes = order.split(",")
    arrays = arrays_for(f"mixed/{name}", [R(3, 4), R(3, 4)])
    xs = [leaf(a, dtype=np.dtype(d)) for a, d in zip(arrays, dtypes)]
    ts = [torch.tensor(a, dtype=getattr(torch, d), requires_grad=True)
          for a, d in zip(arrays, dtypes)]
    out, t_out = fn(tg, *xs), fn(torch, *ts)
    assert out.dtype == np.float64 and t_out.dtype == torch.float64
    G = upstream(tuple(out.shape), f"mixed/{name}")
    out.backward(gradient=tg.tensor(G))
    t_out.backward(gradient=torch.tensor(G))
    assert_close(out.detach().numpy(), t_out.detach().numpy(), F32_RTOL, F32_ATOL, "value")
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert x.grad.dtype == np.dtype(dtypes[i]), f"input {i}: gradient dtype {x.grad.dtype}"
        assert_close(x.grad.numpy(), t.grad.numpy(), F32_RTOL, F32_ATOL, f"input {i}: gradient")
