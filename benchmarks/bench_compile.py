#!/usr/bin/env python3
"""Benchmark of tapegrad.compile against micrograd and the eager scalar engine.

What it measures (medians; the cyclic GC stays on, as users run it):

1. The moons step of micrograd's demo (MLP(2, [16, 16, 1]), 100 points, SVM
   loss + L2, full batch), as the whole user step: forward (compiled: a
   replay), zero_grad, loss.backward(), the SGD loop in Python. micrograd,
   tapegrad eager and tapegrad compiled, interleaved round by round; compiled
   also with the Neuron written as users write it (bench_scalar's UserMLP:
   Python's sum), whose eager step Python alone keeps at about 150x micrograd.
2. A digits classifier in scalar Values: scikit-learn's load_digits,
   MLP(64, [32, 10]), softmax cross-entropy written in Values, minibatches of
   input Values whose .data is set before each step; eager and compiled.
   Skipped without scikit-learn.
3. Replay cost per recorded operation: the replay alone (forward values and
   local derivatives into the flat arrays, the outputs written into the tape),
   in ns/op, for both programs: the mean of 200 back-to-back replays.

    python setup.py build_ext --inplace -q
    PYTHONPATH=src python benchmarks/bench_compile.py [--quick]

Output is markdown on stdout. micrograd is optional: without it its column is empty.
"""
import argparse
import gc
import random
import time

import harness
import numpy as np
from bench_scalar import UserMLP
from harness import MMLP, MValue, Timing

import tapegrad
from tapegrad import Value as TValue
from tapegrad.nn import MLP as TMLP


def moons_data():
    try:
        from tapegrad.demo import moons
        return moons()
    except SystemExit:           # no scikit-learn: two noisy half circles of our own
        rng = np.random.default_rng(1337)
        t = rng.uniform(0, np.pi, 100)
        upper = np.arange(100) < 50
        X = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)],
                     np.c_[1 - np.cos(t), 0.5 - np.sin(t)]) + rng.normal(0, 0.1, (100, 2))
        return X, np.where(upper, -1, 1)


def svm_loss(model, X, y, Value):
    inputs = [list(map(Value, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + 1e-4 * sum((p * p for p in model.parameters()))


def user_step(forward, model, lr=0.01):
    """The timed step: the user's own code around a forward function."""
    start = time.perf_counter()
    loss = forward()
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return time.perf_counter() - start


def moons(rounds, compiled_steps):
    X, y = moons_data()
    random.seed(1337)
    eager_model = TMLP(2, [16, 16, 1])
    random.seed(1337)
    compiled_model = TMLP(2, [16, 16, 1])
    step = tapegrad.compile(lambda X, y: svm_loss(compiled_model, X, y, TValue))
    random.seed(1337)
    fused_model = TMLP(2, [16, 16, 1])
    sgd = tapegrad.optim.SGD(fused_model.parameters(), lr=0.01)
    fused = tapegrad.compile(lambda X, y: svm_loss(fused_model, X, y, TValue), optimizer=sgd)
    random.seed(1337)
    user_model = UserMLP(2, [16, 16, 1])       # the Neuron as users write it: Python's sum
    user_step_fn = tapegrad.compile(lambda X, y: svm_loss(user_model, X, y, TValue))
    micro_model = None
    if MMLP is not None:
        random.seed(1337)
        micro_model = MMLP(2, [16, 16, 1])
    times = {"micrograd": [], "eager": [], "compiled": [], "compiled, fused SGD": [],
             "compiled, user-written Neuron": []}
    for _ in range(3):      # warm up, and make the recordings (micrograd's steps are too slow
        # to warm up: its first step is timed, as in a user's run)
        user_step(lambda: step(X, y), compiled_model)
        fused(X, y)
        user_step(lambda: user_step_fn(X, y), user_model)
    for _ in range(rounds):
        if micro_model is not None:
            times["micrograd"].append(user_step(lambda: svm_loss(micro_model, X, y, MValue),
                                                micro_model))
        for _ in range(3):
            times["eager"].append(user_step(lambda: svm_loss(eager_model, X, y, TValue),
                                            eager_model))
        for _ in range(compiled_steps):
            times["compiled"].append(user_step(lambda: step(X, y), compiled_model))
        for _ in range(compiled_steps):
            start = time.perf_counter()
            fused(X, y)       # the whole step: forward, zero_grad, backward, update
            times["compiled, fused SGD"].append(time.perf_counter() - start)
        for _ in range(compiled_steps):
            times["compiled, user-written Neuron"].append(
                user_step(lambda: user_step_fn(X, y), user_model))
    timings = [Timing("compile moons", name if name == "micrograd" else "tapegrad " + name, t)
               for name, t in times.items() if t]
    replay = replay_timing("moons", step._entries[0].recording)
    return timings + [replay], {"recordings": step.recordings, "replays": step.replays}


def replay_timing(program, recording, repeats=200):
    """The replay alone, 5 samples of `repeats` replays: seconds per replay, units = the
    recorded ops."""
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            recording.replay()
        samples.append((time.perf_counter() - start) / repeats)
    return Timing(f"compile replay {program}", "tapegrad", samples, units=recording.nops)


def digits(batches, batch_size, steps):
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return None
    data = load_digits()
    X = data.data / 16.0
    y = data.target
    random.seed(0)
    eager_model = TMLP(64, [32, 10])
    random.seed(0)
    compiled_model = TMLP(64, [32, 10])
    rows = [[TValue(0.0) for _ in range(64)] for _ in range(batch_size)]
    onehots = [[TValue(0) for _ in range(10)] for _ in range(batch_size)]

    def loss_fn(model, rows, onehots):
        # cross-entropy against one-hot targets held in Values, so the targets
        # are inputs too; the logsumexp is unshifted (no data read: the logits
        # of this small model stay far from exp's range)
        total = TValue(0.0)
        for row, onehot in zip(rows, onehots):
            logits = model(row)
            lse = sum((v.exp() for v in logits), TValue(0.0)).log()
            total = total + lse - sum((t * v for t, v in zip(onehot, logits)), TValue(0.0))
        return total * (1.0 / len(rows))

    step = tapegrad.compile(lambda rows, onehots: loss_fn(compiled_model, rows, onehots))

    def load(k):
        start = (k * batch_size) % (len(X) - batch_size)
        for i, (row, onehot) in enumerate(zip(rows, onehots)):
            for v, x in zip(row, X[start + i]):
                v.data = float(x)
            for c, t in enumerate(onehot):
                t.data = int(c == y[start + i])

    times = {"eager": [], "compiled": []}
    for k in range(3):
        load(k)
        user_step(lambda: step(rows, onehots), compiled_model)
    for k in range(batches):
        load(k)
        times["eager"].append(user_step(lambda: loss_fn(eager_model, rows, onehots),
                                        eager_model))
        for _ in range(steps):
            times["compiled"].append(user_step(lambda: step(rows, onehots), compiled_model))
    compiled_loss = step(rows, onehots).data
    loss_equal = compiled_loss == loss_fn(compiled_model, rows, onehots).data
    timings = [Timing("compile digits", "tapegrad " + name, t) for name, t in times.items()]
    replay = replay_timing("digits", step._entries[0].recording, repeats=20)
    return timings + [replay], {"recordings": step.recordings, "replays": step.replays,
                                "loss_equal": loss_equal}


def ms(seconds):
    return f"{seconds * 1e3:,.3f} ms" if seconds is not None else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about 20 s)")
    args = parser.parse_args()
    cfg = harness.QUICK if args.quick else harness.FULL
    print("# tapegrad.compile benchmark\n")
    print(f"GC {'on' if gc.isenabled() else 'off'}; medians; "
          f"micrograd {'installed' if MMLP else 'not installed'}\n")
    results = harness.Results()
    timings, facts = moons(cfg.compile_rounds, cfg.compile_steps)
    results.timings += timings
    micro = results.median("compile moons", "micrograd")
    print("| moons step (whole user step) | ms/step | x micrograd |")
    print("|---|---|---|")
    for name in ("micrograd", "tapegrad eager", "tapegrad compiled",
                 "tapegrad compiled, fused SGD", "tapegrad compiled, user-written Neuron"):
        t = results.median("compile moons", name)
        ratio = f"{micro / t:,.0f}x" if micro and t else ""
        print(f"| {name} | {ms(t)} | {ratio} |")
    replay = results.timing("compile replay moons", "tapegrad")
    print(f"\nmoons recording: {replay.units:,} operations; replay {replay.per_unit * 1e9:.2f} "
          f"ns/op; {facts['recordings']} recordings, {facts['replays']} replays\n")
    found = digits(*cfg.digits)
    if found is None:
        print("digits: skipped (scikit-learn is not installed)")
        return
    timings, facts = found
    results.timings += timings
    eager, compiled = (results.median("compile digits", "tapegrad " + name)
                       for name in ("eager", "compiled"))
    print("| digits MLP(64, [32, 10]), softmax cross-entropy | ms/step | x eager |")
    print("|---|---|---|")
    print(f"| tapegrad eager | {ms(eager)} | 1x |")
    print(f"| tapegrad compiled | {ms(compiled)} | {eager / compiled:,.1f}x |")
    replay = results.timing("compile replay digits", "tapegrad")
    print(f"\ndigits recording: {replay.units:,} operations; replay "
          f"{replay.per_unit * 1e9:.2f} ns/op; {facts['recordings']} recordings, "
          f"{facts['replays']} replays; compiled loss == eager loss: {facts['loss_equal']}")


if __name__ == "__main__":
    main()
