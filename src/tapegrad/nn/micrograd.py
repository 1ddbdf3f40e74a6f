"""micrograd's neural-network module on the tapegrad scalar engine.

Same classes, same behaviour, same reprs as ``micrograd.nn``; weights are drawn
with ``random.uniform(-1, 1)`` in micrograd's order, so one seed gives one model.
"""
import random

from tapegrad._engine import _runs_natively
from tapegrad.engine import Value, layer_forward, mlp_forward, mlp_parameters, weighted_sum
from tapegrad.nn.module import Module


@_runs_natively
class Neuron(Module):
    """Neuron(nin, nonlin=True), micrograd's: nin weights drawn uniform in [-1, 1] and a
    bias of 0, as Values; called on nin inputs, relu(w . x + b), or w . x + b where
    nonlin is False."""

    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        # b + w0*x0 + w1*x1 + ..., node for node what micrograd's sum() records
        act = weighted_sum(self.w, x, self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        """The weights, then the bias: a list of Values, as micrograd's."""
        return self.w + [self.b]

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


@_runs_natively
class Layer(Module):
    """``Layer(nin, nout, **kwargs)``, micrograd's: nout Neurons (kwargs passed to each) over
    the same nin inputs; called, the list of their outputs, or the one output where
    nout is 1."""

    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        # [n(x) for n in self.neurons], in one native call for all the Neurons
        out = layer_forward(self.neurons, x, Neuron)
        return out[0] if len(out) == 1 else out

    def parameters(self):
        """Every Neuron's parameters, Neuron by Neuron, in one list."""
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


@_runs_natively
class MLP(Module):
    """MLP(nin, nouts), micrograd's: a Layer for each size in nouts, the first over nin
    inputs, ReLU in every Layer but the last (which is linear)."""

    def __init__(self, nin, nouts):
        sizes = [nin] + list(nouts)
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(nouts))]

    def __call__(self, x):
        # for layer in self.layers: x = layer(x), in one native call for micrograd's Layers
        return mlp_forward(self.layers, x, Layer, Neuron)

    def parameters(self):
        """Every Layer's parameters, Layer by Layer, in one list."""
        # [p for layer in self.layers for p in layer.parameters()], in one native call
        return mlp_parameters(self.layers, Layer, Neuron)

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
