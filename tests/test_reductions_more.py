"""The reductions of issue 12: prod, cumsum, logsumexp, amax/amin, var/std, norm
(and linalg.vector_norm / linalg.norm), sort, topk, all/any, argmax/argmin, and dim
given as a tuple.

Gradients follow test_tensor_gradients.py's layout (finite differences in float64
and torch float64); ties, zeros, NaN, empty inputs, dtypes and errors are checked
exactly against torch.
"""
import math

import pytest

import tapegrad as tg
from conftest import F32_ATOL, F32_RTOL, Case, R, check_against_torch, op_case_tests, op_cases
from torch_reference import raises_like_torch, same_numbers_as_torch

INF = math.inf

REDUCTIONS = {
    # dim as a tuple, for the reductions that had it and those that are new
    "sum_dims": (lambda lib, x: x.sum(dim=(0, 2)), [R(2, 3, 4)]),
    "sum_dims_negative_keepdim": (lambda lib, x: x.sum((-1, 0), keepdim=True), [R(2, 3, 4)]),
    "sum_dims_list": (lambda lib, x: lib.sum(x, [1, 2]), [R(2, 3, 4)]),
    "sum_empty_tuple_is_all": (lambda lib, x: x.sum(dim=()), [R(3, 4)]),
    "mean_dims": (lambda lib, x: x.mean(dim=(1, 2)), [R(2, 3, 4)]),
    "mean_dims_keepdim": (lambda lib, x: lib.mean(x, (0, -1), keepdim=True), [R(2, 3, 4)]),
    # prod
    "prod": (lambda lib, x: x.prod(), [R(3, 4)]),
    "prod_dim": (lambda lib, x: x.prod(dim=1), [R(3, 4)]),
    "prod_dim_neg_keepdim": (lambda lib, x: lib.prod(x, -1, keepdim=True), [R(2, 3, 4)]),
    "prod_0d": (lambda lib, x: x.prod(), [R()]),
    "prod_0d_dim": (lambda lib, x: x.prod(0), [R()]),
    "prod_empty_dim": (lambda lib, x: x.prod(0), [R(0, 3)]),
    "prod_empty_other_dim": (lambda lib, x: x.prod(1), [R(0, 3)]),
    # cumsum
    "cumsum_dim0": (lambda lib, x: x.cumsum(0), [R(3, 4)]),
    "cumsum_dim_neg": (lambda lib, x: lib.cumsum(x, dim=-1), [R(2, 3, 4)]),
    "cumsum_0d": (lambda lib, x: x.cumsum(0), [R()]),
    "cumsum_empty": (lambda lib, x: x.cumsum(0), [R(0, 3)]),
    # logsumexp
    "logsumexp_dim1": (lambda lib, x: x.logsumexp(1), [R(3, 4)]),
    "logsumexp_keepdim": (lambda lib, x: lib.logsumexp(x, dim=-1, keepdim=True), [R(2, 3, 4)]),
    "logsumexp_dims": (lambda lib, x: x.logsumexp((0, 2)), [R(2, 3, 4)]),
    "logsumexp_large": (lambda lib, x: (x * 400).logsumexp(0), [R(3, 4)]),
    "logsumexp_0d": (lambda lib, x: x.logsumexp(0), [R()]),
    "logsumexp_empty": (lambda lib, x: x.logsumexp(0), [R(0, 3)]),
    # amax, amin
    "amax": (lambda lib, x: x.amax(), [R(3, 4)]),
    "amax_dim": (lambda lib, x: x.amax(1), [R(3, 4)]),
    "amax_dims_keepdim": (lambda lib, x: lib.amax(x, dim=(0, 2), keepdim=True), [R(2, 3, 4)]),
    "amin": (lambda lib, x: lib.amin(x), [R(3, 4)]),
    "amin_dims": (lambda lib, x: x.amin((-1, -2)), [R(2, 3, 4)]),
    "amax_empty_other_dim": (lambda lib, x: x.amax(1), [R(0, 3)]),
    # var, std
    "var": (lambda lib, x: x.var(), [R(3, 4)]),
    "var_dim": (lambda lib, x: x.var(1), [R(3, 4)]),
    "var_unbiased_false": (lambda lib, x: x.var(0, False), [R(3, 4)]),
    "var_unbiased_positional": (lambda lib, x: x.var(False), [R(3, 4)]),
    "var_correction_0": (lambda lib, x: x.var(dim=1, correction=0), [R(3, 4)]),
    "var_correction_2_keepdim": (lambda lib, x: lib.var(x, 0, keepdim=True, correction=2),
                                 [R(5, 4)]),
    "var_dims": (lambda lib, x: x.var(dim=(0, 2)), [R(2, 3, 4)]),
    "std": (lambda lib, x: x.std(), [R(3, 4)]),
    "std_dim_keepdim": (lambda lib, x: lib.std(x, -1, keepdim=True), [R(2, 3, 4)]),
    "std_unbiased": (lambda lib, x: x.std(1, unbiased=False), [R(3, 4)]),
    "std_correction_half": (lambda lib, x: x.std(correction=0.5), [R(3, 4)]),
    "std_dims": (lambda lib, x: x.std((0, 1)), [R(2, 3, 4)]),
    # norm
    "norm": (lambda lib, x: x.norm(), [R(3, 4)]),
    "norm_fro": (lambda lib, x: x.norm(p='fro'), [R(3, 4)]),
    "norm_fro_dims": (lambda lib, x: lib.norm(x, 'fro', dim=(0, 1)), [R(2, 3, 4)]),
    "norm_dim": (lambda lib, x: x.norm(dim=1), [R(3, 4)]),
    "norm_dim_keepdim": (lambda lib, x: x.norm(2, -1, True), [R(2, 3, 4)]),
    "norm_p1": (lambda lib, x: x.norm(p=1), [R(3, 4)]),
    "norm_p1_dim": (lambda lib, x: lib.norm(x, 1, 0), [R(3, 4)]),
    "norm_p3": (lambda lib, x: x.norm(3), [R(3, 4)]),
    "norm_p3_dims": (lambda lib, x: x.norm(3.0, dim=(0, 2)), [R(2, 3, 4)]),
    "norm_p_half": (lambda lib, x: x.norm(0.5, dim=1), [R(3, 4)]),
    "norm_p_1_5": (lambda lib, x: x.norm(1.5), [R(3, 4)]),
    "norm_inf": (lambda lib, x: x.norm(INF), [R(3, 4)]),
    "norm_inf_dim": (lambda lib, x: x.norm(p=INF, dim=1), [R(3, 4)]),
    "norm_neg_inf_dim": (lambda lib, x: x.norm(p=-INF, dim=0), [R(3, 4)]),
    "norm_p0": (lambda lib, x: x.norm(0) * x.sum(), [R(3, 4)]),
    "norm_0d": (lambda lib, x: x.norm(), [R()]),
    "norm_empty": (lambda lib, x: x.norm(), [R(0, 3)]),
    "norm_empty_dim": (lambda lib, x: x.norm(dim=0), [R(0, 3)]),
    "vector_norm": (lambda lib, x: lib.linalg.vector_norm(x), [R(3, 4)]),
    "vector_norm_ord_dim": (lambda lib, x: lib.linalg.vector_norm(x, ord=3, dim=(0, 1)),
                            [R(2, 3, 4)]),
    "vector_norm_inf": (lambda lib, x: lib.linalg.vector_norm(x, INF, dim=-1, keepdim=True),
                        [R(3, 4)]),
    "linalg_norm": (lambda lib, x: lib.linalg.norm(x), [R(3, 4)]),
    "linalg_norm_fro": (lambda lib, x: lib.linalg.norm(x, 'fro'), [R(3, 4)]),
    "linalg_norm_vector_ord": (lambda lib, x: lib.linalg.norm(x, 1, dim=1), [R(3, 4)]),
    "linalg_norm_1d": (lambda lib, x: lib.linalg.norm(x, 3), [R(5)]),
    # sort, topk: the gradient flows through the values
    "sort": (lambda lib, x: x.sort().values, [R(3, 4)]),
    "sort_dim0_descending": (lambda lib, x: lib.sort(x, 0, descending=True)[0], [R(3, 4)]),
    "sort_stable": (lambda lib, x: x.sort(dim=1, stable=True).values, [R(2, 3, 4)]),
    "sort_0d": (lambda lib, x: x.sort().values, [R()]),
    "sort_empty": (lambda lib, x: x.sort(0).values, [R(0, 3)]),
    "sort_values_times_indices": (lambda lib, x: x.sort().values * x.sort().indices,
                                  [R(3, 4)]),
    "topk": (lambda lib, x: x.topk(2).values, [R(3, 4)]),
    "topk_smallest_dim0": (lambda lib, x: lib.topk(x, 2, dim=0, largest=False).values,
                           [R(3, 4)]),
    "topk_all": (lambda lib, x: x.topk(4)[0], [R(3, 4)]),
    "topk_k0": (lambda lib, x: x.topk(0).values, [R(3, 4)]),
    "topk_0d": (lambda lib, x: x.topk(1).values, [R()]),
}

CASES = {name: Case(fn, inputs) for name, (fn, inputs) in REDUCTIONS.items()}


# every case two ways: against finite differences, and against torch in float64
test_gradient_matches_finite_differences, test_value_and_gradient_match_torch_float64 = \
    op_case_tests(CASES)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
@op_cases(CASES, ["prod_dim", "cumsum_dim0", "logsumexp_dim1", "var_dim", "std", "norm_dim",
                  "norm_inf_dim", "sort", "topk", "amax_dim"])
def test_non_contiguous_inputs_match_torch(case, layout):
    check_against_torch(*case, layout=layout)


@op_cases(CASES, ["prod_dim", "cumsum_dim0", "logsumexp_dim1", "var_dim", "std", "norm",
                  "norm_p3", "sort", "topk", "amin_dims"])
def test_float32_matches_torch_float32(case):
    check_against_torch(*case, dtype="float32", rtol=F32_RTOL, atol=F32_ATOL)


# ------------------------------------------------------------------ edges

def leaf(lib, data):
    return lib.tensor(data, dtype=lib.float64, requires_grad=True)


def backward_of(lib, fn, data):
    x = leaf(lib, data)
    out = fn(x)
    out.backward(lib.ones_like(out))
    return [out, x.grad]


@pytest.mark.parametrize("data", [[[2.0, 0.0, 3.0], [0.0, 0.0, 1.0]],
                                  [[2.0, 5.0, 3.0], [4.0, 0.0, 1.0]],
                                  [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_gradient_with_zeros_matches_torch(data, dim):
    """One zero: only it gets a gradient (the product of the others); two: none does."""
    torch = pytest.importorskip("torch")
    same_numbers_as_torch(torch, lambda lib: backward_of(
        lib, lambda x: x.prod() if dim is None else x.prod(dim), data))


@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("dim", [(), 0, 1, (0, 1)])
def test_amax_amin_share_the_gradient_among_ties_like_torch(op, dim):
    torch = pytest.importorskip("torch")
    data = [[1.0, 3.0, 3.0], [-2.0, 3.0, -2.0]]
    same_numbers_as_torch(torch, lambda lib: backward_of(
        lib, lambda x: getattr(x, op)(dim), data))


def test_norm_p0_has_no_gradient():
    """torch leaves the gradient of the 0-"norm" (a count) undefined (None); ours is zeros."""
    x = tg.tensor([[0.0, 1.0], [2.0, -3.0]], dtype=tg.float64, requires_grad=True)
    x.norm(0, dim=1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, INF, -INF])
def test_norm_at_zero_and_with_ties_matches_torch(p):
    """A zero vector's 2-norm (and p >= 1) has gradient 0; the inf norms share it
    among the ties; p < 1 at 0 follows torch's formula."""
    torch = pytest.importorskip("torch")
    data = [[0.0, 0.0, 0.0], [3.0, -3.0, 1.0], [0.0, 2.0, -1.0]]
    same_numbers_as_torch(torch, lambda lib: backward_of(lib, lambda x: x.norm(p, dim=1),
                                                         data))


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "logsumexp", "amax", "norm", "std",
                                "var", "cumsum"])
def test_nan_and_inf_inputs_match_torch_without_warnings(op):
    torch = pytest.importorskip("torch")
    data = [[math.nan, 1.0, 2.0], [INF, 1.0, -INF], [-INF, -INF, -INF], [1.0, 2.0, 3.0]]
    same_numbers_as_torch(torch, lambda lib: [getattr(x, op)(1) for x in
                                              [lib.tensor(data, dtype=lib.float64)]])


def test_logsumexp_is_stable_and_handles_infinities_like_torch():
    torch = pytest.importorskip("torch")
    data = [[1000.0, 1000.0], [-1000.0, -1000.0], [-INF, -INF], [INF, 1.0], [-INF, 0.0]]
    same_numbers_as_torch(torch, lambda lib: lib.logsumexp(lib.tensor(data, dtype=lib.float64),
                                                           dim=1))


def test_std_of_a_constant_has_zero_gradient_like_torch():
    torch = pytest.importorskip("torch")
    same_numbers_as_torch(torch, lambda lib: backward_of(lib, lambda x: x.std(1),
                                                         [[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]))


@pytest.mark.parametrize("op", ["std", "var"])
def test_an_empty_input_warns_like_torch(op):
    torch = pytest.importorskip("torch")

    def scenario(lib):
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            return [getattr(lib.zeros(0, 3, dtype=lib.float64), op)(1)]

    same_numbers_as_torch(torch, scenario)


@pytest.mark.parametrize("op", ["std", "var"])
def test_no_degrees_of_freedom_warns_and_gives_torch_numbers(op):
    torch = pytest.importorskip("torch")

    def scenario(lib):
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            one = getattr(lib.tensor([1.5], dtype=lib.float64), op)()
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            two = getattr(lib.tensor([[0.0, 3.0]], dtype=lib.float64), op)(1, correction=2)
        return [one, two]

    same_numbers_as_torch(torch, scenario)


def test_dtypes_of_integer_and_bool_reductions_match_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        i = lib.tensor([[1, 2], [3, 4]])
        b = lib.tensor([True, True, False])
        out = [i.prod(), i.prod(1), b.prod(), b.cumsum(0), i.cumsum(1),
               i.cumsum(0, dtype=lib.float64), i.prod(dtype=lib.float64), i.logsumexp(1),
               i.amax(1), b.all(), b.any(), i.all(1), i.any(0, keepdim=True)]
        return out + [str(t.dtype).split(".")[-1] for t in out]

    same_numbers_as_torch(torch, scenario, rtol=1e-6)


def test_all_and_any_match_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.tensor([[1.0, 0.0, 2.0], [3.0, 4.0, math.nan]])
        e = lib.zeros(0, 3)
        return [x.all(), x.any(), x.all(1), x.any(dim=0), x.all(dim=(0, 1)),
                lib.all(x, 1, keepdim=True), lib.any(x, -1), e.all(), e.any(), e.all(0),
                e.any(1), (x > 1).all(1), lib.tensor(0.0).any()]

    same_numbers_as_torch(torch, scenario)


def test_argmax_argmin_match_torch():
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.tensor([[1.0, 5.0, 5.0], [math.nan, 2.0, 7.0], [0.0, -1.0, -1.0]])
        out = []
        for f in (lib.argmax, lib.argmin):
            out += [f(x), f(x, 0), f(x, 1), f(x, -1, keepdim=True), f(x, keepdim=True),
                    f(lib.tensor(3.0)), f(lib.zeros(0, 3), 1)]
        return out + [x.argmax(dim=1), x[2].argmin()]

    same_numbers_as_torch(torch, scenario)


def test_sort_ties_nan_and_descending_match_torch():
    """stable=True keeps equal elements in order (both directions); NaN sorts as the
    largest."""
    torch = pytest.importorskip("torch")

    def scenario(lib):
        x = lib.tensor([[3.0, 1.0, 3.0, math.nan, 1.0, -INF, 2.0, 3.0]], dtype=lib.float64,
                       requires_grad=True)
        up = x.sort(dim=1, stable=True)
        down = lib.sort(x, descending=True, stable=True)
        (up.values.sum() + (down.values[:, :3] * 2).sum()).backward()
        return [up.values, up.indices, down.values, down.indices, x.grad,
                lib.tensor([3, 1, 2]).sort(descending=True).values]

    same_numbers_as_torch(torch, scenario)


def test_sort_and_topk_return_named_tuples_like_torch():
    x = tg.tensor([[3.0, 1.0, 2.0]])
    s = x.sort()
    assert type(s).__name__ == "sort" and s._fields == ("values", "indices")
    t = tg.topk(x, 2)
    assert type(t).__name__ == "topk" and t._fields == ("values", "indices")
    values, indices = t
    assert values.tolist() == [[3.0, 2.0]] and indices.tolist() == [[0, 2]]
    assert indices.dtype == tg.int64


@pytest.mark.parametrize("scenario,match", [
    (lambda lib: lib.ones(2, 3).topk(4), "selected index k out of range"),
    (lambda lib: lib.ones(2, 3).topk(-1), "selected index k out of range"),
    (lambda lib: lib.ones(2, 3).sum(dim=(0, 0)), "dim 0 appears multiple times"),
    (lambda lib: lib.ones(2, 3).amax(dim=(1, -1)), "dim 1 appears multiple times"),
    (lambda lib: lib.ones(2, 3).std(dim=(0, 2)), "Dimension out of range"),
    (lambda lib: lib.ones(2, 3).norm(dim=3), "Dimension out of range"),
    (lambda lib: lib.ones(2, 3).sort(dim=2), "Dimension out of range"),
    (lambda lib: lib.zeros(0, 3).amax(), "Expected reduction dim to be specified"),
    (lambda lib: lib.zeros(0, 3).amin(0), "Expected reduction dim 0 to have non-zero size"),
    (lambda lib: lib.zeros(0, 3).argmax(), "Expected reduction dim to be specified"),
    (lambda lib: lib.zeros(0, 3).argmin(0), "Expected reduction dim 0 to have non-zero size"),
    (lambda lib: lib.zeros(0).norm(p=INF), "cannot compute the inf norm"),
    (lambda lib: lib.zeros(0, 3).norm(p=-INF, dim=0), "cannot compute the -inf norm"),
    (lambda lib: lib.tensor([1, 2]).std(), "std and var only support floating point"),
    (lambda lib: lib.tensor([1, 2]).var(), "std and var only support floating point"),
    (lambda lib: lib.tensor([1, 2]).norm(), "Expected a floating point or complex tensor"),
    (lambda lib: lib.ones(3).norm(p='abc'), "Order abc not supported"),
    (lambda lib: lib.linalg.norm(lib.ones(2, 2, 2), 'fro'), "must be 1D or 2D. Got 3D"),
    (lambda lib: lib.linalg.norm(lib.ones(2), 'fro'), "must have at least 2 dimensions"),
    (lambda lib: lib.ones(3).logsumexp(), None),
    (lambda lib: lib.ones(3).std(unbiased=False, correction=0), None),
    (lambda lib: lib.ones(3).cumsum(), None),
], ids=lambda v: "" if callable(v) else str(v))
def test_bad_arguments_raise_like_torch(scenario, match):
    torch = pytest.importorskip("torch")
    raises_like_torch(torch, scenario, match=match)


def test_unimplemented_matrix_norms_say_so():
    with pytest.raises(NotImplementedError):
        tg.ones(2, 2).norm(p='nuc')
    with pytest.raises(NotImplementedError):
        tg.linalg.norm(tg.ones(2, 2), 2)


def test_grad_fn_names_match_torch():
    torch = pytest.importorskip("torch")

    def names(lib):
        x = lib.tensor([[0.3, 0.6], [0.1, 2.0]], dtype=lib.float64, requires_grad=True)
        outs = [x.prod(), x.prod(1), x.cumsum(0), x.logsumexp(1), x.amax(), x.amin(0),
                x.var(), x.std(1), x.norm(), x.norm(1, dim=0), x.norm(INF),
                lib.linalg.vector_norm(x), x.sort().values, x.topk(1).values,
                x.sum((0, 1)), x.mean((0, 1))]
        return [o.grad_fn.name() for o in outs]

    assert names(tg) == names(torch)
