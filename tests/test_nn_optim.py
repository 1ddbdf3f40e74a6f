"""torch.nn's layers and losses, tapegrad.optim and save/load: against torch
float64 when it is installed, and by finite differences always."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad import nn
from conftest import central_differences

rng = np.random.default_rng(42)


def f64(shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, shape)


def numeric_grad(fn, arrays, k):
    """d sum(fn(...) * G) / d arrays[k], by central differences (G fixed by caller)."""
    return central_differences(lambda perturbed: fn(*perturbed), arrays)[k]


# each case: (name, builds our module, builds torch's module, input arrays, target or None)
def layer_cases():
    return [
        ("Linear", lambda: nn.Linear(4, 3), (5, 4)),
        ("Linear_no_bias", lambda: nn.Linear(4, 3, bias=False), (5, 4)),
        ("Sequential", lambda: nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2),
                                             nn.Sigmoid()), (3, 4)),
        ("ReLU", lambda: nn.ReLU(), (3, 4)),
        ("Softmax", lambda: nn.Softmax(dim=1), (3, 4)),
        ("LogSoftmax", lambda: nn.LogSoftmax(dim=0), (3, 4)),
        ("LayerNorm", lambda: nn.LayerNorm(4), (3, 4)),
        ("Flatten", lambda: nn.Flatten(), (2, 3, 4)),
        ("Identity", lambda: nn.Identity(), (2, 2)),
        ("Dropout_eval", lambda: nn.Dropout(0.3).eval(), (3, 4)),
    ]


def torch_twin(torch, name, ours):
    tnn = torch.nn
    twin = {
        "Linear": lambda: tnn.Linear(4, 3),
        "Linear_no_bias": lambda: tnn.Linear(4, 3, bias=False),
        "Sequential": lambda: tnn.Sequential(tnn.Linear(4, 6), tnn.Tanh(), tnn.Linear(6, 2),
                                             tnn.Sigmoid()),
        "ReLU": lambda: tnn.ReLU(),
        "Softmax": lambda: tnn.Softmax(dim=1),
        "LogSoftmax": lambda: tnn.LogSoftmax(dim=0),
        "LayerNorm": lambda: tnn.LayerNorm(4),
        "Flatten": lambda: tnn.Flatten(),
        "Identity": lambda: tnn.Identity(),
        "Dropout_eval": lambda: tnn.Dropout(0.3).eval(),
    }[name]().double()
    twin.load_state_dict({k: torch.tensor(v, dtype=torch.float64)
                          for k, v in ours.state_dict().items()})
    return twin


@pytest.mark.parametrize("name,make,shape", layer_cases(), ids=[c[0] for c in layer_cases()])
def test_layers_against_finite_differences(name, make, shape):
    tg.manual_seed(0)
    layer = make()
    for p in layer.parameters():
        p.data = p.double()
    x = f64(shape)
    G = None

    def value(arr):
        out = layer(tg.from_numpy(arr)).detach().numpy()
        return float((out * G).sum())

    inp = tg.tensor(x, dtype=tg.float64, requires_grad=True)
    out = layer(inp)
    G = f64(tuple(out.shape))
    out.backward(gradient=tg.from_numpy(G.copy()))
    np.testing.assert_allclose(inp.grad.numpy(), numeric_grad(value, [x], 0), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name,make,shape", layer_cases(), ids=[c[0] for c in layer_cases()])
def test_layers_against_torch_float64(name, make, shape):
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    layer = make()
    twin = torch_twin(torch, name, layer)
    for p in layer.parameters():
        p.data = p.double()
    x = f64(shape)
    inp = tg.tensor(x, dtype=tg.float64, requires_grad=True)
    tinp = torch.tensor(x, requires_grad=True)
    out, tout = layer(inp), twin(tinp)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    G = f64(tuple(out.shape))
    out.backward(gradient=tg.from_numpy(G.copy()))
    tout.backward(gradient=torch.tensor(G))
    np.testing.assert_allclose(inp.grad.numpy(), tinp.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (k, p), tp in zip(layer.named_parameters(), twin.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=k)


def test_embedding_and_dropout_behave_like_torch():
    tg.manual_seed(1)
    emb = nn.Embedding(5, 3)
    idx = tg.tensor([[0, 4], [4, 2]])
    out = emb(idx)
    assert out.shape == (2, 2, 3)
    out.sum().backward()
    assert emb.weight.grad.numpy()[4].tolist() == [2.0, 2.0, 2.0]      # used twice
    assert emb.weight.grad.numpy()[1].tolist() == [0.0, 0.0, 0.0]
    drop = nn.Dropout(0.5)
    x = tg.ones(1000)
    y = drop(x)
    kept = y.numpy() != 0
    assert 400 < kept.sum() < 600 and np.allclose(y.numpy()[kept], 2.0)
    assert drop.eval()(x) is x


LOSSES = ["MSELoss", "L1Loss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
          "CrossEntropyLoss", "CrossEntropyLoss_probs"]


def loss_inputs(name, n=4, c=3):
    if name in ("MSELoss", "L1Loss", "BCEWithLogitsLoss"):
        x = f64((n, c))
        t = f64((n, c), 0, 1) if name == "BCEWithLogitsLoss" else f64((n, c))
        return x, t
    if name == "BCELoss":
        return f64((n, c), 0.05, 0.95), f64((n, c), 0, 1)
    if name == "NLLLoss":
        logits = f64((n, c))
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return logp, np.array([0, 2, 1, 2])
    if name == "CrossEntropyLoss":
        return f64((n, c)), np.array([0, 2, 1, 2])
    t = f64((n, c), 0.1, 1)
    return f64((n, c)), t / t.sum(axis=1, keepdims=True)


def make_loss(lib, name, reduction):
    cls = name.replace("_probs", "")
    return getattr(lib.nn, cls)(reduction=reduction)


def as_target(lib, t):
    return lib.tensor(t) if t.dtype.kind in "iu" else lib.tensor(t, dtype=lib.float64)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_losses_against_finite_differences(name, reduction):
    x, t = loss_inputs(name)
    loss = make_loss(tg, name, reduction)
    inp = tg.tensor(x, dtype=tg.float64, requires_grad=True)
    out = loss(inp, as_target(tg, t))
    G = f64(tuple(out.shape))
    out.backward(gradient=tg.from_numpy(np.array(G)))

    def value(arr):
        return float((loss(tg.from_numpy(arr), as_target(tg, t)).detach().numpy() * G).sum())
    np.testing.assert_allclose(inp.grad.numpy(), numeric_grad(value, [x.copy()], 0),
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_losses_against_torch_float64(name, reduction):
    torch = pytest.importorskip("torch")
    x, t = loss_inputs(name)
    inp = tg.tensor(x, dtype=tg.float64, requires_grad=True)
    tinp = torch.tensor(x, requires_grad=True)
    out = make_loss(tg, name, reduction)(inp, as_target(tg, t))
    tout = make_loss(torch, name, reduction)(tinp, torch.tensor(t))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10)
    G = f64(tuple(out.shape))
    out.backward(gradient=tg.from_numpy(np.array(G)))
    tout.backward(gradient=torch.tensor(G))
    np.testing.assert_allclose(inp.grad.numpy(), tinp.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_target():
    x = tg.tensor([[2.0, 1.0, 0.1]], dtype=tg.float64, requires_grad=True)
    loss = nn.CrossEntropyLoss()(x, tg.tensor([0]))
    loss.backward()
    y = np.exp(x.detach().numpy()) / np.exp(x.detach().numpy()).sum()
    np.testing.assert_allclose(x.grad.numpy(), y - np.array([[1.0, 0.0, 0.0]]), rtol=1e-12)
    assert loss.grad_fn.name() == "NllLossBackward0"      # torch names it by its last op


# -------------------------------------------------------------------- Module

def test_module_registration_names_state_and_repr():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
            self.head = nn.Linear(3, 1)
            self.scale = nn.Parameter(tg.ones(1))

        def forward(self, x):
            return self.head(self.body(x)) * self.scale

    net = Net()
    # torch's order: the module's own parameters, then each child's, depth first
    assert [k for k, _ in net.named_parameters()] == [
        "scale", "body.0.weight", "body.0.bias", "head.weight", "head.bias"]
    assert set(net.state_dict()) == {"body.0.weight", "body.0.bias", "head.weight",
                                     "head.bias", "scale"}
    assert [type(c).__name__ for c in net.children()] == ["Sequential", "Linear"]
    assert repr(net) == ("Net(\n  (body): Sequential(\n    (0): Linear(in_features=2, "
                         "out_features=3, bias=True)\n    (1): ReLU()\n  )\n  (head): "
                         "Linear(in_features=3, out_features=1, bias=True)\n)")
    out = net(tg.ones(4, 2))
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.eval().training is False and net.body.training is False
    assert net.train().body[1].training is True


def test_linear_is_initialised_like_torch():
    tg.manual_seed(0)
    layer = nn.Linear(100, 50)
    bound = 1 / np.sqrt(100)
    w = layer.weight.detach().numpy()
    assert w.shape == (50, 100) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01
    assert layer.bias.shape == (50,) and np.abs(layer.bias.detach().numpy()).max() <= bound


def test_save_and_load_round_trip_and_torch_gets_the_same_outputs(tmp_path):
    tg.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    path = tmp_path / "model.npz"
    tg.save(model.state_dict(), path)
    state = tg.load(path)
    other = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    other.load_state_dict(state)
    x = tg.randn(3, 4)
    assert np.array_equal(model(x).detach().numpy(), other(x).detach().numpy())
    torch = pytest.importorskip("torch")
    twin = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    np.testing.assert_allclose(model(x).detach().numpy(),
                               twin(torch.from_numpy(x.numpy())).detach().numpy(), rtol=1e-5,
                               atol=1e-6)   # float32, summed in other orders


def test_bad_state_dicts_and_inputs_are_clear_errors():
    model = nn.Sequential(nn.Linear(4, 2))
    # torch's wording: missing keys first, then unexpected ones, each on its own line
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0.bias". \n\t'
                                           r'Unexpected key\(s\) in state_dict: "extra"'):
        model.load_state_dict({"0.weight": np.zeros((2, 4)), "extra": np.zeros(1)})
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        model.load_state_dict({"0.weight": np.zeros((3, 4)), "0.bias": np.zeros(2)})
    with pytest.raises(RuntimeError, match=r"input has 5 features.*expects 4"):
        model(tg.ones(3, 5))
    with pytest.raises(IndexError, match="Target 3 is out of bounds."):    # torch's words
        nn.CrossEntropyLoss()(tg.ones(2, 3), tg.tensor([0, 3]))
    with pytest.raises(IndexError):
        nn.NLLLoss()(tg.ones(2, 3), tg.tensor([-1, 0]))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        nn.BCELoss()(tg.tensor([1.5]), tg.tensor([1.0]))
    with pytest.raises(TypeError, match="state dict"):
        tg.save(model, "x.npz")         # a module would need pickle


# --------------------------------------------------------------------- optim

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.5)),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=[f"{n}-{k}" for n, k in OPTIMIZERS])
def test_optimizers_follow_torch_for_twenty_steps(name, kwargs):
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    for p in model.parameters():
        p.data = p.double()
    twin = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(),
                               torch.nn.Linear(5, 2)).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    opt = getattr(tg.optim, name)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(twin.parameters(), **kwargs)
    x, y = f64((6, 3)), np.array([0, 1, 1, 0, 1, 0])
    for step in range(20):
        opt.zero_grad()
        topt.zero_grad()
        nn.CrossEntropyLoss()(model(tg.from_numpy(x)), tg.tensor(y)).backward()
        torch.nn.CrossEntropyLoss()(twin(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step()
        topt.step()
        for p, tp in zip(model.parameters(), twin.parameters()):
            np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-9,
                                       atol=1e-12, err_msg=f"step {step}")
    assert "exp_avg" in str(opt.state_dict()) or name == "SGD"


def test_adam_trains_a_micrograd_mlp():
    import random
    random.seed(0)
    model = nn.MLP(2, [8, 1])
    opt = tg.optim.Adam(model.parameters(), lr=0.05)
    table = [([0.0, 0.0], -1.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], -1.0)]
    for _ in range(200):
        loss = sum(((model(x) - y) ** 2 for x, y in table), tg.Value(0.0))
        opt.zero_grad()
        assert all(p.grad == 0 for p in model.parameters())
        loss.backward()
        opt.step()
    assert loss.data < 1e-3
    assert [model(x).data > 0 for x, _ in table] == [False, True, True, False]


def test_bad_optimizer_input_is_a_clear_error():
    with pytest.raises(ValueError, match="empty parameter list"):
        tg.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="Tensors or Values"):
        tg.optim.Adam([1.0])
    with pytest.raises(ValueError, match="Nesterov"):
        tg.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, nesterov=True)
