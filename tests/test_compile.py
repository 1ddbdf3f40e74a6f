"""tapegrad.compile: a replay gives the bits of running the function eagerly.

Every test runs one program twice from the same starting numbers, once calling
the loss function itself and once through tapegrad.compile, and compares the
losses, every gradient and the trained parameters exactly (==, not approx).
"""
import math
import random

import numpy as np
import pytest

import tapegrad
from tapegrad import Value
from tapegrad.nn import MLP
from tapegrad.viz import draw_dot

from lecture_mlp import lecture_mlp
from graph_walk import nodes_below


def svm_loss(model, X, y):
    """micrograd's moons loss: numbers in, Values made inside (constants)."""
    inputs = [list(map(Value, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + 1e-4 * sum((p * p for p in model.parameters()))


def moons_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1, -1)
    return X, y


def train(loss_fn, model, batches, steps=20):
    """The user's step: forward, zero_grad, backward, the SGD loop in Python.
    Returns every loss, gradient and the final parameters."""
    history = []
    for k in range(steps):
        loss = loss_fn(*batches(k))
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        grads = [p.grad for p in model.parameters()]
        for p in model.parameters():
            p.data -= lr * p.grad
        history.append((loss.data, grads))
    return history, [p.data for p in model.parameters()]


def fresh_mlp(seed=1337, sizes=(2, [8, 8, 1])):
    random.seed(seed)
    return MLP(*sizes)


def test_full_batch_training_replays_the_eager_bits():
    X, y = moons_data()
    eager_model, compiled_model = fresh_mlp(), fresh_mlp()
    eager = train(lambda X, y: svm_loss(eager_model, X, y), eager_model, lambda k: (X, y))
    step = tapegrad.compile(lambda X, y: svm_loss(compiled_model, X, y))
    compiled = train(step, compiled_model, lambda k: (X, y))
    assert compiled == eager
    # the first two calls record (the second while the first loss is still held)
    assert (step.recordings, step.replays) == (2, 18)
    assert not step.value_dependent


def test_minibatches_of_input_values_replay_without_recording_again():
    X, y = moons_data(n=64, seed=3)
    rows = [[Value(0.0), Value(0.0)] for _ in range(16)]
    targets = [Value(0) for _ in range(16)]

    def loss_fn(model, rows, targets):
        scores = [model(row) for row in rows]
        losses = [(1 + -t * s).relu() for t, s in zip(targets, scores)]
        return sum(losses) * (1.0 / len(losses))

    def batches(k):
        start = (k * 16) % 64
        for row, target, i in zip(rows, targets, range(start, start + 16)):
            row[0].data, row[1].data = X[i]
            target.data = int(y[i])          # an int, as micrograd holds it
        return rows, targets

    results = []
    for compiled in (False, True):
        model = fresh_mlp()
        fn = tapegrad.compile(lambda rows, targets: loss_fn(model, rows, targets)) \
            if compiled else (lambda rows, targets: loss_fn(model, rows, targets))
        results.append(train(fn, model, batches))
    assert results[1] == results[0]
    assert fn.recordings == 2 and fn.replays == 18


def test_minibatches_passed_as_numbers_record_again_and_stay_right():
    X, y = moons_data(n=60, seed=5)
    batches = [(X[i:i + 20], list(y[i:i + 20])) for i in range(0, 60, 20)]
    results = []
    for compiled in (False, True):
        model = fresh_mlp()
        fn = (lambda X, y: svm_loss(model, X, y))
        if compiled:
            fn = tapegrad.compile(fn)
        results.append(train(fn, model, lambda k: batches[k % 3]))
    assert results[1] == results[0]
    assert fn.recordings == 20      # three batches, two recordings kept: never the same one


# the lecture's own classes, over Value, with tanh
LectureMLP = lecture_mlp()


def test_the_lecture_mlp_with_ints_and_floats_mixed():
    xs = [[2, 3.0, -1], [3, -1, 0.5], [0.5, 1, 1], [1, 1, -1]]   # ints where typed as ints
    ys = [1, -1, -1, 1]

    def loss_fn(model):
        ypred = [model(x) for x in xs]
        return sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))

    results = []
    for compiled in (False, True):
        random.seed(42)
        model = LectureMLP(3, [4, 4, 1])
        fn = (lambda: loss_fn(model))
        if compiled:
            fn = tapegrad.compile(fn)
        results.append(train(fn, model, lambda k: ()))
    assert results[1] == results[0]
    assert fn.replays == 18


def every_op(a, b, c, n):
    """Every scalar op, with Python numbers on either side; a, b, c are
    parameters, n an int-valued one."""
    outs = {
        "add": a + b, "radd": 2 + a, "sub": a - b, "rsub": 1.5 - b, "neg": -a,
        "mul": a * b, "rmul": 3 * b, "div": a / b, "rdiv": 2.0 / b, "pow_int": a ** 3,
        "pow_float": c ** 0.5, "pow_neg": b ** -2, "pow_value": c ** b, "rpow": 2 ** a,
        "relu": a.relu(), "relu_neg": (-c).relu(), "tanh": a.tanh(), "exp": b.exp(),
        "log": c.log(), "sigmoid": (a * 3).sigmoid(), "int_mul": n * n - 1,
        "int_pow": n ** 2 + n, "int_relu": (n - 5).relu(),
    }
    outs["total"] = sum(outs.values(), Value(0.0))
    return outs


@pytest.mark.parametrize("values", [(0.7, -1.3, 2.0, 3), (-0.2, 0.4, 0.25, -2), (1.0, 1.0, 1.0, 0)])
def test_every_scalar_op_replays_values_types_and_gradients(values):
    starts = [(0.3, 0.9, 1.1, 2), values, (2.5, -0.7, 4.0, 7)]
    params = [Value(v) for v in starts[0]]
    step = tapegrad.compile(lambda: every_op(*params))
    for start in starts:
        for p, v in zip(params, start):
            p.data = v
        reference_params = [Value(v) for v in start]
        reference = every_op(*reference_params)
        reference["total"].backward()
        got = step()
        for p in params:
            p.grad = 0.0
        got["total"].backward()
        assert list(got) == list(reference)
        for name in reference:
            assert type(got[name].data) is type(reference[name].data), name
            assert got[name].data == reference[name].data, name
            assert math.copysign(1, got[name].data) == math.copysign(1, reference[name].data)
            assert got[name]._op == reference[name]._op, name
        assert [p.grad for p in params] == [p.grad for p in reference_params]
    assert step.replays >= 1


def graph(root):
    """The graph below root, as eager code would walk it: (op, data, grad), sorted."""
    return sorted((v._op, v.data, v.grad) for v in nodes_below(root))


def test_replayed_values_are_eager_values_for_prev_and_draw_dot():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")

    def loss_fn(x):
        return ((a * b + x) * 2.0).tanh() + a ** 2

    step = tapegrad.compile(loss_fn)
    x = Value(0.5)
    for data in (1.0, -2.0, 0.25):
        a.data = data
        reference = loss_fn(x)
        reference.backward()
        a.grad = b.grad = x.grad = 0.0
        loss = step(x)
        loss.backward()
        assert graph(loss) == graph(reference)
        assert draw_dot(loss).source.count("->") == draw_dot(reference).source.count("->")
        del loss, reference
        a.grad = b.grad = x.grad = 0.0
    assert step.replays >= 1


def test_a_call_never_changes_a_value_the_caller_still_holds():
    w = Value(1.0)
    step = tapegrad.compile(lambda: w * 3.0 + 1)
    kept = []
    for k in range(5):
        w.data = float(k)
        kept.append(step())
    assert [v.data for v in kept] == [1.0, 4.0, 7.0, 10.0, 13.0]
    assert step.replays == 0
    child = None
    for k in range(4):
        w.data = float(k)
        loss = step()
        if k == 1:
            child = [v for v in loss._prev if v._op == "*"][0]   # a Value of the graph, held
    assert child.data == 3.0
    assert loss.data == 10.0


def test_changed_numeric_arguments_record_again():
    w = Value(0.5)

    def loss_fn(scale, offsets, table):
        return sum((w * scale + o for o in offsets), Value(0.0)) * float(table.sum())

    step = tapegrad.compile(loss_fn)
    calls = [(2.0, [1, 2], np.ones(3)), (2.0, [1, 2], np.ones(3)), (3.0, [1, 2], np.ones(3)),
             (3.0, [1, 5], np.ones(3)), (3.0, [1, 5], np.full(3, 2.0)),
             (3.0, [1, 5.0], np.full(3, 2.0)), (-0.0, [1, 5.0], np.full(3, 2.0))]
    for args in calls:
        w.grad = 0.0
        loss = step(*args)
        loss.backward()
        got = (loss.data, w.grad)
        w.grad = 0.0
        reference = loss_fn(*args)
        reference.backward()
        assert got == (reference.data, w.grad)
        del loss, reference
    # a recording per distinct argument list: the second call's args equal the first's
    assert step.recordings == len(calls) - 1


def test_value_dependent_control_flow_is_never_baked_in():
    w = Value(1.0)

    def loss_fn(x):
        h = w * x
        if h.data > 0:          # a branch on a Value made inside
            return h * 2.0
        return h.relu() + h * h

    step = tapegrad.compile(loss_fn)
    x = Value(1.5)
    for data in (1.0, -1.0, 2.0, -3.0):
        w.data = data
        w.grad = 0.0
        loss = step(x)
        loss.backward()
        got = (loss.data, w.grad, loss._op)
        w.grad = 0.0
        reference = loss_fn(x)
        reference.backward()
        assert got == (reference.data, w.grad, reference._op)
    assert step.value_dependent
    assert step.replays == 0


def test_reading_a_parameter_number_inside_is_value_dependent_too():
    w = Value(2.0)
    step = tapegrad.compile(lambda: w * w.data)     # w.data would be baked in
    assert step().data == 4.0
    w.data = 3.0
    assert step().data == 9.0
    assert step.value_dependent


def test_a_custom_node_made_from_data_runs_eagerly_every_call():
    w = Value(2.0)

    def loss_fn():
        h = w * 3.0
        out = Value(h.data * 2, (h,), "double")     # reads h.data: value-dependent

        def _backward():
            h.grad += 2 * out.grad
        out._backward = _backward
        return out

    step = tapegrad.compile(loss_fn)
    for data in (2.0, 5.0, -1.0):
        w.data = data
        w.grad = 0.0
        out = step()
        out.backward()
        assert (out.data, w.grad) == (data * 6, 6.0)
    assert step.value_dependent and step.replays == 0


def test_custom_nodes_are_refused_at_the_first_call():
    w = Value(2.0)

    def loss_fn():
        return Value(1.0, (w * 3.0,), "given") + w

    with pytest.raises(TypeError, match="custom Value"):
        tapegrad.compile(loss_fn)()


def test_errors_in_a_replay_are_the_eager_errors():
    w = Value(2.0)
    step = tapegrad.compile(lambda: (w * 1.0).log() + (w * 1.0) ** 0.5)
    step()
    step()
    w.data = -1.0
    with pytest.raises(ValueError, match="math domain error"):
        (w * 1.0).log()
    with pytest.raises(ValueError, match="math domain error"):
        step()
    w.data = 0.0       # x ** 0.5 at 0: its derivative needs 0 ** -0.5
    step2 = tapegrad.compile(lambda: (w + 1.0) * (w * 1.0) ** 0.5)
    w.data = 1.0
    step2()
    step2()
    w.data = 0.0
    loss = step2()
    assert step2.replays == 2      # nothing held the first results
    with pytest.raises(ZeroDivisionError):
        loss.backward()


def test_outputs_structure_and_plain_items_come_back():
    w = Value(1.5)
    step = tapegrad.compile(lambda: {"loss": w * w, "parts": [w + 1, w], "tag": "x"})
    for data in (1.0, 2.0, 3.0):
        w.data = data
        out = step()
        assert out["loss"].data == data * data
        assert [v.data for v in out["parts"]] == [data + 1, data]
        assert out["parts"][1] is w and out["tag"] == "x"
        del out
    assert step.replays == 2       # nothing held the results: the one recording replays


def test_compile_checks_what_it_is_given():
    with pytest.raises(TypeError, match="callable"):
        tapegrad.compile(3)
    with pytest.raises(TypeError, match="must return a Value"):
        tapegrad.compile(lambda: 1.0)()


def test_a_fused_sgd_step_gives_the_bits_of_the_python_step():
    X, y = moons_data()
    eager_model = fresh_mlp()
    eager, _ = train(lambda X, y: svm_loss(eager_model, X, y), eager_model, lambda k: (X, y))
    model = fresh_mlp()
    optimizer = tapegrad.optim.SGD(model.parameters(), lr=1.0)
    step = tapegrad.compile(lambda X, y: svm_loss(model, X, y), optimizer=optimizer)
    losses = []
    for k in range(20):
        optimizer.param_groups[0]["lr"] = 1.0 - 0.9 * k / 100     # a schedule
        losses.append(step(X, y))
        if k == 9:
            # the grads of this step, as the plain step's backward left them
            assert [p.grad for p in model.parameters()] == eager[k][1]
    assert losses == [loss for loss, _ in eager]
    assert [p.data for p in model.parameters()] == [p.data for p in eager_model.parameters()]
    assert step.recordings == 1 and step.replays == 19


@pytest.mark.parametrize("option", [("momentum", 0.9), ("weight_decay", 1e-2),
                                    ("maximize", True)])
def test_a_fused_step_refuses_options_switched_on_after_compile(option):
    # the fused step does p.data -= lr * p.grad: an option set later must not be ignored
    w, x = Value(0.5), Value(3.0)
    sgd = tapegrad.optim.SGD([w], lr=0.1)
    step = tapegrad.compile(lambda w, x: (w * x - 1.0) ** 2, optimizer=sgd)
    step(w, x)
    step(w, x)                      # a replay
    before = (w.data, w.grad)
    name, value = option
    sgd.param_groups[0][name] = value
    with pytest.raises(ValueError, match=f"param group 0 has {name}="):
        step(w, x)
    assert (w.data, w.grad) == before       # nothing done
    sgd.param_groups[0][name] = False if name == "maximize" else 0
    step(w, x)
    assert w.data != before[0]


def test_fusing_takes_plain_sgd_over_values_only():
    w = Value(1.0)
    with pytest.raises(TypeError, match="SGD only"):
        tapegrad.compile(lambda: w * w, optimizer=tapegrad.optim.Adam([w]))
    with pytest.raises(ValueError, match="plain SGD"):
        tapegrad.compile(lambda: w * w, optimizer=tapegrad.optim.SGD([w], lr=0.1, momentum=0.9))
    step = tapegrad.compile(lambda: (w * w, w), optimizer=tapegrad.optim.SGD([w], lr=0.1))
    with pytest.raises(TypeError, match="one Value"):
        step()
