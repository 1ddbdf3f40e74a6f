"""Keyword compatibility of the function forms (issue 12): input= and other= as
torch's keyword names, and out= where torch gives it: the result is copied into
out (which keeps its storage and dtype, and is returned), an out of another
shape is resized with torch's warning, and torch's errors for bad outs."""
import numpy as np
import pytest

import tapegrad as tg

A = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]
B = [[2.0, 1.0, -1.0], [3.0, 0.25, 2.0]]


def both():
    torch = pytest.importorskip("torch")
    return [(tg, tg.tensor(A), tg.tensor(B)), (torch, torch.tensor(A), torch.tensor(B))]


KEYWORD_CALLS = {
    "add": lambda lib, a, b: lib.add(input=a, other=b),
    "add_alpha": lambda lib, a, b: lib.add(a, other=b, alpha=2),
    "sub": lambda lib, a, b: lib.sub(input=a, other=b, alpha=0.5),
    "mul": lambda lib, a, b: lib.mul(input=a, other=b),
    "div": lambda lib, a, b: lib.div(input=a, other=b),
    "method_other": lambda lib, a, b: a.mul(other=b) + a.add(other=b) + a.div(other=b),
    "matmul": lambda lib, a, b: lib.matmul(input=a, other=b.T),
    "mm": lambda lib, a, b: lib.mm(input=a, mat2=b.T),
    "method_mat2": lambda lib, a, b: a.mm(mat2=b.T),
    "exp": lambda lib, a, b: lib.exp(input=a),
    "sum_dim": lambda lib, a, b: lib.sum(input=a, dim=1),
    "transpose": lambda lib, a, b: lib.transpose(input=a, dim0=0, dim1=1),
    "gather": lambda lib, a, b: lib.gather(input=a, dim=1, index=lib.tensor([[2], [0]])),
    "masked_fill": lambda lib, a, b: lib.masked_fill(input=a, mask=a > 0, value=0.0),
    "tril": lambda lib, a, b: lib.tril(input=a, diagonal=1),
    "outer": lambda lib, a, b: lib.outer(input=a[0], vec2=b[1]),
    "dot": lambda lib, a, b: lib.dot(input=a[0], tensor=b[1]),
    "index_select": lambda lib, a, b: lib.index_select(input=a, dim=1, index=lib.tensor([2])),
}


@pytest.mark.parametrize("name", sorted(KEYWORD_CALLS))
def test_keyword_names_are_torch_names(name):
    (tg_lib, a, b), (torch, ta, tb) = both()
    out, expected = KEYWORD_CALLS[name](tg, a, b), KEYWORD_CALLS[name](torch, ta, tb)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


def test_missing_input_is_a_type_error():
    with pytest.raises(TypeError, match="input"):
        tg.exp()


OUT_CALLS = {
    "add": lambda lib, a, b, out: lib.add(a, b, out=out),
    "add_keywords": lambda lib, a, b, out: lib.add(input=a, other=b, alpha=2, out=out),
    "sub": lambda lib, a, b, out: lib.sub(a, b, out=out),
    "mul": lambda lib, a, b, out: lib.mul(a, b, out=out),
    "div": lambda lib, a, b, out: lib.div(a, b, out=out),
    "exp": lambda lib, a, b, out: lib.exp(a, out=out),
    "clamp": lambda lib, a, b, out: lib.clamp(a, -1.0, 1.0, out=out),
    "tril": lambda lib, a, b, out: lib.tril(a, out=out),
    "gather": lambda lib, a, b, out: lib.gather(a, 1, lib.tensor([[2, 0, 1], [1, 1, 0]]),
                                                out=out),
    "matmul": lambda lib, a, b, out: lib.matmul(a, lib.ones(3, 3), out=out),
    "mm": lambda lib, a, b, out: lib.mm(a, lib.ones(3, 3), out=out),
    "bmm": lambda lib, a, b, out: lib.bmm(a[None], lib.ones(1, 3, 3), out=out),
    "cat": lambda lib, a, b, out: lib.cat([a[:1], b[1:]], out=out),
    "stack": lambda lib, a, b, out: lib.stack([a[0], b[1]], out=out),
}


@pytest.mark.parametrize("name", sorted(OUT_CALLS))
def test_out_receives_the_result_in_its_own_storage(name):
    (_, a, b), (torch, ta, tb) = both()
    expected = OUT_CALLS[name](torch, ta, tb, torch.empty(0))
    out = tg.zeros(*expected.shape)
    view = out.reshape(-1)
    returned = OUT_CALLS[name](tg, a, b, out)
    assert returned is out
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(view.numpy(), expected.numpy().reshape(-1), rtol=1e-6)


def test_out_keeps_its_dtype_and_refuses_float_into_integer_as_torch():
    (_, a, b), (torch, ta, tb) = both()
    out = tg.zeros(2, 3, dtype=tg.float64)
    tg.add(a, b, out=out)
    assert out.dtype == tg.float64
    np.testing.assert_allclose(out.numpy(), (ta + tb).double().numpy())
    integer = tg.zeros(3, dtype=tg.float32)
    tg.add(tg.tensor([1, 2, 3]), 1, out=integer)        # an integer result into a float out
    assert integer.tolist() == [2.0, 3.0, 4.0]
    for lib, x, y in both():
        with pytest.raises(RuntimeError) as error:
            lib.add(x, y, out=lib.zeros(2, 3, dtype=lib.int64))
        assert str(error.value) == "result type Float can't be cast to the desired output type Long"


def test_out_of_another_shape_is_resized_with_torch_warning():
    (_, a, b), (torch, ta, tb) = both()
    for lib, x, y in both():
        out = lib.zeros(2)
        with pytest.warns(UserWarning, match=r"An output with one or more elements was resized "
                          r"since it had shape \[2\], which does not match the required output "
                          r"shape \[2, 3\]"):
            assert lib.add(x, y, out=out) is out
        assert tuple(out.shape) == (2, 3)
        np.testing.assert_allclose(out.numpy(), (ta + tb).numpy())
        empty = lib.zeros(0)                 # an empty out is resized without a warning
        lib.mul(x, y, out=empty)
        assert tuple(empty.shape) == (2, 3)


def test_out_with_autograd_raises_torch_error_and_works_under_no_grad():
    for lib, a, b in both():
        leaf = a.clone().requires_grad_()
        with pytest.raises(RuntimeError) as error:
            lib.mul(leaf, b, out=lib.zeros(2, 3))
        assert str(error.value) == ("mul(): functions with out=... arguments don't support "
                                    "automatic differentiation, but one of the arguments "
                                    "requires grad.")
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            lib.mul(a, b, out=lib.zeros(2, 3, requires_grad=True))
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            lib.cat([leaf, b], out=lib.zeros(4, 3))
        with lib.no_grad():
            out = lib.zeros(2, 3)
            lib.mul(leaf, b, out=out)
        np.testing.assert_allclose(out.numpy(), (a * b).numpy())


def test_out_must_be_a_tensor_as_torch():
    for lib, a, b in both():
        with pytest.raises(TypeError, match="argument 'out' must be Tensor, not list"):
            lib.add(a, b, out=[1])


def test_out_for_a_pair_of_results():
    (_, a, b), (torch, ta, tb) = both()
    values, indices = tg.zeros(3), tg.zeros(3, dtype=tg.int64)
    result = tg.max(a, 0, out=(values, indices))
    expected = torch.max(ta, 0)
    assert result.values is values and result.indices is indices
    np.testing.assert_array_equal(values.numpy(), expected.values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())


@pytest.mark.parametrize("call", [
    lambda lib, a: lib.transpose(a, 0, 1, out=lib.zeros(3, 2)),
    lambda lib, a: lib.reshape(a, (3, 2), out=lib.zeros(3, 2)),
    lambda lib, a: lib.chunk(a, 2, out=lib.zeros(3, 2)),
    lambda lib, a: lib.narrow(a, 0, 0, 1, out=lib.zeros(1, 3)),
    lambda lib, a: lib.movedim(a, 0, 1, out=lib.zeros(3, 2)),
], ids=["transpose", "reshape", "chunk", "narrow", "movedim"])
def test_functions_torch_gives_no_out_refuse_it(call):
    for lib, a, b in both():
        with pytest.raises(TypeError, match="out"):
            call(lib, a)


def test_out_none_is_no_out():
    (_, a, b), _ = both()
    out = tg.add(a, b, out=None)
    np.testing.assert_allclose(out.numpy(), np.add(A, B))
    assert tg.cat([a, b], 0, out=None).shape == (4, 3)
