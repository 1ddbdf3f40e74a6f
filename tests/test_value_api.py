"""tapegrad.Value's own behaviour, with no reference library: the seed example's
numbers, the parent identity graph-drawing code relies on, readable and writable
fields, and models that copy and pickle. (What is compared with micrograd is in
test_micrograd_parity.py, which skips as a whole without it.)"""
import random

import tapegrad
from tapegrad.engine import Value


def test_seed_example_f_equals_x_plus_y_times_z():
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    q = x + y
    f = q * z
    f.backward()
    assert (q.data, f.data) == (3.0, -12.0)
    assert (x.grad, y.grad, z.grad, q.grad) == (-4.0, -4.0, 3.0, -4.0)


def test_prev_returns_the_parent_objects_themselves():
    a, b = Value(2.0, label='a'), Value(3.0, label='b')
    c = a * b
    assert c._prev == {a, b}
    assert any(p is a for p in c._prev) and any(p is b for p in c._prev)
    d = c + 1
    # c is alive: the very object comes back, label and all
    (parent,) = [p for p in d._prev if p is c]
    assert parent.label == ''
    c.label = 'c'
    assert {p.label for p in d._prev} == {'c', ''}


def test_prev_of_a_dropped_parent_is_a_fresh_handle_onto_the_same_node():
    a = Value(2.0)
    d = (a * 3).relu()
    (c,) = d._prev
    assert c._op == '*' and c.data == 6.0
    d.backward()
    assert c.grad == 1.0 and a.grad == 3.0
    (again,) = d._prev
    assert again is c


def test_unreachable_inf_does_not_poison_gradients():
    a = Value(1.0)
    _unrelated = a * float('inf')
    y = a * 2.0
    y.backward()
    assert a.grad == 2.0


def test_repr_data_grad_label_are_readable_and_writable():
    v = Value(2.0, label='v')
    assert repr(v) == "Value(data=2.0, grad=0.0)"
    v.data = 5
    v.grad = 0.25
    v.label = 'w'
    assert (v.data, v.grad, v.label) == (5.0, 0.25, 'w')
    assert tapegrad.Value is Value


def test_neuron_falls_back_to_python_for_other_inputs():
    class Two:
        def __rmul__(self, other):
            return other * 2
    random.seed(1)
    n = tapegrad.nn.Neuron(2, nonlin=False)
    w = [p.data for p in n.w]
    assert n([Two(), 1.0]).data == w[0] * 2 + w[1] * 1.0


def test_models_copy_and_pickle_like_micrograd_ones():
    import copy
    import pickle
    random.seed(5)
    model = tapegrad.nn.MLP(2, [3, 1])
    model.parameters()[0].grad = 0.5
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert [p.data for p in clone.parameters()] == [p.data for p in model.parameters()]
        assert clone.parameters()[0].grad == 0.5
        assert clone.parameters()[0] is not model.parameters()[0]
        assert clone([1.0, 2.0]).data == model([1.0, 2.0]).data
