"""A tensor's repr, laid out as torch lays it out: tensor([1.0000, 2.5000], requires_grad=True).

torch's rules, followed step by step: one number format for the whole tensor (whole
numbers as '2.', else `precision` decimals, or scientific notation when the magnitudes
span too much), every element padded to the widest, rows wrapped at `linewidth`; a
tensor of more than `threshold` elements is summarised, `edgeitems` at each end of
every dimension around '...', and its number format is chosen from those edges only,
so printing a big tensor costs what printing a small one does.
"""
import math

import numpy as np


class _PrintOptions:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


_OPTIONS = _PrintOptions()
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """torch.set_printoptions: the options given change, the others stay (a profile,
    'default', 'short' or 'full', sets the first four at once)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"profile must be one of {sorted(_PROFILES)}, not {profile!r}")
        (_OPTIONS.precision, _OPTIONS.threshold, _OPTIONS.edgeitems,
         _OPTIONS.linewidth) = _PROFILES[profile]
    if precision is not None:
        _OPTIONS.precision = precision
    if threshold is not None:
        _OPTIONS.threshold = threshold
    if edgeitems is not None:
        _OPTIONS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTIONS.linewidth = linewidth
    _OPTIONS.sci_mode = sci_mode


class _Formatter:
    """One format for every element of a tensor, chosen from values (an array)."""

    def __init__(self, values):
        self.floating = values.dtype.kind == 'f'
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        precision = _OPTIONS.precision
        flat = values.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(self._plain(value)))
        else:
            flat = flat.astype(np.float64)
            finite = flat[np.isfinite(flat) & (flat != 0)]
            if finite.size:
                magnitudes = np.abs(finite)
                smallest, largest = magnitudes.min(), magnitudes.max()
                self.int_mode = bool(np.all(finite == np.ceil(finite)))
                self.sci_mode = (largest / smallest > 1000.0 or largest > 1.0e8
                                 or smallest < 1.0e-4) if _OPTIONS.sci_mode is None \
                    else _OPTIONS.sci_mode
                if self.sci_mode:
                    texts, extra = [f"{v:.{precision}e}" for v in finite.tolist()], 0
                elif self.int_mode:
                    texts, extra = [f"{v:.0f}" for v in finite.tolist()], 1
                else:
                    texts, extra = [f"{v:.{precision}f}" for v in finite.tolist()], 0
                self.max_width = max(len(t) for t in texts) + extra

    @staticmethod
    def _plain(value):
        return str(value)

    def format(self, value):
        if not self.floating:
            text = self._plain(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{_OPTIONS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{_OPTIONS.precision}f}"
        return " " * (self.max_width - len(text)) + text


def _summarised(arr, edge):
    """The elements a summarised print shows: edge items at each end of every dimension."""
    if arr.ndim == 0:
        return arr
    if edge == 0:
        return arr[(slice(0, 0),) * arr.ndim]
    for axis in range(arr.ndim):
        if arr.shape[axis] > 2 * edge:
            index = np.r_[0:edge, arr.shape[axis] - edge:arr.shape[axis]]
            arr = np.take(arr, index, axis=axis)
    return arr


def _vector(arr, indent, summarize, fmt):
    edge = _OPTIONS.edgeitems
    per_line = max(1, int(math.floor((_OPTIONS.linewidth - indent) / (fmt.max_width + 2))))
    if summarize and not edge:
        data = ["..."]
    elif summarize and arr.shape[0] > 2 * edge:
        data = ([fmt.format(v) for v in arr[:edge].tolist()] + [" ..."] +
                [fmt.format(v) for v in arr[-edge:].tolist()])
    else:
        data = [fmt.format(v) for v in arr.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _layout(arr, indent, summarize, fmt):
    if arr.ndim == 0:
        return fmt.format(arr.item())
    if arr.ndim == 1:
        return _vector(arr, indent, summarize, fmt)
    edge = _OPTIONS.edgeitems
    if summarize and arr.shape[0] > 2 * edge:
        rows = ([_layout(arr[i], indent + 1, summarize, fmt) for i in range(edge)] + ["..."] +
                [_layout(arr[i], indent + 1, summarize, fmt)
                 for i in range(arr.shape[0] - edge, arr.shape[0])])
    else:
        rows = [_layout(sub, indent + 1, summarize, fmt) for sub in arr]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _with_suffixes(text, suffixes, indent):
    """Each suffix after ', ', or on a new line when the line would pass linewidth."""
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > _OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(parts) + ")"


def format_tensor(t, default_dtype):
    prefix = "tensor("
    indent = len(prefix)
    arr = np.asarray(t.detach().numpy())
    suffixes = []
    if arr.size == 0:
        body = "[]"
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
    else:
        summarize = arr.size > _OPTIONS.threshold
        if arr.dtype == np.float16:
            arr = arr.astype(np.float32)
        fmt = _Formatter(_summarised(arr, _OPTIONS.edgeitems) if summarize else arr)
        body = _layout(arr, indent, summarize, fmt)
    if t.dtype not in (default_dtype, np.dtype(np.int64), np.dtype(np.bool_)):
        suffixes.append(f"dtype=tapegrad.{t.dtype}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)
