"""Deep chains: build and backward times of chains of 1e3 to 1e7 operations on
every scalar system, and the depth at which each fails.

Each system and depth runs in a child process (harness.run_child) with a
timeout and an address-space cap, so a RecursionError, a MemoryError, a crash
or a timeout is that system's result and the run goes on. After a failure the
larger depths are not run. A workload of run.py (section 3).
"""
import gc
import math
import time

import harness
from harness import SCALAR, ChainResult, build_chain, run_child
from report import depth_label

PURE_PYTHON = {"micrograd"}  # peers whose 1e7-op chain would take too long to build


def child_chain(system, depth, reps):
    """Build and backward times of a chain of `depth` operations (y*a, y+b alternating)."""
    depth, reps = int(depth), int(reps)
    make = harness.scalar_value_factory(system)
    out = ChainResult(system=system, depth=depth)
    stage = "warm-up"
    try:
        warm = build_chain(make, 100)
        warm.backward()
        del warm
        for _ in range(reps):
            made = []

            def value(x):
                # (ruff's F821 misreads the `del made` below as leaving this unbound)
                made.append(make(x))  # noqa: F821
                return made[-1]  # noqa: F821

            gc.collect()
            stage = "build"
            start = time.perf_counter()
            root = build_chain(value, depth)
            out.build_s.append(time.perf_counter() - start)
            stage = "backward"
            start = time.perf_counter()
            root.backward()
            out.backward_s.append(time.perf_counter() - start)
            x, a = made[0], made[1]
            grad = float(x.grad)
            expected = float(a.item() if hasattr(a, "item") else a.data) ** math.ceil(depth / 2)
            out.grad_ok = math.isfinite(grad) and abs(grad - expected) <= 1e-6 * abs(expected)
            stage = "free"
            start = time.perf_counter()
            del root, made, x, a, value
            gc.collect()
            out.free_s.append(time.perf_counter() - start)
    except BaseException as error:  # RecursionError, MemoryError, an allocator's RuntimeError
        message = str(error).splitlines()[0][:100] if str(error) else ""
        shown = message and not isinstance(error, RecursionError)
        out.error = f"{type(error).__name__} ({stage})" + (f": {message}" if shown else "")
        out.kind = "exception"
    out.peak_rss = harness.peak_rss()
    return out


def deep_chains(cfg, peers):
    """A ChainResult per usable scalar system and depth; interleaved: every system at one
    depth, then the next depth."""
    systems = [s for s in SCALAR if not peers[s]]
    results, failed_at = [], {}
    for depth in cfg.chain_depths:
        for system in systems:
            if system in failed_at:
                results.append(ChainResult(
                    system=system, depth=depth,
                    skipped=f"not run (failed at {depth_label(failed_at[system])})"))
                continue
            if system in PURE_PYTHON and depth >= 10**7:
                results.append(ChainResult(system=system, depth=depth, skipped="skipped (time)"))
                continue
            harness.log(f"  chain of {depth:,} ops: {system}")
            r = run_child(ChainResult, "bench_chains:child_chain",
                          [system, depth, cfg.chain_reps(depth)], cfg.chain_timeout,
                          cap_memory=True, system=system, depth=depth)
            results.append(r)
            if r.failed:
                failed_at[system] = depth
    return results
