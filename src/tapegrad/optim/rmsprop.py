"""torch.optim.RMSprop (Hinton's lecture 6.5): gradients divided by a running
root mean square, optionally centered and with momentum."""
import numpy as np

from tapegrad.optim._checks import check_nonnegative
from tapegrad.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, *, maximize=False)``: torch.optim.RMSprop, steps divided by the root
    of a running mean (smoothing alpha) of squared gradients, plus eps; centered
    subtracts the squared running mean of the gradients first; momentum keeps a buffer
    of the scaled steps."""
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        check_nonnegative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                          alpha=alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        alpha, lr, momentum = group["alpha"], group["lr"], group["momentum"]
        value = self._value(p)
        if not state:
            state["step"] = self._step_tensor()
            state["square_avg"] = self._buffer(p)
            if momentum > 0:
                state["momentum_buffer"] = self._buffer(p)
            if group["centered"]:
                state["grad_avg"] = self._buffer(p)
        step = state["step"].numpy()
        step += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * value
        square_avg = state["square_avg"].numpy()
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"].numpy()
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg = avg + group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"].numpy()
            buf *= momentum
            buf += grad / avg
            self._write(p, value - lr * buf)
        else:
            self._write(p, value - lr * (grad / avg))
