"""Products of issue 12: einsum (any equation numpy takes: implicit output,
ellipses, traces and diagonals, broadcasting), bmm, mm, mv, dot, and matmul's
errors: values and gradients against finite differences and torch float64, and
torch's errors."""
import numpy as np
import pytest

import tapegrad as tg
from conftest import R, check_against_torch, op_case_tests, op_cases

EINSUM = {
    "matmul": ("ij,jk->ik", [R(2, 3), R(3, 4)]),
    "matmul_implicit": ("ij,jk", [R(2, 3), R(3, 4)]),
    "transposed_output": ("ij,jk->ki", [R(2, 3), R(3, 4)]),
    "batched": ("bij,bjk->bik", [R(2, 3, 4), R(2, 4, 2)]),
    "dot": ("i,i->", [R(4), R(4)]),
    "outer": ("i,j->ij", [R(3), R(2)]),
    "sum_all": ("ij->", [R(3, 4)]),
    "sum_rows": ("ij->i", [R(3, 4)]),
    "transpose": ("ij->ji", [R(3, 4)]),
    "permute_implicit": ("cab", [R(2, 3, 4)]),
    "trace": ("ii", [R(3, 3)]),
    "trace_explicit": ("ii->", [R(4, 4)]),
    "diagonal": ("ii->i", [R(3, 3)]),
    "batched_diagonal": ("bii->bi", [R(2, 3, 3)]),
    "diagonal_times_vector": ("ii,i->i", [R(3, 3), R(3)]),
    "three_repeated": ("iii->i", [R(2, 2, 2)]),
    "summed_only_in_one": ("ij,k->ik", [R(2, 3), R(4)]),
    "ellipsis": ("...ij,...jk->...ik", [R(2, 2, 3), R(2, 3, 2)]),
    "ellipsis_broadcast": ("...ij,jk->...ik", [R(2, 3, 2, 3), R(3, 2)]),
    "ellipsis_of_different_lengths": ("...j,...j->...", [R(2, 3, 4), R(3, 4)]),
    "ellipsis_implicit": ("...ij", [R(2, 3, 4)]),
    "three_operands": ("i,ij,j->", [R(3), R(3, 4), R(4)]),
    "bilinear": ("bn,anm,bm->ba", [R(2, 3), R(4, 3, 2), R(2, 2)]),
    "spaces": (" ij , jk -> ik ", [R(2, 3), R(3, 2)]),
    "capital_letters": ("iJ,Jk->ik", [R(2, 3), R(3, 2)]),
    "broadcast_size_one": ("ij,ij->ij", [R(3, 1), R(3, 4)]),
    "same_operand_twice": ("ij,ij->", [R(3, 4)]),   # einsum(eq, x, x)
    "empty": ("ij,jk->ik", [R(0, 3), R(3, 2)]),
}


def einsum_case(name):
    equation, inputs = EINSUM[name]
    if name == "same_operand_twice":
        return (lambda lib, x: lib.einsum(equation, x, x)), inputs
    return (lambda lib, *xs: lib.einsum(equation, *xs)), inputs


PRODUCTS = {
    **{f"einsum/{name}": einsum_case(name) for name in EINSUM},
    "einsum/operands_as_list": (lambda lib, a, b: lib.einsum("ij,jk->ik", [a, b]),
                                [R(2, 3), R(3, 2)]),
    "bmm": (lambda lib, a, b: a.bmm(b), [R(2, 3, 4), R(2, 4, 5)]),
    "bmm_function": (lambda lib, a, b: lib.bmm(a, b), [R(3, 1, 2), R(3, 2, 1)]),
    "bmm_empty_batch": (lambda lib, a, b: lib.bmm(a, b), [R(0, 2, 3), R(0, 3, 2)]),
    "mm": (lambda lib, a, b: a.mm(b), [R(3, 4), R(4, 2)]),
    "mm_function": (lambda lib, a, b: lib.mm(a, b), [R(3, 1), R(1, 2)]),
    "mm_same": (lambda lib, a: a.mm(a), [R(3, 3)]),
    "addmm": (lambda lib, c, a, b: lib.addmm(c, a, b), [R(4), R(3, 5), R(5, 4)]),
    "addmm_matrix_bias_scaled": (lambda lib, c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0),
                                 [R(3, 4), R(3, 5), R(5, 4)]),
    "linear_2d_is_addmm": (lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
                           [R(3, 5), R(4, 5), R(4)]),
    "mv": (lambda lib, a, v: a.mv(v), [R(3, 4), R(4)]),
    "mv_function": (lambda lib, a, v: lib.mv(a, v), [R(2, 3), R(3)]),
    "dot": (lambda lib, a, b: a.dot(b), [R(5), R(5)]),
    "dot_function": (lambda lib, a, b: lib.dot(a, b), [R(3), R(3)]),
    "dot_same": (lambda lib, a: lib.dot(a, a), [R(4)]),
    "dot_empty": (lambda lib, a, b: lib.dot(a, b), [R(0), R(0)]),
}


# every case two ways: against finite differences, and against torch in float64
test_gradient_matches_finite_differences, test_value_and_gradient_match_torch_float64 = \
    op_case_tests(PRODUCTS)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
@op_cases(PRODUCTS, ["einsum/batched", "einsum/trace", "einsum/ellipsis_broadcast", "bmm", "mm",
                     "mv", "dot"])
def test_non_contiguous_inputs_match_torch(case, layout):
    check_against_torch(*case, layout)


@op_cases(PRODUCTS, ["einsum/matmul", "einsum/trace", "bmm", "mm", "mv", "dot"])
def test_float32_stays_float32_as_torch(case):
    check_against_torch(*case, dtype="float32", rtol=1e-5, atol=1e-6)


def test_grad_fn_names_are_torch_names():
    torch = pytest.importorskip("torch")
    for fn in [lambda lib, a: a.reshape(2, 2, 2).bmm(a.reshape(2, 2, 2)),
               lambda lib, a: a.reshape(2, 4).mm(a.reshape(4, 2)),
               lambda lib, a: a.reshape(2, 4).mv(a[:4]),
               lambda lib, a: a.dot(a)]:
        names = [fn(lib, lib.ones(8, dtype=lib.float64, requires_grad=True)).grad_fn.name()
                 for lib in (tg, torch)]
        assert names[0] == names[1]


def test_integer_einsum_and_dot_match_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(6).reshape(2, 3)
    for fn in [lambda lib, x: lib.einsum("ij,kj->ik", x, x), lambda lib, x: lib.einsum("ij->", x),
               lambda lib, x: x[0].dot(x[1]), lambda lib, x: x.mm(x.T)]:
        out, expected = fn(tg, tg.tensor(a)), fn(torch, torch.tensor(a))
        assert str(out.dtype) == str(expected.dtype).replace("torch.", "")
        np.testing.assert_array_equal(out.numpy(), expected.numpy())


ERRORS = {
    "einsum_fewer_operands": lambda lib: lib.einsum("ij,jk", lib.zeros(2, 3)),
    "einsum_more_operands": lambda lib: lib.einsum("ij", lib.zeros(2, 3), lib.zeros(2)),
    "einsum_sizes": lambda lib: lib.einsum("ij,jk", lib.zeros(6, 4), lib.zeros(6, 4)),
    "einsum_dtypes": lambda lib: lib.einsum("i,i", lib.zeros(3), lib.zeros(3, dtype=lib.float64)),
    "bmm_2d": lambda lib: lib.zeros(2, 3).bmm(lib.zeros(2, 3)),
    "bmm_2d_other": lambda lib: lib.zeros(2, 3, 4).bmm(lib.zeros(3, 4)),
    "bmm_batch": lambda lib: lib.zeros(2, 3, 4).bmm(lib.zeros(3, 4, 5)),
    "bmm_inner": lambda lib: lib.zeros(2, 3, 4).bmm(lib.zeros(2, 5, 5)),
    "bmm_dtypes": lambda lib: lib.zeros(2, 3, 4).bmm(lib.zeros(2, 4, 5, dtype=lib.float64)),
    "dot_2d": lambda lib: lib.zeros(2, 2).dot(lib.zeros(2)),
    "dot_sizes": lambda lib: lib.zeros(3).dot(lib.zeros(4)),
    "dot_dtypes": lambda lib: lib.zeros(3, dtype=lib.float64).dot(lib.zeros(3)),
    "mv_matrix": lambda lib: lib.zeros(2, 2).mv(lib.zeros(2, 2)),
    "mv_sizes": lambda lib: lib.zeros(6, 4).mv(lib.zeros(3)),
    "mm_vector": lambda lib: lib.zeros(3).mm(lib.zeros(3, 2)),
    "mm_vector_other": lambda lib: lib.zeros(2, 3).mm(lib.zeros(3)),
    "mm_sizes": lambda lib: lib.mm(lib.zeros(6, 4), lib.zeros(6, 4)),
    "mm_dtypes": lambda lib: lib.zeros(2, 2, dtype=lib.float64).mm(lib.zeros(2, 2)),
    "matmul_sizes": lambda lib: lib.zeros(6, 4) @ lib.zeros(6, 4),
    "matmul_vectors": lambda lib: lib.zeros(3) @ lib.zeros(4),
    "matmul_matrix_vector": lambda lib: lib.matmul(lib.zeros(6, 4), lib.zeros(3)),
    "matmul_vector_matrix": lambda lib: lib.zeros(3) @ lib.zeros(4, 2),
    "matmul_batched_inner": lambda lib: lib.zeros(2, 3, 4) @ lib.zeros(2, 5, 6),
    "matmul_batch_broadcast": lambda lib: lib.zeros(2, 3, 4) @ lib.zeros(3, 4, 6),
    "matmul_0d": lambda lib: lib.zeros(()) @ lib.zeros(3),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as expected:
        ERRORS[name](torch)
    with pytest.raises(type(expected.value)) as got:
        ERRORS[name](tg)
    assert str(got.value) == str(expected.value).splitlines()[0]


def test_einsum_refuses_what_numpy_refuses_clearly():
    with pytest.raises(RuntimeError, match="does not appear"):
        tg.einsum("ij->ik", tg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="more than once"):
        tg.einsum("ij->ii", tg.zeros(2, 2))
    with pytest.raises(RuntimeError, match="number of subscripts"):
        tg.einsum("ijk->i", tg.zeros(2, 2))


def test_writing_an_einsum_operand_before_backward_raises():
    a, b = tg.ones(2, 3, requires_grad=True), tg.ones(3, 2)
    y = tg.einsum("ij,jk->ik", a, b)
    with tg.no_grad():
        b.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_linear_records_addmm_as_torch():
    """The blitz prints a Linear's grad_fn and its first input's: AddmmBackward0 and the
    bias's AccumulateGrad, as torch's."""
    torch = pytest.importorskip("torch")
    names = []
    for lib in (tg, torch):
        layer = lib.nn.Linear(5, 4)
        out = layer(lib.ones(3, 5))
        names.append((out.grad_fn.name(), type(out.grad_fn.next_functions[0][0]).__name__))
    assert names[0] == names[1] == ("AddmmBackward0", "AccumulateGrad")


def test_addmm_with_beta_zero_ignores_input_nan_included_as_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tg, torch):
        c = lib.tensor([[float("nan"), float("inf")]], dtype=lib.float64)
        results.append(lib.addmm(c, lib.ones(1, 3, dtype=lib.float64),
                                 lib.ones(3, 2, dtype=lib.float64), beta=0).numpy())
    np.testing.assert_array_equal(results[0], results[1])
