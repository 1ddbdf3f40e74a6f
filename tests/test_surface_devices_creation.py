"""Devices, the cuda/backends/accelerator answers, the default dtype and the creation
functions of issue 12, each against torch 2.13 (CPU build)."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


# ------------------------------------------------------------------ devices

@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:1",), ("cpu", 0), ("cuda", 2),
                                  ("mps",), ("meta",), ("cpu:0",)])
def test_device_construction_repr_str_and_index_as_torchs(args):
    ours, theirs = tg.device(*args), torch.device(*args)
    assert (repr(ours), str(ours), ours.type, ours.index) == \
        (repr(theirs), str(theirs), theirs.type, theirs.index)


def test_device_equality_and_hash_as_torchs():
    pairs = [(("cpu",), ("cpu", 0)), (("cuda", 1), ("cuda:1",)), (("cpu",), ("cpu",)),
             (("cuda",), ("cpu",))]
    for a, b in pairs:
        assert (tg.device(*a) == tg.device(*b)) == (torch.device(*a) == torch.device(*b))
    assert (tg.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")
    assert hash(tg.device("cuda", 1)) == hash(tg.device("cuda:1"))
    assert isinstance(tg.zeros(1).device, tg.device)
    assert tg.device(tg.device("cuda:1")) == tg.device("cuda:1")


@pytest.mark.parametrize("args", [("foo",), ("cuda:-1",), ("cuda:x",), ("cpu", -1), (1,)])
def test_bad_devices_raise_torchs_errors(args):
    with pytest.raises(Exception) as theirs:
        torch.device(*args)
    with pytest.raises(type(theirs.value)) as ours:
        tg.device(*args)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("move", [
    lambda lib: lib.zeros(2).to("cuda"),
    lambda lib: lib.zeros(2).to("cuda:0"),
    lambda lib: lib.zeros(2).to(lib.device("cuda")),
    lambda lib: lib.zeros(2).to(device="cuda"),
    lambda lib: lib.zeros(2).cuda(),
    lambda lib: lib.zeros(2, device="cuda"),
    lambda lib: lib.tensor([1.0], device="cuda"),
    lambda lib: lib.ones(2, 2, device=lib.device("cuda", 0)),
    lambda lib: lib.nn.Linear(2, 2).to("cuda"),
    lambda lib: lib.zeros(2).type("torch.cuda.FloatTensor"),
])
def test_moving_data_to_cuda_raises_torchs_error_type(move):
    with pytest.raises(Exception) as theirs:
        move(torch)
    with pytest.raises(type(theirs.value), match="not compiled with CUDA"):
        move(tg)


def test_moving_data_to_another_device_raises_runtime_error():
    with pytest.raises(RuntimeError):
        torch.zeros(1).to("mps")
    with pytest.raises(RuntimeError, match="only the cpu"):
        tg.zeros(1).to("mps")


def test_cpu_moves_are_the_tensor_itself():
    x = tg.zeros(2)
    assert x.to("cpu") is x and x.to(tg.device("cpu", 0)) is x and x.cpu() is x
    assert tg.zeros(2, device=tg.device("cpu")).device == tg.device("cpu")


def test_cuda_backends_and_accelerator_answer_as_torchs_cpu_build():
    assert tg.cuda.is_available() is torch.cuda.is_available() is False
    assert tg.cuda.device_count() == torch.cuda.device_count() == 0
    assert tg.cuda.manual_seed(0) is None and tg.cuda.manual_seed_all(0) is None
    assert tg.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert tg.backends.mps.is_built() is torch.backends.mps.is_built() is False
    assert tg.accelerator.is_available() is torch.accelerator.is_available() is False
    assert tg.accelerator.current_accelerator() is torch.accelerator.current_accelerator()


def test_load_refuses_a_cuda_map_location(tmp_path):
    path = tmp_path / "weights.pth"
    tg.save({"w": tg.ones(2)}, path)
    with pytest.raises(RuntimeError, match="CUDA"):        # torch's type for load
        tg.load(path, map_location=tg.device("cuda"))
    with pytest.raises(RuntimeError, match="CUDA"):
        tg.load(path, map_location="cuda:0")


def test_set_default_device_takes_the_cpu_only():
    tg.set_default_device("cpu")
    tg.set_default_device(None)
    tg.set_default_device(tg.device("cpu"))
    with pytest.raises(AssertionError, match="CUDA"):
        tg.set_default_device("cuda")


# ------------------------------------------------------------ default dtype

@pytest.fixture
def float64_default():
    tg.set_default_dtype(tg.float64)
    torch.set_default_dtype(torch.float64)
    yield
    tg.set_default_dtype(tg.float32)
    torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([1.5]), lambda lib: lib.zeros(2), lambda lib: lib.ones(2),
    lambda lib: lib.rand(2), lambda lib: lib.randn(2), lambda lib: lib.empty(2),
    lambda lib: lib.full((2,), 1.5), lambda lib: lib.arange(0.0, 1.0, 0.5),
    lambda lib: lib.linspace(0, 1, 3), lambda lib: lib.logspace(0, 1, 3),
    lambda lib: lib.eye(2), lambda lib: lib.normal(0.0, 1.0, (2,)),
    lambda lib: lib.tensor([1, 2]).exp(), lambda lib: lib.tensor([1, 2]) / 2,
    lambda lib: lib.tensor([1, 2]) * 1.5, lambda lib: lib.Tensor(2),
    lambda lib: lib.tensor([1, 2]), lambda lib: lib.tensor([True]),
])
def test_default_dtype_decides_float_results_as_torchs(make, float64_default):
    assert tg.get_default_dtype() == tg.float64
    assert str(make(tg).dtype) == str(make(torch).dtype).replace("torch.", "")


def test_default_dtype_changes_the_repr_suffix(float64_default):
    assert repr(tg.tensor([1.5])) == repr(torch.tensor([1.5]))
    assert repr(tg.tensor([1.5], dtype=tg.float32)) == \
        repr(torch.tensor([1.5], dtype=torch.float32)).replace("torch.", "tapegrad.")


@pytest.mark.parametrize("dtype", ["int64", "bool", "int32"])
def test_set_default_dtype_refuses_non_floats_as_torch(dtype):
    with pytest.raises(TypeError) as theirs:
        torch.set_default_dtype(getattr(torch, dtype))
    with pytest.raises(TypeError) as ours:
        tg.set_default_dtype(getattr(tg, dtype if dtype != "bool" else "bool_"))
    assert str(ours.value) == str(theirs.value)
    assert tg.get_default_dtype() == tg.float32


# ------------------------------------------------------------------ creation

def _same(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda lib: lib.logspace(0, 2, 3), lambda lib: lib.logspace(0, 2, 3, base=2),
    lambda lib: lib.logspace(-1, 1, 5, dtype=lib.float64), lambda lib: lib.logspace(0, 1, 0),
    lambda lib: lib.logspace(0, 3, 1),
    lambda lib: lib.full((2, 3), 1.5), lambda lib: lib.full((2,), 7),
    lambda lib: lib.full([2], True),
    lambda lib: lib.full((), 0.3, dtype=lib.float64),
    lambda lib: lib.full((2,), 2, dtype=lib.float32),
    lambda lib: lib.full_like(lib.zeros(2, dtype=lib.int64), 2.7),
    lambda lib: lib.full_like(lib.zeros(2, 2), 3),
    lambda lib: lib.full_like(lib.zeros(2), 1, dtype=lib.int64),
    lambda lib: lib.empty(2, 3).zero_(), lambda lib: lib.empty((2, 3), dtype=lib.int64).zero_(),
    lambda lib: lib.empty_like(lib.zeros(2, dtype=lib.int64)).zero_(),
])
def test_deterministic_creation_as_torchs(make):
    _same(make(tg), make(torch))


@pytest.mark.parametrize("make", [
    lambda lib: lib.full(2, 1), lambda lib: lib.full((2,), "a"),
    lambda lib: lib.randint(5, 5, (3,)), lambda lib: lib.randint(3, 10),
    lambda lib: lib.randperm(-1), lambda lib: lib.normal(0.0, -1.0, (2,)),
    lambda lib: lib.normal(0.0, 1.0),
])
def test_bad_creation_raises_torchs_error_type(make):
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)):
        make(tg)


def test_randint_ranges_shapes_and_dtypes():
    tg.manual_seed(0)
    x = tg.randint(10, (1000,))
    assert x.dtype == tg.int64 and x.shape == (1000,)
    assert x.min().item() == 0 and x.max().item() == 9
    y = tg.randint(-3, 3, (4, 250))
    assert y.shape == (4, 250) and y.min().item() == -3 and y.max().item() == 2
    assert tg.randint(low=0, high=2, size=(3,)).shape == \
        torch.randint(low=0, high=2, size=(3,)).shape
    assert tg.randint(5, (2,), dtype=tg.float32).dtype == tg.float32


def test_randperm_is_a_permutation():
    tg.manual_seed(1)
    p = tg.randperm(50)
    assert p.dtype == tg.int64
    assert sorted(p.tolist()) == list(range(50)) and p.tolist() != list(range(50))
    assert tg.randperm(0).shape == (0,)


def test_normal_forms_shapes_and_moments():
    tg.manual_seed(2)
    assert tg.normal(0.0, 1.0, (2, 3)).shape == (2, 3)
    assert tg.normal(tg.zeros(3), 1.0).shape == (3,)
    assert tg.normal(0.0, tg.ones(2, 2)).shape == (2, 2)
    draw = tg.normal(tg.full((20000,), 3.0), tg.full((20000,), 2.0))
    assert abs(draw.mean().item() - 3.0) < 0.05
    assert abs(float(np.std(draw.numpy())) - 2.0) < 0.05
    assert tg.normal(tg.zeros(2, dtype=tg.float64), 1.0).dtype == tg.float64


def test_generator_argument_gives_reproducible_draws():
    for make in (lambda g: tg.rand(3, generator=g), lambda g: tg.randn(3, generator=g),
                 lambda g: tg.randint(9, (3,), generator=g),
                 lambda g: tg.randperm(5, generator=g),
                 lambda g: tg.normal(0.0, 1.0, (3,), generator=g)):
        first = make(np.random.default_rng(7))
        again = make(np.random.default_rng(7))
        assert first.tolist() == again.tolist()
    with pytest.raises(TypeError, match="generator"):
        tg.rand(2, generator=7)
