#!/usr/bin/env python3
"""Benchmark of DataLoader over a TensorDataset: tapegrad against torch (CPU).

The basics tutorial's loading loop, `for X, y in DataLoader(TensorDataset(X, y),
batch_size=64, shuffle=...)`, over FashionMNIST-shaped data (784 float32 features,
int64 labels), with shuffling on and off. Each repetition times one full pass per
system, the systems interleaved (round-robin), after a warm-up pass; the figure
is the median time per batch. The ratio is torch / tapegrad: above 1 means
tapegrad's per-batch cost is lower. A last row does the same with a Dataset
subclass whose __getitem__ returns one (features, label) pair, collated sample by
sample, as the tutorial's custom datasets are.

Run from the repository root: PYTHONPATH=src python benchmarks/bench_data.py [--quick]
"""
import argparse
import platform
import time

import numpy as np
from harness import Timing, tapegrad_and_torch


def make_loader(lib, X, y, shuffle, per_sample):
    data = lib.utils.data
    features, labels = lib.from_numpy(X), lib.from_numpy(y)
    if per_sample:
        class Samples(data.Dataset):     # the tutorial's own kind of Dataset
            def __len__(self):
                return len(labels)

            def __getitem__(self, i):
                return features[i], labels[i]
        dataset = Samples()
    else:
        dataset = data.TensorDataset(features, labels)
    return data.DataLoader(dataset, batch_size=64, shuffle=shuffle)


def one_pass(loader):
    """Seconds for one epoch, and the number of batches it gave."""
    start = time.perf_counter()
    batches = 0
    for X, y in loader:
        batches += 1
    return time.perf_counter() - start, batches


def loading(workload, loaders, repeats):
    """Full passes of each loader, interleaved, after a warm-up pass: a harness.Timing per
    system, samples = seconds per pass, units = batches a pass."""
    times, batches = {name: [] for name in loaders}, {}
    for loader in loaders.values():
        one_pass(loader)                                     # warm-up
    for _ in range(repeats):
        for name, loader in loaders.items():                 # interleaved
            seconds, batches[name] = one_pass(loader)
            times[name].append(seconds)
    return [Timing(workload, name, t, units=batches[name]) for name, t in times.items()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and repetitions")
    args = parser.parse_args()
    n, repeats = (6_400, 5) if args.quick else (60_000, 9)

    systems = tapegrad_and_torch("> torch is not installed: only tapegrad runs")

    rng = np.random.default_rng(0)
    X = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}; Python "
          f"{platform.python_version()}; tapegrad {systems['tapegrad'].__version__}"
          + (f"; torch {systems['torch'].__version__}" if "torch" in systems else ""))
    print(f"{n} samples of 784 float32, batch 64, median of {repeats} passes per system\n")
    print("| dataset, shuffle | " + " | ".join(f"{s} (us/batch)" for s in systems)
          + (" | torch / tapegrad |" if "torch" in systems else " |"))
    print("|---" * (len(systems) + 1 + ("torch" in systems)) + "|")
    for per_sample, shuffle in ((False, False), (False, True), (True, True)):
        loaders = {name: make_loader(lib, X, y, shuffle, per_sample)
                   for name, lib in systems.items()}
        kind = "Dataset subclass" if per_sample else "TensorDataset"
        timings = loading(f"{kind}, shuffle {'on' if shuffle else 'off'}", loaders, repeats)
        medians = {t.system: t.per_unit * 1e6 for t in timings}
        row = f"| {kind}, {'on' if shuffle else 'off'} | " + " | ".join(
            f"{medians[name]:.1f}" for name in systems)
        if "torch" in systems:
            row += f" | {medians['torch'] / medians['tapegrad']:.2f}x"
        print(row + " |")


if __name__ == "__main__":
    main()
