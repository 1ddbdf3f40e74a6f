#!/usr/bin/env python3
"""Micro-benchmark of one recorded tensor op: ns per `a + b` for tapegrad and torch.

What it shows is the per-op overhead of the recording plumbing (the grad-mode
check, the node, the edges), which dominates on tiny tensors: 0-d and 4-element
float32 operands, with a requires-grad leaf on one side (a node is recorded) and
with none (no node), and the same under no_grad (the mode check alone decides).

Each round times a batch of N ops per system and case, systems interleaved in
every round; the median over the rounds is reported. Run from the repository
root: PYTHONPATH=src python benchmarks/bench_record.py [--rounds R] [--ops N]
"""
import argparse
import contextlib
import statistics
import time

import numpy as np
from harness import tapegrad_and_torch

CASES = ["0-d, grad", "0-d, no grad", "(4,), grad", "(4,), no grad", "0-d, in no_grad"]


def operands(lib, shape, grad):
    a = lib.from_numpy(np.full(shape, 1.5, dtype=np.float32))
    b = lib.from_numpy(np.full(shape, 2.5, dtype=np.float32))
    if grad:
        a.requires_grad_(True)
    return a, b


def make_case(lib, case):
    shape = () if case.startswith("0-d") else (4,)
    grad = case.endswith(", grad") or case.endswith("in no_grad")
    a, b = operands(lib, shape, grad)
    mode = lib.no_grad if case.endswith("in no_grad") else contextlib.nullcontext

    def run(n):
        with mode():
            t0 = time.perf_counter_ns()
            for _ in range(n):
                a + b
            return (time.perf_counter_ns() - t0) / n
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--ops", type=int, default=20000)
    args = parser.parse_args()
    systems = tapegrad_and_torch("torch is not installed: tapegrad alone")
    runs = {(name, case): make_case(lib, case) for name, lib in systems.items() for case in CASES}
    for run in runs.values():
        run(args.ops // 10)        # warm up
    samples = {key: [] for key in runs}
    for _ in range(args.rounds):
        for key, run in runs.items():
            samples[key].append(run(args.ops))
    print(f"ns per a + b, median of {args.rounds} rounds of {args.ops} ops "
          f"(tapegrad {systems['tapegrad'].__version__})")
    print(f"| case | {' | '.join(systems)} |")
    print(f"|---|{'---|' * len(systems)}")
    for case in CASES:
        cells = " | ".join(f"{statistics.median(samples[name, case]):.0f}" for name in systems)
        print(f"| {case} | {cells} |")


if __name__ == "__main__":
    main()
