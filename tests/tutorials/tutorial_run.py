"""Runs a tutorial program under torch and under tapegrad, from the same numbers, and
compares what it prints.

A program is written once as ``program(run)``: ``run.lib`` is the library it imports as
``torch`` (torch or tapegrad), and ``run.print(...)`` is the tutorial's ``print``. Where
the tutorial draws random numbers (torch.randn, a layer's initial weights, a dataset
download), the program asks ``run`` instead, which draws them from one seeded numpy
generator, so both libraries start from the same numbers. Everything else is the
tutorial's code.

What is printed is recorded as it would be read: text exactly (with 'torch.' and
'tapegrad.' taken out of dtype names and grad_fn reprs reduced to their names), numbers
and tensors as numbers, compared to a tolerance fit for float32 training.
"""
import math
import re

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

RTOL, ATOL = 2e-4, 2e-5


def _normal_text(text):
    text = re.sub(r" object at 0x[0-9a-f]+", " object", text)
    return text.replace("torch.", "").replace("tapegrad.", "")


class Run:
    """What a tutorial program sees: the library, its own print, and shared numbers."""

    def __init__(self, lib, seed):
        self.lib = lib
        self.rng = np.random.default_rng(seed)
        self.records = []

    # -- the numbers both libraries start from

    def randn(self, *shape, requires_grad=False, dtype=np.float32):
        data = np.asarray(self.rng.standard_normal(shape), dtype=dtype)
        return self.lib.tensor(data, requires_grad=requires_grad)

    def rand(self, *shape, dtype=np.float32):
        return self.lib.tensor(np.asarray(self.rng.random(shape), dtype=dtype))

    def labels(self, n, classes=10):
        return self.lib.tensor(self.rng.integers(0, classes, n).astype(np.int64))

    def init(self, model):
        """model's parameters set to one draw shared by both libraries, uniform in
        +-1/sqrt(fan_in) as torch's default initialisation is."""
        with self.lib.no_grad():
            for param in model.parameters():
                fan_in = math.prod(param.shape[1:]) if param.dim() > 1 else param.shape[0]
                bound = 1.0 / math.sqrt(fan_in)
                values = self.rng.uniform(-bound, bound, tuple(param.shape))
                param.copy_(self.lib.tensor(values.astype(np.float32)))
        return model

    def permutation(self, n):
        """A shuffled order of n samples, for DataLoader(sampler=...) where the tutorial
        shuffles: each library's own shuffle would draw a different order."""
        return [int(i) for i in self.rng.permutation(n)]

    # -- what the program prints

    def print(self, *values):
        line = []
        for value in values:
            if isinstance(value, self.lib.Tensor):
                line.append(("tensor", tuple(value.shape), _normal_text(str(value.dtype)),
                             value.detach().numpy().astype(np.float64).copy()))
            elif isinstance(value, np.ndarray):
                line.append(("tensor", value.shape, str(value.dtype),
                             value.astype(np.float64).copy()))
            elif isinstance(value, (bool, str)) or value is None:
                line.append(("text", _normal_text(str(value))))
            elif isinstance(value, (int, float, np.number)):
                line.append(("number", float(value)))
            elif isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
                line.append(("text", str(tuple(value))))      # shapes, tensor.Size or not
            else:
                line.append(("text", _normal_text(str(value))))
        self.records.append(line)

    def text(self, text):
        """A line compared exactly, as printed (an f-string of the tutorial)."""
        self.records.append([("text", _normal_text(text))])


def run_both(program, seed=0, rtol=RTOL, atol=ATOL, **kwargs):
    """program under torch and under tapegrad; asserts that they print the same."""
    reference = Run(torch, seed)
    program(reference, **kwargs)
    ours = Run(tapegrad, seed)
    program(ours, **kwargs)
    assert len(ours.records) == len(reference.records), "not the same number of prints"
    for number, (mine, theirs) in enumerate(zip(ours.records, reference.records)):
        assert len(mine) == len(theirs), f"print {number}: {mine} vs {theirs}"
        for a, b in zip(mine, theirs):
            assert a[0] == b[0], f"print {number}: {a} vs {b}"
            if a[0] == "tensor":
                assert a[1:3] == b[1:3], f"print {number}: shape/dtype {a[1:3]} vs {b[1:3]}"
                np.testing.assert_allclose(a[3], b[3], rtol=rtol, atol=atol,
                                           err_msg=f"print {number}")
            elif a[0] == "number":
                np.testing.assert_allclose(a[1], b[1], rtol=rtol, atol=atol,
                                           err_msg=f"print {number}")
            else:
                assert a[1] == b[1], f"print {number}:\n{a[1]}\nvs torch's\n{b[1]}"
    return ours.records


def missing(names):
    """The names of tapegrad (dotted) a program needs and tapegrad lacks."""
    absent = []
    for name in names:
        obj = tapegrad
        for part in name.split("."):
            if not hasattr(obj, part):
                absent.append(name)
                break
            obj = getattr(obj, part)
    return absent


def needs(*names):
    """Marks a tutorial test as failing while tapegrad lacks one of names (another part of
    issue 12 adds them): strict, so the mark goes as soon as they exist and the test must
    then pass."""
    absent = missing(names)
    return pytest.mark.xfail(bool(absent), raises=AttributeError, strict=True,
                             reason=f"tapegrad has no {', '.join(absent)} yet (issue 12)")


def pending(lacking, what, raises):
    """Marks a tutorial test as failing while lacking() says tapegrad still lacks what
    (another part of issue 12 adds it); strict, as needs()."""
    return pytest.mark.xfail(bool(lacking()), raises=raises, strict=True,
                             reason=f"tapegrad lacks {what} yet (issue 12)")


def lacks_out_keyword():
    try:
        tapegrad.matmul(tapegrad.ones(1, 1), tapegrad.ones(1, 1), out=tapegrad.zeros(1, 1))
    except TypeError:
        return True
    return False


def lacks_grad_fn_name(name, make):
    """Whether the tensor make(tapegrad) gives has a grad_fn named other than name."""
    return make(tapegrad).grad_fn.name() != name
