"""torch.utils.data: datasets, samplers, and the DataLoader that batches them."""
from tapegrad.utils.data.collate import default_collate, default_convert
from tapegrad.utils.data.dataloader import DataLoader, get_worker_info
from tapegrad.utils.data.dataset import (ConcatDataset, Dataset, IterableDataset, Subset,
                                         TensorDataset, random_split)
from tapegrad.utils.data.sampler import (BatchSampler, RandomSampler, Sampler,
                                         SequentialSampler, SubsetRandomSampler)

__all__ = ["DataLoader", "Dataset", "IterableDataset", "TensorDataset", "Subset",
           "ConcatDataset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler", "default_collate", "default_convert",
           "get_worker_info"]
