"""torch.optim.Adam and AdamW (Kingma and Ba; Loshchilov and Hutter), with
torch's bias correction, L2 or decoupled weight decay, and amsgrad."""
import numpy as np

from tapegrad.optim._checks import check_nonnegative
from tapegrad.optim.optimizer import Optimizer


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
    *, maximize=False, decoupled_weight_decay=False)``: torch.optim.Adam, steps from
    bias-corrected running averages of the gradient and its square (betas), eps added
    to the root; weight_decay is L2 (added to the gradient), or AdamW's where
    decoupled_weight_decay; amsgrad divides by the largest second moment so far."""
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        check_nonnegative(lr=lr, eps=eps)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        check_nonnegative(weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, p, grad, state, group):
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        value = self._value(p)
        if weight_decay:
            if group["decoupled_weight_decay"]:
                value = value * (1 - lr * weight_decay)
            else:
                grad = grad + weight_decay * value
        if not state:
            state["step"] = self._step_tensor()
            state["exp_avg"] = self._buffer(p)
            state["exp_avg_sq"] = self._buffer(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = self._buffer(p)
        step = state["step"].numpy()
        step += 1
        t = float(step)
        m, v = state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"].numpy()
            np.maximum(v_max, v, out=v_max)
            v = v_max
        step_size = lr / (1 - beta1 ** t)
        denominator = np.sqrt(v) / (1 - beta2 ** t) ** 0.5 + group["eps"]
        self._write(p, value - step_size * m / denominator)


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False)``: Adam with decoupled weight decay, the parameter
    shrunk by lr * weight_decay each step; weight_decay defaults to 0.01, as torch's."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
