"""Shape ops of issue 12 (repeat chunk split unbind narrow flip roll tril triu diag
outer movedim swapaxes, view_as/expand_as): values and gradients against finite
differences and torch float64 (the layout of test_tensor_gradients), torch's
grad_fn names, views where torch's are views, and torch's errors."""
import numpy as np
import pytest

import tapegrad as tg
from conftest import R, check_against_torch, leaf, op_case_tests, op_cases, sample

# pieces of a split, summed with weights so that every piece's gradient is checked
def weighted(lib, pieces):
    return lib.cat([p.reshape(-1) * (k + 1) for k, p in enumerate(pieces)])


SHAPE_CASES = {
    "repeat": (lambda lib, x: x.repeat(2, 3), [R(3, 4)]),
    "repeat_new_dims": (lambda lib, x: x.repeat(2, 1, 3), [R(3, 4)]),
    "repeat_tuple": (lambda lib, x: x.repeat((2, 2)), [R(3)]),
    "repeat_0d": (lambda lib, x: x.repeat(3), [R()]),
    "repeat_zero": (lambda lib, x: x.repeat(0, 2), [R(3, 4)]),
    "chunk": (lambda lib, x: weighted(lib, x.chunk(3)), [R(7, 2)]),
    "chunk_dim_neg": (lambda lib, x: weighted(lib, x.chunk(2, dim=-1)), [R(3, 5)]),
    "chunk_more_than_size": (lambda lib, x: weighted(lib, x.chunk(9)), [R(4, 2)]),
    "chunk_function": (lambda lib, x: weighted(lib, lib.chunk(x, 2, 1)), [R(3, 4)]),
    "split_int": (lambda lib, x: weighted(lib, x.split(2)), [R(5, 3)]),
    "split_sizes": (lambda lib, x: weighted(lib, x.split([1, 0, 3], dim=1)), [R(2, 4)]),
    "split_function": (lambda lib, x: weighted(lib, lib.split(x, [2, 2], 0)), [R(4, 3)]),
    "split_one_piece_used": (lambda lib, x: x.split(2)[1], [R(5, 3)]),
    "unbind": (lambda lib, x: weighted(lib, x.unbind()), [R(3, 4)]),
    "unbind_dim": (lambda lib, x: weighted(lib, lib.unbind(x, dim=-1)), [R(2, 3, 4)]),
    "narrow": (lambda lib, x: x.narrow(1, 1, 2), [R(3, 4)]),
    "narrow_negative_start": (lambda lib, x: lib.narrow(x, 0, -2, 2), [R(3, 4)]),
    "narrow_empty": (lambda lib, x: x.narrow(0, 3, 0), [R(3, 4)]),
    "flip": (lambda lib, x: x.flip(0), [R(3, 4)]),
    "flip_dims": (lambda lib, x: x.flip(0, -1), [R(2, 3, 4)]),
    "flip_tuple_function": (lambda lib, x: lib.flip(x, (1, 2)), [R(2, 3, 4)]),
    "roll_flat": (lambda lib, x: x.roll(5), [R(3, 4)]),
    "roll_dim": (lambda lib, x: x.roll(-1, 1), [R(3, 4)]),
    "roll_dims": (lambda lib, x: lib.roll(x, (1, 7), (0, -1)), [R(3, 4)]),
    "tril": (lambda lib, x: x.tril(), [R(4, 4)]),
    "tril_diagonal": (lambda lib, x: x.tril(diagonal=1), [R(3, 5)]),
    "tril_batched": (lambda lib, x: lib.tril(x, -1), [R(2, 3, 4)]),
    "triu": (lambda lib, x: x.triu(), [R(4, 4)]),
    "triu_diagonal": (lambda lib, x: x.triu(-1), [R(5, 3)]),
    "triu_batched": (lambda lib, x: lib.triu(x, diagonal=2), [R(2, 3, 4)]),
    "diag_vector": (lambda lib, x: x.diag(), [R(4)]),
    "diag_vector_above": (lambda lib, x: lib.diag(x, 2), [R(3)]),
    "diag_vector_below": (lambda lib, x: x.diag(-1), [R(3)]),
    "diag_matrix": (lambda lib, x: x.diag(), [R(3, 4)]),
    "diag_matrix_above": (lambda lib, x: x.diag(1), [R(3, 4)]),
    "diag_matrix_below": (lambda lib, x: lib.diag(x, diagonal=-2), [R(4, 3)]),
    "diag_matrix_outside": (lambda lib, x: x.diag(7), [R(3, 4)]),
    "outer": (lambda lib, a, b: lib.outer(a, b), [R(3), R(4)]),
    "outer_method": (lambda lib, a, b: a.outer(b), [R(2), R(5)]),
    "outer_same": (lambda lib, a: a.outer(a), [R(3)]),
    "movedim": (lambda lib, x: x.movedim(0, -1), [R(2, 3, 4)]),
    "movedim_tuples": (lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), [R(2, 3, 4)]),
    "moveaxis": (lambda lib, x: x.moveaxis(2, 0), [R(2, 3, 4)]),
    "swapaxes": (lambda lib, x: lib.swapaxes(x, 0, 2), [R(2, 3, 4)]),
    "swapdims": (lambda lib, x: x.swapdims(-1, 0), [R(2, 3, 4)]),
    "view_as": (lambda lib, x: x.view_as(lib.zeros(4, 3)), [R(3, 4)]),
    "expand_as": (lambda lib, x: x.expand_as(lib.zeros(2, 3, 4)), [R(3, 1)]),
    "chain": (lambda lib, x: x.flip(1).roll(1, 0).tril().repeat(1, 2).chunk(2, 1)[1],
              [R(3, 3)]),
}


# every case two ways: against finite differences, and against torch in float64
test_gradient_matches_finite_differences, test_value_and_gradient_match_torch_float64 = \
    op_case_tests(SHAPE_CASES)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
@op_cases(SHAPE_CASES, ["repeat", "chunk", "unbind", "narrow", "flip_dims", "roll_dims",
                        "tril_batched", "diag_matrix_above", "movedim_tuples"])
def test_non_contiguous_input_matches_torch(case, layout):
    check_against_torch(*case, layout)


GRAD_FN_NAMES = {
    "repeat": lambda lib, x: x.repeat(2, 1),
    "chunk": lambda lib, x: x.chunk(2)[0],
    "split": lambda lib, x: x.split(1)[0],
    "split_sizes": lambda lib, x: x.split([1, 2])[0],
    "unbind": lambda lib, x: x.unbind(1)[0],
    "narrow": lambda lib, x: x.narrow(0, 1, 1),
    "flip": lambda lib, x: x.flip(0),
    "roll": lambda lib, x: x.roll(1),
    "tril": lambda lib, x: x.tril(),
    "triu": lambda lib, x: x.triu(),
    "diag_of_vector": lambda lib, x: x[0].diag(),
    "diag_of_matrix": lambda lib, x: x.diag(),
    "outer": lambda lib, x: x[0].outer(x[1]),
    "movedim": lambda lib, x: x.movedim(0, 1),
    "view_as": lambda lib, x: x.view_as(x.reshape(-1)),
    "expand_as": lambda lib, x: x[:1].expand_as(x),
}


@pytest.mark.parametrize("name", sorted(GRAD_FN_NAMES))
def test_grad_fn_names_are_torch_names(name):
    torch = pytest.importorskip("torch")
    a = sample(R(3, 3), 1)
    fn = GRAD_FN_NAMES[name]
    expected = fn(torch, torch.tensor(a, requires_grad=True)).grad_fn.name()
    assert fn(tg, leaf(a)).grad_fn.name() == expected


def test_split_and_chunk_sizes_match_torch():
    torch = pytest.importorskip("torch")
    for n in range(0, 8):
        for k in range(1, 9):
            t = torch.zeros(n)
            x = tg.zeros(n)
            assert [p.shape[0] for p in x.chunk(k)] == [p.shape[0] for p in t.chunk(k)], (n, k)
            assert [p.shape[0] for p in x.split(k)] == [p.shape[0] for p in t.split(k)], (n, k)


@pytest.mark.parametrize("pieces", [lambda x: x.chunk(2), lambda x: x.split([1, 3]),
                                    lambda x: x.unbind(), lambda x: (x.narrow(0, 1, 2),)])
def test_pieces_are_views_sharing_storage_and_version(pieces):
    x = tg.zeros(4, 2)
    parts = pieces(x)
    version = parts[0]._version_value
    with tg.no_grad():
        x.add_(1.0)
    for p in parts:
        assert float(p.sum()) == p.numel()          # they see the write
        assert p._version_value == version + 1      # and share x's version counter


def test_flip_and_roll_copy_as_torch():
    x = tg.tensor([1.0, 2.0, 3.0])
    f, r = x.flip(0), x.roll(1)
    f[0] = 10.0
    r[0] = 10.0
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_integer_and_bool_tensors_keep_their_dtype():
    torch = pytest.importorskip("torch")
    a = np.arange(12).reshape(3, 4)
    for fn in [lambda lib, x: x.tril(), lambda lib, x: x.triu(1), lambda lib, x: x.flip(0),
               lambda lib, x: x.roll(1, 1), lambda lib, x: x.repeat(2, 1),
               lambda lib, x: x.diag(), lambda lib, x: x[0].outer(x[1]),
               lambda lib, x: (x > 4).tril()]:
        out, expected = fn(tg, tg.tensor(a)), fn(torch, torch.tensor(a))
        assert str(out.dtype) == str(expected.dtype).replace("torch.", "")
        np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_a_loss_of_pieces_backpropagates_once_per_use():
    torch = pytest.importorskip("torch")
    a = sample(R(6, 3), 2)
    grads = []
    for lib in (tg, torch):
        x = lib.tensor(a, requires_grad=True)
        first, second, third = x.chunk(3)
        (first * second + third.flip(0) + x.unbind(1)[0].sum()).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


ERRORS = {
    "repeat_too_few": lambda lib: lib.zeros(2, 3).repeat(2),
    "chunk_zero": lambda lib: lib.zeros(4).chunk(0),
    "split_sizes_wrong_sum": lambda lib: lib.zeros(6, 4).split([1, 2]),
    "split_negative": lambda lib: lib.zeros(6).split(-1),
    "split_dim_out_of_range": lambda lib: lib.zeros(6).split(2, dim=1),
    "unbind_dim_out_of_range": lambda lib: lib.zeros(2, 3).unbind(2),
    "narrow_start_out_of_range": lambda lib: lib.zeros(6, 4).narrow(0, 7, 1),
    "narrow_too_long": lambda lib: lib.zeros(6, 4).narrow(0, 4, 3),
    "flip_repeated_dim": lambda lib: lib.zeros(2, 3).flip(0, 0),
    "flip_dim_out_of_range": lambda lib: lib.zeros(2, 3).flip(2),
    "roll_misaligned": lambda lib: lib.zeros(2, 3).roll((1, 2), 0),
    "tril_1d": lambda lib: lib.zeros(3).tril(),
    "triu_0d": lambda lib: lib.zeros(()).triu(),
    "diag_3d": lambda lib: lib.zeros(2, 2, 2).diag(),
    "outer_2d": lambda lib: lib.zeros(2, 2).outer(lib.zeros(2)),
    "outer_2d_other": lambda lib: lib.zeros(2).outer(lib.zeros(2, 2)),
    "movedim_out_of_range": lambda lib: lib.zeros(2, 3).movedim(0, 2),
    "view_as_list": lambda lib: lib.zeros(2).view_as([1, 2]),
    "expand_as_number": lambda lib: lib.zeros(2).expand_as(2),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as expected:
        ERRORS[name](torch)
    with pytest.raises(type(expected.value)) as got:
        ERRORS[name](tg)
    first_line = str(expected.value).splitlines()[0]
    if name not in ("view_as_list", "expand_as_number"):     # torch adds argument positions
        assert str(got.value) == first_line
