"""The scalar engine's fast paths give micrograd's numbers and graphs: numpy
scalars as operands, a Layer recorded in one native call, and a collection
that skips the segments nothing live reaches."""
import math
import random

import numpy as np
import pytest

import tapegrad
from tapegrad.engine import Value, collect, layer_forward, tape_stats, weighted_sum
from graph_walk import nodes_below

micrograd_engine = pytest.importorskip("micrograd.engine")
micrograd_nn = pytest.importorskip("micrograd.nn")
MValue = micrograd_engine.Value


def bits(x):
    return float(x).hex()


def graph(root):
    """Every node reachable from root, as sorted (op, data bits, number of parents)."""
    return sorted((v._op, bits(v.data), len(v._prev)) for v in nodes_below(root))


# ------------------------------------------------------------ numpy scalars

NUMPY_EXPRESSIONS = [
    lambda V, a, b: np.float64(1.5) * a + b,
    lambda V, a, b: a * np.float64(-0.3) + np.int64(2) * b,
    lambda V, a, b: np.int64(-1) * a + np.int64(1),
    lambda V, a, b: (np.int64(1) + -np.int64(1) * a).relu() + b * np.float64(0.25),
    lambda V, a, b: a - np.float64(0.1) + np.float64(0.7) - b,
    lambda V, a, b: a / np.float64(3.0) + np.int64(3) / b,
    lambda V, a, b: a ** np.float64(2.0) + np.float64(2.0) * b,   # a float: micrograd asserts
    lambda V, a, b: V(np.float64(0.1)) * a + V(np.int64(3)) * b,
]


@pytest.mark.parametrize("expression", NUMPY_EXPRESSIONS)
def test_numpy_scalar_operands_give_micrograd_values_and_gradients(expression):
    a, b = Value(0.7), Value(-1.3)
    ma, mb = MValue(0.7), MValue(-1.3)
    ours, theirs = expression(Value, a, b), expression(MValue, ma, mb)
    assert isinstance(ours, Value)
    assert bits(ours.data) == bits(theirs.data)
    ours.backward()
    theirs.backward()
    assert bits(a.grad) == bits(ma.grad) and bits(b.grad) == bits(mb.grad)
    assert graph(ours) == graph(theirs)


# Not np.float32 operands: micrograd computes `float * np.float32` as numpy
# promotes it, in float32; tapegrad computes in double, as for every number.

def test_numpy_scalar_data_reads_as_the_same_double():
    for x in (np.float64(0.1), np.float64(-0.0), np.float32(0.1), np.int64(-7), np.int32(5)):
        assert bits(Value(x).data) == bits(MValue(x).data)
    assert Value(np.int64(-7)).data == -7 and isinstance(Value(np.int64(-7)).data, int)


def test_arrays_with_a_value_still_make_object_arrays_as_in_micrograd():
    v, m = Value(2.0), MValue(2.0)
    for make in (lambda x: np.array([1.0, 2.5]) * x, lambda x: np.array([1.0, 2.5]) + x,
                 lambda x: np.array([[1, 2]]) - x, lambda x: np.array([1.0, 4.0]) / x,
                 lambda x: np.multiply(np.array([3.0]), x)):
        ours, theirs = make(v), make(m)
        assert ours.dtype == theirs.dtype == object and ours.shape == theirs.shape
        assert [bits(o.data) for o in ours.ravel()] == [bits(t.data) for t in theirs.ravel()]
    assert bits((np.array(1.5) * v).data) == bits((np.array(1.5) * m).data)   # 0-d: a Value


def test_numpy_compares_a_value_with_arrays_and_takes_its_bools_as_micrograd():
    v, w, m = Value(2.0), Value(3.0), MValue(2.0)
    objs = np.array([v, w], dtype=object)
    assert v in objs and (objs == v).tolist() == [True, False]
    assert (objs != v).tolist() == [False, True]
    acc = np.zeros(2, dtype=object)
    acc += v
    assert [a.data for a in acc] == [2.0, 2.0]
    assert (v * np.bool_(True)).data == (m * np.bool_(True)).data == 2.0
    assert np.add(v, 1).data == np.add(m, 1).data == 3.0


def test_an_unregistered_number_type_is_not_taken_for_one():
    class NotANumber:
        pass
    with pytest.raises(TypeError):
        Value(1.0) * NotANumber()
    with pytest.raises(TypeError):
        Value(NotANumber())


# ------------------------------------------------------------ one call per layer

def models(nin, nouts, seed):
    random.seed(seed)
    ours = tapegrad.nn.MLP(nin, nouts)
    random.seed(seed)
    theirs = micrograd_nn.MLP(nin, nouts)
    return ours, theirs


@pytest.mark.parametrize("inputs", [
    lambda V: [V(0.5), V(-1.25), V(2.0)],
    lambda V: [0.5, -1.25, 2.0],          # plain numbers, folded into their '*'
    lambda V: [V(1), 2, V(-3)],           # ints, as micrograd keeps them
    lambda V: (V(0.5), -1.25, np.float64(2.0)),
])
def test_the_mlp_records_micrograd_graph_node_for_node(inputs):
    ours, theirs = models(3, [4, 4, 1], seed=11)
    out, mout = ours(inputs(Value)), theirs(inputs(MValue))
    assert bits(out.data) == bits(mout.data)
    assert graph(out) == graph(mout)
    out.backward()
    mout.backward()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert math.isclose(p.grad, q.grad, rel_tol=1e-12, abs_tol=1e-300)


@pytest.mark.parametrize("weights", [[2, 3], [2, 0.5], [0.5, 2], [-2, -3], [0.25, -0.5]])
@pytest.mark.parametrize("inputs", [[1, -4], [1.5, -2], [3, 0.5]])
@pytest.mark.parametrize("nonlin", [True, False])
def test_a_neuron_keeps_micrograd_ints_and_floats_node_for_node(weights, inputs, nonlin):
    # the native neuron decides int or float per node as micrograd's Python does:
    # int * int and int + int stay ints, anything with a float is a float
    ours, theirs = tapegrad.nn.Neuron(2, nonlin=nonlin), micrograd_nn.Neuron(2, nonlin=nonlin)
    ours.w, theirs.w = [Value(w) for w in weights], [MValue(w) for w in weights]
    ours.b, theirs.b = Value(1), MValue(1)
    out = tapegrad.nn.Layer.__new__(tapegrad.nn.Layer)
    out.neurons = [ours]
    mine, reference = out([Value(x) for x in inputs]), theirs([MValue(x) for x in inputs])
    assert type(mine.data) is type(reference.data) and bits(mine.data) == bits(reference.data)
    typed = lambda root: sorted((v._op, type(v.data).__name__, bits(v.data))
                                for v in nodes_below(root))
    assert typed(mine) == typed(reference)


def test_a_layer_makes_one_node_per_micrograd_operation():
    random.seed(2)
    layer = tapegrad.nn.Layer(3, 5)
    x = [Value(0.1), Value(0.2), Value(0.3)]
    collect()
    before = tape_stats()["nodes"]
    out = layer(x)
    assert tape_stats()["nodes"] - before == 5 * (3 + 3 + 1)   # '*', '+', relu
    assert all(o._op == "ReLU" for o in out)


def test_a_layer_reads_attributes_set_under_names_python_did_not_intern():
    random.seed(7)
    layer = tapegrad.nn.Layer(2, 2)
    layer.neurons[0].b = Value(-10.0)           # negative: relu makes it 0
    x = [Value(1.5), Value(-2.5)]
    expected = [n(x).data for n in layer.neurons]
    for n in layer.neurons:                     # the same names, as other string objects
        for name in ("w", "b", "nonlin"):
            value = n.__dict__.pop(name)
            n.__dict__["".join([name, " "]).strip()] = value
        n.__dict__[" nonlin".strip()] = False    # linear now
    out = layer(x)
    linear = [weighted_sum(n.w, x, n.b).data for n in layer.neurons]
    assert [o.data for o in out] == linear and [o._op for o in out] == ["+", "+"]
    assert any(e != v for e, v in zip(expected, linear))   # relu made a difference before


def test_a_layer_raises_what_the_op_that_fails_raises_and_records_on():
    # micrograd holds ints: a product of two ints beyond a double is an error here
    random.seed(8)
    layer = tapegrad.nn.Layer(2, 3, nonlin=False)
    layer.neurons[1].w = [Value(3), Value(10 ** 200)]
    x = [Value(2), Value(10 ** 200)]
    with pytest.raises(OverflowError) as raised:
        layer(x)
    with pytest.raises(OverflowError) as eager:
        Value(10 ** 200) * Value(10 ** 200)
    assert str(raised.value) == str(eager.value)
    layer.neurons[1].w = [Value(3), Value(1)]
    out = layer(x)
    assert [o.data for o in out] == [n(x).data for n in layer.neurons]
    out[1].backward()
    assert layer.neurons[1].w[1].grad == 10.0 ** 200


def test_a_neuron_wider_than_a_segment_is_recorded_op_by_op():
    n = tape_stats()["segment_capacity"]        # 2n + 1 nodes do not fit one segment
    random.seed(9)
    neuron = tapegrad.nn.Neuron(n)
    x = [Value(random.uniform(-1, 1)) for _ in range(n)]
    out = tapegrad.nn.Layer.__new__(tapegrad.nn.Layer)
    out.neurons = [neuron]
    y = out(x)
    expected = sum((wi * xi for wi, xi in zip(neuron.w, x)), neuron.b).relu()
    assert bits(y.data) == bits(expected.data) and y._op == "ReLU"
    y.backward()
    assert neuron.w[0].grad == (x[0].data if y.data > 0 else 0.0)


def test_mlp_parameters_asks_the_layers_and_neurons_of_other_types_for_theirs():
    class Scaled(tapegrad.nn.Neuron):
        def __init__(self, nin, **kwargs):
            super().__init__(nin, **kwargs)
            self.scale = Value(2.0)

        def parameters(self):
            return super().parameters() + [self.scale]

    class Fixed:
        def __init__(self):
            self.p = Value(5.0)

        def __call__(self, x):
            return x

        def parameters(self):
            return [self.p]

    random.seed(10)
    model = tapegrad.nn.MLP(2, [2, 1])
    model.layers[0].neurons[1] = Scaled(2)
    model.layers.append(Fixed())
    expected = [p for layer in model.layers for p in layer.parameters()]
    assert [id(p) for p in model.parameters()] == [id(p) for p in expected]
    assert len(expected) == 2 * 3 + 1 + 3 + 1


def test_zero_grad_clears_values_and_tensors_together():
    v, t = Value(1.0), tapegrad.tensor([1.0, 2.0], requires_grad=True)
    (v * 3).backward()
    (t * t).sum().backward()
    tapegrad.optim.SGD([t], lr=0.1).zero_grad()
    tapegrad.nn.module.zero_grads([v, t], set_to_none=False)
    assert v.grad == 0.0 and t.grad is None
    (t * t).sum().backward()
    tapegrad.nn.module.zero_grads([t, v], set_to_none=False)
    assert t.grad.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="no node"):
        tapegrad.nn.module.zero_grads([Value.__new__(Value)])


def test_a_method_replaced_on_micrograds_classes_is_called_again():
    Layer, Neuron = tapegrad.nn.Layer, tapegrad.nn.Neuron
    random.seed(1)
    model = tapegrad.nn.MLP(2, [2, 1])
    x = [Value(1.0), Value(-2.0)]
    expected = model(x).data
    cases = [(Layer, "__call__", lambda self, x: Value(7.0), lambda out: out.data == 7.0),
             (Neuron, "__call__", lambda self, x: Value(7.0), lambda out: out.data == 7.0),
             (Neuron, "__getattribute__",
              lambda self, name: (Value(100.0) if name == "b"
                                  else object.__getattribute__(self, name)),
              lambda out: out.data != expected)]
    for cls, name, replacement, holds in cases:
        original = cls.__dict__.get(name)
        setattr(cls, name, replacement)
        try:
            assert holds(model(x)), (cls, name)
        finally:
            if original is None:
                delattr(cls, name)
            else:
                setattr(cls, name, original)
        assert model(x).data == expected
    original = Neuron.__dict__["parameters"]
    Neuron.parameters = lambda self: [self.b]
    try:
        assert model.parameters() == [n.b for layer in model.layers for n in layer.neurons]
    finally:
        Neuron.parameters = original
    assert len(model.parameters()) == 2 * 3 + 3


def test_a_neuron_with_a_number_for_bias_or_an_iterator_of_weights_runs_as_micrograds():
    random.seed(3)
    ours = tapegrad.nn.Layer(2, 2, nonlin=False)
    random.seed(3)
    theirs = micrograd_nn.Layer(2, 2, nonlin=False)
    x, mx = [Value(1.5), Value(-0.5)], [MValue(1.5), MValue(-0.5)]
    for layer in (ours, theirs):
        layer.neurons[0].b = 0.5
        w = layer.neurons[1].w
        layer.neurons[1].w = (v if i else 0.25 for i, v in enumerate(w))
    out, mout = ours(x), theirs(mx)
    assert [bits(o.data) for o in out] == [bits(o.data) for o in mout]


def test_an_mlp_calls_the_layers_that_are_not_micrograds_layer():
    class Scaled(tapegrad.nn.Layer):
        def __call__(self, x):
            return [o * 0.5 for o in super().__call__(x)]

    random.seed(5)
    model = tapegrad.nn.MLP(2, [3, 2])
    x = [Value(1.5), Value(-0.5)]
    random.seed(6)
    model.layers[0] = Scaled(2, 3)
    model.layers.append(lambda h: sum(h))       # any callable, as micrograd allows
    out = model(x)
    h = model.layers[0](x)
    expected = sum(model.layers[1](h))
    assert bits(out.data) == bits(expected.data)
    assert out._op == "+" and h[0]._op == "*"     # the lambda's sum, the Scaled layer's product


def test_a_layer_calls_a_neuron_subclass_that_has_its_own_call():
    class Doubled(tapegrad.nn.Neuron):
        def __call__(self, x):
            return super().__call__(x) * 2

    random.seed(4)
    layer = tapegrad.nn.Layer(2, 3, nonlin=False)
    layer.neurons[1] = Doubled(2, nonlin=False)
    x = [Value(1.5), Value(-0.5)]
    out = layer(x)
    plain = [n(x) for n in layer.neurons]
    assert [o.data for o in out] == [p.data for p in plain]
    assert out[1]._op == "*"


def test_a_layer_takes_the_python_path_for_other_inputs_and_weights():
    class Two:
        def __rmul__(self, other):
            return other * 2

    random.seed(1)
    layer = tapegrad.nn.Layer(2, 2, nonlin=False)
    w = [[p.data for p in n.w] for n in layer.neurons]
    assert [o.data for o in layer([Two(), 1.0])] == [a * 2 + b * 1.0 for a, b in w]
    layer.neurons[0].w = (layer.neurons[0].w[0], 3.0)   # a number for a weight
    out = layer([Value(1.0), Value(2.0)])
    assert out[0].data == w[0][0] * 1.0 + 6.0


def test_layer_forward_of_no_inputs_is_the_bias_as_in_micrograd():
    random.seed(5)
    n = tapegrad.nn.Neuron(0, nonlin=False)
    assert layer_forward([n], [], tapegrad.nn.Neuron)[0] is n.b


# ------------------------------------------------------------ collection

def test_a_graph_reached_only_through_later_segments_survives_collection():
    """The collection skips segments with no handle that no live node points
    into: the old segments of a long chain have no handle, but the chain's
    output reaches them."""
    capacity = tape_stats()["segment_capacity"]
    x = Value(1.0)
    y = x
    for i in range(5 * capacity):
        y = y + x if i % 2 else y * 1.0
        if i % capacity == 0:
            garbage = [Value(2.0) * 3.0 for _ in range(capacity)]   # whole dead segments
            del garbage
    collect()
    z = Value(0.5)
    w = [z * 1.5 for _ in range(3 * capacity)]   # more collections along the way
    del w
    collect()
    y.backward()
    assert x.grad == 1 + 5 * capacity // 2


# ------------------------------------------------- hidden outputs kept as nodes

def collect_dead_segments():
    """Fills three segments with dead nodes and collects: how many segments it freed."""
    garbage = [Value(2.0) * 3.0 for _ in range(3 * tape_stats()["segment_capacity"])]
    del garbage
    return collect()


class CollectingTruth:
    """A nonlin whose truth value collects: mlp_forward holds hidden outputs
    that no handle roots yet, so a collection then must free none of them."""

    def __bool__(self):
        collect_dead_segments()
        return True


def test_a_collection_while_an_mlp_records_frees_none_of_its_hidden_outputs():
    ours, theirs = models(3, [4, 5, 1], seed=21)
    for model in (ours, theirs):
        model.layers[1].neurons[3].nonlin = CollectingTruth()
    x = [Value(0.5), Value(-1.25), Value(2.0)]
    mx = [MValue(0.5), MValue(-1.25), MValue(2.0)]
    out, mout = ours(x), theirs(mx)
    assert bits(out.data) == bits(mout.data)
    assert graph(out) == graph(mout)
    out.backward()
    mout.backward()
    assert [bits(p.grad) for p in ours.parameters()] == [bits(p.grad) for p in theirs.parameters()]


def test_an_mlp_hands_hidden_outputs_to_a_neuron_it_calls_as_values():
    class Doubled(tapegrad.nn.Neuron):
        def __call__(self, x):
            assert all(isinstance(xi, Value) for xi in x)
            return super().__call__(x) * 2

    random.seed(8)
    model = tapegrad.nn.MLP(2, [3, 4, 2])
    random.seed(9)
    model.layers[1].neurons[2] = Doubled(3)
    x = [Value(1.5), Value(-0.5)]
    out = model(x)
    h = x
    for layer in model.layers:
        h = [n(h) for n in layer.neurons]
    assert [bits(o.data) for o in out] == [bits(o.data) for o in h]
    assert graph(out[0]) == graph(h[0]) and graph(out[1]) == graph(h[1])


def test_an_mlps_hidden_outputs_are_the_same_values_while_one_is_held():
    random.seed(2)
    model = tapegrad.nn.MLP(2, [3, 3, 1])
    out = model([Value(1.0), Value(-2.0)])
    hidden = nodes_below(out)
    again = nodes_below(out)
    assert {id(v) for v in hidden} == {id(v) for v in again}
    relus = [v for v in hidden if v._op == "ReLU"]
    assert len(relus) == 6


def test_a_layer_that_grows_while_an_mlp_records_it_is_read_as_micrograd_reads_it():
    class Growing:
        """A truth value that adds a neuron to the layer being called, once."""

        def __init__(self, neurons, neuron):
            self.neurons, self.neuron = neurons, neuron

        def __bool__(self):
            if self.neuron is not None:
                self.neurons.append(self.neuron)
                self.neuron = None
            return True

    ours, theirs = models(2, [3, 3, 2], seed=31)
    for model, nn in ((ours, tapegrad.nn), (theirs, micrograd_nn)):
        random.seed(32)
        extra = nn.Neuron(3)
        model.layers[1].neurons[1].nonlin = Growing(model.layers[1].neurons, extra)
    random.seed(33)     # the last layer takes the grown layer's four outputs
    ours.layers[2] = tapegrad.nn.Layer(4, 2)
    random.seed(33)
    theirs.layers[2] = micrograd_nn.Layer(4, 2)
    out = ours([Value(0.5), Value(-1.5)])
    mout = theirs([MValue(0.5), MValue(-1.5)])
    assert [bits(o.data) for o in out] == [bits(o.data) for o in mout]
    assert len(ours.layers[1].neurons) == 4


def test_the_layers_and_neurons_an_mlp_calls_run_with_the_tape_free_to_collect():
    """mlp_forward holds the collection only while it holds nodes no handle
    roots: Python it calls (a layer, a neuron of its own) may collect, as
    other threads may meanwhile."""
    freed = []

    def collecting(h):
        freed.append(collect_dead_segments())
        return h

    class Collecting(tapegrad.nn.Neuron):
        def __call__(self, x):
            return collecting(super().__call__(x))

    random.seed(12)
    model = tapegrad.nn.MLP(2, [3, 3, 1])
    model.layers.insert(1, collecting)
    random.seed(13)
    model.layers[2].neurons[1] = Collecting(3)
    out = model([Value(0.5), Value(-1.0)])
    assert len(freed) == 2 and all(n > 0 for n in freed)
    h = [Value(0.5), Value(-1.0)]
    for layer in model.layers:
        h = layer(h)
    assert bits(out.data) == bits(h.data)


def test_a_neuron_that_empties_the_inputs_it_is_called_with_frees_none_of_them():
    """The handles mlp_forward makes for a called neuron's inputs root them
    whatever that neuron does with the list (the review's crash)."""
    capacity = tape_stats()["segment_capacity"]
    kept = []

    class Clears(tapegrad.nn.Neuron):
        def __call__(self, x):
            x.clear()
            collect_dead_segments()
            kept.append([Value(7.0) * 3.0 for _ in range(3 * capacity)])  # reuses what it freed
            return self.b * 1.0

    random.seed(3)
    model = tapegrad.nn.MLP(2, [4, 3, 1])
    model.layers[1].neurons[0] = Clears(4)      # first: no output of its layer roots the inputs
    x = [Value(0.5), Value(-1.5)]
    out = model(x)
    h = x
    for layer in model.layers:
        h = [n.b * 1.0 if isinstance(n, Clears) else n(list(h)) for n in layer.neurons]
    assert bits(out.data) == bits(h[0].data)


@pytest.mark.parametrize("sizes", [[3, 2], [3, 2, 1]])
def test_a_layer_that_shrinks_to_one_neuron_gives_its_output_alone_as_micrograd(sizes):
    class DropsTheOthers:
        def __init__(self, neurons):
            self.neurons = neurons

        def __bool__(self):
            del self.neurons[1:]
            return True

    def run(nn, V):
        random.seed(1)
        model = nn.MLP(2, sizes)
        neurons = model.layers[1].neurons
        neurons[0].nonlin = DropsTheOthers(neurons)
        try:
            out = model([V(0.5), V(-1.5)])
        except TypeError as error:      # a hidden layer of one: the next cannot iterate it
            return type(error)
        return [o.data for o in out] if isinstance(out, list) else out.data

    assert run(tapegrad.nn, Value) == run(micrograd_nn, MValue)


def test_a_nonlin_takes_its_truth_value_after_the_sum_as_in_micrograd():
    class Changes:
        def __init__(self, neuron, V):
            self.neuron, self.V, self.done = neuron, V, False

        def __bool__(self):
            if not self.done:
                self.done = True
                self.neuron.w[0].data = 100.0
                self.neuron.w.append(self.V(7.0))
            return True

    outs = []
    for nn, V in ((tapegrad.nn, Value), (micrograd_nn, MValue)):
        random.seed(7)
        model = nn.MLP(2, [3, 3, 1])
        neuron = model.layers[1].neurons[1]
        neuron.nonlin = Changes(neuron, V)
        outs.append(bits(model([V(0.5), V(-1.25)]).data))
    assert outs[0] == outs[1]


def test_a_nonlins_truth_value_runs_with_the_tape_free_to_collect():
    freed = []

    class Collects:
        def __bool__(self):
            freed.append(collect_dead_segments())
            return True

    ours, theirs = models(2, [3, 3, 1], seed=14)
    for model in (ours, theirs):
        model.layers[1].neurons[1].nonlin = Collects()
    out = ours([Value(0.5), Value(-1.0)])
    assert bits(out.data) == bits(theirs([MValue(0.5), MValue(-1.0)]).data)
    assert freed and freed[0] > 0
