"""tapegrad.save and tapegrad.load: exact paths, torch's load keywords, checkpoints
that resume training exactly, torch models reading our weights, and clear refusals."""
import io
import math
import zipfile

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import nn


def small_model():
    tg.manual_seed(3)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))


def test_a_state_dict_saved_to_model_pth_is_exactly_that_file_and_torch_reads_it(tmp_path):
    model = small_model()
    path = tmp_path / "model.pth"
    tg.save(model.state_dict(), str(path))
    assert [p.name for p in tmp_path.iterdir()] == ["model.pth"]
    state = tg.load(path, weights_only=True)
    assert state.keys() == model.state_dict().keys()
    assert np.load(path)["0.weight"].shape == (8, 4)            # numpy reads it by name
    again = small_model()
    for p in again.parameters():
        with tg.no_grad():
            p.zero_()
    again.load_state_dict(state)
    x = tg.randn(3, 4)
    assert np.array_equal(model(x).detach().numpy(), again(x).detach().numpy())
    torch = pytest.importorskip("torch")
    twin = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    np.testing.assert_allclose(model(x).detach().numpy(),
                               twin(torch.from_numpy(x.numpy())).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def train(model, opt, sched, steps):
    x, y = tg.from_numpy(np.linspace(-1, 1, 24).reshape(6, 4)), tg.tensor([0, 1, 1, 0, 1, 0])
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
    return loss


def test_a_general_checkpoint_resumes_training_exactly(tmp_path):
    model = small_model()
    opt = tg.optim.Adam(model.parameters(), lr=0.05)
    sched = tg.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    loss = train(model, opt, sched, 5)
    path = tmp_path / "checkpoint.tar"
    tg.save({"epoch": 5, "model_state_dict": model.state_dict(),
             "optimizer_state_dict": opt.state_dict(), "scheduler": sched.state_dict(),
             "loss": loss.detach()}, path)
    train(model, opt, sched, 5)

    checkpoint = tg.load(path, weights_only=True)
    resumed = small_model()
    resumed.load_state_dict(checkpoint["model_state_dict"])
    resumed_opt = tg.optim.Adam(resumed.parameters(), lr=0.05)
    resumed_opt.load_state_dict(checkpoint["optimizer_state_dict"])
    resumed_sched = tg.optim.lr_scheduler.StepLR(resumed_opt, step_size=3, gamma=0.5)
    resumed_sched.load_state_dict(checkpoint["scheduler"])
    assert checkpoint["epoch"] == 5 and float(checkpoint["loss"]) == float(loss)
    train(resumed, resumed_opt, resumed_sched, 5)
    for p, q in zip(model.parameters(), resumed.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
    assert resumed_sched.get_last_lr() == sched.get_last_lr()


def test_structures_kinds_and_dtypes_come_back_as_they_went():
    weight = tg.ones(2, 3, requires_grad=True)
    obj = {"w": weight, 3: (1, 2.5, None, "text", True), "nan": math.nan, "inf": -math.inf,
           "arrays": [np.arange(4, dtype=np.int32), np.array([True, False]),
                      np.float64(0.25)],
           "tensors": {"f64": tg.tensor([1.0], dtype=tg.float64), "i64": tg.tensor([5, 6])},
           "empty": {}}
    buffer = io.BytesIO()
    tg.save(obj, buffer)
    buffer.seek(0)
    back = tg.load(buffer)
    assert back.keys() == obj.keys()
    assert isinstance(back["w"], tg.Tensor) and back["w"].requires_grad
    assert back["w"].tolist() == weight.tolist()
    assert back[3] == (1, 2.5, None, "text", True) and math.isnan(back["nan"])
    assert back["inf"] == -math.inf and back["empty"] == {}
    ints, bools, scalar = back["arrays"]
    assert ints.dtype == np.int32 and ints.tolist() == [0, 1, 2, 3]
    assert bools.tolist() == [True, False] and scalar == 0.25
    assert back["tensors"]["f64"].dtype == tg.float64 and back["tensors"]["i64"].dtype == tg.int64


def test_plain_npz_files_load_as_dicts_of_arrays(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.ones(3), b=np.zeros((2, 2)))
    loaded = tg.load(path)
    assert sorted(loaded) == ["a", "b"] and loaded["a"].tolist() == [1.0, 1.0, 1.0]


def test_loads_keywords_are_torchs(tmp_path):
    path = tmp_path / "m.pth"
    tg.save(small_model().state_dict(), path)
    for location in (None, "cpu", tg.device("cpu")):
        assert tg.load(path, map_location=location, weights_only=False).keys() == \
               {"0.weight", "0.bias", "2.weight", "2.bias"}
    with pytest.raises(RuntimeError, match="cpu"):
        tg.load(path, map_location="cuda")
    with pytest.raises(TypeError, match="never unpickles"):
        import pickle
        tg.load(path, pickle_module=pickle)
    torch = pytest.importorskip("torch")
    assert tg.load(path, map_location=torch.device("cpu")).keys() == tg.load(path).keys()


def test_files_that_are_not_ours_are_refused_clearly(tmp_path):
    npy = tmp_path / "weights.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(RuntimeError, match=r"\.npy file \(one numpy array\).*numpy.load"):
        tg.load(npy)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"this is not a checkpoint")
    with pytest.raises(RuntimeError, match="not a file written by tapegrad.save"):
        tg.load(garbage)
    other_zip = tmp_path / "notes.zip"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(RuntimeError, match="not an .npz of arrays"):
        tg.load(other_zip)
    damaged = tmp_path / "damaged.pth"
    damaged.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(RuntimeError, match="damaged zip archive"):
        tg.load(damaged)
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, o=np.array([{"a": 1}], dtype=object))
    with pytest.raises(RuntimeError, match="needs pickle"):
        tg.load(pickled)
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "missing.pth")
    torch = pytest.importorskip("torch")
    torch_file = tmp_path / "torch.pth"
    torch.save({"w": torch.ones(2)}, torch_file)
    with pytest.raises(RuntimeError, match="written by torch.save, with pickle"):
        tg.load(torch_file)


def test_a_size_limit_refuses_an_archive_that_inflates_past_it(tmp_path):
    bomb = tmp_path / "bomb.npz"
    np.savez_compressed(bomb, zeros=np.zeros(2_000_000))     # 16 MB of zeros, tiny on disk
    assert bomb.stat().st_size < 100_000
    with pytest.raises(ValueError, match=r"inflates to \d+ bytes, past max_bytes=1000000"):
        tg.load(bomb, max_bytes=1_000_000)
    assert tg.load(bomb, max_bytes=20_000_000)["zeros"].shape == (2_000_000,)


def test_what_cannot_be_saved_without_pickle_is_refused():
    buffer = io.BytesIO()
    with pytest.raises(TypeError, match="state dict"):
        tg.save(small_model(), buffer)
    with pytest.raises(TypeError, match="cannot store a set"):
        tg.save({"s": {1, 2}}, buffer)
    with pytest.raises(TypeError, match="cannot store a function"):
        tg.save([lambda: 0], buffer)
    with pytest.raises(TypeError, match="object array"):
        tg.save({"o": np.array([None], dtype=object)}, buffer)
    with pytest.raises(ValueError, match="reserved"):
        tg.save({"__tapegrad__": 1}, buffer)
    assert buffer.getvalue() == b""
