"""nn.init (torch's fans, gains and bounds; draws from tapegrad's generator), nn.utils
(clip_grad_norm_ and friends, against torch on the same gradients) and nn.Unflatten."""
import math

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import nn
from tapegrad.nn import init

SHAPES = [(3, 5), (7, 2, 3), (6, 4, 3, 3), (2, 3, 1, 2, 2)]
NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu",
                  "leaky_relu", "selu"]


def test_calculate_gain_as_torch():
    torch = pytest.importorskip("torch")
    for name in NONLINEARITIES:
        assert init.calculate_gain(name) == torch.nn.init.calculate_gain(name)
    for slope in (0.2, 3, 0):
        assert init.calculate_gain("leaky_relu", slope) == \
            torch.nn.init.calculate_gain("leaky_relu", slope)
    for args in (("leaky_relu", True), ("leaky_relu", "0.1"), ("swish",)):
        with pytest.raises(ValueError) as ours:
            init.calculate_gain(*args)
        with pytest.raises(ValueError) as theirs:
            torch.nn.init.calculate_gain(*args)
        assert str(ours.value) == str(theirs.value)


def test_fans_as_torch():
    torch = pytest.importorskip("torch")
    for shape in SHAPES:
        assert init._calculate_fan_in_and_fan_out(tg.zeros(shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
        for mode in ("fan_in", "fan_out", "FAN_OUT"):
            assert init._calculate_correct_fan(tg.zeros(shape), mode) == \
                torch.nn.init._calculate_correct_fan(torch.zeros(shape), mode)
    for bad in (lambda lib: lib.nn.init.xavier_uniform_(lib.zeros(4)),
                lambda lib: lib.nn.init.kaiming_normal_(lib.zeros(3, 4), mode="fan_avg")):
        with pytest.raises(ValueError) as ours:
            bad(tg)
        with pytest.raises(ValueError) as theirs:
            bad(torch)
        assert str(ours.value) == str(theirs.value)


def draws(fn, shape, **kwargs):
    """fn on a float64 tensor of shape, twice from the same seed: the values, checked
    deterministic, in place and outside the graph."""
    results = []
    for _ in range(2):
        tg.manual_seed(11)
        t = nn.Parameter(tg.zeros(shape, dtype=tg.float64))
        assert fn(t, **kwargs) is t
        assert t.is_leaf and t.grad_fn is None and t.requires_grad
        results.append(t.detach().numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])
    return results[0]


def fan(shape, mode):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive if mode == "fan_in" else shape[0] * receptive


@pytest.mark.parametrize("shape", [(400, 300), (64, 32, 5, 5)])
def test_uniform_initialisers_fill_torch_bounds(shape):
    fan_in, fan_out = fan(shape, "fan_in"), fan(shape, "fan_out")
    cases = [
        (init.kaiming_uniform_, {}, math.sqrt(2) * math.sqrt(3 / fan_in)),     # a=0
        (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(fan_in)),  # Linear's
        (init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"},
         math.sqrt(2) * math.sqrt(3 / fan_out)),
        (init.xavier_uniform_, {}, math.sqrt(6 / (fan_in + fan_out))),
        (init.xavier_uniform_, {"gain": 5 / 3}, 5 / 3 * math.sqrt(6 / (fan_in + fan_out))),
        (init.uniform_, {"a": -0.3, "b": 0.7}, None),
    ]
    for fn, kwargs, bound in cases:
        values = draws(fn, shape, **kwargs)
        low, high = (-bound, bound) if bound is not None else (-0.3, 0.7)
        assert values.min() >= low and values.max() <= high
        # 120,000 draws come within 0.1% of each end, and their mean within 2% of the width
        width = high - low
        assert values.min() < low + 1e-3 * width and values.max() > high - 1e-3 * width
        assert abs(values.mean() - (low + high) / 2) < 0.02 * width
        np.testing.assert_allclose(values.std(), width / math.sqrt(12), rtol=0.02)


@pytest.mark.parametrize("shape", [(400, 300), (64, 32, 5, 5)])
def test_normal_initialisers_have_torch_std(shape):
    fan_in, fan_out = fan(shape, "fan_in"), fan(shape, "fan_out")
    cases = [
        (init.kaiming_normal_, {}, 0.0, math.sqrt(2) / math.sqrt(fan_in)),
        (init.kaiming_normal_, {"a": 0.2, "mode": "fan_out"}, 0.0,
         math.sqrt(2 / (1 + 0.2 ** 2)) / math.sqrt(fan_out)),
        (init.kaiming_normal_, {"nonlinearity": "tanh"}, 0.0, 5 / 3 / math.sqrt(fan_in)),
        (init.xavier_normal_, {}, 0.0, math.sqrt(2 / (fan_in + fan_out))),
        (init.normal_, {"mean": 2.0, "std": 0.5}, 2.0, 0.5),
    ]
    for fn, kwargs, mean, std in cases:
        values = draws(fn, shape, **kwargs)
        np.testing.assert_allclose(values.std(), std, rtol=0.02)
        assert abs(values.mean() - mean) < 0.02 * std


def test_initialisers_draw_from_tapegrads_generator():
    tg.manual_seed(5)
    t = init.uniform_(tg.zeros(3, 4), -2.0, 3.0)
    expected = np.random.default_rng(5).uniform(-2.0, 3.0, (3, 4)).astype(np.float32)
    np.testing.assert_array_equal(t.numpy(), expected)
    tg.manual_seed(5)
    t = init.normal_(tg.zeros(3, 4, dtype=tg.float64), 1.0, 2.0)
    np.testing.assert_array_equal(t.numpy(), np.random.default_rng(5).normal(1.0, 2.0, (3, 4)))
    own = np.random.default_rng(9)
    t = init.uniform_(tg.zeros(2), generator=own)
    np.testing.assert_array_equal(t.numpy(), np.random.default_rng(9).uniform(0, 1, 2)
                                  .astype(np.float32))


def test_constant_fills_and_an_in_place_write_is_seen_by_autograd():
    w = nn.Parameter(tg.zeros(2, 3))
    for fn, args, value in ((init.constant_, (0.25,), 0.25), (init.ones_, (), 1.0),
                            (init.zeros_, (), 0.0)):
        assert fn(w, *args) is w
        assert w.dtype == tg.float32 and (w.detach().numpy() == value).all()
    # an initialiser is an in-place write: a graph that saved w before it must refuse
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        p = lib.nn.Parameter(lib.ones(2))
        out = (p * p).sum()
        lib.nn.init.constant_(p, 3.0)
        with pytest.raises(RuntimeError):
            out.backward()


def test_zero_element_tensors_warn_as_torch():
    torch = pytest.importorskip("torch")
    for fn in ("kaiming_uniform_", "kaiming_normal_"):
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            getattr(init, fn)(tg.zeros(0, 3))
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            getattr(torch.nn.init, fn)(torch.zeros(0, 3))


# ------------------------------------------------------------------- nn.utils

def grads_pair(torch, shapes, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for shape in shapes:
        data, grad = rng.normal(size=shape), rng.normal(size=shape) * scale
        p = nn.Parameter(tg.tensor(data, dtype=tg.float64))
        p.grad = tg.tensor(grad, dtype=tg.float64)
        q = torch.nn.Parameter(torch.tensor(data))
        q.grad = torch.tensor(grad)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, -math.inf, 0.5, 3, 0])
@pytest.mark.parametrize("max_norm", [0.1, 1e6])
def test_clip_grad_norm_as_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ours, theirs = grads_pair(torch, [(3, 4), (4,), (), (2, 2, 2)])
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, tg.Tensor) and total.shape == () and total.dtype == tg.float64
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-14)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-14, atol=1e-300)


def test_clip_grad_norm_takes_generators_single_tensors_and_skips_missing_grads():
    torch = pytest.importorskip("torch")
    ours, theirs = grads_pair(torch, [(5,), (2, 3)], seed=1, scale=10)
    ours[0].grad, theirs[0].grad = None, None
    model = nn.Linear(2, 2)
    total = nn.utils.clip_grad_norm_((p for p in ours), 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_((p for p in theirs), 1.0)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-14)
    np.testing.assert_allclose(ours[1].grad.numpy(), theirs[1].grad.numpy(), rtol=1e-14)
    single = nn.utils.clip_grad_norm_(ours[1], 0.5)
    tsingle = torch.nn.utils.clip_grad_norm_(theirs[1], 0.5)
    np.testing.assert_allclose(single.item(), tsingle.item(), rtol=1e-14)
    empty = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    tempty = torch.nn.utils.clip_grad_norm_(torch.nn.Linear(2, 2).parameters(), 1.0)
    assert (empty.item(), str(empty.dtype)) == (tempty.item(), str(tempty.dtype)[6:])


def test_clip_grad_norm_float32_and_nonfinite():
    torch = pytest.importorskip("torch")
    ours, theirs = grads_pair(torch, [(50,), (7, 3)], seed=2)
    for p, q in zip(ours, theirs):
        p.data, p.grad = p.data.float(), p.grad.float()
        q.data, q.grad = q.data.float(), q.grad.float()
    total = nn.utils.clip_grad_norm_(ours, 0.3)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, 0.3)
    assert total.dtype == tg.float32
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)
    ours, theirs = grads_pair(torch, [(3,)])
    ours[0].grad.numpy()[1] = np.nan
    theirs[0].grad[1] = float("nan")
    with pytest.raises(RuntimeError) as err:
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as terr:
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    assert str(err.value) == str(terr.value)
    assert np.isnan(nn.utils.clip_grad_norm_(ours, 1.0).item())


def test_clip_grad_value_and_parameter_vectors_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = grads_pair(torch, [(3, 4), (5,)], seed=3)
    assert nn.utils.clip_grad_value_(ours, 0.5) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    vec = nn.utils.parameters_to_vector(ours)
    tvec = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vec.detach().numpy(), tvec.detach().numpy())
    vec.sum().backward()          # a differentiable concatenation, as torch's
    new = tg.tensor(np.arange(17.0))
    nn.utils.vector_to_parameters(new, ours)
    torch.nn.utils.vector_to_parameters(torch.arange(17.0, dtype=torch.float64), theirs)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    with pytest.raises(TypeError, match="expected torch.Tensor, but got"):
        torch.nn.utils.vector_to_parameters([1.0], theirs)
    with pytest.raises(TypeError, match="expected .*Tensor, but got"):
        nn.utils.vector_to_parameters([1.0], ours)


def test_clip_grad_norm_on_scalar_values_matches_a_tensor_of_their_grads():
    torch = pytest.importorskip("torch")
    values = [tg.Value(0.0) for _ in range(4)]
    grads = [0.5, -2.0, 1.25, 3.0]
    for v, g in zip(values, grads):
        v.grad = g
    twin = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    twin.grad = torch.tensor(grads, dtype=torch.float64)
    total = nn.utils.clip_grad_norm_(values, 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_([twin], 1.0)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-15)
    np.testing.assert_allclose([v.grad for v in values], twin.grad.numpy(), rtol=1e-15)


# ------------------------------------------------------------------- Unflatten

def test_unflatten_as_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).normal(size=(3, 10, 2))
    for dim, sizes in ((1, (2, 5)), (-2, [5, 2]), (1, (2, -1)), (0, (1, 3)), (-1, (2, 1))):
        ours, theirs = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
        assert repr(ours) == repr(theirs)
        t = tg.tensor(x, requires_grad=True)
        tt = torch.tensor(x, requires_grad=True)
        out, tout = ours(t), theirs(tt)
        assert tuple(out.shape) == tuple(tout.shape)
        np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
        weights = np.random.default_rng(5).normal(size=tuple(out.shape))
        (out * tg.tensor(weights)).sum().backward()
        (tout * torch.tensor(weights)).sum().backward()
        np.testing.assert_array_equal(t.grad.numpy(), tt.grad.numpy())
    with pytest.raises(RuntimeError) as err:
        nn.Unflatten(1, (2, 4))(tg.tensor(x))
    with pytest.raises(RuntimeError) as terr:
        torch.nn.Unflatten(1, (2, 4))(torch.tensor(x))
    assert str(err.value) == str(terr.value)
    for args in ((1, 5), (1, (2, 2.0))):
        with pytest.raises(TypeError) as err:
            nn.Unflatten(*args)
        with pytest.raises(TypeError) as terr:
            torch.nn.Unflatten(*args)
        assert str(err.value) == str(terr.value)
    model = nn.Sequential(nn.Flatten(), nn.Unflatten(1, (4, 5)))
    assert tuple(model(tg.zeros(2, 4, 5)).shape) == (2, 4, 5)
