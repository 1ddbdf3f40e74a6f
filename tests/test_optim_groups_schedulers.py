"""tapegrad.optim against torch.optim in float64: every optimizer and option set
step by step over parameter groups, state_dict in torch's layout, and the lr
schedulers' sequences."""
import math
import re

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import nn

rng = np.random.default_rng(7)
X, Y = rng.uniform(-1, 1, (6, 3)), np.array([0, 1, 1, 0, 1, 0])


def twin_models(torch):
    """A tapegrad model in float64 and torch's copy of it."""
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    for p in model.parameters():
        p.data = p.double()
    twin = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(),
                               torch.nn.Linear(5, 2)).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    return model, twin


def groups(model, options):
    """The first layer in a group of its own options, the second with the defaults."""
    first, _, second = model
    return [dict(params=first.parameters(), **options), {"params": second.parameters()}]


def backward_both(torch, model, twin):
    nn.CrossEntropyLoss()(model(tg.from_numpy(X)), tg.tensor(Y)).backward()
    torch.nn.CrossEntropyLoss()(twin(torch.from_numpy(X)), torch.from_numpy(Y)).backward()


def assert_same_parameters(model, twin, msg=""):
    for p, tp in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=msg)


def train_both(torch, model, twin, opt, topt, steps, each_step=None):
    for step in range(steps):
        if each_step is not None:
            each_step(step)
        opt.zero_grad()
        topt.zero_grad()
        backward_both(torch, model, twin)
        opt.step()
        topt.step()
        assert_same_parameters(model, twin, f"step {step}")


CASES = [
    ("SGD", dict(lr=0.1), dict(lr=0.3, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01), dict(lr=0.2)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.1, maximize=True), dict(weight_decay=0.1)),
    ("Adam", dict(lr=0.01), dict(lr=0.05, betas=(0.8, 0.9))),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1), dict(eps=1e-3)),
    ("Adam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.3), dict(lr=0.02)),
    ("AdamW", dict(lr=0.02, weight_decay=0.5), dict(amsgrad=True)),
    ("AdamW", dict(lr=0.02, maximize=True), dict(weight_decay=0.0)),
    ("RMSprop", dict(), dict(lr=0.001)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1), dict(lr=0.03)),
    ("RMSprop", dict(lr=0.01, momentum=0.9), dict(centered=True)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True, maximize=True), dict(alpha=0.5)),
    ("Adagrad", dict(), dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1), dict(lr_decay=0.5)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6), dict(maximize=True)),
]


@pytest.mark.parametrize("name,defaults,group_options", CASES,
                         ids=[f"{n}-{d}-{g}" for n, d, g in CASES])
def test_each_optimizer_follows_torch_over_two_parameter_groups(name, defaults, group_options):
    torch = pytest.importorskip("torch")
    model, twin = twin_models(torch)
    opt = getattr(tg.optim, name)(groups(model, group_options), **defaults)
    topt = getattr(torch.optim, name)(groups(twin, group_options), **defaults)
    train_both(torch, model, twin, opt, topt, 20)
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert ours["state"].keys() == theirs["state"].keys()
    for i, state in theirs["state"].items():
        assert ours["state"][i].keys() == state.keys()
        for key, value in state.items():
            np.testing.assert_allclose(ours["state"][i][key].numpy(), value.numpy(), rtol=1e-9,
                                       atol=1e-12)
    for group, tgroup in zip(ours["param_groups"], theirs["param_groups"]):
        assert group["params"] == tgroup["params"]
        assert {k: v for k, v in tgroup.items() if k in group} == group


def test_writing_a_group_lr_is_honoured_by_the_next_step_and_groups_can_be_added():
    torch = pytest.importorskip("torch")
    model, twin = twin_models(torch)
    first, second = list(model[0].parameters()), list(model[2].parameters())
    opt = tg.optim.SGD(first, lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(twin[0].parameters(), lr=0.1, momentum=0.9)
    for p in second:    # the second layer is frozen until its group is added
        p.grad = None

    def change(step):
        if step == 5:
            opt.param_groups[0]["lr"] = topt.param_groups[0]["lr"] = 0.01
        if step == 10:
            opt.add_param_group({"params": second, "lr": 0.5})
            topt.add_param_group({"params": list(twin[2].parameters()), "lr": 0.5})
    train_both(torch, model, twin, opt, topt, 20, change)
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["momentum"] == 0.9


def test_state_dict_round_trip_resumes_exactly_and_loads_torchs_state():
    torch = pytest.importorskip("torch")
    model, twin = twin_models(torch)
    opt = tg.optim.Adam(groups(model, dict(lr=0.03)), lr=0.01)
    topt = torch.optim.Adam(groups(twin, dict(lr=0.03)), lr=0.01)
    train_both(torch, model, twin, opt, topt, 10)
    # a new optimizer resumes from ours, and another from torch's own state dict
    saved = opt.state_dict()
    assert saved["state"][0]["step"].dtype == tg.float32 and float(saved["state"][0]["step"]) == 10
    resumed = tg.optim.Adam(groups(model, dict(lr=0.5)), lr=0.5)
    resumed.load_state_dict(saved)
    assert [g["lr"] for g in resumed.param_groups] == [0.03, 0.01]
    train_both(torch, model, twin, resumed, topt, 5)
    from_torch = tg.optim.Adam(groups(model, {}))
    from_torch.load_state_dict(topt.state_dict())
    train_both(torch, model, twin, from_torch, topt, 5)


def test_bad_state_dicts_are_refused_as_torch_refuses_them():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
        opt = lib.optim.SGD(params, lr=0.1)
        with pytest.raises(ValueError, match="different number of parameter groups"):
            opt.load_state_dict({"state": {}, "param_groups": []})
        with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
            opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0]}]})


def test_a_step_bumps_the_version_so_a_graph_that_saved_the_parameter_refuses_backward():
    for make in (lambda p: tg.optim.SGD([p], lr=0.1), lambda p: tg.optim.Adam([p]),
                 lambda p: tg.optim.RMSprop([p]), lambda p: tg.optim.Adagrad([p])):
        p = tg.ones(3, dtype=tg.float64, requires_grad=True)
        opt = make(p)
        (p * p).sum().backward()
        stale = (p * p).sum()          # saves p at its current version
        opt.step()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            stale.backward()


@pytest.mark.parametrize("name,options", [
    ("Adam", dict(lr=0.05)), ("AdamW", dict(lr=0.05)), ("RMSprop", dict(momentum=0.5)),
    ("Adagrad", dict(lr=0.2, lr_decay=0.1)), ("SGD", dict(lr=0.1, momentum=0.9))])
def test_scalar_value_parameters_follow_torch_on_zero_dim_tensors(name, options):
    torch = pytest.importorskip("torch")
    start = [0.5, -1.5]
    ours = [tg.Value(v) for v in start]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in start]
    opt = getattr(tg.optim, name)(ours, **options)
    topt = getattr(torch.optim, name)(theirs, **options)
    for _ in range(20):
        for params, optimizer in ((ours, opt), (theirs, topt)):
            optimizer.zero_grad()
            a, b = params
            ((a * b - 1) ** 2 + (a + 2 * b) ** 2).backward()
            optimizer.step()
        np.testing.assert_allclose([v.data for v in ours], [t.item() for t in theirs],
                                   rtol=1e-9, atol=1e-12)


BAD_OPTIONS = [
    ("SGD", dict(lr=-0.1)), ("SGD", dict(momentum=-1)), ("SGD", dict(weight_decay=-1)),
    ("SGD", dict(nesterov=True)), ("Adam", dict(eps=-1)), ("Adam", dict(betas=(1.0, 0.9))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-1)),
    ("RMSprop", dict(alpha=-0.5)), ("RMSprop", dict(momentum=-0.5)), ("RMSprop", dict(lr=-1)),
    ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(initial_accumulator_value=-1)),
    ("Adagrad", dict(eps=-1)),
]


@pytest.mark.parametrize("name,options", BAD_OPTIONS, ids=[f"{n}-{o}" for n, o in BAD_OPTIONS])
def test_bad_options_raise_torchs_error(name, options):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **options)
    with pytest.raises(ValueError) as ours:
        getattr(tg.optim, name)([tg.zeros(1, requires_grad=True)], **options)
    assert str(ours.value) == str(theirs.value)


def test_bad_parameter_lists_raise_torchs_errors():
    p, q = tg.zeros(2, requires_grad=True), tg.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        tg.optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        tg.optim.SGD([{"params": {p, q}}], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        tg.optim.SGD([{"params": [p]}, {"params": [q, p]}], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        tg.optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict"):
        tg.optim.SGD([p], lr=0.1).add_param_group([q])


# --------------------------------------------------------------- schedulers

SCHEDULERS = [
    ("StepLR", dict(step_size=7)),
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 30], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=8, eta_min=0.001)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.95 ** epoch / (1 + epoch % 3))),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1 / (e + 1), lambda e: math.sqrt(e + 1)])),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=40)),
    ("OneCycleLR", dict(max_lr=[0.5, 1.0], epochs=4, steps_per_epoch=10,
                        anneal_strategy="linear")),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=40, three_phase=True, pct_start=0.25)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=40, cycle_momentum=False, div_factor=10.0,
                        final_div_factor=100.0)),
]


def scheduled_optimizers(torch, name, momentum_kind):
    """The same two-group optimizer in each library (Adam when the schedule cycles beta1)."""
    made = []
    for lib in (tg, torch):
        a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
        groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
        made.append(lib.optim.Adam(groups, lr=0.1) if momentum_kind == "betas"
                    else lib.optim.SGD(groups, lr=0.1, momentum=0.9))
    return made


def _case_id(name, options):
    """A test id that is the same every run: a lambda's repr holds its address."""
    return re.sub(r" at 0x[0-9a-f]+", "", f"{name}-{options}")


@pytest.mark.parametrize("momentum_kind", ["momentum", "betas"])
@pytest.mark.parametrize("name,options", SCHEDULERS,
                         ids=[_case_id(n, o) for n, o in SCHEDULERS])
def test_schedulers_give_torchs_lr_sequence(name, options, momentum_kind):
    torch = pytest.importorskip("torch")
    opt, topt = scheduled_optimizers(torch, name, momentum_kind)
    sched = getattr(tg.optim.lr_scheduler, name)(opt, **options)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **options)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    for _ in range(39 if name == "OneCycleLR" else 35):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.last_epoch == tsched.last_epoch
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15)
        for group, tgroup in zip(opt.param_groups, topt.param_groups):
            assert group["lr"] == pytest.approx(tgroup["lr"], rel=1e-12, abs=1e-15)
            key = "betas" if momentum_kind == "betas" else "momentum"
            assert group[key] == pytest.approx(tgroup[key], rel=1e-12)
    if name == "OneCycleLR":
        for scheduler in (sched, tsched):
            scheduler.step()
            with pytest.raises(ValueError, match="Tried to step 41 times"):
                scheduler.step()


def test_scheduler_state_dict_resumes_the_sequence():
    torch = pytest.importorskip("torch")
    opt, topt = scheduled_optimizers(torch, "CosineAnnealingLR", "momentum")
    sched = tg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=6)
    for _ in range(4):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    assert saved_sched.keys() >= {"last_epoch", "base_lrs", "_last_lr", "T_max", "eta_min"}
    again, _ = scheduled_optimizers(torch, "CosineAnnealingLR", "momentum")
    again.load_state_dict(saved_opt)
    resumed = tg.optim.lr_scheduler.CosineAnnealingLR(again, T_max=6, last_epoch=3)
    resumed.load_state_dict(saved_sched)
    for _ in range(20):
        again.step()
        topt.step()
        resumed.step()
        tsched.step()
        assert resumed.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12, abs=1e-15)


def test_lambda_lr_state_keeps_callable_objects_but_not_functions_as_torch():
    torch = pytest.importorskip("torch")

    class Warmup:
        def __init__(self):
            self.length = 4

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.length)
    states = []
    for lib, opt in zip((tg, torch), scheduled_optimizers(torch, "LambdaLR", "momentum")):
        rule = Warmup()
        sched = lib.optim.lr_scheduler.LambdaLR(opt, [rule, lambda e: 0.5 ** e])
        states.append(sched.state_dict()["lr_lambdas"])
        rule.length = 99
        sched.load_state_dict(sched.state_dict() | {"lr_lambdas": [{"length": 8}, None]})
        assert rule.length == 8
    assert states[0] == states[1] == [{"length": 4}, None]


@pytest.mark.parametrize("options", [
    dict(), dict(mode="max", patience=2), dict(factor=0.5, patience=1, cooldown=2, min_lr=0.01),
    dict(threshold=0.1, threshold_mode="abs", patience=0, min_lr=[0.0, 0.02]),
    dict(mode="max", threshold_mode="abs", threshold=0.05, patience=3, factor=0.2),
    dict(patience=1, eps=0.01)])
def test_reduce_lr_on_plateau_follows_torch(options):
    torch = pytest.importorskip("torch")
    opt, topt = scheduled_optimizers(torch, "ReduceLROnPlateau", "momentum")
    sched = tg.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **options)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.899, 0.9, 0.91, 1.2, 0.5, 0.5, 0.5, 0.5, 0.49, 0.7] * 3
    for metric in metrics:
        opt.step()
        topt.step()
        sched.step(tg.tensor(metric))
        tsched.step(torch.tensor(metric))
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert (sched.num_bad_epochs, sched.cooldown_counter, sched.best) == \
               (tsched.num_bad_epochs, tsched.cooldown_counter, tsched.best)
    assert sched.get_last_lr() != [0.1, 0.05]       # the schedule did change something


def test_scheduler_errors_and_the_wrong_order_warning_are_torchs():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2)
        with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
            sched.step()
        with pytest.raises(TypeError, match="list is not an Optimizer"):
            lib.optim.lr_scheduler.ExponentialLR([], gamma=0.5)
        with pytest.raises(ValueError, match="Factor should be < 1.0."):
            lib.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
        with pytest.raises(ValueError, match="mode avg is unknown!"):
            lib.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="avg")
        with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
            lib.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1, lambda e: 2])
        with pytest.raises(ValueError, match="total_steps OR"):
            lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1)
        with pytest.raises(ValueError, match="anneal_strategy must be one of"):
            lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=5,
                                              anneal_strategy="exp")
        with pytest.raises(KeyError, match="initial_lr"):
            lib.optim.lr_scheduler.StepLR(lib.optim.SGD([lib.zeros(1, requires_grad=True)]),
                                          step_size=2, last_epoch=3)
        with pytest.raises(ValueError, match="momentum or beta1"):
            lib.optim.lr_scheduler.OneCycleLR(lib.optim.Adagrad([lib.zeros(1, requires_grad=True)]),
                                              max_lr=0.1, total_steps=5)
