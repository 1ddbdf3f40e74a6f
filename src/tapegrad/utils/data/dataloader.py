"""torch.utils.data.DataLoader: iterates a dataset in batches.

A map-style dataset is visited in a sampler's order (sequential, or shuffled
afresh on every pass), the indices are grouped by a batch sampler, and each
group's samples are collated into one batch. An iterable dataset is read in
order and cut into batches. Loading runs in the calling process; num_workers > 0
is refused rather than ignored.
"""
import itertools
import warnings

from tapegrad.utils.data.collate import default_collate, default_convert
from tapegrad.utils.data.dataset import Dataset, IterableDataset
from tapegrad.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler


def get_worker_info():
    """Information about the worker process loading data: None in the main process,
    which is where tapegrad always loads."""
    return None


class DataLoader:
    """torch's DataLoader: batches of a dataset, shuffled or sampled, in this process.

    Parameters
    ----------
    dataset : Dataset or IterableDataset
        What to load: indexed by a sampler, or (an iterable one) read in order.
    batch_size : int or None, default 1
        Samples per batch; None loads them one by one, not collated into batches.
    shuffle : bool, optional
        A fresh random order on every pass (a RandomSampler drawing from generator).
    sampler, batch_sampler : Sampler, optional
        The order of indices, or of lists of indices (the latter excludes batch_size,
        shuffle, sampler and drop_last, as torch).
    collate_fn : callable, optional
        Turns a list of samples into a batch; default_collate (default_convert without
        batching) unless given.
    drop_last : bool, default False
        Drop the last batch where it is short.
    generator : numpy.random.Generator, optional
        Where shuffling draws from; tapegrad's global one where None.

    Notes
    -----
    num_workers, pin_memory, timeout, worker_init_fn, multiprocessing_context,
    prefetch_factor and persistent_workers are torch's multiprocessing options, taken for
    its signature. Loading always runs in the calling process: num_workers > 0 (and
    prefetch_factor, persistent_workers) raise ValueError rather than being ignored;
    pin_memory warns as torch's does without an accelerator.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if num_workers > 0:
            raise ValueError(f"num_workers={num_workers}: tapegrad's DataLoader loads in the "
                             "main process only, it has no worker processes; use num_workers=0")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if persistent_workers:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", UserWarning, stacklevel=2)

        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value}")
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.batch_size = batch_size
        self.drop_last = drop_last
        self._auto_collation = batch_sampler is not None or (self._iterable and
                                                             batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        # a dataset that batches itself (TensorDataset, and Subsets of it) skips the
        # per-sample fetch when the result would be default_collate's anyway
        self._self_batching = collate_fn is default_collate and isinstance(dataset, Dataset)

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self._auto_collation else self.sampler)

    def __iter__(self):
        if self._iterable:
            return self._iter_stream()
        if not self._auto_collation:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return self._iter_batches()

    def _iter_batches(self):
        dataset, collate = self.dataset, self.collate_fn
        for indices in self.batch_sampler:
            batch = dataset._collated(indices) if self._self_batching else None
            if batch is None:
                batch = collate([dataset[i] for i in indices])
            yield batch

    def _iter_stream(self):
        samples = iter(self.dataset)
        if self.batch_size is None:
            for sample in samples:
                yield self.collate_fn(sample)
            return
        while True:
            batch = list(itertools.islice(samples, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)
