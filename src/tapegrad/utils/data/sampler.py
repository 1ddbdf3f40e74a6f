"""torch.utils.data's samplers: the order in which a loader visits a dataset's indices."""
import numpy as np

from tapegrad.utils.data._random import rng


class Sampler:
    """Sampler(data_source=None): the base of the samplers, an iterable of dataset indices
    (or, for a batch sampler, of lists of them). data_source is accepted, as torch's, and
    not kept."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """SequentialSampler(data_source): 0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """RandomSampler(data_source, replacement=False, num_samples=None, generator=None): a
    fresh random order of data_source's indices on every pass; with replacement,
    independent draws. num_samples (default len(data_source)) is how many one pass
    yields; generator is a numpy Generator, or None for tapegrad's global one (which
    tapegrad.manual_seed seeds)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        """How many indices one pass yields: num_samples as given, else len(data_source)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, wanted, draw = len(self.data_source), self.num_samples, rng(self.generator)
        if self.replacement:
            return iter(draw.integers(0, n, size=wanted).tolist())
        rounds = [draw.permutation(n) for _ in range(-(-wanted // n))]
        return iter(np.concatenate(rounds)[:wanted].tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """SubsetRandomSampler(indices, generator=None): the given indices, in a fresh random
    order on every pass, drawn from generator as RandomSampler's."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        order = rng(self.generator).permutation(len(self.indices))
        return (self.indices[i] for i in order.tolist())

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """BatchSampler(sampler, batch_size, drop_last): groups another sampler's indices into
    lists of batch_size; the last, shorter list is dropped where drop_last is True."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
