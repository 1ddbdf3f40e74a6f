"""tapegrad.compile's neuron chains: a product and then a running sum plus it,
which the replay runs without a dispatch per op (csrc/tg_replay_run.c), on a path
of its own where no input is an int. Each test runs a program eagerly and
compiled from the same numbers, and compares values, their types (micrograd's
ints) and every gradient exactly.
"""
import math

import pytest

import tapegrad
from tapegrad import Value


def neuron(ws, xs, b):
    """micrograd's neuron sum, b + w0*x0 + w1*x1 + ...: a chain"""
    return sum((w * x for w, x in zip(ws, xs)), b)


def net(params, xs):
    """two neurons with relu (which gives the int 0 below zero), then a third
    over them, whose products take the relu outputs on the left"""
    w, b = params[:6], params[6:9]
    hidden = [neuron(w[3 * j:3 * j + 3], xs, b[j]).relu() for j in range(2)]
    return sum((h * wi for h, wi in zip(hidden, w[:2])), b[2])


def same_number(got, want):
    return (type(got) is type(want) and got == want
            and math.copysign(1, got) == math.copysign(1, want))


# (params, inputs): floats only (the path without int flags), ints among the
# inputs, ints everywhere (int products and sums), and zeros an int product
# turns from -0.0 into 0
SETTINGS = [
    ([0.5, -1.5, 2.0, 0.25, 1.0, -0.75, 0.1, -0.2, 0.3], [1.5, -2.0, 0.5]),
    ([0.5, -1.5, 2.0, 0.25, 1.0, -0.75, 0.1, -0.2, 0.3], [2, -1, 3]),
    ([1, -2, 3, 2, 1, -1, 1, -5, 2], [2, -1, 3]),
    ([0, -2, 3, -0.0, 1, -1, 0, -5, 2], [-3, 0, 1]),
    ([1e308, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0], [10.0, 1.0, 1.0]),   # float inf: no error
]


def test_chains_replay_ints_floats_and_zeros_as_eager():
    params = [Value(0.0) for _ in range(9)]
    xs = [Value(0.0) for _ in range(3)]
    step = tapegrad.compile(lambda xs: net(params, xs))
    for setting in SETTINGS + SETTINGS[::-1]:      # int flags set, then cleared again
        for v, d in zip(params + xs, setting[0] + setting[1]):
            v.data = d
        eager_params = [Value(d) for d in setting[0]]
        eager_xs = [Value(d) for d in setting[1]]
        want = net(eager_params, eager_xs)
        want.backward()
        got = step(xs)
        for v in params + xs:
            v.grad = 0.0
        got.backward()
        assert same_number(got.data, want.data), setting
        for g, w in zip(params + xs, eager_params + eager_xs):
            assert same_number(g.grad, w.grad), setting
        del got             # else the next call must record anew: it would change it
    assert step.recordings == 1 and step.replays == 2 * len(SETTINGS) - 1


def test_a_fused_step_over_chains_with_ints_gives_the_python_steps_bits():
    start, inputs = SETTINGS[3]
    results = []
    for fused in (False, True):
        params = [Value(d) for d in start]
        xs = [Value(d) for d in inputs]
        if fused:
            optimizer = tapegrad.optim.SGD(params, lr=0.125)
            step = tapegrad.compile(lambda xs: net(params, xs), optimizer=optimizer)
        losses = []
        for k in range(6):
            xs[k % 3].data = k - 2                  # ints, changed between steps
            if fused:
                losses.append(step(xs))
                continue
            loss = net(params, xs)
            for p in params:
                p.grad = 0.0
            loss.backward()
            for p in params:
                p.data -= 0.125 * p.grad
            losses.append(loss.data)
        results.append((losses, [p.data for p in params], [p.grad for p in params]))
    assert results[1] == results[0]
    assert [type(loss) for loss in results[1][0]] == [type(loss) for loss in results[0][0]]
    assert step.replays == 5


@pytest.mark.parametrize("data", [
    ([10 ** 200, 1, 1, 1, 1, 1, 0, 0, 0], [10 ** 200, 1, 1]),       # an int product overflows
    ([10 ** 308, 10 ** 308, 1, 1, 1, 1, 0, 0, 0], [1, 1, 1]),       # an int sum inside the chain
])
def test_an_int_overflow_inside_a_chain_is_the_eager_error(data):
    params = [Value(1) for _ in range(9)]
    xs = [Value(1) for _ in range(3)]
    step = tapegrad.compile(lambda xs: net(params, xs))
    step(xs)
    step(xs)
    for v, d in zip(params + xs, data[0] + data[1]):
        v.data = d
    with pytest.raises(OverflowError) as eager:
        net([Value(d) for d in data[0]], [Value(d) for d in data[1]])
    with pytest.raises(OverflowError) as replayed:
        step._entries[0].recording.replay()
    with pytest.raises(OverflowError) as called:
        step(xs)
    assert str(replayed.value) == str(eager.value) == str(called.value)


def program_with_shared_partials(w, x, b):
    """a product and a partial sum that other ops use too (so no chain may
    keep them to itself), and an output in the middle of a sum"""
    product = w[0] * x[0]
    partial = b + product + w[1] * x[1]
    total = partial + w[2] * x[2] + product * 3.0
    inner = b + w[0] * x[1] + w[1] * x[2] + w[2] * x[0]
    return total + partial * partial, inner


@pytest.mark.parametrize("root", [0, 1])
def test_values_used_outside_a_sum_and_outputs_inside_one(root):
    start = ([0.5, -2.0, 1.5], [3.0, -0.5, 2.0], 0.25)
    w, x, b = [Value(d) for d in start[0]], [Value(d) for d in start[1]], Value(start[2])
    step = tapegrad.compile(lambda: program_with_shared_partials(w, x, b))
    for k in range(3):
        for v in w:
            v.data += 0.5 * k
        ew, ex, eb = [Value(v.data) for v in w], [Value(v.data) for v in x], Value(b.data)
        want = program_with_shared_partials(ew, ex, eb)
        want[root].backward()
        got = step()
        for v in w + x + [b]:
            v.grad = 0.0
        got[root].backward()           # over the flat arrays, from either output
        assert [g.data for g in got] == [v.data for v in want]
        assert [v.grad for v in w + x + [b]] == [v.grad for v in ew + ex + [eb]]
        del got
    assert step.recordings == 1 and step.replays == 2


def test_a_tuple_argument_and_keyword_arguments_are_different_calls():
    a = Value(2.0)

    def f(*args, **kwargs):
        return a * (len(args) + 10 * len(kwargs))

    step = tapegrad.compile(f)
    assert step((a,), {"x": 1}).data == 4.0         # two positional arguments
    assert step(a, x=1).data == 22.0                # one, and one keyword
    assert step((a,), {"x": 1}).data == 4.0
    assert step(a, x=1).data == 22.0
    assert step.recordings == 2
