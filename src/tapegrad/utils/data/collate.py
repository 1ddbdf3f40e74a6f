"""How a loader turns a list of samples into a batch, as torch's default_collate:
tensors and arrays are stacked along a new first dimension, Python ints become
int64 and floats float64, strings stay a list, and tuples, lists and dicts are
collated field by field."""
import collections.abc
import numbers

import numpy as np

from tapegrad._tensor import Tensor, float64, int64, stack
from tapegrad.creation import from_numpy, tensor

_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
          "found {}")


def _is_text(obj):
    return isinstance(obj, (str, bytes))


def default_collate(batch):
    """torch's default_collate: a list of samples stacked into a batch, structure kept."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray) or isinstance(elem, np.generic) and not _is_text(elem):
        if elem.dtype.kind in "OSU":
            raise TypeError(_ERROR.format(elem.dtype))
        return from_numpy(np.stack(batch) if isinstance(elem, np.ndarray) else np.array(batch))
    if isinstance(elem, bool):
        return tensor(list(batch))
    if isinstance(elem, numbers.Integral):
        return tensor(list(batch), dtype=int64)
    if isinstance(elem, numbers.Real):
        return tensor(list(batch), dtype=float64)
    if _is_text(elem):
        return batch          # as given: a list at the top, a tuple inside a transposed field
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:        # a mapping type that cannot be built from a dict
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):     # a namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        # torch returns a list for a tuple sample too, so `X, y = batch` unpacks either
        return [default_collate(field) for field in zip(*batch)]
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """Without batching (batch_size=None): numpy arrays become tensors, the rest stays."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSU":
        return from_numpy(data)
    if isinstance(data, np.generic) and data.dtype.kind not in "OSU":
        return from_numpy(np.array(data))
    if isinstance(data, collections.abc.Mapping):
        return type(data)({key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not _is_text(data):
        return [default_convert(d) for d in data]
    return data
