"""torch.utils.data's datasets: map-style Dataset, IterableDataset, TensorDataset,
Subset, ConcatDataset, and random_split."""
import bisect
import itertools
import math
import warnings

import numpy as np

from tapegrad._tensor import Tensor
from tapegrad.creation import from_numpy
from tapegrad.utils.data._random import rng


class Dataset:
    """A map-style dataset: subclasses give __getitem__(index) and usually __len__."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])

    def _collated(self, indices):
        """The default collate of these samples, made faster than sample by sample; or None
        when this dataset has no faster way (the loader then fetches one by one)."""
        return None


class IterableDataset(Dataset):
    """A stream of samples: subclasses give __iter__."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        raise TypeError("IterableDataset cannot be concatenated with +")


class TensorDataset(Dataset):
    """Sample i is (t[i] for each tensor t); all tensors share their first dimension."""

    def __init__(self, *tensors):
        if not all(isinstance(t, Tensor) for t in tensors):
            raise TypeError("TensorDataset takes tensors")
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _collated(self, indices):
        # one gather per tensor instead of len(indices) views and a stack; a tensor that
        # requires grad takes the ordinary path so that the batch stays in its graph, and
        # so does a subclass with its own __getitem__
        if type(self).__getitem__ is not TensorDataset.__getitem__ or \
                any(t.requires_grad for t in self.tensors):
            return None
        rows = np.asarray(indices, dtype=np.intp)
        return [from_numpy(t.numpy()[rows]) for t in self.tensors]


class Subset(Dataset):
    """The samples of dataset at the given indices, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)

    def _collated(self, indices):
        if type(self).__getitem__ is not Subset.__getitem__ or \
                not isinstance(self.dataset, Dataset):
            return None
        return self.dataset._collated([self.indices[i] for i in indices])


class ConcatDataset(Dataset):
    """The samples of several map-style datasets, one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def _split_lengths(lengths, total):
    """Turns fractions summing to 1 into counts, the remainder going round robin."""
    if not (math.isclose(sum(lengths), 1) and sum(lengths) <= 1):
        return list(lengths)
    for i, fraction in enumerate(lengths):
        if not 0 <= fraction <= 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
    counts = [int(math.floor(total * fraction)) for fraction in lengths]
    for i in range(total - sum(counts)):
        counts[i % len(counts)] += 1
    for i, count in enumerate(counts):
        if count == 0:
            warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                          "dataset.", UserWarning, stacklevel=3)
    return counts


def random_split(dataset, lengths, generator=None):
    """Splits dataset into non-overlapping Subsets of the given lengths (or fractions)."""
    lengths = _split_lengths(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = rng(generator).permutation(sum(lengths)).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - n:end]) for end, n in zip(ends, lengths)]
