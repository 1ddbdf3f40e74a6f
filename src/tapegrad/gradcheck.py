"""gradcheck: backward against central finite differences, as torch.autograd.gradcheck::

    gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)

fn takes the inputs (scalar Values, or float64 Tensors) and returns a Value or
a Tensor. Every element of every input that takes part is perturbed by +-eps;
the numerical derivative of every output element must equal the one backward
computes within ``atol + rtol * |numerical|``. Returns True, or raises
GradcheckError naming the worst element.
"""
import numpy as np

from tapegrad._tensor import Tensor, no_grad
from tapegrad.engine import Value


class GradcheckError(RuntimeError):
    """backward and finite differences disagree."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True when fn's backward matches central finite differences on every input element; else
    GradcheckError (or False with raise_exception=False)."""
    if isinstance(inputs, (Value, Tensor)):
        inputs = (inputs,)
    inputs = tuple(inputs)
    if not inputs:
        raise ValueError("gradcheck needs at least one input")
    if all(isinstance(x, Value) for x in inputs):
        analytic, numeric, names = _value_jacobians(fn, inputs, eps)
    elif all(isinstance(x, Tensor) for x in inputs):
        analytic, numeric, names = _tensor_jacobians(fn, inputs, eps)
    else:
        raise TypeError("gradcheck inputs must be all Values or all Tensors, not "
                        + ", ".join(sorted({type(x).__name__ for x in inputs})))
    return _compare(analytic, numeric, names, atol, rtol, raise_exception)


def _compare(analytic, numeric, names, atol, rtol, raise_exception):
    """analytic and numeric: (outputs, elements) Jacobians; names[j] says
    which input element column j is."""
    error = np.abs(analytic - numeric)
    allowed = atol + rtol * np.abs(numeric)
    bad = ~(error <= allowed)          # NaN fails too
    if not bad.any():
        return True
    excess = np.where(bad, np.nan_to_num(error - allowed, nan=np.inf), -np.inf)
    row, col = np.unravel_index(np.argmax(excess), excess.shape)
    message = (f"gradcheck failed for {names[col]}, output element {int(row)}: backward gives "
               f"{float(analytic[row, col])!r}, finite differences give "
               f"{float(numeric[row, col])!r}; the difference {float(error[row, col]):.3g} exceeds "
               f"atol + rtol*|numerical| = {float(allowed[row, col]):.3g} (atol={atol}, "
               f"rtol={rtol}); {int(bad.sum())} of {bad.size} entries disagree")
    if raise_exception:
        raise GradcheckError(message)
    return False


# ------------------------------------------------------------------ Values

def _value_jacobians(fn, inputs, eps):
    def evaluate():
        out = fn(*inputs)
        if not isinstance(out, Value):
            raise TypeError(f"gradcheck: fn must return a Value, not {type(out).__name__}")
        return out

    saved = [(x.data, x.grad) for x in inputs]
    try:
        for x in inputs:
            x.grad = 0.0
        out = evaluate()
        out.backward()
        analytic = np.array([[x.grad for x in inputs]], dtype=np.float64)
        numeric = np.zeros_like(analytic)
        for j, x in enumerate(inputs):
            x.data = saved[j][0] + eps
            plus = evaluate().data
            x.data = saved[j][0] - eps
            minus = evaluate().data
            x.data = saved[j][0]
            numeric[0, j] = (plus - minus) / (2 * eps)
    finally:
        for x, (data, grad) in zip(inputs, saved):
            x.data, x.grad = data, grad
    names = [f"input {j} ({x.label or 'Value'} = {x.data!r})" for j, x in enumerate(inputs)]
    return analytic, numeric, names


# ----------------------------------------------------------------- Tensors

def _tensor_jacobians(fn, inputs, eps):
    for i, x in enumerate(inputs):
        if x.requires_grad and x.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {x.dtype}; finite differences with "
                             f"eps={eps} need float64 inputs (x.double())")
    wanted = [x for x in inputs if x.requires_grad]
    if not wanted:
        raise ValueError("gradcheck: no input requires grad")

    def evaluate():
        out = fn(*inputs)
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor, not {type(out).__name__}")
        return out

    out = evaluate()
    n_out = out.numel()
    columns = [(i, k) for i, x in enumerate(inputs) if x.requires_grad for k in range(x.numel())]
    analytic = np.zeros((n_out, len(columns)))
    for row in range(n_out):
        seed = np.zeros(n_out, dtype=out.dtype)
        seed[row] = 1.0
        out = evaluate()
        saved_grads = [x.grad for x in wanted]
        for x in wanted:
            x.grad = None
        out.backward(gradient=_tensor_like(seed.reshape(out.shape)))
        parts = []
        for x in inputs:
            if x.requires_grad:
                g = x.grad
                parts.append(np.zeros(x.numel()) if g is None else
                             np.asarray(g.detach().numpy(), dtype=np.float64).ravel())
        for x, g in zip(wanted, saved_grads):
            x.grad = g
        analytic[row] = np.concatenate(parts)
    numeric = np.zeros_like(analytic)
    with no_grad():
        for col, (i, k) in enumerate(columns):
            storage = inputs[i].detach().numpy()     # the input's own memory, any layout
            where = np.unravel_index(k, storage.shape)
            original = storage[where]
            storage[where] = original + eps
            plus = np.asarray(evaluate().detach().numpy(), dtype=np.float64).ravel()
            storage[where] = original - eps
            minus = np.asarray(evaluate().detach().numpy(), dtype=np.float64).ravel()
            storage[where] = original
            numeric[:, col] = (plus - minus) / (2 * eps)
    names = [f"input {i} element {tuple(int(w) for w in np.unravel_index(k, inputs[i].shape))}"
             f" (value {float(inputs[i].detach().numpy()[np.unravel_index(k, inputs[i].shape)])!r})"
             for i, k in columns]
    return analytic, numeric, names


def _tensor_like(array):
    from tapegrad.creation import from_numpy
    return from_numpy(np.array(array, copy=True))   # (ascontiguousarray makes 0-d arrays 1-d)
