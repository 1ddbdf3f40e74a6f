"""Tensor conversions and sizes (to, cpu, type, float ... bool, numel, dim, size),
__format__ and the repr, each against torch 2.13."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _lib_dtype(lib, name):
    return getattr(lib, name if lib is torch or name != "bool" else "bool_")


def _same(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


# ---------------------------------------------------------------- conversions

@pytest.mark.parametrize("convert", [
    lambda lib, x: x.to(lib.float64), lambda lib, x: x.to(dtype=lib.int64),
    lambda lib, x: x.to("cpu", lib.float64), lambda lib, x: x.to(lib.device("cpu"), lib.int32),
    lambda lib, x: x.to(device="cpu", dtype=lib.float64),
    lambda lib, x: x.to(lib.ones(1, dtype=lib.int64)),
    lambda lib, x: x.to(lib.float64, copy=True), lambda lib, x: x.to(lib.float32, False, True),
    lambda lib, x: x.to("cpu", non_blocking=True),
    lambda lib, x: x.float(), lambda lib, x: x.double(), lambda lib, x: x.long(),
    lambda lib, x: x.int(), lambda lib, x: x.bool(), lambda lib, x: x.cpu(),
    lambda lib, x: x.type(lib.float64), lambda lib, x: x.type("torch.DoubleTensor"),
    lambda lib, x: x.type("torch.LongTensor"), lambda lib, x: x.type("torch.BoolTensor"),
    lambda lib, x: x.type("torch.IntTensor"), lambda lib, x: x.type("torch.FloatTensor"),
])
def test_conversions_as_torchs(convert):
    data = [[-1.5, 0.0, 2.7], [3.0, -0.2, 1.0]]
    _same(convert(tg, tg.tensor(data)), convert(torch, torch.tensor(data)))


def test_conversions_return_self_or_a_copy_as_torch():
    for lib in (tg, torch):
        x = lib.zeros(2)
        assert x.to(lib.float32) is x and x.to("cpu") is x and x.to(x) is x
        assert x.float() is x and x.cpu() is x
        copied = x.to(lib.float32, copy=True)
        assert copied is not x
        copied += 1
        assert x.sum().item() == 0


def test_to_keeps_the_graph_for_float_targets():
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.to(lib.float64)
        assert y.grad_fn.name() == "ToCopyBackward0"
        (y * y).sum().backward()
        assert x.grad.tolist() == [2.0, 4.0] and x.grad.dtype == x.dtype


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_type_strings_as_torchs(dtype):
    ours = tg.zeros(2).to(_lib_dtype(tg, dtype)).type()
    theirs = torch.zeros(2).to(_lib_dtype(torch, dtype)).type()
    assert ours == theirs.replace("torch.", "tapegrad.")
    assert tg.zeros(1).type(ours).dtype == tg.zeros(1).to(_lib_dtype(tg, dtype)).dtype


@pytest.mark.parametrize("call", [
    lambda lib, x: x.to("cpu", "cpu"), lambda lib, x: x.to(lib.float64, lib.float32),
    lambda lib, x: x.to(dtype="float"), lambda lib, x: x.type("float"),
    lambda lib, x: x.type("torch.Foo"), lambda lib, x: x.to(5),
])
def test_bad_conversions_raise_torchs_error_type(call):
    with pytest.raises(Exception) as theirs:
        call(torch, torch.zeros(2))
    with pytest.raises(type(theirs.value)):
        call(tg, tg.zeros(2))


@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3), (2, 1, 4)])
def test_sizes_as_torchs(shape):
    ours, theirs = tg.zeros(shape), torch.zeros(shape)
    assert ours.numel() == theirs.numel() and ours.dim() == theirs.dim()
    assert tuple(ours.size()) == tuple(theirs.size())
    for d in range(-len(shape), len(shape)):
        assert ours.size(d) == theirs.size(d) and ours.size(dim=d) == theirs.size(dim=d)
    for d in (len(shape), -len(shape) - 1):
        with pytest.raises(IndexError) as their_error:
            theirs.size(d)
        with pytest.raises(IndexError) as our_error:
            ours.size(d)
        assert str(our_error.value) == str(their_error.value)


# ---------------------------------------------------------------- __format__

@pytest.mark.parametrize("value, spec", [(3.14159, ".2f"), (2.0, ">8.3f"), (7, "d"),
                                         (7, ">5"), (True, ""), (1e-7, ".3e"), (-0.5, "+.1%")])
def test_format_spec_on_0d_tensors_as_torchs(value, spec):
    assert format(tg.tensor(value), spec) == format(torch.tensor(value), spec)


@pytest.mark.parametrize("shape", [(2,), (1,), (2, 2)])
def test_format_spec_on_nd_tensors_raises_torchs_type_error(shape):
    with pytest.raises(TypeError) as theirs:
        format(torch.ones(shape), ".2f")
    with pytest.raises(TypeError) as ours:
        format(tg.ones(shape), ".2f")
    assert str(ours.value) == str(theirs.value)
    assert format(tg.ones(shape), "") == str(tg.ones(shape))


# ---------------------------------------------------------------- the repr

def _repr_pair(make):
    return repr(make(tg)).replace("tapegrad.", "torch."), repr(make(torch))


@pytest.mark.parametrize("make", [
    lambda lib: lib.arange(2000).reshape(2, 1000),
    lambda lib: lib.arange(1001),
    lambda lib: lib.arange(1000),
    lambda lib: lib.arange(30) * 1.5,
    lambda lib: lib.arange(120.0).reshape(4, 5, 6) / 7,
    lambda lib: lib.arange(24000.0).reshape(20, 30, 40) - 7,
    lambda lib: lib.ones(2000, 784) / 3,
    lambda lib: lib.arange(1200.0).reshape(40, 30) * 1e-5,
    lambda lib: lib.arange(1200.0).reshape(40, 30) * 1e6,
    lambda lib: lib.arange(5000) > 2500,
    lambda lib: lib.arange(3000, dtype=lib.int32),
    lambda lib: lib.arange(2000.0, dtype=lib.float64).reshape(1000, 2),
    lambda lib: lib.tensor([1.0, float("nan"), float("inf"), -2.5]),
    lambda lib: lib.tensor([[1e-8, 1.0], [3.0, 4.0]]),
    lambda lib: lib.zeros(0, 3),
    lambda lib: lib.zeros(0),
    lambda lib: lib.tensor(3.5),
    lambda lib: lib.arange(60.0).reshape(3, 20).requires_grad_(),
    lambda lib: (lib.arange(1500.0).requires_grad_() * 2),
    lambda lib: (lib.arange(45.0).reshape(3, 15) - 22) / 22,
])
def test_repr_as_torchs(make):
    ours, theirs = _repr_pair(make)
    assert ours == theirs


def test_repr_of_a_big_tensor_is_small():
    text = repr(tg.ones(2000, 784))
    assert len(text) < 1000 and "..." in text


@pytest.fixture
def print_options():
    yield
    tg.set_printoptions(profile="default", sci_mode=None)
    torch.set_printoptions(profile="default", sci_mode=None)


@pytest.mark.parametrize("options", [dict(precision=2), dict(threshold=5),
                                     dict(edgeitems=1, threshold=10), dict(linewidth=40),
                                     dict(sci_mode=True), dict(sci_mode=False),
                                     dict(profile="short"), dict(profile="full")])
def test_set_printoptions_as_torchs(options, print_options):
    tg.set_printoptions(**options)
    torch.set_printoptions(**options)
    for make in (lambda lib: lib.arange(40.0).reshape(4, 10) / 3,
                 lambda lib: lib.arange(1200.0) * 1e-5):
        ours, theirs = _repr_pair(make)
        assert ours == theirs
