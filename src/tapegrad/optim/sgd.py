"""torch.optim.SGD: stochastic gradient descent with momentum, dampening,
Nesterov momentum and L2 weight decay."""
import numpy as np

from tapegrad.creation import from_numpy
from tapegrad.optim._checks import check_nonnegative
from tapegrad.optim.optimizer import Optimizer


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False)``: torch.optim.SGD, gradient descent with optional momentum (its buffer
    starts as the first gradient), dampening, Nesterov momentum and L2 weight decay;
    maximize ascends instead."""
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        check_nonnegative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        value = self._value(p)
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * value
        momentum = group["momentum"]
        if momentum:
            if "momentum_buffer" not in state:
                buf = np.array(grad, copy=True)
                state["momentum_buffer"] = from_numpy(buf)
            else:
                buf = state["momentum_buffer"].numpy()
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        self._write(p, value - group["lr"] * grad)
