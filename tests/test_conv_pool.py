"""Convolution and pooling: values and gradients against torch float64 and finite
differences (the op table's layout of test_tensor_gradients), the blitz's LeNet in
both libraries from the same weights, and torch's errors for bad shapes."""
import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as TF
from conftest import R, check_against_torch, op_case_tests, op_cases

# torch warns that its 'same' padding of an even kernel copies the input; ours always pads
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def conv(name, **options):
    return lambda lib, x, w, b: getattr(lib.nn.functional, name)(x, w, b, **options)


def conv_nobias(name, **options):
    return lambda lib, x, w: getattr(lib.nn.functional, name)(x, w, **options)


def pool(name, *args, **options):
    return lambda lib, x: getattr(lib.nn.functional, name)(x, *args, **options)


CASES = {
    "conv2d": (conv("conv2d"), [R(2, 3, 6, 5), R(4, 3, 3, 2), R(4)]),
    "conv2d_stride_padding": (conv("conv2d", stride=2, padding=1),
                              [R(2, 3, 6, 5), R(4, 3, 3, 3), R(4)]),
    "conv2d_same_even_kernel": (conv("conv2d", padding="same"),
                                [R(1, 2, 5, 5), R(3, 2, 2, 4), R(3)]),
    "conv2d_valid": (conv("conv2d", padding="valid"), [R(1, 2, 5, 5), R(3, 2, 3, 3), R(3)]),
    "conv2d_dilation_tuple_padding": (conv("conv2d", dilation=(2, 1), padding=(2, 1)),
                                      [R(2, 2, 6, 5), R(3, 2, 3, 2), R(3)]),
    "conv2d_groups": (conv("conv2d", groups=2, stride=(1, 2)),
                      [R(2, 4, 5, 6), R(6, 2, 2, 3), R(6)]),
    "conv2d_depthwise": (conv("conv2d", groups=3, padding=1), [R(1, 3, 4, 4), R(3, 1, 3, 3),
                                                               R(3)]),
    "conv2d_unbatched": (conv_nobias("conv2d"), [R(2, 5, 4), R(3, 2, 2, 2)]),
    "conv2d_no_bias": (conv_nobias("conv2d", stride=2), [R(2, 2, 5, 5), R(3, 2, 3, 3)]),
    "conv1d": (conv("conv1d", stride=2, padding=1), [R(2, 3, 9), R(4, 3, 3), R(4)]),
    "conv1d_same_dilation": (conv("conv1d", padding="same", dilation=2),
                             [R(2, 2, 7), R(2, 2, 4), R(2)]),
    "conv1d_groups_unbatched": (conv_nobias("conv1d", groups=2), [R(4, 6), R(2, 2, 3)]),
    "max_pool2d": (pool("max_pool2d", 2), [R(2, 3, 6, 4)]),
    "max_pool2d_stride_padding": (pool("max_pool2d", 3, 2, 1), [R(2, 2, 7, 6)]),
    "max_pool2d_ceil_mode": (pool("max_pool2d", (3, 2), 2, ceil_mode=True), [R(1, 2, 6, 7)]),
    "max_pool2d_dilation": (pool("max_pool2d", 2, 1, dilation=2), [R(1, 2, 5, 5)]),
    "max_pool2d_unbatched": (pool("max_pool2d", 2), [R(2, 4, 4)]),
    "max_pool1d": (pool("max_pool1d", 3, 2, 1), [R(2, 3, 8)]),
    "avg_pool2d": (pool("avg_pool2d", 2), [R(2, 3, 6, 4)]),
    "avg_pool2d_padding": (pool("avg_pool2d", 3, 2, 1), [R(2, 2, 7, 6)]),
    "avg_pool2d_no_pad_count": (pool("avg_pool2d", 3, 2, 1, count_include_pad=False),
                                [R(1, 2, 7, 6)]),
    "avg_pool2d_ceil_mode": (pool("avg_pool2d", 2, ceil_mode=True), [R(1, 2, 5, 5)]),
    "avg_pool2d_divisor_override": (pool("avg_pool2d", 2, divisor_override=3),
                                    [R(1, 2, 4, 4)]),
    "avg_pool1d": (pool("avg_pool1d", 3, 2, 1), [R(2, 3, 8)]),
    "adaptive_avg_pool2d_1": (pool("adaptive_avg_pool2d", 1), [R(2, 3, 5, 4)]),
    "adaptive_avg_pool2d_uneven": (pool("adaptive_avg_pool2d", (3, 2)), [R(2, 3, 7, 5)]),
    "adaptive_avg_pool2d_none": (pool("adaptive_avg_pool2d", (None, 3)), [R(1, 2, 4, 7)]),
    "adaptive_avg_pool2d_upsample": (pool("adaptive_avg_pool2d", 4), [R(3, 3, 2)]),
}


# every case two ways: against finite differences, and against torch in float64
test_gradient_matches_finite_differences, test_value_and_gradient_match_torch_float64 = \
    op_case_tests(CASES)


@op_cases(CASES, ["conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d_uneven"])
def test_float32_and_non_contiguous_against_torch(case):
    check_against_torch(*case, dtype="float32", rtol=1e-5, atol=1e-5)
    check_against_torch(*case, layout="transposed")


def test_grad_fn_names_as_torch():
    x = tg.randn(1, 2, 6, 6, requires_grad=True)
    w = tg.randn(3, 2, 3, 3, requires_grad=True)
    assert TF.conv2d(x, w).grad_fn.name() == "ConvolutionBackward0"
    assert TF.conv1d(x[:, :, 0], w[:, :, 0]).grad_fn.name() == "ConvolutionBackward0"
    assert TF.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert TF.avg_pool2d(x, 2).grad_fn.name() == "AvgPool2DBackward0"
    assert TF.adaptive_avg_pool2d(x, 1).grad_fn.name() == "MeanBackward1"
    assert TF.adaptive_avg_pool2d(x, 3).grad_fn.name() == "AdaptiveAvgPool2DBackward0"


def test_max_pool_indices_and_first_maximum_as_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 2, 7, 6))
    expected, expected_idx = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1,
                                                            return_indices=True)
    out, idx = TF.max_pool2d(tg.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    np.testing.assert_array_equal(idx.numpy(), expected_idx.numpy())
    assert idx.dtype == tg.int64
    # ties: the gradient goes to the first maximum of each window, as torch's
    ties = np.array([[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]])
    t = torch.tensor(ties, requires_grad=True)
    torch.nn.functional.max_pool2d(t, 2, 1).sum().backward()
    g = tg.tensor(ties, requires_grad=True)
    TF.max_pool2d(g, 2, 1).sum().backward()
    np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())


def test_integer_stride_defaults_and_modules_print_as_torch():
    torch = pytest.importorskip("torch")
    pairs = [(tg.nn.Conv2d(1, 6, 5), torch.nn.Conv2d(1, 6, 5)),
             (tg.nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=2, groups=2, bias=False),
              torch.nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=2, groups=2,
                              bias=False)),
             (tg.nn.Conv2d(2, 2, 3, padding="same"), torch.nn.Conv2d(2, 2, 3, padding="same")),
             (tg.nn.Conv1d(2, 4, 3, stride=2), torch.nn.Conv1d(2, 4, 3, stride=2)),
             (tg.nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
             (tg.nn.MaxPool2d(3, 1, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 1, 1,
                                                                          ceil_mode=True)),
             (tg.nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
             (tg.nn.AdaptiveAvgPool2d((5, 7)), torch.nn.AdaptiveAvgPool2d((5, 7)))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        for name, p in theirs.named_parameters():
            assert tuple(getattr(ours, name).shape) == tuple(p.shape)


def test_conv_init_bounds_as_torch():
    layer = tg.nn.Conv2d(6, 16, 5)
    bound = 1 / np.sqrt(6 * 25)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert w.dtype == np.float32 and w.shape == (16, 6, 5, 5)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound


# ------------------------------------------------------------------ LeNet

def lenet(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.flatten(1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)
    return Net()


def test_lenet_same_output_and_gradients_as_torch():
    torch = pytest.importorskip("torch")
    theirs = lenet(torch).double()
    ours = lenet(tg).double()
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 1, 32, 32))
    y = rng.integers(0, 10, 4)
    t_loss = torch.nn.CrossEntropyLoss()(theirs(torch.tensor(x)), torch.tensor(y))
    t_loss.backward()
    o_loss = tg.nn.CrossEntropyLoss()(ours(tg.tensor(x)), tg.tensor(y))
    o_loss.backward()
    np.testing.assert_allclose(o_loss.item(), t_loss.item(), rtol=1e-12)
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)
    # a few SGD steps stay together
    t_opt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    o_opt = tg.optim.SGD(ours.parameters(), lr=0.1)
    for _ in range(3):
        for model, lib, opt in ((theirs, torch, t_opt), (ours, tg, o_opt)):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            opt.step()
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ errors

BAD = {
    "conv2d_2d_input": lambda lib: lib.nn.functional.conv2d(lib.zeros(3, 4),
                                                            lib.zeros(1, 1, 2, 2)),
    "conv2d_channels": lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 3, 5, 5),
                                                            lib.zeros(2, 2, 3, 3)),
    "conv2d_kernel_too_big": lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 1, 3, 3),
                                                                  lib.zeros(1, 1, 4, 4)),
    "conv2d_same_strided": lambda lib: lib.nn.functional.conv2d(
        lib.zeros(1, 1, 5, 5), lib.zeros(1, 1, 3, 3), stride=2, padding="same"),
    "conv2d_bad_padding_string": lambda lib: lib.nn.functional.conv2d(
        lib.zeros(1, 1, 5, 5), lib.zeros(1, 1, 3, 3), padding="full"),
    "conv2d_dtypes": lambda lib: lib.nn.functional.conv2d(
        lib.zeros(1, 1, 5, 5, dtype=lib.float64), lib.zeros(1, 1, 3, 3)),
    "conv1d_4d_input": lambda lib: lib.nn.functional.conv1d(lib.zeros(1, 1, 3, 3),
                                                            lib.zeros(1, 1, 2)),
    "max_pool2d_big_padding": lambda lib: lib.nn.functional.max_pool2d(lib.zeros(1, 1, 4, 4),
                                                                       2, padding=2),
    "max_pool2d_output_too_small": lambda lib: lib.nn.functional.max_pool2d(
        lib.zeros(1, 1, 2, 2), 3),
    "adaptive_2d_input": lambda lib: lib.nn.functional.adaptive_avg_pool2d(lib.zeros(4, 4), 2),
    "conv2d_module_groups": lambda lib: lib.nn.Conv2d(3, 4, 3, groups=2),
    "conv2d_module_bad_padding": lambda lib: lib.nn.Conv2d(3, 4, 3, padding="full"),
    "conv2d_module_same_strided": lambda lib: lib.nn.Conv2d(3, 4, 3, 2, padding="same"),
}


@pytest.mark.parametrize("case_id", sorted(BAD))
def test_errors_as_torch(case_id):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as expected:
        BAD[case_id](torch)
    with pytest.raises(expected.type) as ours:
        BAD[case_id](tg)
    assert type(ours.value) is expected.type
