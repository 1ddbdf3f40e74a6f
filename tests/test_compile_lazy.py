"""tapegrad.compile's lazy write-back: every way to look at a replayed graph
sees the eager bits.

A replay writes only its outputs into their nodes; backward() from an output
runs over the recording's flat arrays, and the other nodes stay stale until
something could observe them. Each test runs one scenario twice from the same
numbers, once calling the loss function itself and once through
tapegrad.compile, and compares everything the scenario can observe exactly:
data (with its type and sign), grad, op, for the parameters and for every node
of the graph. The replay counters show that the lazy paths really ran.
"""
import gc
import random
import sys
import threading
import warnings

import pytest

import tapegrad
from tapegrad import Value, _engine
from tapegrad.viz import GraphvizMissingWarning, draw_dot
from graph_walk import nodes_below


def bits(x):
    return (type(x).__name__, float(x).hex())


def graph(root):
    """Every node below root, as eager code walks it: (op, data, grad), sorted."""
    return sorted((v._op, bits(v.data), bits(v.grad)) for v in nodes_below(root))


def net(w, xs):
    """Every kind of node, with no number folded into a node (so walking the
    graph with _prev leaves it as recorded): tanh, relu, sigmoid, exp, log,
    powers, a division; xs are input Values, and 'one' a constant it makes."""
    one = Value(1.0)
    total = Value(0)
    for x0, x1 in xs:
        h0 = (w[0] * x0 + w[1] * x1 + w[2]).tanh()
        h1 = (w[3] * x0 + w[4] * x1 + w[5]).relu()
        h2 = (w[6] * x0 + w[7] * x1 + w[8]).sigmoid()
        out = w[9] * h0 + w[10] * h1 + w[11] * h2 + w[12]
        total = total + (out * out + one).log() + (h0 * w[0]).exp() / (one + h2 ** 2)
    return total


def start(seed=7):
    random.seed(seed)
    w = [Value(random.uniform(-1, 1)) for _ in range(13)]
    xs = [[Value(random.uniform(-2, 2)), Value(random.uniform(-2, 2))] for _ in range(5)]
    return w, xs


def run(scenario, compiled, steps=5, loss_fn=net):
    """scenario(fn, w, k) at each step k, after moving the parameters; returns
    what it saw, the parameters' final bits, and fn."""
    w, xs = start()
    fn = (lambda: loss_fn(w, xs))
    if compiled:
        fn = tapegrad.compile(fn)
    seen = []
    for k in range(steps):
        for i, p in enumerate(w):
            p.data = p.data - 0.05 * (k + 1) * (i % 3 - 1)
            p.grad = 0.0
        seen.append(scenario(fn, w, k))
    return seen, [bits(p.data) for p in w], fn


def flush_all_pending():
    """Writes back what earlier tests left pending (_prev unfolding a folded
    node flushes every recording), so that a test counts only its own flushes."""
    (Value(1.0) * 2.0)._prev


def compare(scenario, steps=5, loss_fn=net):
    """Runs scenario eagerly and compiled: the same bits; returns the compiled
    function and what the replay counters moved by."""
    flush_all_pending()
    eager = run(scenario, False, steps, loss_fn)
    before = _engine._replay_stats()
    compiled = run(scenario, True, steps, loss_fn)
    after = _engine._replay_stats()
    assert compiled[:2] == eager[:2]
    return compiled[2], {name: after[name] - before[name] for name in after}


def grads(w):
    return [bits(p.grad) for p in w]


def test_the_training_step_runs_backward_flat_and_never_flushes():
    def scenario(fn, w, k):
        loss = fn()
        loss.backward()
        return bits(loss.data), bits(loss.grad), grads(w)

    fn, moved = compare(scenario, steps=8)
    assert fn.replays == 7          # nothing holds a result between steps
    assert moved == {"flat_backwards": 7, "flushes": 0}


def test_an_eager_backward_that_cannot_reach_a_pending_graph_leaves_it_pending():
    def scenario(fn, w, k):
        loss = fn()
        other = (w[0] * w[1] + w[2]).tanh() * 2.0     # eager, on the same parameters
        other.backward()
        loss.backward()
        return bits(loss.data), bits(other.data), grads(w)

    fn, moved = compare(scenario, steps=6)
    assert fn.replays == 5
    assert moved == {"flat_backwards": 5, "flushes": 0}


def test_an_eager_graph_made_from_a_replayed_loss_after_an_unrelated_backward():
    def scenario(fn, w, k):
        loss = fn()
        seen = [bits(loss.data)]            # a read: Python touched the output
        z = (loss * w[1]).tanh()            # reaches the pending graph
        other = (w[0] * w[2]).relu() + 1.0  # does not
        other.backward()
        seen.append(grads(w))
        z.backward()
        seen.append(grads(w))
        return seen, graph(z)

    fn, moved = compare(scenario)
    assert fn.replays >= 2 and moved["flushes"] >= fn.replays


def test_an_eager_backward_flushes_only_the_pending_graph_it_reaches():
    def steps(compiled):
        w, xs = start()
        first, second = (lambda: net(w, xs)), (lambda: net(w, xs[:2]) * w[3])
        if compiled:
            first, second = tapegrad.compile(first), tapegrad.compile(second)
        seen = []
        for k in range(5):
            for p in w:
                p.data, p.grad = p.data * 0.9 + 0.01 * k, 0.0
            a, b = first(), second()
            z = (a * w[0]).tanh()       # reaches a's graph, not b's
            z.backward()
            after_z = grads(w)
            b.backward()
            seen.append((bits(z.data), after_z, grads(w), graph(a), graph(b)))
            del a, b, z
        return seen

    eager = steps(False)
    before = _engine._replay_stats()
    compiled = steps(True)
    after = _engine._replay_stats()
    assert compiled == eager
    # z's backward flushed a's recording, b's ran flat; graph(b) flushed it after
    assert after["flat_backwards"] - before["flat_backwards"] == 4


def test_the_graph_read_through_prev_after_a_replay():
    fn, moved = compare(lambda fn, w, k: graph(fn()))
    assert fn.replays >= 2 and moved["flushes"] >= 2


def test_the_graph_read_through_prev_after_backward():
    def scenario(fn, w, k):
        loss = fn()
        loss.backward()
        return graph(loss), grads(w)

    fn, moved = compare(scenario)
    assert fn.replays >= 2 and moved["flat_backwards"] >= 2 and moved["flushes"] >= 2


def test_draw_dot_of_a_replayed_loss():
    def scenario(fn, w, k):
        loss = fn()
        loss.backward()
        with warnings.catch_warnings():    # without graphviz: the DOT source, and a warning
            warnings.simplefilter("ignore", GraphvizMissingWarning)
            drawn = draw_dot(loss)
        source = drawn if isinstance(drawn, str) else drawn.source
        # the records' labels: data and grad of every node (node names are ids)
        return sorted(line.split("label=")[1] for line in source.splitlines()
                      if "record" in line)

    fn, moved = compare(scenario)
    assert fn.replays >= 2 and moved["flushes"] >= 2


def test_a_replayed_loss_in_further_eager_arithmetic_and_backward():
    def scenario(fn, w, k):
        loss = fn()
        z = (loss * loss + w[0]).tanh() * Value(0.5)
        z.backward()        # the eager sweep goes through loss into the graph
        return bits(z.data), grads(w), graph(z)

    fn, moved = compare(scenario)
    assert fn.replays >= 2 and moved["flushes"] >= 2


def test_backward_twice_accumulates_as_eager():
    def scenario(fn, w, k):
        loss = fn()
        loss.backward()
        first = grads(w)
        loss.backward()
        return first, grads(w), graph(loss)

    fn, moved = compare(scenario)
    assert fn.replays >= 2 and moved["flat_backwards"] >= 4


def test_two_results_held_at_once():
    def scenario(fn, w, k):
        a = fn()
        w[0].data = w[0].data + 0.25
        b = fn()            # a is held: another recording
        a.backward()
        after_a = grads(w)
        b.backward()
        return bits(a.data), bits(b.data), after_a, grads(w), graph(a), graph(b)

    fn, moved = compare(scenario)
    assert fn.replays >= 4 and moved["flat_backwards"] >= 4


def two_outputs(w, xs):
    total = net(w, xs)
    h = (w[0] * xs[0][0] + w[1]).tanh()
    return {"loss": total * h + h, "aux": h, "total": total}


def test_outputs_that_are_inside_each_others_graph():
    def scenario(fn, w, k):
        out = fn()
        out["aux"].grad = 3.0           # an output's grad, set by the user
        out["loss"].backward()
        first = grads(w), bits(out["aux"].grad), bits(out["total"].grad)
        out["total"].backward()         # from an output that is not the last
        second = grads(w), bits(out["aux"].grad), bits(out["loss"].grad)
        out["aux"].backward()
        return first, second, grads(w), graph(out["loss"])

    fn, moved = compare(scenario, loss_fn=two_outputs)
    assert fn.replays >= 2 and moved["flat_backwards"] == fn.replays   # the first of three


def test_writes_to_a_graph_value_between_replay_and_backward():
    def scenario(fn, w, k):
        loss = fn()
        parents = sorted(loss._prev, key=lambda v: (v._op, v.data))
        parents[0].grad = 2.0
        parents[-1].data = parents[-1].data * 0.5
        loss.backward()
        return grads(w), graph(loss)

    fn, moved = compare(scenario)
    # the handles taken with _prev are dropped before the next call: it replays
    assert fn.replays >= 2 and moved["flushes"] >= 2


def test_a_manual_micrograd_style_backward():
    def scenario(fn, w, k):
        loss = fn()
        loss.grad = 1.0
        loss._backward()        # one node's closure: adds into its parents
        return sorted((v._op, bits(v.data), bits(v.grad)) for v in loss._prev)

    fn, moved = compare(scenario)
    assert fn.replays >= 2 and moved["flushes"] >= 2


def test_a_value_kept_from_inside_the_function_is_never_changed():
    kept = []

    def keeping(w, xs):
        total = net(w, xs)
        h = (w[0] * xs[0][0]).tanh()
        kept.append(h)
        return total + h

    def scenario(fn, w, k):
        loss = fn()
        loss.backward()
        return grads(w), [bits(v.data) for v in kept], [bits(v.grad) for v in kept]

    kept.clear()
    eager = run(scenario, False, loss_fn=keeping)
    kept.clear()
    compiled = run(scenario, True, loss_fn=keeping)
    assert compiled[:2] == eager[:2]
    assert compiled[2].replays == 0     # each call's h is held: it records again
    kept.clear()


def test_a_replayed_loss_outlives_its_compiled_function():
    def scenario(fn, w, k):
        loss = fn()
        loss.backward()
        return loss

    for compiled in (False, True):
        w, xs = start()
        fn = (lambda: net(w, xs))
        if compiled:
            fn = tapegrad.compile(fn)
        kept = None
        for k in range(4):
            for p in w:
                p.data = p.data * 0.75 + 0.125
            kept = scenario(fn, w, k)     # the last two calls replay
        if compiled:
            assert fn.replays == 2
            before = _engine._replay_stats()["flushes"]
        del fn
        gc.collect()
        _engine.collect()
        Value(1.0) * Value(2.0)       # new nodes, where freed segments would be reused
        if compiled:
            got = graph(kept), grads(w)
            assert _engine._replay_stats()["flushes"] > before
        else:
            reference = graph(kept), grads(w)
        del kept
    assert got == reference


def test_an_unfolded_root_takes_the_eager_path():
    def folded(w, xs):
        return net(w, xs) * 0.5 + 1        # folded numbers: _prev unfolds them

    def scenario(fn, w, k):
        loss = fn()
        if k % 2 == 0:       # a replay left pending, unfolded by the walk: flushed first
            return grads(w)
        before = graph(loss)
        loss.backward()
        return before, grads(w), graph(loss)

    fn, moved = compare(scenario, steps=6, loss_fn=folded)
    assert fn.replays >= 2


def test_a_replay_whose_input_is_an_operation():
    def scenario(fn, w, k):
        loss = fn(held[0])
        loss.backward()     # eager goes on past the input, into w[0] and w[1]
        return bits(loss.data), grads(w), bits(held[0].grad), graph(loss)

    results = []
    for compiled in (False, True):
        w, xs = start()
        held = [(w[0] * w[1]).tanh()]       # an operation recorded before: an input
        fn = (lambda v: net(w, xs) * v + v)
        if compiled:
            fn = tapegrad.compile(fn)
        results.append([scenario(fn, w, k) for k in range(4)])
    assert results[1] == results[0]
    assert fn.replays >= 2


def test_threads_each_training_their_own_model():
    steps, nthreads = 12, 3

    def train(compiled, seed, out):
        w, xs = start(seed)
        fn = (lambda: net(w, xs))
        if compiled:
            fn = tapegrad.compile(fn)
        seen = []
        for k in range(steps):
            for p in w:
                p.grad = 0.0
            loss = fn()
            loss.backward()
            seen.append((bits(loss.data), grads(w)))
            for p in w:
                p.data -= 0.01 * p.grad
            if k % 4 == 3:
                seen.append(graph(loss))
        out[seed] = seen

    reference, got = {}, {}
    for seed in range(nthreads):
        train(False, seed, reference)
    threads = [threading.Thread(target=train, args=(True, seed, got)) for seed in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == reference


def test_an_error_in_a_flat_backward_is_the_eager_error():
    w = Value(1.0)
    step = tapegrad.compile(lambda: (w + Value(0.0)) ** 0.5 + w)
    for data in (1.0, 4.0, 0.0):
        w.data = data
        loss = step()
        if data:
            loss.backward()
    with pytest.raises(ZeroDivisionError):
        loss.backward()
    del loss
    w.data = 9.0
    w.grad = 0.0
    loss = step()
    loss.backward()
    assert w.grad == 1.0 + 0.5 * 9.0 ** -0.5


def test_threads_sharing_one_compiled_step():
    # The parameters stay put, so every backward adds the same numbers into
    # their grads in the same order: n backward calls in any interleaving give
    # the bits of n eager ones in one thread.
    nthreads, calls = 4, 25

    def one_call(fn, k):
        loss = fn()
        loss.backward()
        seen = [bits(loss.data), bits(loss.grad)]
        if k % 5 == 4:      # writes the pending graph back; leaves' grads add up across calls
            seen.append([(op, data) + ((grad,) if op else ()) for op, data, grad in graph(loss)])
        return seen

    w, xs = start()
    fn = (lambda: net(w, xs))
    reference = [one_call(fn, k) for k in range(calls)]

    w, xs = start()
    step = tapegrad.compile(lambda: net(w, xs))
    step()              # the recording
    for p in w:
        p.grad = 0.0
    got, errors = {}, []
    barrier = threading.Barrier(nthreads)

    def hammer(t):
        try:
            barrier.wait()
            got[t] = [one_call(step, k) for k in range(calls)]
        except BaseException as error:      # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=hammer, args=(t,)) for t in range(nthreads)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)     # switch threads often: inside calls, not between them
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors
    assert all(got[t] == reference for t in range(nthreads))
    # nthreads * calls backward calls, as many eagerly in one thread
    w2, xs2 = start()
    for _ in range(nthreads * calls):
        net(w2, xs2).backward()
    assert grads(w) == grads(w2)
    assert step.replays > 0


def test_another_threads_reads_do_not_make_a_recording_value_dependent():
    def run(wrap):
        w, other = Value(0.5), Value(3.0)
        reading, read = threading.Event(), threading.Event()
        seen = []

        def reader():
            reading.wait()
            seen.append(other.data)     # while the main thread records
            read.set()

        def f():
            h = w * w
            if not read.is_set():
                reading.set()
                read.wait()
            return h.tanh()

        thread = threading.Thread(target=reader)
        thread.start()
        fn = wrap(f)
        for k in range(4):
            w.data, w.grad = 0.5 + k, 0.0
            loss = fn()
            loss.backward()
            seen.append((loss.data, w.grad))
            del loss
        thread.join()
        return seen, fn

    (eager, _), (compiled, fn) = run(lambda f: f), run(tapegrad.compile)
    assert compiled == eager
    assert not fn.value_dependent and fn.replays == 3


def test_a_dropped_compiled_function_frees_its_pending_graph_at_an_eager_backward():
    flush_all_pending()
    w, xs = start()

    def long_chain():       # several tape segments of operations
        total = w[0]
        for k in range(3 * _engine.tape_stats()["segment_capacity"]):
            total = (total * w[k % 13]).tanh()
        return total

    fn = tapegrad.compile(long_chain)
    fn()
    fn()                # a replay: pending, held by the pending list only once fn goes
    del fn
    _engine.collect()
    held = _engine.tape_stats()["segments"]
    (w[0] * w[1]).backward()    # an eager training loop goes on without compiled calls
    _engine.collect()
    assert _engine.tape_stats()["segments"] <= held - 2
