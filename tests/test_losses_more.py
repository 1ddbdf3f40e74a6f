"""Losses of issue 12 against torch float64 and finite differences: cross_entropy and
nll_loss with weight, ignore_index, label_smoothing, class-probability and
higher-dimensional targets; smooth_l1_loss, huber_loss, binary_cross_entropy_with_logits;
pad and one_hot; and the loss modules."""
import numpy as np
import pytest

import tapegrad as tg
from conftest import P, R, arrays_for, check_against_torch, op_case_tests, op_cases

TARGET = [0, 4, 2, 4]
TARGET_2D = [[0, 3, 1], [2, 2, 4]]
WEIGHT = [0.5, 1.5, 2.0, 0.7, 1.2]
PROBS = np.random.default_rng(5).dirichlet(np.ones(5), 4)


def ce(target=TARGET, **options):
    def fn(lib, x):
        extra = {k: lib.tensor(v, dtype=x.dtype) if k == "weight" else v
                 for k, v in options.items()}
        return lib.nn.functional.cross_entropy(x, lib.tensor(target), **extra)
    return fn


def nll(target=TARGET, **options):
    def fn(lib, x):
        extra = {k: lib.tensor(v, dtype=x.dtype) if k == "weight" else v
                 for k, v in options.items()}
        return lib.nn.functional.nll_loss(x.log_softmax(1), lib.tensor(target), **extra)
    return fn


def pointwise(name, **options):
    return lambda lib, a, b: getattr(lib.nn.functional, name)(a, b, **options)


CASES = {
    "ce": (ce(), [R(4, 5)]),
    "ce_sum": (ce(reduction="sum"), [R(4, 5)]),
    "ce_none": (ce(reduction="none"), [R(4, 5)]),
    "ce_weight": (ce(weight=WEIGHT), [R(4, 5)]),
    "ce_ignore_index": (ce(ignore_index=4), [R(4, 5)]),
    "ce_weight_ignore_none": (ce(weight=WEIGHT, ignore_index=2, reduction="none"), [R(4, 5)]),
    "ce_smoothing": (ce(label_smoothing=0.2), [R(4, 5)]),
    "ce_smoothing_weight_ignore": (ce(weight=WEIGHT, ignore_index=0, label_smoothing=0.1),
                                   [R(4, 5)]),
    "ce_smoothing_sum": (ce(label_smoothing=0.3, reduction="sum"), [R(4, 5)]),
    "ce_probs": (ce(PROBS), [R(4, 5)]),
    "ce_probs_weight_smoothing": (ce(PROBS, weight=WEIGHT, label_smoothing=0.25), [R(4, 5)]),
    "ce_probs_none": (ce(PROBS, reduction="none"), [R(4, 5)]),
    "ce_2d_positions": (ce(TARGET_2D), [R(2, 5, 3)]),
    "ce_2d_positions_weight_none": (ce(TARGET_2D, weight=WEIGHT, reduction="none"),
                                    [R(2, 5, 3)]),
    "ce_unbatched": (ce(3), [R(5)]),
    "nll": (nll(), [R(4, 5)]),
    "nll_weight_ignore": (nll(weight=WEIGHT, ignore_index=4), [R(4, 5)]),
    "nll_none": (nll(reduction="none"), [R(4, 5)]),
    "nll_sum_weight": (nll(weight=WEIGHT, reduction="sum"), [R(4, 5)]),
    "nll_2d_positions": (nll(TARGET_2D), [R(2, 5, 3)]),
    "smooth_l1": (pointwise("smooth_l1_loss"), [R(3, 4), R(3, 4)]),
    "smooth_l1_beta_sum": (pointwise("smooth_l1_loss", beta=0.3, reduction="sum"),
                           [R(3, 4), R(3, 4)]),
    "smooth_l1_beta0_none": (pointwise("smooth_l1_loss", beta=0.0, reduction="none"),
                             [R(3, 4), R(3, 4)]),
    "mse": (pointwise("mse_loss"), [R(3, 4), R(3, 4)]),
    "mse_sum": (pointwise("mse_loss", reduction="sum"), [R(3, 4), R(3, 4)]),
    "mse_none": (pointwise("mse_loss", reduction="none"), [R(3, 4), R(3, 4)]),
    "bce_weight": (lambda lib, a, b: lib.nn.functional.binary_cross_entropy(
        a / 3, b / 3, weight=lib.tensor([0.5, 1.0, 2.0, 3.0])), [P(3, 4), P(3, 4)]),
    "l1": (pointwise("l1_loss"), [R(3, 4), R(3, 4)]),
    "l1_sum": (pointwise("l1_loss", reduction="sum"), [R(3, 4), R(3, 4)]),
    "l1_none": (pointwise("l1_loss", reduction="none"), [R(3, 4), R(3, 4)]),
    "bce": (lambda lib, a, b: lib.nn.functional.binary_cross_entropy(a / 3, b / 3),
            [P(3, 4), P(3, 4)]),
    "bce_sum": (lambda lib, a, b: lib.nn.functional.binary_cross_entropy(
        a / 3, b / 3, reduction="sum"), [P(3, 4), P(3, 4)]),
    "bce_weight_none": (lambda lib, a, b: lib.nn.functional.binary_cross_entropy(
        a / 3, b / 3, weight=lib.tensor([[0.5], [1.0], [2.0]], dtype=a.dtype), reduction="none"),
        [P(3, 4), P(3, 4)]),
    # a probability target gets its gradient, as torch gives it
    "ce_probs_target_grad": (lambda lib, x, t: lib.nn.functional.cross_entropy(
        x, t.softmax(1), weight=lib.tensor(WEIGHT, dtype=x.dtype), label_smoothing=0.1),
        [R(4, 5), R(4, 5)]),
    "ce_probs_target_grad_none": (lambda lib, x, t: lib.nn.functional.cross_entropy(
        x, t.softmax(1), reduction="none"), [R(2, 5, 3), R(2, 5, 3)]),
    "huber": (pointwise("huber_loss"), [R(3, 4), R(3, 4)]),
    "huber_delta_none": (pointwise("huber_loss", delta=0.4, reduction="none"),
                         [R(3, 4), R(3, 4)]),
    "bce_logits": (pointwise("binary_cross_entropy_with_logits"), [R(3, 4), P(3, 4)]),
    "bce_logits_pos_weight": (lambda lib, a, b: lib.nn.functional.binary_cross_entropy_with_logits(
        a, b / 2, pos_weight=lib.tensor([0.5, 1.0, 2.0, 3.0])), [R(3, 4), P(3, 4)]),
    "bce_logits_weight_sum": (lambda lib, a, b: lib.nn.functional.binary_cross_entropy_with_logits(
        a, b / 2, weight=lib.tensor([0.5, 1.0, 2.0, 3.0]), reduction="sum"), [R(3, 4), P(3, 4)]),
    "pad_constant": (lambda lib, x: lib.nn.functional.pad(x, (1, 2)), [R(2, 3)]),
    "pad_constant_value_crop": (lambda lib, x: lib.nn.functional.pad(x, (1, -1, -1, 2), value=3.5),
                                [R(2, 3, 4)]),
    "pad_reflect": (lambda lib, x: lib.nn.functional.pad(x, (2, 1, 1, 2), mode="reflect"),
                    [R(1, 2, 3, 4)]),
    "pad_replicate": (lambda lib, x: lib.nn.functional.pad(x, (3, 1), mode="replicate"),
                      [R(2, 2, 3)]),
}


# every case two ways: against finite differences, and against torch in float64
test_gradient_matches_finite_differences, test_value_and_gradient_match_torch_float64 = \
    op_case_tests(CASES)


@op_cases(CASES, ["ce", "ce_smoothing", "ce_probs", "ce_2d_positions", "nll", "smooth_l1",
                  "huber", "bce_logits"])
def test_float32_against_torch(case):
    check_against_torch(*case, dtype="float32", rtol=1e-5, atol=1e-6)


# pad records the indexing it is made of (CopySlices, IndexBackward0), and beta=0 is
# one SmoothL1LossBackward0 node where torch calls l1_loss; unreduced N-d cross-entropy is
# one node where torch views its result
NAMED_AS_TORCH = sorted(k for k in CASES if not k.startswith("pad") and k not in (
    "smooth_l1_beta0_none", "ce_2d_positions_weight_none", "ce_probs_target_grad_none"))


@pytest.mark.parametrize("case_id", NAMED_AS_TORCH)
def test_grad_fn_name_as_torch(case_id):
    torch = pytest.importorskip("torch")
    fn, specs = CASES[case_id]
    arrays = arrays_for(case_id, specs)
    expected = fn(torch, *[torch.tensor(a, requires_grad=True) for a in arrays]).grad_fn.name()
    assert fn(tg, *[tg.tensor(a, requires_grad=True) for a in arrays]).grad_fn.name() == \
        expected


def test_all_targets_ignored_gives_nan_as_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3))
    expected = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor([1, 1]),
                                                 ignore_index=1)
    ours = tg.nn.functional.cross_entropy(tg.tensor(x), tg.tensor([1, 1]), ignore_index=1)
    assert np.isnan(expected.item()) and np.isnan(ours.item())


@pytest.mark.parametrize("loss, options", [("cross_entropy", {}), ("nll_loss", {}),
                                           ("cross_entropy", {"label_smoothing": 0.1})],
                         ids=["cross_entropy", "nll_loss", "cross_entropy_smoothing"])
def test_all_targets_ignored_gives_zero_gradients_as_torch(loss, options):
    # a fully padded batch must not poison the parameters with NaN
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3))
    grads = []
    for lib in (tg, torch):
        logits = lib.tensor(x, requires_grad=True)
        scores = logits.log_softmax(1) if loss == "nll_loss" else logits
        getattr(lib.nn.functional, loss)(scores, lib.tensor([-100, -100]), **options).backward()
        grads.append(logits.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    assert not np.isnan(grads[0]).any()


def test_loss_modules_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((4, 5)), np.array(TARGET)
    z = rng.standard_normal((4, 5))
    pairs = [
        (lambda nn, lib: nn.CrossEntropyLoss(weight=lib.tensor(WEIGHT, dtype=lib.float64),
                                             ignore_index=2,
                                             label_smoothing=0.1), "classes"),
        (lambda nn, lib: nn.CrossEntropyLoss(reduction="sum"), "classes"),
        (lambda nn, lib: nn.NLLLoss(weight=lib.tensor(WEIGHT, dtype=lib.float64),
                                    ignore_index=0), "classes"),
        (lambda nn, lib: nn.SmoothL1Loss(beta=0.5), "values"),
        (lambda nn, lib: nn.HuberLoss(delta=0.3, reduction="sum"), "values"),
        (lambda nn, lib: nn.BCEWithLogitsLoss(pos_weight=lib.tensor(WEIGHT, dtype=lib.float64)),
         "probabilities"),
    ]
    for make, kind in pairs:
        target = {"classes": y, "values": z, "probabilities": 1 / (1 + np.exp(-z))}[kind]
        t = make(torch.nn, torch)(torch.tensor(x), torch.tensor(target))
        o = make(tg.nn, tg)(tg.tensor(x), tg.tensor(target))
        np.testing.assert_allclose(o.item(), t.item(), rtol=1e-12)
    assert [n for n, _ in tg.nn.CrossEntropyLoss(weight=tg.ones(3)).named_buffers()] == \
        [n for n, _ in torch.nn.CrossEntropyLoss(weight=torch.ones(3)).named_buffers()]


def test_one_hot_as_torch():
    torch = pytest.importorskip("torch")
    for labels, n in [([0, 2, 1], -1), ([[1, 0], [3, 3]], 5), ([], 3)]:
        expected = torch.nn.functional.one_hot(torch.tensor(labels, dtype=torch.int64), n)
        ours = tg.nn.functional.one_hot(tg.tensor(labels, dtype=tg.int64), n)
        assert ours.dtype == tg.int64
        np.testing.assert_array_equal(ours.numpy(), expected.numpy())


BAD = {
    "ce_target_out_of_range": lambda lib: lib.nn.functional.cross_entropy(
        lib.zeros(3, 4), lib.tensor([0, 1, 5])),
    "ce_negative_target": lambda lib: lib.nn.functional.cross_entropy(
        lib.zeros(3, 4), lib.tensor([0, 1, -3])),
    "nll_batch_mismatch": lambda lib: lib.nn.functional.nll_loss(lib.zeros(3, 4),
                                                                 lib.tensor([0, 1])),
    "nll_float_target": lambda lib: lib.nn.functional.nll_loss(lib.zeros(3, 4),
                                                               lib.zeros(3)),
    "ce_weight_dtype": lambda lib: lib.nn.functional.cross_entropy(
        lib.zeros(3, 4, dtype=lib.float64), lib.tensor([0, 1, 2]), weight=lib.ones(4)),
    "ce_bad_weight": lambda lib: lib.nn.functional.cross_entropy(
        lib.zeros(3, 4), lib.tensor([0, 1, 2]), weight=lib.ones(3)),
    "ce_bad_reduction": lambda lib: lib.nn.functional.cross_entropy(
        lib.zeros(3, 4), lib.tensor([0, 1, 2]), reduction="avg"),
    "one_hot_too_small": lambda lib: lib.nn.functional.one_hot(lib.tensor([1, 5]), 3),
    "one_hot_float": lambda lib: lib.nn.functional.one_hot(lib.tensor([1.0])),
    "bce_logits_shape": lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(
        lib.zeros(3), lib.zeros(2)),
    "bce_shape": lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.full((3,), 0.5), lib.ones(2, 3)),
    "bce_out_of_range": lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.full((3,), 1.5), lib.ones(3)),
    "ce_int32_target": lambda lib: lib.nn.functional.cross_entropy(
        lib.zeros(2, 3), lib.tensor([0, 1], dtype=lib.int32)),
    "nll_int32_target": lambda lib: lib.nn.functional.nll_loss(
        lib.zeros(2, 3), lib.tensor([0, 1], dtype=lib.int32)),
    "ce_bool_probabilities": lambda lib: lib.nn.functional.cross_entropy(
        lib.zeros(3), lib.tensor([True, False, True])),
    "ce_weight_requires_grad": lambda lib: lib.nn.functional.cross_entropy(
        lib.zeros(2, 3), lib.tensor([0, 1]), weight=lib.ones(3, requires_grad=True)),
    "nll_weight_requires_grad": lambda lib: lib.nn.functional.nll_loss(
        lib.zeros(2, 3), lib.tensor([0, 1]), weight=lib.ones(3, requires_grad=True)),
    "bce_weight_requires_grad": lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.full((3,), 0.5), lib.ones(3), weight=lib.ones(3, requires_grad=True)),
    "bce_logits_pos_weight_requires_grad":
        lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(
            lib.zeros(3), lib.ones(3), pos_weight=lib.ones(3, requires_grad=True)),
    "pad_odd": lambda lib: lib.nn.functional.pad(lib.zeros(2, 3), (1,)),
    "pad_reflect_too_big": lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 3), (3, 3),
                                                             mode="reflect"),
}


@pytest.mark.parametrize("case_id", sorted(BAD))
def test_errors_as_torch(case_id):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as expected:
        BAD[case_id](torch)
    with pytest.raises(expected.type) as ours:
        BAD[case_id](tg)
    assert type(ours.value) is expected.type
