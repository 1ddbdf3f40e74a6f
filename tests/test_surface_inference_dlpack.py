"""inference_mode (inference tensors and torch's refusals) and DLPack (zero-copy exchange
with torch and numpy), against torch 2.13."""
import threading

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


# ------------------------------------------------------------ inference_mode

def _inference_tensor(lib):
    with lib.inference_mode():
        return lib.ones(3) * 2


@pytest.mark.parametrize("lib", [tg, torch], ids=["tapegrad", "torch"])
def test_inference_mode_makes_inference_tensors(lib):
    with lib.inference_mode():
        a = lib.ones(3)
        w = lib.ones(3, requires_grad=True)
        b = w * 2
        assert not lib.is_grad_enabled() and lib.is_inference_mode_enabled()
        with lib.no_grad():
            c = lib.ones(1)
        assert lib.is_inference_mode_enabled()        # no_grad inside keeps it on
        with lib.inference_mode(False):
            d = lib.ones(1)
            assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()
    assert a.is_inference() and b.is_inference() and c.is_inference()
    assert not b.requires_grad and b.grad_fn is None
    assert not d.is_inference() and not lib.ones(1).is_inference()
    assert not lib.is_inference_mode_enabled() and lib.is_grad_enabled()
    assert a.view(3, 1).is_inference() and a[1:].is_inference()
    assert not a.clone().is_inference() and not (a * 2).is_inference()


@pytest.mark.parametrize("lib", [tg, torch], ids=["tapegrad", "torch"])
def test_inference_mode_as_decorator(lib):
    @lib.inference_mode()
    def with_parentheses():
        return lib.ones(1)

    @lib.inference_mode
    def without_parentheses():
        return lib.ones(1)

    @lib.inference_mode(False)
    def turned_off():
        return lib.ones(1)

    assert with_parentheses().is_inference() and without_parentheses().is_inference()
    with lib.inference_mode():
        assert not turned_off().is_inference()
    assert with_parentheses.__name__ == "with_parentheses"


@pytest.mark.parametrize("use", [
    lambda lib, a, x: a * x,
    lambda lib, a, x: x * a,
    lambda lib, a, x: (x.exp() * a).sum().backward(),
    lambda lib, a, x: lib.matmul(x, a),
])
def test_saving_an_inference_tensor_for_backward_raises_torchs_error(use):
    with pytest.raises(RuntimeError) as theirs:
        use(torch, _inference_tensor(torch), torch.ones(3, requires_grad=True))
    with pytest.raises(RuntimeError) as ours:
        use(tg, _inference_tensor(tg), tg.ones(3, requires_grad=True))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("use", [
    lambda lib, a, x: a + x,                         # add saves nothing: allowed
    lambda lib, a, x: a.exp() * 1.0,                 # no gradient wanted
    lambda lib, a, x: a * x.detach(),
])
def test_inference_tensors_in_ops_that_save_nothing_work_as_torchs(use):
    ours = use(tg, _inference_tensor(tg), tg.ones(3, requires_grad=True))
    theirs = use(torch, _inference_tensor(torch), torch.ones(3, requires_grad=True))
    assert ours.requires_grad == theirs.requires_grad
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())


@pytest.mark.parametrize("write", [
    lambda lib, a: a.add_(1), lambda lib, a: a.mul_(2), lambda lib, a: a.zero_(),
    lambda lib, a: a.fill_(3), lambda lib, a: a.__setitem__(0, 5.0),
    lambda lib, a: a.copy_(lib.zeros(3)), lambda lib, a: lib.no_grad()(lambda: a.add_(1))(),
])
def test_inplace_on_an_inference_tensor_outside_raises_torchs_error(write):
    with pytest.raises(RuntimeError) as theirs:
        write(torch, _inference_tensor(torch))
    a = _inference_tensor(tg)
    with pytest.raises(RuntimeError) as ours:
        write(tg, a)
    assert str(ours.value) == str(theirs.value)
    assert a.tolist() == [2.0, 2.0, 2.0]           # refused before writing
    with tg.inference_mode():
        write(tg, a)                               # inside, it is allowed


def test_inference_mode_is_per_thread():
    seen = []
    inside, done = threading.Event(), threading.Event()

    def other():
        inside.wait()
        seen.append((tg.is_inference_mode_enabled(), tg.ones(1).is_inference(),
                     tg.is_grad_enabled()))
        done.set()

    worker = threading.Thread(target=other)
    worker.start()
    with tg.inference_mode():
        inside.set()
        done.wait()
    worker.join()
    assert seen == [(False, False, True)]


def test_inference_mode_restores_after_an_exception():
    with pytest.raises(ValueError):
        with tg.inference_mode():
            raise ValueError
    assert not tg.is_inference_mode_enabled() and tg.is_grad_enabled()
    with tg.no_grad():
        with tg.inference_mode():
            pass
        assert not tg.is_grad_enabled()


# ------------------------------------------------------------------ DLPack

def test_torch_from_dlpack_shares_tapegrads_memory():
    t = tg.arange(6.0).reshape(2, 3)
    shared = torch.from_dlpack(t)
    assert shared.dtype == torch.float32 and tuple(shared.shape) == (2, 3)
    t.add_(1)
    assert shared.tolist() == t.tolist()
    shared.mul_(2)
    assert t.tolist() == shared.tolist()
    assert t.__dlpack_device__() == shared.__dlpack_device__() == (1, 0)


def test_tapegrad_from_dlpack_shares_torchs_and_numpys_memory():
    source = torch.arange(4, dtype=torch.float64)
    t = tg.from_dlpack(source)
    assert t.dtype == tg.float64 and not t.requires_grad
    source[0] = 10
    assert t.tolist() == [10.0, 1.0, 2.0, 3.0]
    array = np.arange(3, dtype=np.int64)
    u = tg.from_dlpack(array)
    array[1] = 7
    assert u.tolist() == [0, 7, 2] and u.dtype == tg.int64
    assert tg.from_dlpack(u) is u
    back = np.from_dlpack(u)
    back[2] = 9
    assert u.tolist() == [0, 7, 9]


def test_dlpack_of_non_contiguous_and_integer_tensors():
    t = tg.arange(12).reshape(3, 4).t()
    shared = torch.from_dlpack(t)
    assert shared.tolist() == t.tolist() and shared.dtype == torch.int64
    assert torch.from_dlpack(tg.tensor([True, False])).tolist() == [True, False]


def test_dlpack_of_a_tensor_that_requires_grad_raises_torchs_error():
    with pytest.raises(BufferError) as theirs:
        torch.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(BufferError) as ours:
        tg.ones(2, requires_grad=True).__dlpack__()
    assert str(ours.value) == str(theirs.value)
    assert torch.from_dlpack(tg.ones(2, requires_grad=True).detach()).tolist() == [1.0, 1.0]
    with pytest.raises(BufferError):
        tg.from_dlpack(torch.ones(2, requires_grad=True))
    with pytest.raises(TypeError):
        tg.from_dlpack([1, 2])
