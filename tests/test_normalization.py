"""BatchNorm1d/2d against torch: outputs, gradients, running statistics over several
train steps (momentum, and None for the cumulative average), eval mode, the state
dict's buffers; and Dropout2d's whole-channel masks."""
import numpy as np
import pytest

import tapegrad as tg


def pair(torch, kind, *args, **kwargs):
    theirs = getattr(torch.nn, kind)(*args, **kwargs).double()
    ours = getattr(tg.nn, kind)(*args, **kwargs).double()
    rng = np.random.default_rng(0)
    state = ours.state_dict()
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            value = rng.uniform(0.5, 2, p.shape)
            p.copy_(torch.tensor(value))
            state[name] = tg.tensor(value)
    ours.load_state_dict(state)
    return ours, theirs


@pytest.mark.parametrize("kind,shape", [("BatchNorm2d", (4, 3, 5, 6)), ("BatchNorm1d", (8, 3)),
                                        ("BatchNorm1d", (4, 3, 7))])
@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3},
                                     {"affine": False}, {"track_running_stats": False},
                                     {"bias": False}],
                         ids=str)
def test_batch_norm_train_steps_and_eval_as_torch(kind, shape, options):
    torch = pytest.importorskip("torch")
    ours, theirs = pair(torch, kind, 3, **options)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(1)
    for step in range(4):
        x = rng.standard_normal(shape) * (step + 1) + step
        G = rng.standard_normal(shape)
        tx = torch.tensor(x, requires_grad=True)
        ox = tg.tensor(x, requires_grad=True)
        t_out, o_out = theirs(tx), ours(ox)
        np.testing.assert_allclose(o_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        t_out.backward(torch.tensor(G))
        o_out.backward(tg.tensor(G))
        np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-11)
        for name, p in theirs.named_parameters():
            np.testing.assert_allclose(dict(ours.named_parameters())[name].grad.numpy(),
                                       p.grad.numpy(), rtol=1e-9, atol=1e-11)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key, value in theirs_state.items():
        # (tapegrad's state_dict holds numpy copies)
        np.testing.assert_allclose(np.asarray(ours_state[key]), value.numpy(), rtol=1e-12,
                                   err_msg=key)
        assert np.asarray(ours_state[key]).dtype == value.numpy().dtype
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_repr_and_buffers_as_torch():
    torch = pytest.importorskip("torch")
    for args in [(6,), (4,)]:
        for kwargs in [{}, {"momentum": None, "affine": False},
                       {"eps": 1e-3, "track_running_stats": False}, {"bias": False}]:
            assert repr(tg.nn.BatchNorm2d(*args, **kwargs)) == \
                repr(torch.nn.BatchNorm2d(*args, **kwargs))
            assert repr(tg.nn.BatchNorm1d(*args, **kwargs)) == \
                repr(torch.nn.BatchNorm1d(*args, **kwargs))
    assert [name for name, _ in tg.nn.BatchNorm2d(3).named_buffers()] == \
        [name for name, _ in torch.nn.BatchNorm2d(3).named_buffers()]


@pytest.mark.parametrize("make,shape", [
    (lambda nn: nn.BatchNorm2d(3), (2, 3, 4)),
    (lambda nn: nn.BatchNorm1d(3), (2, 3, 4, 5)),
    (lambda nn: nn.BatchNorm1d(3), (1, 3)),           # one value per channel in training
])
def test_batch_norm_errors_as_torch(make, shape):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        make(torch.nn)(torch.zeros(shape))
    with pytest.raises(ValueError):
        make(tg.nn)(tg.zeros(shape))


def test_dropout2d_zeroes_whole_channels_and_scales():
    tg.manual_seed(0)
    layer = tg.nn.Dropout2d(0.5)
    x = tg.ones(8, 16, 3, 3)
    out = layer(x).numpy()
    per_channel = out.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    kept = (per_channel == 2.0).all(-1).mean()
    assert 0.3 < kept < 0.7
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    torch = pytest.importorskip("torch")
    assert repr(layer) == repr(torch.nn.Dropout2d(0.5))


def test_dropout2d_of_3d_input_drops_rows_of_n_c_l_with_torchs_warning():
    torch = pytest.importorskip("torch")
    tg.manual_seed(2)
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)") as ours:
        out = tg.nn.functional.dropout2d(tg.ones(6, 5, 7), 0.5).numpy()
    with pytest.warns(UserWarning) as theirs:
        torch.nn.functional.dropout2d(torch.ones(6, 5, 7), 0.5)
    assert str(ours[0].message) == str(theirs[0].message)
    rows = out.reshape(30, 7)                 # one draw per (n, c): whole rows of L
    assert np.all((rows == 0).all(-1) | (rows == 2.0).all(-1))
    assert 0 < (rows == 2.0).all(-1).sum() < 30


def test_dropout2d_gradient_is_the_mask():
    tg.manual_seed(1)
    x = tg.ones(2, 4, 2, 2, requires_grad=True)
    out = tg.nn.functional.dropout2d(x, 0.25)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())
