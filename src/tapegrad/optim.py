"""torch.optim's SGD, Adam and AdamW, for Tensor parameters and scalar Values alike.

An optimizer updates each parameter's data from its gradient, in place and
outside the graph. A scalar Value is held as a 0-d array for the update
arithmetic, so a micrograd MLP trains with Adam as a tensor model does.
"""
import numpy as np

from tapegrad._tensor import Tensor, bump_version, no_grad
from tapegrad.engine import Value
from tapegrad.nn.module import zero_grads


def _params(params):
    params = list(params)
    if not params:
        raise ValueError("optimizer got an empty parameter list")
    for p in params:
        if not isinstance(p, (Tensor, Value)):
            raise TypeError(f"optimizer can only optimize Tensors or Values, but one of the "
                            f"params is {type(p).__name__}")
        if isinstance(p, Tensor) and not p.requires_grad:
            raise ValueError("optimizing a tensor that does not require grad")
    return params


def _grad(p):
    """The gradient as an array, or None."""
    if isinstance(p, Value):
        return np.float64(p.grad)
    return None if p.grad is None else p.grad.detach().numpy()


def _update(p, new):
    """Writes the new value into p, in place."""
    if isinstance(p, Value):
        p.data = float(new)
    else:
        with no_grad():
            p.detach().numpy()[...] = new
        bump_version(p)      # as torch's in-place step: a graph that saved p must notice


def _value(p):
    return np.float64(p.data) if isinstance(p, Value) else p.detach().numpy()


class Optimizer:
    def __init__(self, params, defaults):
        self.params = _params(params)
        self.defaults = dict(defaults)
        self.state = [dict() for _ in self.params]
        self.steps = 0

    def zero_grad(self, set_to_none=True):
        zero_grads(self.params, set_to_none)

    def state_dict(self):
        return {"state": {i: {k: np.array(v, copy=True) for k, v in s.items()}
                          for i, s in enumerate(self.state) if s},
                "param_groups": [dict(self.defaults, params=list(range(len(self.params))))],
                "steps": self.steps}

    def load_state_dict(self, state_dict):
        self.steps = state_dict.get("steps", 0)
        self.state = [dict() for _ in self.params]
        for i, s in state_dict["state"].items():
            self.state[int(i)] = {k: np.array(v, copy=True) for k, v in s.items()}
        self.defaults.update({k: v for k, v in state_dict["param_groups"][0].items()
                              if k != "params"})

    def step(self):
        self.steps += 1
        for p, state in zip(self.params, self.state):
            g = _grad(p)
            if g is not None:
                self._step(p, np.asarray(g, dtype=np.float64) if isinstance(p, Value) else g,
                           state)

    def _step(self, p, g, state):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with torch's momentum, dampening, nesterov and weight_decay."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"invalid SGD settings: lr={lr}, momentum={momentum}, "
                             f"weight_decay={weight_decay} must be >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _step(self, p, g, state):
        d = self.defaults
        if d["weight_decay"]:
            g = g + d["weight_decay"] * _value(p)
        if d["momentum"]:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf = state["momentum_buffer"]
                buf *= d["momentum"]
                buf += (1 - d["dampening"]) * g
            buf = state["momentum_buffer"]
            g = g + d["momentum"] * buf if d["nesterov"] else buf
        _update(p, _value(p) - d["lr"] * g)


class Adam(Optimizer):
    """Adam (Kingma and Ba), with torch's bias correction and L2 weight_decay."""

    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"invalid Adam settings: lr={lr}, betas={betas}, eps={eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def _step(self, p, g, state):
        d = self.defaults
        beta1, beta2 = d["betas"]
        value = _value(p)
        if d["weight_decay"]:
            if self.decoupled:
                value = value * (1 - d["lr"] * d["weight_decay"])
            else:
                g = g + d["weight_decay"] * value
        if "exp_avg" not in state:
            state["exp_avg"] = np.zeros_like(g)
            state["exp_avg_sq"] = np.zeros_like(g)
            state["step"] = np.array(0)
        state["step"] = state["step"] + 1
        t = int(state["step"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        step_size = d["lr"] / (1 - beta1 ** t)
        denominator = np.sqrt(v) / np.sqrt(1 - beta2 ** t) + d["eps"]
        _update(p, value - step_size * m / denominator)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter); torch's default 0.01."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)
