#!/usr/bin/env python3
"""Every tapegrad benchmark in one command: tables in markdown and a plot.

    pip install ".[bench]"
    python benchmarks/run.py [--quick] [--output-dir DIR]

Writes DIR/results.md (environment, a summary table, one section per workload)
and DIR/results.png (log-scale bars); DIR defaults to benchmarks/results/.
--quick runs in under two minutes on 2 cores, the full run in under fifteen.

Workloads (systems interleaved in one run, warm-up first, medians of several
repetitions; ratios are baseline time / system time, so above 1 is faster than
the baseline: micrograd with the GC on for the scalar rows, torch for the
tensor rows):

1. micrograd's moons demo step on scalar engines, eager: micrograd (GC on and
   off), micrograd-rust if importable, torch with one 0-d tensor per value
   (micrograd's MLP built from 0-d float64 tensors, same math), tapegrad.Value.
2. The same step in tensor form: tapegrad.Tensor, torch, HIPS autograd.
3. Deep chains of 1e3 to 1e7 operations, each system and depth in a child
   process with a timeout and a memory limit: build and backward times, and
   the depth at which each system fails (an exception, a crash, a timeout).
4. Per-op costs: ns/op to build add, mul, tanh; ns/node of backward on a chain
   and on a wide graph.
5. Memory: bytes per node of a kept 1e6-node graph, and RSS across 1,000
   tapegrad demo steps (quick: 200), each in a fresh child process.
6. An MLP 784-256-10 step at batch 128: tapegrad.Tensor, torch, autograd.
7. tapegrad.compile: the moons step compiled (the user's backward and SGD
   loop, and fused SGD) against micrograd and tapegrad eager, interleaved; the
   replay's cost per op; a digits MLP in Values, eager and compiled.

A peer that is not installed is skipped with a note. The workloads are in the
bench_*.py files beside this one, the shared machinery in harness.py, the
tables and the plot in report.py.
"""
import argparse
import gc
import platform
import sys
import time
import traceback
from pathlib import Path

import bench_chains
import bench_compile
import bench_scalar
import bench_tensor
import harness
import report
from harness import HERE, SCALAR, Results, log

import tapegrad

DEFAULT_OUTPUT = HERE / "results"


def scalar_demo(cfg, peers, results, notes):
    timings, first_loss = bench_scalar.demo_interleaved(cfg, peers, notes)
    results.timings += timings
    results.first_losses["scalar demo"] = first_loss


def tensor_task(cfg, peers, results, notes, task):
    found = {"tapegrad": tapegrad}
    if not peers["torch"]:
        import torch
        found["torch"] = torch
    if not peers["autograd"]:
        found["autograd"] = "autograd"
    timings, losses = bench_tensor.run_task(task, found, cfg.tensor_repeats, cfg.tensor_warmup)
    results.timings += timings
    results.first_losses[f"tensor {task}"] = losses


def chains(cfg, peers, results, notes):
    results.chains += bench_chains.deep_chains(cfg, peers)


def per_op_costs(cfg, peers, results, notes):
    factories = {s: harness.scalar_value_factory(s) for s in SCALAR if not peers[s]}
    ops = [op for op in bench_scalar.OPS if op[0] in report.OPS]
    results.timings += bench_scalar.op_costs(cfg, factories, ops)
    results.timings += bench_scalar.backward_costs(bench_scalar.run_graphs(cfg, list(factories)),
                                                   factories, notes)


def memory(cfg, peers, results, notes):
    results.kept += bench_scalar.kept_graphs(cfg, [s for s in SCALAR if not peers[s]])
    results.steps = bench_scalar.demo_memory(cfg, cfg.memory_steps)


def compiled(cfg, peers, results, notes):
    timings, facts = bench_compile.moons(cfg.compile_rounds, cfg.compile_steps)
    results.timings += timings
    results.facts["compile moons"] = facts
    found = bench_compile.digits(*cfg.digits)
    if found is None:
        notes.append("compile: the digits workload needs scikit-learn; its rows are skipped.")
        return
    timings, facts = found
    results.timings += timings
    results.facts["compile digits"] = facts


SECTIONS = [("1. scalar demo step", scalar_demo),
            ("2. tensor demo step", lambda *a: tensor_task(*a, "moons")),
            ("3. deep chains", chains),
            ("4. per-op costs", per_op_costs),
            ("5. memory", memory),
            ("6. MLP 784-256-10", lambda *a: tensor_task(*a, "mlp")),
            ("7. tapegrad.compile", compiled)]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Runs every tapegrad benchmark and writes results.md and results.png.")
    parser.add_argument("--quick", action="store_true", help="a shorter run (under two minutes)")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT, metavar="DIR",
                        help=f"where results.md and results.png go (default {DEFAULT_OUTPUT})")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # tests: tiny
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = harness.SMOKE if args.smoke else harness.QUICK if args.quick else harness.FULL
    start = harness.RunStart.now()
    peers = harness.detect_peers()
    notes = harness.start_notes(peers, start)
    for note in notes:
        log("note: " + note)
    results = Results()
    for name, section in SECTIONS:
        t0 = time.perf_counter()
        log(f"{name} ...")
        try:
            section(cfg, peers, results, notes)
        except (Exception, SystemExit) as error:  # report it and go on with the other sections
            # (SystemExit: tapegrad.demo.moons() without scikit-learn)
            traceback.print_exc()
            notes.append(f"section {name} failed: {type(error).__name__}: {error}")
        gc.collect()
        log(f"{name}: {time.perf_counter() - t0:.1f} s")
    elapsed = time.perf_counter() - start.clock

    out_dir = args.output_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, png_path = out_dir / "results.md", out_dir / "results.png"
    env_rows = harness.environment(cfg, start)
    notes += harness.end_notes(start)
    png_name = None
    try:
        report.write_plot(png_path, results, cfg,
                          f"tapegrad benchmarks ({cfg.mode} run, commit {harness.git_commit()}, "
                          f"{harness.cpu_model()}, Python {platform.python_version()})")
        png_name = png_path.name
    except ImportError as error:
        notes.append(f"no plot: matplotlib is not importable ({error}); pip install matplotlib")
    except Exception as error:
        traceback.print_exc()
        notes.append(f"the plot failed: {type(error).__name__}: {error}")
    report.write_markdown(md_path, results, cfg, env_rows, notes, elapsed, png_name)
    print(md_path.read_text())
    log(f"wrote {md_path}" + (f" and {png_path}" if png_name else "") + f" in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
