"""Running one scenario under torch and under tapegrad, and comparing what they do.

A scenario is a function of the library, `scenario(lib)`, written once with the
names both libraries share (lib.tensor, lib.float64, lib.no_grad, ...). It
returns tensors (or tuples, lists of them, or None), or it raises.
"""
import re

import numpy as np
import pytest

import tapegrad as tg


def tensor(lib, data, requires_grad=False):
    """A float64 leaf of lib."""
    return lib.tensor(data, dtype=lib.float64, requires_grad=requires_grad)


def as_numbers(result):
    """The scenario's result with every tensor turned into a numpy array."""
    if result is None or isinstance(result, (bool, int, float, str)):
        return result
    if isinstance(result, (tuple, list)):
        return [as_numbers(r) for r in result]
    return np.array(result.detach().numpy(), copy=True)


def assert_same(actual, expected, rtol):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for a, e in zip(actual, expected):
            assert_same(a, e, rtol)
    elif isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), f"expected an array like {expected}, got {actual!r}"
        assert actual.shape == expected.shape, (actual.shape, expected.shape)
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0, equal_nan=True)
    else:
        assert actual == expected, (actual, expected)


def same_numbers_as_torch(torch, scenario, rtol=1e-12):
    """tapegrad's results equal torch's (NaN where torch has NaN); returns torch's."""
    expected = as_numbers(scenario(torch))
    actual = as_numbers(scenario(tg))
    assert_same(actual, expected, rtol)
    return expected


def raises_like_torch(torch, scenario, match=None):
    """torch raises; tapegrad raises the same type, and both messages match `match`
    (the stable part of torch's wording), which is checked against torch too."""
    with pytest.raises(Exception) as expected:
        scenario(torch)
    if match is not None:
        assert re.search(match, str(expected.value)), \
            f"torch's message changed: {expected.value}"
    with pytest.raises(expected.type, match=match):
        scenario(tg)
    return expected.value
