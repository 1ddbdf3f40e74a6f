"""A tensor's repr, laid out as torch lays it out: tensor([1.0000, 2.5000], requires_grad=True)."""
import numpy as np

_DEFAULT_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))
_INDENT = len("tensor(")


def _float_formatter(values):
    """torch's choice: whole numbers as '2.', else 4 decimals, or scientific
    notation when the magnitudes span too much."""
    finite = values[np.isfinite(values)]
    nonzero = np.abs(finite[finite != 0])
    if finite.size == 0 or np.all(finite == np.round(finite)):
        if nonzero.size and nonzero.max() > 1e8:
            return lambda v: f"{v:.4e}"
        return lambda v: f"{v:.0f}." if np.isfinite(v) else f"{v}"
    if nonzero.size and (nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8
                         or nonzero.min() < 1e-4):
        return lambda v: f"{v:.4e}"
    return lambda v: f"{v:.4f}" if np.isfinite(v) else f"{v}"


def _element_formatter(arr):
    if arr.dtype.kind == 'f':
        return _float_formatter(arr.astype(np.float64).ravel())
    if arr.dtype.kind == 'b':
        return lambda v: "True" if v else "False"
    return lambda v: f"{int(v)}"


def _layout(arr, fmt, width, indent):
    if arr.ndim == 0:
        return fmt(arr.item()).rjust(width)
    if arr.ndim == 1:
        return "[" + ", ".join(fmt(v).rjust(width) for v in arr.tolist()) + "]"
    rows = [_layout(sub, fmt, width, indent + 1) for sub in arr]
    separator = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(rows) + "]"


def format_tensor(t):
    arr = np.asarray(t.detach().numpy())
    suffix = []
    if arr.size == 0:
        body = "[]" if arr.ndim <= 1 else "[]"
        if arr.ndim > 1:
            suffix.append(f"size={tuple(arr.shape)}")
    else:
        fmt = _element_formatter(arr)
        width = max(len(fmt(v)) for v in arr.ravel().tolist()) if arr.ndim else 0
        body = _layout(arr, fmt, width, _INDENT)
    if arr.dtype not in _DEFAULT_DTYPES:
        suffix.append(f"dtype=tapegrad.{arr.dtype}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return "tensor(" + ", ".join([body] + suffix) + ")"
