"""The Tensor's autograd API, PyTorch's conventions, the seed programs and bad input."""
import subprocess
import sys

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import Function

# ------------------------------------------------------------------- seeds

SEED_001 = """
import torch

device = torch.device('cpu')
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]


w = torch.Tensor([1.0], device = device)
w.requires_grad_(True)

def forward(x):
    return x * w

def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) * (y_pred - y)

print('predict (BT)', 4, forward(4).data[0])

for epoch in range(20):
    for x_val, y_val in zip(x_data, y_data):
        l = loss(x_val, y_val)
        l.backward()
        print('\\tgrad: ', x_val, y_val, w.grad.data[0])
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()

    print('progress:', epoch, l.data[0])
print('predict (AT)', 4, forward(4).data[0])
"""

# the gists of seed 003, as the post describes them
SEED_003 = """
import torch
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9*a**2 == a.grad)
print(-2*b == b.grad)
"""


def run_as_torch(program, module):
    """Runs a torch program with `import torch` bound to module; its stdout."""
    code = program.replace("import torch", f"import {module} as torch")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    return result.stdout


def test_seed_001_training_loop_runs_unchanged():
    out = run_as_torch(SEED_001, "tapegrad")
    lines = out.splitlines()
    assert lines[0] == "predict (BT) 4 tensor(4.)"
    assert lines[1] == "\tgrad:  1.0 2.0 tensor(-2.)"
    assert lines[-1].startswith("predict (AT) 4 tensor(7.99")


def test_seed_001_prints_what_torch_prints():
    pytest.importorskip("torch")
    assert run_as_torch(SEED_001, "tapegrad") == run_as_torch(SEED_001, "torch")


def test_seed_003_external_gradient():
    out = run_as_torch(SEED_003, "tapegrad")
    assert out.splitlines() == ["tensor([True, True])", "tensor([True, True])"]


def test_seed_003_prints_what_torch_prints():
    pytest.importorskip("torch")
    assert run_as_torch(SEED_003, "tapegrad") == run_as_torch(SEED_003, "torch")


# ------------------------------------------------------------------ creation

def test_dtypes_follow_torch():
    assert tg.tensor([1.0, 2.0]).dtype == np.float32
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.tensor([True]).dtype == np.bool_
    assert tg.tensor([1.0], dtype=tg.float64).dtype == np.float64
    assert tg.Tensor([1, 2]).dtype == np.float32
    assert tg.zeros(2, 3).shape == (2, 3) and tg.ones((2,)).dtype == np.float32
    assert tg.arange(5).dtype == np.int64 and tg.arange(0, 1, 0.25).shape == (4,)
    assert tg.full((2,), 7).dtype == np.int64
    assert tg.eye(3).numpy().trace() == 3
    assert tg.linspace(0, 1, 5).tolist() == pytest.approx([0, .25, .5, .75, 1])


def test_random_tensors_follow_manual_seed():
    tg.manual_seed(3)
    a, b = tg.rand(4), tg.randn(2, 2)
    tg.manual_seed(3)
    assert a.equal(tg.rand(4)) and b.equal(tg.randn(2, 2))
    assert 0 <= a.min().item() and a.max().item() < 1


def test_from_numpy_and_numpy_share_memory():
    arr = np.zeros(3, dtype=np.float32)
    t = tg.from_numpy(arr)
    t.add_(1)
    assert arr.tolist() == [1, 1, 1]
    assert t.numpy() is arr
    t.numpy()[0] = 5
    assert t[0].item() == 5


def test_metadata():
    t = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.ndim == 2 and t.dim() == 2 and t.numel() == 6 and len(t) == 2
    assert t.T.shape == (3, 2) and t.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert t[1, 2].item() == 6.0 and isinstance(t.sum().item(), float)
    assert repr(t.shape) == "tapegrad.Size([2, 3])"
    assert str(t.device) == "cpu"
    assert t.to(tg.float64).dtype == np.float64 and t.double().dtype == np.float64


def test_repr_reads_like_torch():
    x = tg.tensor([2.0, 3.0], requires_grad=True)
    assert repr(x) == "tensor([2., 3.], requires_grad=True)"
    assert repr(x * 2) == "tensor([4., 6.], grad_fn=<MulBackward0>)"
    assert repr(tg.tensor(7.3159)) == "tensor(7.3159)"
    assert repr(tg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tg.tensor([1.5], dtype=tg.float64)) == "tensor([1.5000], dtype=tapegrad.float64)"


def test_reprs_match_torch():
    torch = pytest.importorskip("torch")
    for values in ([2.0, 3.0], [-12.0, 65.0], [1.5, 2.25], [1e-5, 3.0], [[1.0, 2.0], [3.5, 4.0]],
                   7.5804e-05, [[True, False]], [[1, -20], [300, 4]]):
        ours = repr(tg.tensor(values))
        theirs = repr(torch.tensor(values))
        assert ours == theirs


# ------------------------------------------------------------------ autograd

def test_leaves_grad_fn_and_requires_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    assert x.is_leaf and not y.is_leaf
    assert x.grad_fn is None and y.grad_fn.name() == "MulBackward0"
    assert y.requires_grad
    z = tg.tensor([1.0]).requires_grad_()
    assert z.requires_grad and z.is_leaf
    assert [type(f).__name__ for f, _ in y.grad_fn.next_functions] == ["AccumulateGrad", "NoneType"]


def test_grad_accumulates_into_leaves_only_unless_retained():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    z = y.sum()
    y.retain_grad()
    z.backward()
    assert x.grad.tolist() == [2.0, 4.0]
    assert y.grad.tolist() == [1.0, 1.0]
    w = x * 3
    (w * 2).sum().backward()
    assert w.grad is None
    assert x.grad.tolist() == [8.0, 10.0]


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    message = "grad can be implicitly created only for scalar outputs"
    with pytest.raises(RuntimeError, match=message):
        (x * 2).backward()
    (x * 2).backward(gradient=tg.tensor([1.0, 0.5]))
    assert x.grad.tolist() == [2.0, 1.0]
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(gradient=tg.tensor([1.0]))


def test_a_second_backward_through_a_freed_graph_is_refused():
    x = tg.tensor(2.0, requires_grad=True)
    y = x.exp() * x
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    z = x.exp() * x
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad.item() == pytest.approx(3 * (2 * np.exp(2) + np.exp(2)), rel=1e-6)


def test_backward_needs_a_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.tensor([1.0]).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.tensor([1, 2]).sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.arange(3).requires_grad_()


def test_no_grad_as_context_and_decorator_and_enable_grad():
    x = tg.tensor([1.0], requires_grad=True)
    with tg.no_grad():
        y = x * 2
        with tg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad

    @tg.no_grad()
    def doubled(t):
        return t * 2
    assert not doubled(x).requires_grad
    assert tg.is_grad_enabled()


def test_detach_and_data_share_storage_and_track_no_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 10.0
    assert x[0].item() == 10.0
    x.data.mul_(2)
    assert x.tolist() == [20.0, 4.0] and x.requires_grad


def test_autograd_grad_returns_instead_of_accumulating():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = tg.autograd.grad(y, (x, w))
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None
    h = x * 2
    (gh,) = tg.autograd.grad((h * h).sum(), [h])
    assert gh.tolist() == [4.0, 8.0]
    unused = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not have been used"):
        tg.autograd.grad((x * 2).sum(), [unused])
    assert tg.autograd.grad((x * 2).sum(), [unused], allow_unused=True) == (None,)


def test_custom_function_with_saved_tensors():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    (y * 2).sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]


def test_in_place_ops_and_the_version_counter():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y * y                 # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    b.mul_(3)                 # in place on a non-leaf: recorded
    b.sub_(1).add_(2)
    b.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        a.add_(1)
    with tg.no_grad():
        a.sub_(a.grad * 0.1)
    assert a.tolist() == pytest.approx([0.7, 1.7])
    c = tg.zeros(3)
    c.fill_(2.0)
    c.copy_(tg.tensor([1.0, 2.0, 3.0]))
    c.zero_()
    assert c.tolist() == [0, 0, 0]


def test_comparisons_return_bool_tensors_without_grad():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert result.dtype == np.bool_ and not result.requires_grad
    assert (x > 1.5).tolist() == [False, True, True]


# ------------------------------------------------------------------ bad input

def test_a_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"\(2, 3\).*\(4,\)"):
        tg.ones(2, 3) + tg.ones(4)
    # matmul names them as torch does (its wording is checked in test_products.py)
    with pytest.raises(RuntimeError, match=r"\(2x3 and 2x3\)"):
        tg.ones(2, 3) @ tg.ones(2, 3)
    with pytest.raises(RuntimeError, match="invalid for input of size 6"):
        tg.ones(2, 3).reshape(4, 2)


def test_dtype_promotion_follows_torch():
    f32, f64, i64 = tg.ones(2), tg.ones(2, dtype=tg.float64), tg.tensor([1, 2])
    assert (f32 + f64).dtype == np.float64
    assert (i64 + f32).dtype == np.float32
    assert (i64 * 2.5).dtype == np.float32
    assert (f32 * 2).dtype == np.float32
    assert (i64 / 2).dtype == np.float32
    assert (i64 + 2).dtype == np.int64
    with pytest.raises(RuntimeError, match="can't be cast"):
        i64.add_(1.5)


def test_an_index_out_of_range_is_an_index_error():
    t = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(IndexError):
        t[3]
    with pytest.raises(IndexError):
        t[tg.tensor([0, 5])]
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.sum(dim=2)


def test_other_bad_input_is_typed_and_clear():
    with pytest.raises(TypeError, match="cannot make a tensor"):
        tg.tensor(["a", "b"])
    with pytest.raises(TypeError):
        tg.ones(2) + "a"
    with pytest.raises(AssertionError, match="not compiled with CUDA"):   # torch's type
        tg.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="numpy\\(\\) on Tensor that requires grad"):
        tg.ones(2, requires_grad=True).numpy()
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        tg.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tg.ones(2))
    with pytest.raises(RuntimeError, match="only supports 0-dimension"):
        tg.ones(2).fill_(tg.ones(2))
    with pytest.raises(RuntimeError, match="device string: nonsense"):   # as torch
        tg.ones(2).to("nonsense")
