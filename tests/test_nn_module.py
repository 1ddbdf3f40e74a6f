"""nn.Module's torch surface and the containers, each against torch.nn doing the same thing
on the same weights; and the state dict of micrograd-style (scalar Value) models."""
import inspect
import random
from collections import OrderedDict

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import nn

from lecture_mlp import lecture_mlp


def twin_of(torch, ours, theirs):
    """theirs with ours's weights, in ours's dtype."""
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return theirs


def torch_repr(torch_module):
    return repr(torch_module).replace("torch.", "tapegrad.")


def error_of(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.value


def same_error(ours, theirs):
    """Both raise, the same type and message (torch's spelled as tapegrad's)."""
    a, b = error_of(ours), error_of(theirs)
    assert type(a) is type(b)
    assert str(a) == str(b).replace("torch.", "tapegrad.").replace("torch ", "tapegrad ")


# ------------------------------------------------------------------ conversions

def test_double_converts_in_place_and_an_earlier_optimizer_keeps_training():
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    twin = twin_of(torch, model, torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                                     torch.nn.Linear(4, 1)))
    params = list(model.parameters())
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    assert model.double() is model
    twin.double()
    assert [p is q for p, q in zip(params, model.parameters())] == [True] * 4
    assert all(p.dtype == tg.float64 and p.requires_grad and p.is_leaf for p in params)
    x = np.random.default_rng(1).normal(size=(5, 3))
    for _ in range(3):
        opt.zero_grad()
        topt.zero_grad()
        model(tg.tensor(x)).pow(2).sum().backward()
        twin(torch.tensor(x)).pow(2).sum().backward()
        opt.step()
        topt.step()
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12,
                                   atol=1e-14)
        assert p.grad.dtype == tg.float64


def test_float_and_to_convert_grads_too_and_keep_integer_buffers():
    torch = pytest.importorskip("torch")

    def build(lib):
        m = lib.nn.Linear(2, 2)
        m.register_buffer("steps", lib.zeros(3, dtype=lib.int64))
        m.register_buffer("mean", lib.zeros(2))
        return m

    ours, theirs = build(tg), build(torch)
    weight = ours.weight
    ours(tg.ones(1, 2)).sum().backward()
    theirs(torch.ones(1, 2)).sum().backward()
    for call in (lambda m, lib: m.double(), lambda m, lib: m.float(),
                 lambda m, lib: m.to(lib.float64), lambda m, lib: m.to("cpu", lib.float32),
                 lambda m, lib: m.to(device="cpu", dtype=lib.float64),
                 lambda m, lib: m.to(lib.zeros(1, dtype=lib.float32)), lambda m, lib: m.cpu()):
        assert call(ours, tg) is ours
        call(theirs, torch)
        got = [str(ours.weight.dtype), str(ours.weight.grad.dtype), str(ours.steps.dtype),
               str(ours.mean.dtype)]
        want = [str(t.dtype).replace("torch.", "") for t in
                (theirs.weight, theirs.weight.grad, theirs.steps, theirs.mean)]
        assert got == want
        assert ours.weight is weight and ours._buffers["mean"] is ours.mean


def test_to_an_unknown_device_raises_as_tensor_to_and_converts_nothing():
    torch = pytest.importorskip("torch")
    model = nn.Linear(2, 2)
    expected = error_of(lambda: tg.zeros(1).to(device="cuda"))
    for call in (lambda: model.to("cuda"), lambda: model.to("cuda", tg.float64),
                 lambda: model.to(device="cuda")):
        err = error_of(call)
        assert type(err) is type(expected) and str(err) == str(expected)
    assert model.weight.dtype == tg.float32
    same_error(lambda: model.to(tg.int64), lambda: torch.nn.Linear(2, 2).to(torch.int64))


# -------------------------------------------------------------------- traversal

def nested(lib):
    shared = lib.nn.Linear(2, 2)
    return lib.nn.Sequential(OrderedDict([
        ("embed", lib.nn.Linear(3, 2)),
        ("body", lib.nn.Sequential(shared, lib.nn.ReLU(), shared)),
        ("head", lib.nn.Sequential(lib.nn.Linear(2, 1), lib.nn.Sigmoid())),
    ]))


def test_traversal_names_order_and_generators_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nested(tg), nested(torch)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_modules(remove_duplicate=False)] == \
        [n for n, _ in theirs.named_modules(remove_duplicate=False)]
    assert [n for n, _ in ours.named_modules(prefix="m")] == \
        [n for n, _ in theirs.named_modules(prefix="m")]
    assert [type(m).__name__ for m in ours.modules()] == \
        [type(m).__name__ for m in theirs.modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.body.named_children()] == \
        [n for n, _ in theirs.body.named_children()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in theirs.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == []
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name in ("modules", "children", "named_modules", "named_children", "parameters",
                 "named_parameters", "buffers", "named_buffers"):
        assert inspect.isgenerator(getattr(ours, name)()) == \
            inspect.isgenerator(getattr(theirs, name)()), name
    assert ours.get_submodule("body.1") is ours.body[1]
    same_error(lambda: ours.get_submodule("body.x"), lambda: theirs.get_submodule("body.x"))


def test_apply_visits_children_first_then_self():
    torch = pytest.importorskip("torch")
    visits = {}
    for lib in (tg, torch):
        seen = []
        model = nested(lib)
        assert model.apply(lambda m: seen.append(type(m).__name__)) is model
        visits[lib] = seen
    assert visits[tg] == visits[torch]

    def init(m):          # the tutorials' pattern
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
    model = nested(tg).apply(init)
    assert all(not p.detach().numpy().any() for n, p in model.named_parameters()
               if n.endswith("weight"))


def test_train_eval_requires_grad_and_zero_grad():
    torch = pytest.importorskip("torch")
    ours, theirs = nested(tg), nested(torch)
    ours.body.eval()
    theirs.body.eval()
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]
    ours.train()
    assert all(m.training for m in ours.modules())
    same_error(lambda: ours.train("yes"), lambda: theirs.train("yes"))
    assert ours.requires_grad_(False) is ours
    assert not any(p.requires_grad for p in ours.parameters())
    ours.head.requires_grad_()
    theirs.requires_grad_(False)
    theirs.head.requires_grad_()
    assert [p.requires_grad for p in ours.parameters()] == \
        [p.requires_grad for p in theirs.parameters()]
    ours.head(tg.ones(1, 2)).sum().backward()
    ours.zero_grad(set_to_none=False)
    assert [p.grad.detach().numpy().tolist() for p in ours.head.parameters()] == \
        [[[0.0, 0.0]], [0.0]]
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())


# ---------------------------------------------------------------------- buffers

class Stats:
    """The same module in either library: a Linear, a running mean, a scratch buffer."""

    @staticmethod
    def build(lib):
        class Running(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lib.nn.Linear(2, 2)
                self.register_buffer("running_mean", lib.zeros(2))
                self.register_buffer("scratch", lib.ones(3), persistent=False)
                self.register_buffer("empty", None)

            def forward(self, x):
                self.running_mean.mul_(0.5).add_(x.detach().mean(0) * 0.5)
                return self.fc(x)
        return Running()


def test_buffers_and_their_state_dict_keys_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = Stats.build(tg), Stats.build(torch)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert len(list(ours.buffers())) == len(list(theirs.buffers())) == 2
    assert list(ours.state_dict()) == list(theirs.state_dict())
    wrapped, twrapped = tg.nn.Sequential(ours), torch.nn.Sequential(theirs)
    assert list(wrapped.state_dict()) == list(twrapped.state_dict())
    assert [n for n, _ in wrapped.named_buffers()] == [n for n, _ in twrapped.named_buffers()]
    ours(tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    state = ours.state_dict()
    np.testing.assert_array_equal(state["running_mean"], [1.0, 1.5])
    fresh = Stats.build(tg)
    assert repr(fresh.load_state_dict(state)) == "<All keys matched successfully>"
    np.testing.assert_array_equal(fresh.running_mean.numpy(), [1.0, 1.5])
    same_error(lambda: fresh.load_state_dict({**state, "scratch": np.ones(3)}),
               lambda: Stats.build(torch).load_state_dict(
                   {**{k: torch.from_numpy(v) for k, v in state.items()},
                    "scratch": torch.ones(3)}))


def test_bad_buffers_raise_as_torch():
    torch = pytest.importorskip("torch")
    for name, value in (("a.b", "zeros"), ("", "zeros"), ("fc", "zeros"), (3, "zeros"),
                        ("x", "number")):
        ours, theirs = Stats.build(tg), Stats.build(torch)
        same_error(lambda: ours.register_buffer(name, 1.0 if value == "number" else tg.zeros(1)),
                   lambda: theirs.register_buffer(name, 1.0 if value == "number"
                                                  else torch.zeros(1)))
    ours, theirs = Stats.build(tg), Stats.build(torch)
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'running_mean'"):
        ours.running_mean = 3
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'running_mean'"):
        theirs.running_mean = 3
    with pytest.raises(TypeError, match="as parameter 'weight'"):
        ours.fc.weight = tg.zeros(2, 2)
    with pytest.raises(TypeError, match="as parameter 'weight'"):
        theirs.fc.weight = torch.zeros(2, 2)
    same_error(lambda: ours.fc.register_parameter("bias.x", None),
               lambda: theirs.fc.register_parameter("bias.x", None))
    same_error(lambda: ours.fc.register_parameter("w", 3),
               lambda: theirs.fc.register_parameter("w", 3))


# ------------------------------------------------------------------------ hooks

def test_forward_hooks_run_around_forward_as_torch():
    torch = pytest.importorskip("torch")
    results = {}
    for lib in (tg, torch):
        lib.manual_seed(0)
        log = []
        layer = lib.nn.Linear(2, 2)
        layer.load_state_dict({"weight": lib.tensor([[1.0, 2.0], [3.0, 4.0]]),
                               "bias": lib.tensor([0.5, -0.5])})

        def pre(m, args):
            log.append(("pre", len(args)))
            return args[0] * 2                     # not a tuple: torch wraps it

        def pre_first(m, args):
            log.append("pre_first")

        def pre_kwargs(m, args, kwargs):
            log.append(("pre_kwargs", sorted(kwargs)))
            return args, kwargs

        def post(m, args, out):
            log.append(("post", tuple(out.shape)))
            return out + 1

        def post_kwargs(m, args, kwargs, out):
            log.append("post_kwargs")
        handles = [layer.register_forward_pre_hook(pre),
                   layer.register_forward_pre_hook(pre_first, prepend=True),
                   layer.register_forward_pre_hook(pre_kwargs, with_kwargs=True),
                   layer.register_forward_hook(post),
                   layer.register_forward_hook(post_kwargs, with_kwargs=True)]
        first = layer(lib.ones(1, 2)).detach().numpy().tolist()
        handles[0].remove()
        with handles[3]:
            second = layer(lib.ones(1, 2)).detach().numpy().tolist()
        third = layer(lib.ones(1, 2)).detach().numpy().tolist()
        for h in handles:
            h.remove()
        fourth = layer(lib.ones(1, 2)).detach().numpy().tolist()
        results[lib] = (log, first, second, third, fourth)
    assert results[tg] == results[torch]


def test_always_call_hook_runs_when_forward_raises():
    calls = []
    layer = nn.Linear(2, 2)
    layer.register_forward_hook(lambda m, a, o: calls.append(o), always_call=True)
    with pytest.raises(RuntimeError):
        layer(tg.ones(1, 3))
    assert calls == [None]


# ------------------------------------------------------------------------- reprs

def test_reprs_as_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        class Block(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = lib.nn.ModuleList([lib.nn.Linear(2, 2), lib.nn.Linear(2, 2),
                                                 lib.nn.ReLU(), lib.nn.Linear(2, 2)])
                self.heads = lib.nn.ModuleDict({"a": lib.nn.Tanh(), "b": lib.nn.Linear(2, 1)})
                self.scales = lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(3, 4)),
                                                    lib.zeros(2, dtype=lib.float64),
                                                    lib.nn.Parameter(lib.zeros(()))])
                self.unflat = lib.nn.Unflatten(1, (2, 5))
                self.missing = None

            def extra_repr(self):
                return "two\nlines"
        return lib.nn.Sequential(Block(), lib.nn.Sequential(lib.nn.Linear(1, 1)),
                                 lib.nn.ModuleList(), lib.nn.ModuleList([lib.nn.ReLU()] * 3))

    ours, theirs = build(tg), build(torch)
    assert repr(ours) == torch_repr(theirs)
    assert repr(ours[1:]) == torch_repr(theirs[1:])
    ours[0].add_module("gone", None)
    theirs[0].add_module("gone", None)
    assert repr(ours[0]) == torch_repr(theirs[0])


# -------------------------------------------------------------------- containers

def test_module_list_as_torch():
    torch = pytest.importorskip("torch")
    made = {}
    for lib in (tg, torch):
        items = [lib.nn.Linear(i + 1, i + 2) for i in range(6)]
        ml = lib.nn.ModuleList(items[:2])
        ml.append(items[2]).extend(items[3:4])
        ml.insert(1, items[4])
        ml.insert(4, lib.nn.ReLU())        # (torch's insert fails on a negative index)
        ml += [items[5]]
        picked = [type(ml[-1]).__name__, ml[0] is items[0], ml[1] is items[4],
                  type(ml[1:3]).__name__, len(ml[1:3]), len(ml)]
        del ml[2]
        popped = ml.pop(0)
        ml[0] = lib.nn.Tanh()
        made[lib] = (picked, popped is items[0], [type(m).__name__ for m in ml],
                     list(ml.state_dict()), len(list(ml.parameters())), repr(ml + ml[:1]))
    assert made[tg] == made[torch]
    same_error(lambda: nn.ModuleList([nn.ReLU()])[3],
               lambda: torch.nn.ModuleList([torch.nn.ReLU()])[3])
    same_error(lambda: nn.ModuleList().extend(3), lambda: torch.nn.ModuleList().extend(3))
    same_error(lambda: nn.ModuleList([nn.ReLU()])(1), lambda: torch.nn.ModuleList([
        torch.nn.ReLU()])(1))


def test_sequential_as_torch():
    torch = pytest.importorskip("torch")
    made = {}
    x = np.random.default_rng(3).normal(size=(4, 3))
    for lib in (tg, torch):
        lib.manual_seed(0)
        named = lib.nn.Sequential(OrderedDict([("fc1", lib.nn.Linear(3, 4)),
                                               ("act", lib.nn.ReLU())]))
        names = [n for n, _ in named.named_children()]
        seq = lib.nn.Sequential(*named)
        seq.append(lib.nn.Linear(4, 2))
        seq.insert(1, lib.nn.Identity())
        seq.insert(-1, lib.nn.Identity())
        seq.extend([lib.nn.Tanh()])
        part = seq[1:3]
        made[lib] = (names, [n for n, _ in seq.named_children()], type(part).__name__,
                     [n for n, _ in part.named_children()], len(seq),
                     [type(m).__name__ for m in seq], type(seq[-1]).__name__,
                     list(seq.state_dict()), repr(seq))
        del seq[0]
        made[lib] += ([n for n, _ in seq.named_children()],)
    assert made[tg] == made[torch]
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    twin = twin_of(torch, model, torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
                                                     torch.nn.Linear(4, 2)))
    np.testing.assert_allclose(model[:2](tg.tensor(x, dtype=tg.float32)).detach().numpy(),
                               twin[:2](torch.tensor(x, dtype=torch.float32)).detach().numpy(),
                               rtol=1e-6)
    same_error(lambda: model[3], lambda: twin[3])
    same_error(lambda: model.insert(5, nn.ReLU()), lambda: twin.insert(5, torch.nn.ReLU()))


def test_module_dict_and_parameter_list_as_torch():
    torch = pytest.importorskip("torch")
    made = {}
    for lib in (tg, torch):
        md = lib.nn.ModuleDict([("b", lib.nn.Linear(1, 2)), ("a", lib.nn.ReLU())])
        md["c"] = lib.nn.Linear(2, 3)
        md.update({"a": lib.nn.Tanh(), "d": lib.nn.Sigmoid()})
        del md["b"]
        popped = type(md.pop("d")).__name__
        made[lib] = [list(md), list(md.keys()), [type(m).__name__ for m in md.values()],
                     "c" in md, len(md), popped, list(md.state_dict()), repr(md)]
        md.clear()
        made[lib].append(len(md))
        pl = lib.nn.ParameterList([lib.zeros(2), lib.nn.Parameter(lib.ones(3))])
        pl.append(lib.zeros(1, 2))
        pl.extend([lib.nn.Parameter(lib.zeros(4))])
        made[lib] += [len(pl), [type(p).__name__ for p in pl], [p.requires_grad for p in pl],
                      list(pl.state_dict()), len(list(pl.parameters())), len(pl[1:]),
                      repr(pl)]
    assert made[tg] == [x.replace("torch.", "tapegrad.") if isinstance(x, str) else x
                        for x in made[torch]]
    same_error(lambda: nn.ModuleDict().update(3), lambda: torch.nn.ModuleDict().update(3))
    same_error(lambda: nn.ModuleDict().update([("a",)]),
               lambda: torch.nn.ModuleDict().update([("a",)]))
    same_error(lambda: nn.ModuleDict()["x"], lambda: torch.nn.ModuleDict()["x"])


def test_parameter_import_path():
    from tapegrad.nn.parameter import Parameter
    assert Parameter is nn.Parameter
    p = Parameter(tg.zeros(2))
    assert p.requires_grad and isinstance(p, tg.Tensor)


# ------------------------------------- state dicts of scalar (micrograd-style) models

# written as in the lecture: Python's sum, tanh, parameters() as a list
LectureMLP = lecture_mlp(nn.Module)


class ModelOfPlainLayers(lecture_mlp(nn.Module, parts_base=object)):
    """The lecture's Layers and Neurons without a base class, held by a Module."""

    def __init__(self, nin, nouts):
        super().__init__(nin, nouts)
        self.config = {"sizes": [nin] + nouts, "name": "plain"}    # no Values: not saved


scalar_models = [
    ("tapegrad.nn.MLP", lambda seed: (random.seed(seed), nn.MLP(3, [4, 4, 1]))[1],
     ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.w.2",
      "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]),
    ("lecture classes", lambda seed: (random.seed(seed), LectureMLP(3, [4, 4, 1]))[1],
     ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.w.2",
      "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]),
    ("plain classes in a Module", lambda seed: (random.seed(seed),
                                                ModelOfPlainLayers(3, [4, 4, 1]))[1],
     ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.w.2",
      "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]),
]


def bits(values):
    return [float(v).hex() for v in values]


@pytest.mark.parametrize("name,make,first_keys", scalar_models, ids=[m[0] for m in scalar_models])
def test_scalar_model_state_dict_saves_and_restores_bit_for_bit(name, make, first_keys, tmp_path):
    model = make(1)
    params = model.parameters()
    state = model.state_dict()
    assert list(state)[:5] == first_keys
    assert len(state) == len(params) == 4 * 4 + 4 * 5 + 1 * 5
    assert list(state)[-1] == "layers.2.neurons.0.b"
    assert bits(state.values()) == bits(p.data for p in params)
    assert all(v.shape == () and v.dtype == np.float64 for v in state.values())

    # train a little so the values are not the initial draws
    x = [0.5, -1.0, 2.0]
    for _ in range(3):
        loss = model(x) * model(x)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= 0.05 * p.grad
    path = tmp_path / "model.npz"
    tg.save(model.state_dict(), path)
    with np.load(path) as saved:
        # (tapegrad.save adds one entry of its own: the file's structure)
        assert [k for k in saved.files if k != "__tapegrad__"] == list(model.state_dict())

    other = make(2)
    assert bits(p.data for p in other.parameters()) != bits(p.data for p in params)
    before = other.parameters()
    result = other.load_state_dict(tg.load(path))
    assert repr(result) == "<All keys matched successfully>"
    assert all(a is b for a, b in zip(before, other.parameters()))   # loaded in place
    assert bits(p.data for p in other.parameters()) == bits(p.data for p in params)
    assert float(other(x).data).hex() == float(model(x).data).hex()


def test_scalar_model_load_reports_keys_as_torch():
    random.seed(0)
    model = nn.MLP(2, [2, 1])
    keys = list(model.state_dict())
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict({})
    assert str(info.value) == ("Error(s) in loading state_dict for MLP:\n\tMissing key(s) in "
                               "state_dict: " + ", ".join(f'"{k}"' for k in keys) + ". ")
    state = model.state_dict()
    original = bits(state.values())
    partial = {keys[0]: np.array(0.25), "layers.9.b": np.array(1.0)}
    with pytest.raises(RuntimeError, match='Missing key.*\n\tUnexpected key\\(s\\) in '
                                           'state_dict: "layers.9.b". '):
        model.load_state_dict(partial)
    assert model.parameters()[0].data == 0.25      # torch copies what matches, then raises
    result = model.load_state_dict(state, strict=True)
    assert bits(model.state_dict().values()) == original
    result = model.load_state_dict(partial, strict=False)
    assert result.missing_keys == keys[1:] and result.unexpected_keys == ["layers.9.b"]
    with pytest.raises(RuntimeError, match=r"size mismatch for layers.0.neurons.0.w.0: copying "
                                           r"a param with shape tapegrad.Size\(\[2\]\)"):
        model.load_state_dict({**state, keys[0]: np.zeros(2)})
    model.load_state_dict({k: tg.tensor(v.item(), dtype=tg.float64) for k, v in state.items()})
    assert bits(model.state_dict().values()) == original


def test_torch_wording_of_load_errors_on_tensor_modules():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    state = {"weight": np.zeros((2, 3)), "extra": np.zeros(1)}
    same_error(lambda: ours.load_state_dict(state),
               lambda: theirs.load_state_dict({k: torch.from_numpy(v) for k, v in
                                               state.items()}))
    same_error(lambda: ours.load_state_dict({}), lambda: theirs.load_state_dict({}))
    result = ours.load_state_dict({"bias": np.ones(3)}, strict=False)
    tresult = theirs.load_state_dict({"bias": torch.ones(3)}, strict=False)
    assert (result.missing_keys, result.unexpected_keys) == \
        (tresult.missing_keys, tresult.unexpected_keys)
    assert repr(result) == repr(tresult)
    np.testing.assert_array_equal(ours.bias.detach().numpy(), np.ones(3))
    with pytest.raises(NotImplementedError, match="assign=True"):
        ours.load_state_dict(ours.state_dict(), assign=True)
    same_error(lambda: ours.load_state_dict([1]), lambda: theirs.load_state_dict([1]))


def test_state_dict_options_and_shared_and_cyclic_attributes():
    random.seed(0)
    model = nn.MLP(2, [1])
    model.again = model.layers           # the same Values under a second path
    model.layers[0].owner = model        # a back-reference must not recurse forever
    state = model.state_dict(prefix="net.")
    assert list(state) == ["net.layers.0.neurons.0.w.0", "net.layers.0.neurons.0.w.1",
                           "net.layers.0.neurons.0.b", "net.again.0.neurons.0.w.0",
                           "net.again.0.neurons.0.w.1", "net.again.0.neurons.0.b"]
    kept = model.state_dict(keep_vars=True)
    assert kept["layers.0.neurons.0.b"] is model.layers[0].neurons[0].b
    into = {}
    assert model.state_dict(destination=into) is into and len(into) == 6


def test_tensor_modules_in_plain_lists_are_not_saved_as_torch():
    torch = pytest.importorskip("torch")

    def build(lib):
        class Holder(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = [lib.nn.Linear(2, 2)]       # not registered, in torch too
                self.kept = lib.nn.Linear(2, 1)
        return Holder()
    assert list(build(tg).state_dict()) == list(build(torch).state_dict())
