"""tapegrad.utils.data against torch.utils.data: the basics tutorial's loader,
default_collate's conversions, datasets, samplers, splits and the loader's options."""
import collections

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                                 RandomSampler, SequentialSampler, Subset,
                                 SubsetRandomSampler, TensorDataset, default_collate,
                                 random_split)

rng = np.random.default_rng(12)
IMAGES = rng.random((150, 28, 28), dtype=np.float32)       # FashionMNIST's shape
LABELS = rng.integers(0, 10, 150)


def as_numpy(batch):
    """A batch of either library as plain Python: (dtype name, array) for each tensor."""
    if hasattr(batch, "numpy") and hasattr(batch, "dtype"):
        return (str(batch.dtype).split(".")[-1], batch.detach().numpy())
    if isinstance(batch, dict):
        return {k: as_numpy(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch).__name__, [as_numpy(b) for b in batch]
    return batch


def assert_same_batches(ours, theirs):
    ours, theirs = as_numpy(ours), as_numpy(theirs)

    def compare(a, b):
        assert type(a) is type(b)
        if isinstance(a, dict):
            assert a.keys() == b.keys()
            for k in a:
                compare(a[k], b[k])
        elif isinstance(a, tuple) and len(a) == 2 and isinstance(a[1], np.ndarray):
            assert a[0] == b[0] and a[1].shape == b[1].shape
            np.testing.assert_array_equal(a[1], b[1])
        elif isinstance(a, (list, tuple)):
            assert len(a) == len(b)
            for x, y in zip(a, b):
                compare(x, y)
        else:
            assert a == b
    compare(ours, theirs)


def image_dataset(lib):
    """The basics tutorial's custom Dataset, on numpy data instead of image files."""
    class CustomImageDataset(lib.utils.data.Dataset):
        def __init__(self, images, labels, transform=None):
            self.images, self.labels, self.transform = images, labels, transform

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, idx):
            image = lib.from_numpy(self.images[idx]).unsqueeze(0)   # as ToTensor: 1x28x28
            if self.transform:
                image = self.transform(image)
            return image, int(self.labels[idx])
    return CustomImageDataset(IMAGES, LABELS)


def test_the_basics_tutorials_loader_gives_torchs_batches():
    torch = pytest.importorskip("torch")
    ours = DataLoader(image_dataset(tg), batch_size=64, shuffle=False)
    theirs = torch.utils.data.DataLoader(image_dataset(torch), batch_size=64, shuffle=False)
    assert len(ours) == len(theirs) == 3
    batches = 0
    for (X, y), (tX, ty) in zip(ours, theirs):
        assert tuple(X.shape) == tuple(tX.shape) and X.dtype == tg.float32
        assert y.dtype == tg.int64 and ty.dtype == torch.int64
        assert_same_batches([X, y], [tX, ty])
        batches += 1
    assert batches == 3


def test_shuffled_batches_cover_the_data_once_per_epoch_and_follow_manual_seed():
    torch = pytest.importorskip("torch")
    dataset = image_dataset(tg)
    tg.manual_seed(5)
    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    epochs = []
    for _ in range(2):                         # a loader iterates any number of times
        seen = []
        for X, y in loader:
            assert tuple(X.shape[1:]) == (1, 28, 28) and X.shape[0] == y.shape[0]
            seen += y.tolist()
            # each image still sits with its own label
            rows = [int(np.flatnonzero((IMAGES == X.numpy()[i, 0]).all(axis=(1, 2)))[0])
                    for i in range(X.shape[0])]
            assert LABELS[rows].tolist() == y.tolist()
            epochs.append(rows)
        assert sorted(seen) == sorted(LABELS.tolist())
    assert epochs[0] != epochs[3]
    tg.manual_seed(5)
    assert [row for X, y in loader for row in y.tolist()][:64] == LABELS[epochs[0]].tolist()
    theirs = torch.utils.data.DataLoader(image_dataset(torch), batch_size=64, shuffle=True)
    assert [tuple(X.shape) for X, _ in loader] == [tuple(X.shape) for X, _ in theirs]


@pytest.mark.parametrize("batch_size,drop_last", [(64, False), (64, True), (1, False),
                                                  (150, False), (7, True)])
def test_tensor_dataset_batches_equal_torchs(batch_size, drop_last):
    torch = pytest.importorskip("torch")
    ours = DataLoader(TensorDataset(tg.from_numpy(IMAGES.reshape(150, -1)), tg.tensor(LABELS)),
                      batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(IMAGES.reshape(150, -1)),
                                       torch.tensor(LABELS)),
        batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert_same_batches(list(ours), list(theirs))


def test_the_tensor_dataset_fast_path_equals_sample_by_sample_collation():
    data = TensorDataset(tg.from_numpy(IMAGES[:20]), tg.tensor(LABELS[:20]))

    class Plain(TensorDataset):            # its own __getitem__: the one-by-one path
        def __getitem__(self, index):
            return tuple(t[index] for t in self.tensors)

    plain = Plain(*data.tensors)
    for dataset in (data, Subset(data, [3, 1, 4, 15, 9, 2, 6])):
        indices = [0, 5, 2, 2, 6]
        fast = DataLoader(dataset, batch_sampler=[indices])
        slow = DataLoader(Subset(plain, dataset.indices) if isinstance(dataset, Subset)
                          else plain, batch_sampler=[indices])
        assert_same_batches(list(fast), list(slow))
    weights = tg.ones(4, 3, requires_grad=True)
    (batch,) = DataLoader(TensorDataset(weights * 2), batch_size=4)
    batch[0].sum().backward()                  # the batch stays in the graph
    assert weights.grad.tolist() == [[2.0] * 3] * 4


Point = collections.namedtuple("Point", "x y")
COLLATE_CASES = {
    "tensors": lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
    "int_tensors": lambda lib: [lib.tensor(3), lib.tensor(4)],
    "arrays": lambda lib: [np.ones((2, 2), np.float32), np.zeros((2, 2), np.float32)],
    "array_f64": lambda lib: [np.arange(3.0), np.arange(3.0) + 1],
    "numpy_scalars": lambda lib: [np.float64(1.5), np.float64(2.5)],
    "numpy_ints": lambda lib: [np.int32(1), np.int32(2)],
    "ints": lambda lib: [1, 2, 3],
    "floats": lambda lib: [0.5, 1.5],
    "bools": lambda lib: [True, False],
    "strings": lambda lib: ["a", "bc"],
    "tuples": lambda lib: [(lib.tensor([1.0]), 0), (lib.tensor([2.0]), 1)],
    "lists": lambda lib: [[1, 2.0], [3, 4.0]],
    "dicts": lambda lib: [{"x": np.ones(2), "y": 1, "name": "a"},
                          {"x": np.zeros(2), "y": 2, "name": "b"}],
    "nested": lambda lib: [{"pair": (1, [0.5, "s"])}, {"pair": (2, [1.5, "t"])}],
    "namedtuples": lambda lib: [Point(1, 2.0), Point(3, 4.0)],
}


@pytest.mark.parametrize("case", COLLATE_CASES)
def test_default_collate_converts_as_torchs(case):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    ours = default_collate(COLLATE_CASES[case](tg))
    theirs = torch_collate(COLLATE_CASES[case](torch))
    if case == "namedtuples":
        assert type(ours) is type(theirs) is Point
    assert_same_batches(ours, theirs)


def test_default_collate_refuses_what_torch_refuses():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    for bad, error in (([None, None], TypeError), ([np.array(["a"]), np.array(["b"])], TypeError),
                       ([[1, 2], [3]], RuntimeError)):
        with pytest.raises(error) as theirs:
            torch_collate(bad)
        with pytest.raises(error) as ours:
            default_collate(bad)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([tg.ones(2), tg.ones(3)])


def test_random_split_lengths_fractions_and_generator():
    torch = pytest.importorskip("torch")
    data = list(range(10))
    for lengths in ([3, 7], [0.3, 0.7], [0.25, 0.25, 0.5], [1 / 3] * 3, [0.5, 0.5, 0.0]):
        with pytest.warns(UserWarning, match="at index 2 is 0") if 0.0 in lengths else \
                _no_warning():
            ours = random_split(data, lengths, generator=np.random.default_rng(0))
        with pytest.warns(UserWarning) if 0.0 in lengths else _no_warning():
            theirs = torch.utils.data.random_split(data, lengths)
        assert [len(s) for s in ours] == [len(s) for s in theirs]
        assert sorted(i for s in ours for i in s) == data
    again = random_split(data, [0.5, 0.5], generator=np.random.default_rng(0))
    assert list(again[0]) == list(random_split(data, [5, 5], generator=np.random.default_rng(0))[0])
    for lib in (tg, torch):
        with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
            lib.utils.data.random_split(data, [3, 3])
        with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
            lib.utils.data.random_split(data, [1.5, -0.5])


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_datasets_subset_concat_and_tensor_dataset_size_check():
    a = TensorDataset(tg.arange(5), tg.arange(5) * 10)
    assert len(a) == 5 and [int(t) for t in a[2]] == [2, 20]
    sub = Subset(a, [4, 0])
    assert len(sub) == 2 and int(sub[0][1]) == 40
    both = a + sub
    assert isinstance(both, ConcatDataset) and len(both) == 7
    assert int(both[5][0]) == 4 and int(both[-1][0]) == 0
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(tg.ones(3), tg.ones(4))
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_samplers_match_torchs():
    torch = pytest.importorskip("torch")
    data = list(range(10))
    assert list(SequentialSampler(data)) == list(torch.utils.data.SequentialSampler(data))
    for drop_last in (False, True):
        ours = BatchSampler(SequentialSampler(data), 3, drop_last)
        theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(data), 3,
                                               drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    shuffled = list(RandomSampler(data, generator=np.random.default_rng(1)))
    assert sorted(shuffled) == data and shuffled != data
    assert shuffled == list(RandomSampler(data, generator=np.random.default_rng(1)))
    more = list(RandomSampler(data, num_samples=25))
    assert len(more) == 25 and sorted(more[:10]) == data and sorted(more[10:20]) == data
    drawn = list(RandomSampler(data, replacement=True, num_samples=200))
    assert len(drawn) == 200 and set(drawn) == set(data)       # repeats, all reached
    assert sorted(SubsetRandomSampler([2, 4, 6])) == [2, 4, 6]
    for lib in (tg, torch):
        u = lib.utils.data
        with pytest.raises(TypeError, match="replacement should be a boolean value"):
            u.RandomSampler(data, replacement=1)
        with pytest.raises(ValueError, match="num_samples should be a positive integer"):
            u.RandomSampler(data, num_samples=0)
        with pytest.raises(ValueError, match="batch_size should be a positive integer"):
            u.BatchSampler(data, 0, False)
        with pytest.raises(ValueError, match="drop_last should be a boolean value"):
            u.BatchSampler(data, 2, 1)


def stream(lib, n):
    class Numbers(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter(np.arange(n, dtype=np.float64))

        def __len__(self):
            return n
    return Numbers()


@pytest.mark.parametrize("batch_size,drop_last", [(4, False), (4, True), (None, False)])
def test_iterable_datasets_batch_as_torchs(batch_size, drop_last):
    torch = pytest.importorskip("torch")
    ours = DataLoader(stream(tg, 10), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(stream(torch, 10), batch_size=batch_size,
                                         drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert_same_batches(list(ours), list(theirs))
    assert_same_batches(list(ours), list(theirs))      # twice


def test_sampler_batch_sampler_collate_fn_and_unbatched_loading_as_torchs():
    torch = pytest.importorskip("torch")
    for options in (dict(sampler=[9, 3, 3, 0], batch_size=2),
                    dict(batch_sampler=[[1, 2], [8], [0, 0, 0]]),
                    dict(batch_size=None), dict(batch_size=None, sampler=[4, 1]),
                    dict(batch_size=3, collate_fn=lambda batch: batch),
                    dict(batch_size=4, drop_last=True)):
        def load(lib):
            d = lib.utils.data
            dataset = d.TensorDataset(lib.from_numpy(IMAGES[:10]), lib.tensor(LABELS[:10]))
            return list(d.DataLoader(dataset, **options))
        assert_same_batches(load(tg), load(torch))


BAD_LOADERS = [
    dict(num_workers=-1), dict(shuffle=True, sampler=[0]), dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
    dict(timeout=-1), dict(persistent_workers=True), dict(prefetch_factor=2),
]


@pytest.mark.parametrize("options", BAD_LOADERS, ids=[str(o) for o in BAD_LOADERS])
def test_bad_loader_options_raise_torchs_errors(options):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as theirs:
        torch.utils.data.DataLoader(list(range(4)), **options)
    with pytest.raises(ValueError) as ours:
        DataLoader(list(range(4)), **options)
    assert str(ours.value) == str(theirs.value)


def test_iterable_dataset_refuses_shuffle_and_workers_are_refused_clearly():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        with pytest.raises(ValueError, match="expected unspecified shuffle option"):
            lib.utils.data.DataLoader(stream(lib, 3), shuffle=True)
    with pytest.raises(ValueError, match="num_workers=2.*main process.*num_workers=0"):
        DataLoader(list(range(4)), num_workers=2)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        list(RandomSampler([1, 2], generator=42))
    assert tg.utils.data.get_worker_info() is None


def run_optimization_tutorial(lib, weights, epochs=2):
    """The basics series' optimization tutorial (train_loop and test_loop), on numpy
    FashionMNIST-shaped data; returns the lines it prints."""
    nn_, printed = lib.nn, []
    training = image_dataset(lib)
    test_data = lib.utils.data.Subset(image_dataset(lib), range(100, 150))
    train_dataloader = lib.utils.data.DataLoader(training, batch_size=16)
    test_dataloader = lib.utils.data.DataLoader(test_data, batch_size=16)

    class NeuralNetwork(nn_.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn_.Flatten()
            self.linear_relu_stack = nn_.Sequential(nn_.Linear(28 * 28, 32), nn_.ReLU(),
                                                    nn_.Linear(32, 32), nn_.ReLU(),
                                                    nn_.Linear(32, 10))

        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))

    model = NeuralNetwork()
    model.load_state_dict({k: lib.from_numpy(v) for k, v in weights.items()})
    loss_fn = nn_.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.5, momentum=0.5)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

    def train_loop(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if batch % 4 == 0:
                loss, current = loss.item(), batch * 16 + len(X)
                printed.append(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")

    def test_loop(dataloader, model, loss_fn):
        model.eval()
        size, num_batches = len(dataloader.dataset), len(dataloader)
        test_loss, correct = 0, 0
        with lib.no_grad():
            for X, y in dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(lib.float).sum().item()
        test_loss /= num_batches
        correct /= size
        printed.append(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, "
                       f"Avg loss: {test_loss:>8f} \n")

    for t in range(epochs):
        printed.append(f"Epoch {t+1}\n-------------------------------")
        train_loop(train_dataloader, model, loss_fn, optimizer)
        test_loop(test_dataloader, model, loss_fn)
        scheduler.step()
    return printed


def test_the_optimization_tutorial_prints_torchs_numbers():
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    start = tg.nn.Sequential(tg.nn.Linear(784, 32), tg.nn.ReLU(), tg.nn.Linear(32, 32),
                             tg.nn.ReLU(), tg.nn.Linear(32, 10)).state_dict()
    weights = {f"linear_relu_stack.{k}": v for k, v in start.items()}
    ours, theirs = run_optimization_tutorial(tg, weights), run_optimization_tutorial(torch, weights)
    assert len(ours) == len(theirs) == 10
    for line, tline in zip(ours, theirs):
        numbers = [float(w.strip("%,[]")) for w in line.replace("/", " ").split()
                   if w.strip("%,[]").replace(".", "", 1).isdigit()]
        tnumbers = [float(w.strip("%,[]")) for w in tline.replace("/", " ").split()
                    if w.strip("%,[]").replace(".", "", 1).isdigit()]
        assert line.split()[0] == tline.split()[0]
        np.testing.assert_allclose(numbers, tnumbers, rtol=1e-4, atol=2e-6)   # float32
    assert ours[1] != ours[3]              # the loss moved
