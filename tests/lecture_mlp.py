"""The lecture's own Neuron, Layer and MLP over Value (tanh neurons, Python's sum),
as a user writes them: built on any base class, so one copy serves the tests that
run them as plain classes and those that run them as nn.Module subclasses.
"""
import random

from tapegrad.engine import Value


def lecture_mlp(base=object, parts_base=None):
    """The lecture's MLP class deriving from base, its Layers and Neurons from
    parts_base (base where None). Weights and biases are drawn with
    random.uniform(-1, 1), in the lecture's order."""
    parts_base = base if parts_base is None else parts_base

    class Neuron(parts_base):
        def __init__(self, nin):
            self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(random.uniform(-1, 1))

        def __call__(self, x):
            return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()

        def parameters(self):
            return self.w + [self.b]

    class Layer(parts_base):
        def __init__(self, nin, nout):
            self.neurons = [Neuron(nin) for _ in range(nout)]

        def __call__(self, x):
            outs = [n(x) for n in self.neurons]
            return outs[0] if len(outs) == 1 else outs

        def parameters(self):
            return [p for n in self.neurons for p in n.parameters()]

    class MLP(base):
        def __init__(self, nin, nouts):
            sizes = [nin] + nouts
            self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    if not hasattr(base, "zero_grad"):
        # the lecture's loop, for a plain class; a Module's own zero_grad is under test
        def zero_grad(self):
            for p in self.parameters():
                p.grad = 0.0
        MLP.zero_grad = zero_grad
    return MLP
