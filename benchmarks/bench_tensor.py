#!/usr/bin/env python3
"""Benchmark of the tapegrad tensor engine against PyTorch (CPU) and HIPS autograd.

Two training steps, each system interleaved with the others in one run, medians
reported with the ratio to torch (above 1 means tapegrad is faster):

1. micrograd's moons demo in tensor form: an MLP 2-16-16-1 over the 100 points,
   SVM max-margin loss mean(relu(1 - y*score)) + 1e-4 * sum(p*p), backward, SGD.
2. An MLP 784-256-10 step at batch 128 on random data: relu hidden layer,
   cross-entropy (log_softmax + negative log likelihood), backward, SGD.
3. The 60-minute blitz's LeNet (conv 1->6 5x5, max-pool 2, conv 6->16 5x5, max-pool
   2, 400->120->84->10) on 32x32 inputs at batch 4 and 64: forward,
   nn.CrossEntropyLoss, backward, optim.SGD step (tapegrad and torch only).

A system that is not installed is skipped with a note. Run from the repository
root: PYTHONPATH=src python benchmarks/bench_tensor.py [--quick]
"""
import argparse
import platform
import time

import numpy as np
from harness import Timing

SYSTEMS = ["tapegrad", "torch", "autograd"]


def moons_data():
    from tapegrad import demo
    X, y = demo.moons()
    return X.astype(np.float32), y.astype(np.float32)


def digits_like_data(rng):
    X = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=128)
    return X, y


def init_params(rng, sizes):
    """Weights and biases as float32 arrays, uniform like torch's Linear."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
    return params


# ------------------------------------------------------------- tapegrad / torch

def make_step_tensor(lib, X, y, params, task, lr):
    """One step for a torch-like library (tapegrad or torch)."""
    Xt = lib.from_numpy(X)
    yt = lib.from_numpy(y) if task == "moons" else lib.from_numpy(y.astype(np.int64))
    ps = [lib.from_numpy(p.copy()).requires_grad_(True) for p in params]
    rows = lib.arange(len(X))

    def step():
        h = Xt
        for i in range(0, len(ps) - 2, 2):
            h = (h @ ps[i] + ps[i + 1]).relu()
        out = h @ ps[-2] + ps[-1]
        if task == "moons":
            scores = out.reshape(-1)
            loss = (1 - yt * scores).relu().mean() + 1e-4 * sum((p * p).sum() for p in ps)
        elif task == "mlp_ce":
            loss = lib.nn.functional.cross_entropy(out, yt)
        else:
            loss = -out.log_softmax(1)[rows, yt].mean()
        for p in ps:
            p.grad = None
        loss.backward()
        with lib.no_grad():
            for p in ps:
                p -= lr * p.grad
        return loss.item()
    return step


def lenet_params(rng):
    """LeNet's weights as float32 arrays, uniform(+-1/sqrt(fan_in)) as torch's init."""
    shapes = [((6, 1, 5, 5), 25), ((6,), 25), ((16, 6, 5, 5), 150), ((16,), 150),
              ((120, 400), 400), ((120,), 400), ((84, 120), 120), ((84,), 120),
              ((10, 84), 84), ((10,), 84)]
    return [rng.uniform(-1 / np.sqrt(f), 1 / np.sqrt(f), s).astype(np.float32)
            for s, f in shapes]


def make_step_lenet(lib, batch, params, lr=0.01):
    """One LeNet training step, as the blitz writes it, for tapegrad or torch."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), \
                nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    net = Net()
    names = [name for name, _ in net.named_parameters()]
    net.load_state_dict({name: lib.from_numpy(p.copy()) for name, p in zip(names, params)})
    rng = np.random.default_rng(1)
    X = lib.from_numpy(rng.standard_normal((batch, 1, 32, 32)).astype(np.float32))
    y = lib.from_numpy(rng.integers(0, 10, batch).astype(np.int64))
    criterion = nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(net.parameters(), lr=lr)

    def step():
        optimizer.zero_grad()
        loss = criterion(net(X), y)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


# -------------------------------------------------------------------- autograd

def make_step_autograd(X, y, params, task, lr):
    import autograd
    import autograd.numpy as anp

    ps = [p.copy() for p in params]

    def loss_fn(ps):
        h = X
        for i in range(0, len(ps) - 2, 2):
            h = anp.maximum(anp.dot(h, ps[i]) + ps[i + 1], 0)
        out = anp.dot(h, ps[-2]) + ps[-1]
        if task == "moons":
            scores = out.reshape(-1)
            return anp.mean(anp.maximum(1 - y * scores, 0)) + 1e-4 * sum(anp.sum(p * p) for p in ps)
        shifted = out - anp.max(out, axis=1, keepdims=True)
        logp = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(logp[np.arange(len(y)), y])

    value_and_grad = autograd.value_and_grad(loss_fn)

    def step():
        loss, grads = value_and_grad(ps)
        for p, g in zip(ps, grads):
            p -= lr * g
        return loss.item()
    return step


# ------------------------------------------------------------------ harness

def available():
    found = {}
    import tapegrad
    found["tapegrad"] = tapegrad
    try:
        import torch
        found["torch"] = torch
    except ImportError:
        print("note: torch is not installed; its rows are skipped")
    try:
        import autograd  # noqa: F401
        found["autograd"] = "autograd"
    except ImportError:
        print("note: HIPS autograd is not installed (pip install autograd); its rows are skipped")
    return found


def run_task(task, found, repeats, warmup):
    """One task's step on every system in `found`, interleaved: a harness.Timing per system
    (workload "tensor <task>", samples = seconds per step), and each first-step loss."""
    rng = np.random.default_rng(0)
    if task.startswith("lenet"):
        params = lenet_params(rng)
        batch = int(task[len("lenet"):])
        steps = {name: make_step_lenet(lib, batch, params) for name, lib in found.items()
                 if name != "autograd"}
        return time_steps(task, steps, repeats, warmup)
    if task == "moons":
        X, y = moons_data()
        params = init_params(rng, [2, 16, 16, 1])
        lr = 0.05
    else:       # "mlp" and "mlp_ce"
        X, y = digits_like_data(rng)
        params = init_params(rng, [784, 256, 10])
        lr = 0.01
    steps = {}
    for name, lib in found.items():
        if name == "autograd":
            if task != "mlp_ce":
                steps[name] = make_step_autograd(X, y, params, task, lr)
        else:
            steps[name] = make_step_tensor(lib, X, y, params, task, lr)
    return time_steps(task, steps, repeats, warmup)


def time_steps(task, steps, repeats, warmup):
    first_losses = {name: step() for name, step in steps.items()}
    for _ in range(warmup):
        for step in steps.values():
            step()
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():      # interleaved
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return [Timing(f"tensor {task}", name, ts) for name, ts in times.items()], first_losses


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch's intra-op threads (default: torch's own choice; on 2 "
                             "cores that oversubscribes, so also run with 1)")
    args = parser.parse_args()
    repeats, warmup = (30, 5) if args.quick else (300, 20)
    found = available()
    if "torch" in found and args.torch_threads:
        found["torch"].set_num_threads(args.torch_threads)
    import numpy
    versions = {"numpy": numpy.__version__}
    for name, lib in found.items():
        if name == "torch":
            versions["torch"] = f"{lib.__version__} ({lib.get_num_threads()} threads)"
        elif name == "autograd":
            from importlib.metadata import version
            versions["autograd"] = version("autograd")
    print(f"# tapegrad tensor engine vs torch and autograd\n\n{platform.platform()}, "
          f"{platform.python_implementation()} {platform.python_version()}, "
          + ", ".join(f"{k} {v}" for k, v in versions.items()) + "\n")
    print("| workload | system | median ms/step | torch / system |")
    print("|---|---|---|---|")
    for task, label in (("moons", "moons MLP 2-16-16-1, 100 points"),
                        ("mlp", "MLP 784-256-10, batch 128, -log_softmax[rows, y].mean()"),
                        ("mlp_ce", "MLP 784-256-10, batch 128, F.cross_entropy"),
                        ("lenet4", "LeNet step, 32x32, batch 4"),
                        ("lenet64", "LeNet step, 32x32, batch 64")):
        timings, losses = run_task(task, found, repeats, warmup)
        medians = {t.system: t.median * 1e3 for t in timings}
        for name in SYSTEMS:
            if name not in medians:
                continue
            ratio = (f"{medians['torch'] / medians[name]:.2f}x" if "torch" in medians else "n/a")
            print(f"| {label} | {name} | {medians[name]:.3f} | {ratio} |")
        print("| | first-step loss | " + ", ".join(f"{k} {v:.6f}" for k, v in losses.items())
              + " | |")


if __name__ == "__main__":
    main()
