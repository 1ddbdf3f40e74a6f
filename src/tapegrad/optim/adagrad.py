"""torch.optim.Adagrad (Duchi et al.): each coordinate's step shrinks with the
sum of its squared gradients; the learning rate may decay with the step count."""
import numpy as np

from tapegrad.optim._checks import check_nonnegative
from tapegrad.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, *, maximize=False)``: torch.optim.Adagrad, steps divided by the root of each
    coordinate's sum of squared gradients (starting at initial_accumulator_value), plus
    eps; the rate is lr / (1 + (step - 1) * lr_decay)."""
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        check_nonnegative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                          initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      maximize=maximize))
        # torch makes the state at construction, so state_dict() has it before any step
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["step"] = self._step_tensor()
                self.state[p]["sum"] = self._buffer(p, group["initial_accumulator_value"])

    def _update(self, p, grad, state, group):
        value = self._value(p)
        if not state:      # a group added after construction
            state["step"] = self._step_tensor()
            state["sum"] = self._buffer(p, group["initial_accumulator_value"])
        step = state["step"].numpy()
        step += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * value
        clr = group["lr"] / (1 + (float(step) - 1) * group["lr_decay"])
        total = state["sum"].numpy()
        total += grad * grad
        std = np.sqrt(total) + group["eps"]
        self._write(p, value - clr * (grad / std))
