"""tapegrad.Value against micrograd 0.1.0 from PyPI: values to the bit,
gradients up to summation order, and tapegrad repeatable to the bit."""
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tapegrad
from tapegrad.engine import Value

micrograd_engine = pytest.importorskip("micrograd.engine")
micrograd_nn = pytest.importorskip("micrograd.nn")
MValue = micrograd_engine.Value


def close(a, b, rel=1e-10, scale=0.0):
    """Equal within rel, relative to the larger of the two or to scale."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b), scale)


def absolute_gradients(root):
    """The gradients that |local derivatives| would give: the size of the terms
    each gradient sums. Two summation orders of the same terms differ by a few
    roundings of that size, however much the terms cancel."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node._prev)
    size = {root: 1.0}
    for node in reversed(order):
        parents = list(node._prev)
        g = size.get(node, 0.0)
        for p in parents:
            if node._op == '+':
                local = 2.0 if len(parents) == 1 else 1.0
            elif node._op == '*':
                other = [q for q in parents if q is not p]
                local = 2 * p.data if len(parents) == 1 else other[0].data
            elif node._op == 'ReLU':
                local = 1.0 if node.data > 0 else 0.0
            else:
                k = float(node._op[2:])
                local = k * p.data ** (k - 1)
            size[p] = size.get(p, 0.0) + abs(local) * g
    return size


def bits(x):
    return math.copysign(1.0, x), float(x).hex()


def readme_expression(V):
    """The example of micrograd's README."""
    a = V(-4.0)
    b = V(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return [g.data, c.data, d.data, e.data, f.data], [a.grad, b.grad]


def test_readme_example_values_are_bit_identical_and_gradients_agree():
    (ours, our_grads), (theirs, their_grads) = readme_expression(Value), readme_expression(MValue)
    assert [float(x).hex() for x in ours] == [float(x).hex() for x in theirs]
    assert ours[0] == pytest.approx(24.7041, abs=1e-4)
    assert our_grads == pytest.approx([138.8338, 645.5773], abs=1e-4)
    for g, h in zip(our_grads, their_grads):
        assert close(g, h)


@pytest.mark.parametrize("expr, op", [
    (lambda a, b: a + b, '+'),
    (lambda a, b: a * b, '*'),
    (lambda a, b: a ** 2, '**2'),
    (lambda a, b: a ** 2.5, '**2.5'),
    (lambda a, b: a ** -1, '**-1'),
    (lambda a, b: a.relu(), 'ReLU'),
    (lambda a, b: a - b, '+'),
    (lambda a, b: a / b, '*'),
    (lambda a, b: -a, '*'),
    (lambda a, b: 2 - a, '+'),
    (lambda a, b: 2 / a, '*'),
    (lambda a, b: 3 * a, '*'),
    (lambda a, b: 1 + a, '+'),
])
def test_op_strings_children_and_values_match(expr, op):
    ours = expr(Value(1.5), Value(-0.5))
    theirs = expr(MValue(1.5), MValue(-0.5))
    assert ours._op == theirs._op == op
    assert ours.data == theirs.data
    assert sorted(p.data for p in ours._prev) == sorted(p.data for p in theirs._prev)
    assert sorted(p._op for p in ours._prev) == sorted(p._op for p in theirs._prev)


def test_relu_gradient_at_zero_is_zero_as_in_micrograd():
    for V in (Value, MValue):
        x = V(0.0)
        y = x.relu()
        y.backward()
        assert y.data == 0 and x.grad == 0


def test_backward_accumulates_and_zeroes_nothing_like_micrograd():
    results = []
    for V in (Value, MValue):
        a = V(3.0)
        b = a * a + a
        b.backward()
        b.backward()
        results.append((a.grad, b.grad))
    assert results[0] == results[1]


# ---------------------------------------------------------------- programs

# one step of a random program: (op, operand indices, constant)
UNARY = ['neg', 'relu', 'pow2', 'pow3', 'powm1', 'powhalf']
BINARY = ['add', 'sub', 'mul', 'div']
CONST = ['radd', 'rsub', 'rmul', 'rdiv', 'addc', 'subc', 'mulc', 'divc']

finite = st.floats(min_value=-8, max_value=8, allow_nan=False, allow_infinity=False)
constants = st.one_of(finite, st.integers(-5, 5))
step = st.one_of(
    st.tuples(st.sampled_from(UNARY), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.sampled_from(BINARY), st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
              st.just(0)),
    st.tuples(st.sampled_from(CONST), st.integers(0, 10**6), constants),
)


def apply(op, args, c):
    if op in BINARY:
        a, b = args
        return {'add': lambda: a + b, 'sub': lambda: a - b, 'mul': lambda: a * b,
                'div': lambda: a / b}[op]()
    a = args
    return {
        'neg': lambda: -a, 'relu': lambda: a.relu(), 'pow2': lambda: a**2,
        'pow3': lambda: a**3, 'powm1': lambda: a**-1, 'powhalf': lambda: abs_guard(a)**0.5,
        'radd': lambda: c + a, 'rsub': lambda: c - a, 'rmul': lambda: c * a,
        'rdiv': lambda: c / a, 'addc': lambda: a + c, 'subc': lambda: a - c,
        'mulc': lambda: a * c, 'divc': lambda: a / c,
    }[op]()


def abs_guard(a):
    # a fractional power of a negative number is complex in micrograd: keep it positive
    return a * a + 1


def run_program(V, leaves, program):
    """Runs the program; returns (values, leaf grads) or the exception type."""
    nodes = [V(x) for x in leaves]
    try:
        for op, index, c in program:
            if op in BINARY:
                args = (nodes[index[0] % len(nodes)], nodes[index[1] % len(nodes)])
            else:
                args = nodes[index % len(nodes)]
            out = apply(op, args, c)
            if abs(out.data) > 1e100:
                return 'too large'
            nodes.append(out)
        root = sum(nodes[len(leaves):], nodes[0]) if len(nodes) > len(leaves) else nodes[0]
        root.backward()
    except (ZeroDivisionError, OverflowError) as error:
        return type(error).__name__
    sizes = absolute_gradients(root) if V is Value else {}
    return ([n.data for n in nodes] + [root.data], [n.grad for n in nodes],
            [sizes.get(n, 0.0) for n in nodes])


@settings(max_examples=300, deadline=None)
@given(st.lists(constants, min_size=1, max_size=4), st.lists(step, min_size=1, max_size=25))
def test_random_programs_match_micrograd(leaves, program):
    ours = run_program(Value, leaves, program)
    theirs = run_program(MValue, leaves, program)
    if isinstance(theirs, str) or isinstance(ours, str):
        assert ours == theirs
        return
    our_values, our_grads, sizes = ours
    their_values, their_grads, _ = theirs
    assert [bits(x) for x in our_values] == [bits(float(x)) for x in their_values]
    # where micrograd holds a Python int, so does tapegrad
    assert [type(x) for x in our_values] == [int if isinstance(x, int) else float
                                             for x in their_values]
    for g, h, size in zip(our_grads, their_grads, sizes):
        assert close(g, float(h), scale=size), (g, h, size)
    # and tapegrad gives the same bits every run
    again = run_program(Value, leaves, program)
    assert [bits(x) for x in again[0] + again[1]] == [bits(x) for x in our_values + our_grads]


# -------------------------------------------------------------------- nn

def test_nn_models_are_identical_for_one_seed():
    random.seed(7)
    ours = tapegrad.nn.MLP(3, [4, 4, 1])
    random.seed(7)
    theirs = micrograd_nn.MLP(3, [4, 4, 1])
    assert repr(ours) == repr(theirs)
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    x = [2.0, 3.0, -1.0]
    out_ours, out_theirs = ours(x), theirs(x)
    assert out_ours.data == out_theirs.data
    out_ours.backward()
    out_theirs.backward()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert close(p.grad, q.grad)
    ours.zero_grad()
    assert all(p.grad == 0 for p in ours.parameters())
    assert repr(tapegrad.nn.Neuron(3, nonlin=False)) == "LinearNeuron(3)"
    assert repr(tapegrad.nn.Layer(2, 2)) == "Layer of [ReLUNeuron(2), ReLUNeuron(2)]"


def test_neuron_records_the_nodes_micrograd_sum_records():
    random.seed(3)
    n = tapegrad.nn.Neuron(2, nonlin=False)
    random.seed(3)
    m = micrograd_nn.Neuron(2, nonlin=False)
    ours, theirs = n([1.5, Value(2.0)]), m([1.5, MValue(2.0)])
    assert ours._op == theirs._op == '+'
    assert sorted(p._op for p in ours._prev) == sorted(p._op for p in theirs._prev)
    assert ours.data == theirs.data


@pytest.mark.slow
def test_demo_losses_and_parameters_follow_micrograd():
    """The whole demo run on both engines. micrograd runs with its GC off but
    for a collection every ten steps: the numbers are the same, and it takes
    seconds instead of minutes."""
    pytest.importorskip("sklearn")
    import gc

    from tapegrad import demo
    steps = 100
    X, y = demo.moons()
    ours = tapegrad.nn.MLP(2, [16, 16, 1])
    X2, y2 = demo.moons()
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    our_losses = [demo.sgd_step(ours, X, y, Value, k)[0] for k in range(steps)]
    their_losses = []
    gc.disable()
    try:
        for k in range(steps):
            their_losses.append(demo.sgd_step(theirs, X2, y2, MValue, k)[0])
            if k % 10 == 9:
                gc.collect()
    finally:
        gc.enable()
    for a, b in zip(our_losses, their_losses):
        assert close(a, float(b), 1e-9)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert close(p.data, float(q.data), 1e-9)


def test_custom_nodes_keep_python_int_data():
    a = Value(1)
    for V in (Value, MValue):
        out = V(3, (V(1),), 'f')
        assert out.data == 3 and type(out.data) is int
        assert (out * 2).data == 6 and type((out * 2).data) is int
    assert a.data == 1


def test_products_and_sums_round_twice_as_python_does():
    # micrograd rounds w * x and then the sum, in its forward and in each `+=` of its
    # backward: a build that fused them into one multiply-add (an fma, which compilers
    # emit by default on aarch64) differs in the last bit for about a third of these.
    # Each leaf gets two contributions, so the order of summation cannot matter.
    rng = random.Random(2024)
    cases = [[rng.uniform(-3, 3) for _ in range(5)] for _ in range(300)]

    def program(a, b, c, d, e):
        return (a * b) * c + (a * d) * e

    step = tapegrad.compile(program)
    for numbers in cases:
        theirs = [MValue(n) for n in numbers]
        out = program(*theirs)
        out.backward()
        expected = [out.data.hex()] + [v.grad.hex() for v in theirs]
        for run in (program, step):
            ours = [Value(n) for n in numbers]
            out = run(*ours)
            out.backward()
            assert [out.data.hex()] + [v.grad.hex() for v in ours] == expected
