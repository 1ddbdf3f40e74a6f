"""Code that extends Value the micrograd way, the lecture's manual backward,
and threads that build and backpropagate their own graphs at once."""
import math
import random
import threading

import pytest

from tapegrad import Value


def tanh_by_hand(x):
    """The lecture's tanh, as a user would add it: a node and a closure."""
    t = (math.exp(2 * x.data) - 1) / (math.exp(2 * x.data) + 1)
    out = Value(t, (x,), 'tanh')

    def _backward():
        x.grad += (1 - t ** 2) * out.grad
    out._backward = _backward
    return out


def neuron(tanh):
    x1, x2 = Value(2.0, label='x1'), Value(0.0, label='x2')
    w1, w2 = Value(-3.0, label='w1'), Value(1.0, label='w2')
    b = Value(6.8813735870195432, label='b')
    n = x1 * w1 + x2 * w2 + b
    n.label = 'n'
    o = tanh(n)
    o.label = 'o'
    return o, (x1, x2, w1, w2, b, n)


def test_a_custom_op_with_a_python_closure_is_honoured():
    o, (x1, x2, w1, w2, b, n) = neuron(tanh_by_hand)
    assert o._op == 'tanh' and o._prev == {n} and o.label == 'o'
    o.backward()
    assert o.data == pytest.approx(0.7071, abs=1e-4)
    assert [v.grad for v in (x1, x2, w1, w2)] == pytest.approx([-1.5, 0.5, 1.0, 0.0], abs=1e-6)
    reference, leaves = neuron(Value.tanh)
    reference.backward()
    assert [v.grad for v in leaves[:4]] == pytest.approx([x1.grad, x2.grad, w1.grad, w2.grad])


def test_custom_nodes_with_many_children_and_no_closure():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    s = Value(a.data + b.data + c.data, (a, b, c, a), 'sum3')
    assert s._prev == {a, b, c} and s._op == 'sum3'
    s.backward()                # no closure: like micrograd's lambda: None
    assert (a.grad, b.grad, c.grad) == (0.0, 0.0, 0.0)

    def _backward():
        for v in (a, b, c):
            v.grad += s.grad
    s._backward = _backward
    (s * 2).backward()
    # s.grad kept the 1 of the first backward, as in micrograd: 1 + 2
    assert (a.grad, b.grad, c.grad) == (3.0, 3.0, 3.0)


def test_the_lecture_manual_backward_node_by_node():
    o, (x1, x2, w1, w2, b, n) = neuron(Value.tanh)
    o.grad = 1.0
    o._backward()
    assert n.grad == pytest.approx(0.5)
    n._backward()
    (left,) = [p for p in n._prev if p is not b]
    assert b.grad == pytest.approx(0.5) and left.grad == pytest.approx(0.5)
    left._backward()
    products = left._prev
    for p in products:
        p._backward()
    assert x1.grad == pytest.approx(-1.5) and w1.grad == pytest.approx(1.0)


def test_closures_returned_by_the_backward_property_are_the_assigned_ones():
    x = Value(0.3)
    out = tanh_by_hand(x)
    assert out._backward.__name__ == '_backward'
    assert callable((x * 2)._backward)
    assert Value(1.0)._backward() is None


def run_graph(seed, steps=60):
    rng = random.Random(seed)
    xs = [Value(rng.uniform(-1, 1)) for _ in range(8)]
    y = xs[0]
    for i in range(steps):
        a, b = rng.choice(xs), rng.choice(xs)
        y = (y * a + b).tanh() + (a * b).relu() * 0.5 + tanh_by_hand(b) * 0.1
    y.backward()
    return y.data, [x.grad for x in xs]


def test_threads_build_and_backpropagate_separate_graphs_at_once():
    expected = {seed: run_graph(seed) for seed in range(8)}
    results, errors = {}, []
    start = threading.Barrier(8)

    def work(seed):
        try:
            start.wait()
            for _ in range(30):
                got = run_graph(seed)
                if got != expected[seed]:
                    results[seed] = got
                    return
            results[seed] = got
        except BaseException as error:  # reported below, never lost
            errors.append(error)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == expected
