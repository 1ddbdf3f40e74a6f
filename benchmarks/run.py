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

A peer that is not installed is skipped with a note. The workloads come from
bench_scalar.py and bench_tensor.py beside this file.
"""
import argparse
import contextlib
import gc
import io
import json
import math
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
try:
    import tapegrad  # noqa: F401  (installed, or on PYTHONPATH)
except ImportError:  # a checkout built in place: python setup.py build_ext --inplace
    sys.path.insert(1, str(REPO / "src"))

import bench_scalar as bs  # noqa: E402
import bench_tensor as bt  # noqa: E402
import tapegrad  # noqa: E402
from tapegrad import Value as TValue  # noqa: E402

DEFAULT_OUTPUT = HERE / "results"

FULL = SimpleNamespace(
    mode="full", demo_points=None,
    demo_rounds=5, demo_tg_per_round=6, demo_tg_warmup=3, demo_mg_off_steps=5,
    tensor_repeats=300, tensor_warmup=20,
    chain_depths=[10**3, 10**4, 10**5, 10**6, 10**7], chain_timeout=420,
    chain_reps=lambda depth: 3 if depth <= 10**5 else 1,
    op_counts={"tapegrad": 1_000_000}, op_count_other=200_000, op_repeats=5,
    small_chain_ops=400, small_tree_pairs=2_500, small_repeats=20,
    big_nodes=1_000_000, big_repeats=3,
    kept_nodes=1_000_000, memory_steps=1_000, child_timeout=600,
)
QUICK = SimpleNamespace(
    mode="quick", demo_points=None,
    demo_rounds=2, demo_tg_per_round=5, demo_tg_warmup=3, demo_mg_off_steps=2,
    tensor_repeats=30, tensor_warmup=5,
    chain_depths=[10**3, 10**4, 10**5], chain_timeout=90,
    chain_reps=lambda depth: 3 if depth <= 10**4 else 1,
    op_counts={"tapegrad": 200_000}, op_count_other=50_000, op_repeats=3,
    small_chain_ops=400, small_tree_pairs=2_500, small_repeats=7,
    big_nodes=200_000, big_repeats=2,
    kept_nodes=1_000_000, memory_steps=200, child_timeout=300,
)
SMOKE = SimpleNamespace(  # for the test suite: every code path, tiny sizes, a few seconds
    mode="smoke", demo_points=10,
    demo_rounds=1, demo_tg_per_round=1, demo_tg_warmup=1, demo_mg_off_steps=1,
    tensor_repeats=2, tensor_warmup=1,
    chain_depths=[10**2, 10**3], chain_timeout=60,
    chain_reps=lambda depth: 1,
    op_counts={"tapegrad": 2_000}, op_count_other=500, op_repeats=1,
    small_chain_ops=50, small_tree_pairs=50, small_repeats=1,
    big_nodes=2_000, big_repeats=1,
    kept_nodes=10_000, memory_steps=5, child_timeout=60,
)

# scalar systems in display order; micrograd is the baseline of the scalar rows
SCALAR = ["micrograd", "micrograd-rust", "torch (0-d)", "tapegrad"]
PURE_PYTHON = {"micrograd"}  # peers whose 1e7-op chain would take too long to build
# tensor systems; torch is the baseline of the tensor rows
TENSOR = ["torch", "autograd", "tapegrad"]
COLORS = {"micrograd": "tab:orange", "micrograd (GC off)": "#f5b971", "micrograd-rust": "tab:brown",
          "torch (0-d)": "tab:red", "torch": "tab:red", "autograd": "tab:green",
          "tapegrad": "tab:blue"}


def log(message):
    print(message, file=sys.stderr, flush=True)


def table(headers, rows):
    """A markdown table, as bench_scalar prints it."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        bs.print_table(headers, rows)
    return buffer.getvalue()


def median(samples):
    return statistics.median(samples) if samples else None


def depth_label(depth):
    return f"1e{round(math.log10(depth))}" if depth >= 10 and math.log10(depth).is_integer() else f"{depth:,}"


def seconds(x):
    if x is None:
        return "n/a"
    return f"{bs.fmt(x * 1e3)} ms" if x < 1 else f"{bs.fmt(x)} s"


def times_faster(baseline, value):
    """baseline / value as '12.3x'; '' without both."""
    if baseline is None or value is None or value == 0:
        return ""
    return bs.ratio(baseline, value)


# ------------------------------------------------------------------- peers

def import_micrograd_rust():
    """micrograd-rust's Value class, or raises ImportError."""
    import importlib
    module = importlib.import_module("micrograd_rust")
    value = getattr(module, "Value", None)
    if value is None:
        value = importlib.import_module("micrograd_rust.engine").Value
    return value


def scalar_value_factory(system):
    """float -> a scalar of `system` that records operations (a leaf that wants gradients)."""
    if system == "tapegrad":
        return TValue
    if system == "micrograd":
        if bs.MValue is None:
            raise ImportError(bs.MICROGRAD_ERROR)
        return bs.MValue
    if system == "micrograd-rust":
        value = import_micrograd_rust()
        return lambda x: value(float(x))
    if system == "torch (0-d)":
        import torch
        return lambda x: torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
    raise ValueError(system)


def detect_peers():
    """{system: None if usable, else why not} for every scalar and tensor system."""
    status = {}
    status["micrograd"] = None if bs.MValue is not None else f"not importable ({bs.MICROGRAD_ERROR})"
    try:
        import_micrograd_rust()
        status["micrograd-rust"] = None
    except Exception as error:
        status["micrograd-rust"] = (f"not importable ({type(error).__name__}: {error}); "
                                    "see benchmarks/README.md to install it")
    try:
        import torch  # noqa: F401
        status["torch"] = status["torch (0-d)"] = None
    except Exception as error:
        status["torch"] = status["torch (0-d)"] = f"not importable ({type(error).__name__}: {error})"
    try:
        import autograd  # noqa: F401
        status["autograd"] = None
    except Exception as error:
        status["autograd"] = f"not importable ({type(error).__name__}: {error})"
    status["tapegrad"] = None
    return status


# ------------------------------------------------------------ environment

def load_average():
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return None


def environment(cfg, start):
    """The table of the machine and versions; `start` holds what was read when the run began."""
    import numpy
    versions = {"tapegrad": f"{tapegrad.__version__} ({Path(tapegrad.__file__).parent})",
                "tapegrad extensions": start["extensions"]}
    for label, dist in [("micrograd", "micrograd"), ("micrograd-rust", "micrograd-rust"),
                        ("torch", "torch"), ("autograd (HIPS)", "autograd"), ("numpy", "numpy"),
                        ("scikit-learn", "scikit-learn"), ("matplotlib", "matplotlib")]:
        found = bs.version_of(dist)
        if found == "not installed" and label == "micrograd-rust":
            try:
                import_micrograd_rust()
                found = "importable, no package metadata"
            except Exception:
                pass
        versions[label] = found
    try:
        import torch
        versions["torch"] += f" ({torch.get_num_threads()} intra-op threads)"
    except Exception:
        pass
    versions["numpy"] = numpy.__version__
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    rows = [["machine", f"{platform.platform()}; {bs.cpu_model()}"],
            ["CPUs", f"{os.cpu_count()} (usable: {affinity})"],
            ["memory", f"{total_memory() / 2**30:.1f} GiB"],
            ["Python", f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})"]]
    rows += [[k, v] for k, v in versions.items()]
    blas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")
            if k in os.environ}
    if blas:
        rows.append(["environment", ", ".join(f"{k}={v}" for k, v in blas.items())])
    load_at_end = load_average()
    if start["load"] is not None:
        rows.append(["load average (1 min)",
                     f"{start['load']:.2f} at the start, {load_at_end:.2f} at the end "
                     "(this run's own processes count in the second)"])
    rows += [["git commit", start["commit"]],
             ["mode", cfg.mode],
             ["date", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())]]
    return rows


def extension_state():
    """When the compiled extensions were built, and whether a source in this checkout is newer."""
    package = Path(tapegrad.__file__).parent
    built = {}
    for module in ("_engine", "_tensor"):
        found = sorted(package.glob(module + ".*.so")) + sorted(package.glob(module + ".*.pyd"))
        if found:
            built[module] = found[0].stat().st_mtime
    if not built:
        return "not found"
    stamp = time.strftime("built %Y-%m-%d %H:%M UTC", time.gmtime(min(built.values())))
    src = REPO / "src" / "tapegrad"
    if package.resolve() != src.resolve():
        return f"{stamp}; installed copy, not checked against this checkout's sources"
    shared = list(src.glob("*.pxd")) + list((REPO / "csrc").glob("*"))
    stale = [module for module, mtime in built.items()
             if any(p.stat().st_mtime > mtime for p in shared + [src / (module + ".pyx")] if p.exists())]
    if stale:
        return (f"{stamp}; WARNING: {', '.join(stale)} older than its sources, rebuild with "
                "`python setup.py build_ext --inplace`")
    return f"{stamp}; up to date with the checkout's sources"


def total_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


# --------------------------------------------------- 1. scalar demo step

class ScalarMLP:
    """micrograd's MLP over any scalar type: same weight draws, same operations.

    param(x) makes a trainable scalar; relu(v) is the hidden nonlinearity. Each
    neuron computes b + w0*x0 + w1*x1 + ... in micrograd's order, operations
    always with the scalar on the left (scalar op scalar, scalar op float).
    """

    def __init__(self, param, relu, nin, nouts):
        sizes = [nin] + list(nouts)
        self.relu = relu
        self.layers = []
        for i in range(len(nouts)):
            neurons = []
            for _ in range(sizes[i + 1]):
                w = [param(random.uniform(-1, 1)) for _ in range(sizes[i])]
                neurons.append((w, param(0.0)))
            self.layers.append((neurons, i != len(nouts) - 1))

    def __call__(self, x):
        for neurons, nonlin in self.layers:
            out = []
            for w, b in neurons:
                act = b
                for wi, xi in zip(w, x):
                    act = act + wi * xi
                out.append(self.relu(act) if nonlin else act)
            x = out
        return x[0]

    def parameters(self):
        return [p for neurons, _ in self.layers for w, b in neurons for p in w + [b]]


def total(terms):
    acc = terms[0]
    for t in terms[1:]:
        acc = acc + t
    return acc


class GenericTrainer:
    """bench_scalar.Trainer's step (tapegrad.demo.sgd_step) for peers without micrograd's nn."""

    def __init__(self, system, X, y):
        make = scalar_value_factory(system)
        if system == "torch (0-d)":
            import torch
            self.torch = torch
            self.value = lambda x: torch.tensor(float(x), dtype=torch.float64)
            relu = lambda v: v.relu()
        else:
            self.torch = None
            self.value = make
            probe = make(1.0)
            relu = ((lambda v: v.relu()) if hasattr(probe, "relu")
                    else (lambda v: v * (1.0 if v.data > 0 else 0.0)))  # relu's value and gradient
        random.seed(1337)  # bench_scalar.Trainer's seed: the same model as micrograd's
        self.model = ScalarMLP(make, relu, 2, [16, 16, 1])
        self.relu, self.X, self.y = relu, X, [float(v) for v in y]
        self.params = self.model.parameters()
        self.k = 0

    def step(self):
        """One step of tapegrad.demo.sgd_step's math; returns (ms, loss)."""
        start = bs.now_ns()
        inputs = [[self.value(v) for v in row] for row in self.X]
        scores = [self.model(x) for x in inputs]
        losses = [self.relu(score * -yi + 1.0) for yi, score in zip(self.y, scores)]
        data_loss = total(losses) * (1.0 / len(losses))
        reg_loss = total([p * p for p in self.params]) * 1e-4
        loss = data_loss + reg_loss
        learning_rate = 1.0 - 0.9 * self.k / 100
        if self.torch is not None:
            for p in self.params:
                p.grad = None
            loss.backward()
            with self.torch.no_grad():
                for p in self.params:
                    p -= learning_rate * p.grad
        else:
            for p in self.params:
                p.grad = 0.0
            loss.backward()
            for p in self.params:
                p.data -= learning_rate * p.grad
        elapsed = (bs.now_ns() - start) / 1e6
        self.k += 1
        return elapsed, float(loss.item() if self.torch is not None else loss.data)


def make_trainer(system, X, y):
    if system == "tapegrad":
        return bs.Trainer(bs.TMLP, TValue, X, y)
    if system == "micrograd":
        return bs.Trainer(bs.MMLP, bs.MValue, X, y)
    return GenericTrainer(system, X, y)


def bench_scalar_demo(cfg, peers, results, notes):
    X, y = bs.load_moons()
    if cfg.demo_points:
        X, y = X[:cfg.demo_points], y[:cfg.demo_points]
    trainers, first_loss = {}, {}
    for system in SCALAR:
        if peers[system]:
            continue
        try:
            trainers[system] = make_trainer(system, X, y)
            warmup = cfg.demo_tg_warmup if system == "tapegrad" else 1
            first_loss[system] = float(trainers[system].step()[1])
            for _ in range(warmup - 1):
                trainers[system].step()
        except Exception as error:  # a peer whose API differs: skip it, keep the others
            trainers.pop(system, None)
            notes.append(f"scalar demo: {system} failed: {type(error).__name__}: {error}")
    samples = {system: [] for system in trainers}
    gc.enable()
    for _ in range(cfg.demo_rounds):  # interleaved: every system once per round
        for system, trainer in list(trainers.items()):
            count = cfg.demo_tg_per_round if system == "tapegrad" else 1
            try:
                samples[system] += [trainer.step()[0] for _ in range(count)]
            except Exception as error:
                notes.append(f"scalar demo: {system} failed: {type(error).__name__}: {error}")
                del trainers[system]
    off = []
    if "micrograd" in trainers:
        # GC off: a collection after each step (untimed) keeps micrograd's heap from growing
        gc.collect()
        gc.disable()
        try:
            trainers["micrograd"].step()
            gc.collect()
            for _ in range(cfg.demo_mg_off_steps):
                off.append(trainers["micrograd"].step()[0])
                gc.collect()
        finally:
            gc.enable()
    del trainers
    gc.collect()
    demo = {system: {"median_ms": median(s), "min_ms": min(s), "max_ms": max(s), "n": len(s)}
            for system, s in samples.items() if s}
    if off:
        demo["micrograd (GC off)"] = {"median_ms": median(off), "min_ms": min(off),
                                      "max_ms": max(off), "n": len(off)}
    results["scalar_demo"] = demo
    results["scalar_demo_first_loss"] = first_loss


# ------------------------------------------------- 2 and 6. tensor steps

def bench_tensor_task(cfg, peers, results, notes, task):
    found = {"tapegrad": tapegrad}
    if not peers["torch"]:
        import torch
        found["torch"] = torch
    if not peers["autograd"]:
        found["autograd"] = "autograd"
    medians, losses = bt.run_task(task, found, cfg.tensor_repeats, cfg.tensor_warmup)
    results[f"tensor_{task}"] = {"median_ms": medians, "first_loss": losses,
                                 "repeats": cfg.tensor_repeats, "warmup": cfg.tensor_warmup}


# ------------------------------------------------------ 3. deep chains

def run_child(args, timeout):
    """This script as a child process; its JSON result, or {"error": why it ended}."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *map(str, args)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout (> {timeout} s)", "kind": "timeout"}
    wall = time.perf_counter() - start
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        tail = (done.stderr.strip().splitlines() or [""])[-1][:120]
        return {"error": f"crashed ({name})" + (f": {tail}" if tail else ""), "kind": "crash",
                "wall_s": wall}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:160]
        return {"error": f"exit status {done.returncode}: {tail}", "kind": "exit", "wall_s": wall}
    try:
        result = json.loads(lines[-1])
    except ValueError:
        return {"error": f"unreadable child output: {lines[-1][:120]}", "kind": "exit"}
    result["wall_s"] = wall
    return result


def limit_memory(fraction=0.75):
    """Caps this process's address space, so running out of memory is a result, not the OOM killer."""
    try:
        import resource
        cap = int(total_memory() * fraction)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        return cap
    except Exception:
        return None


def child_chain(system, depth, reps):
    """Build and backward times of a chain of `depth` operations (y*a, y+b alternating)."""
    cap = limit_memory()
    make = scalar_value_factory(system)
    out = {"system": system, "depth": depth, "memory_cap": cap, "build_s": [], "backward_s": [],
           "free_s": []}
    stage = "warm-up"
    try:
        warm = bs.build_chain(make, 100)
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
            root = bs.build_chain(value, depth)
            out["build_s"].append(time.perf_counter() - start)
            stage = "backward"
            start = time.perf_counter()
            root.backward()
            out["backward_s"].append(time.perf_counter() - start)
            x, a = made[0], made[1]
            grad = float(x.grad)
            expected = float(a.item() if hasattr(a, "item") else a.data) ** math.ceil(depth / 2)
            out["grad_ok"] = math.isfinite(grad) and abs(grad - expected) <= 1e-6 * abs(expected)
            stage = "free"
            start = time.perf_counter()
            del root, made, x, a, value
            gc.collect()
            out["free_s"].append(time.perf_counter() - start)
    except BaseException as error:  # RecursionError, MemoryError, an allocator's RuntimeError ...
        message = str(error).splitlines()[0][:100] if str(error) else ""
        out["error"] = f"{type(error).__name__} ({stage})" + (f": {message}" if message and
                                                             not isinstance(error, RecursionError) else "")
        out["kind"] = "exception"
    out["peak_rss"] = peak_rss()
    return out


def peak_rss():
    """This process's RSS high-water mark (VmHWM). Not ru_maxrss: Linux carries that one over
    exec from the parent, so every child would report at least the parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def bench_chains(cfg, peers, results, notes):
    systems = [s for s in SCALAR if not peers[s]]
    chains = {s: {} for s in systems}
    failed_at = {}
    for depth in cfg.chain_depths:  # interleaved: every system at one depth, then the next depth
        for system in systems:
            if system in failed_at:
                chains[system][depth] = {"skipped": f"not run (failed at {depth_label(failed_at[system])})"}
                continue
            if system in PURE_PYTHON and depth >= 10**7:
                chains[system][depth] = {"skipped": "skipped (time)"}
                continue
            log(f"  chain of {depth:,} ops: {system}")
            r = run_child(["chain", system, depth, cfg.chain_reps(depth)], cfg.chain_timeout)
            chains[system][depth] = r
            if "error" in r:
                failed_at[system] = depth
    results["chains"] = {s: {str(d): r for d, r in v.items()} for s, v in chains.items()}
    results["chain_depths"] = cfg.chain_depths
    results["chain_failed_at"] = failed_at


# -------------------------------------------------------- 4. per-op costs

OPS = [("add: x + c", bs.loop_add), ("mul: x * c", bs.loop_mul), ("tanh: x.tanh()", bs.loop_tanh)]


def bench_ops(cfg, peers, results, notes):
    systems = {}
    for system in SCALAR:
        if not peers[system]:
            systems[system] = scalar_value_factory(system)
    samples = {}
    for round_ in range(cfg.op_repeats + 1):  # round 0 is the warm-up
        for name, loop in OPS:
            for system, make in systems.items():
                if loop is bs.loop_tanh and not hasattr(make(0.5), "tanh"):
                    continue  # micrograd 0.1.0 has no tanh
                n = cfg.op_counts.get(system, cfg.op_count_other)
                ns = bs.time_loop(loop, make, n if round_ else max(1, n // 10))
                if round_:
                    samples.setdefault(name, {}).setdefault(system, []).append(ns)
    ops = {name: {s: median(v) for s, v in per.items()} for name, per in samples.items()}

    graphs = [("chain", f"chain of {cfg.small_chain_ops} ops", bs.build_chain, cfg.small_chain_ops,
               lambda n: n + 3, cfg.small_repeats, list(systems)),
              ("tree", f"pairwise sum tree of {cfg.small_tree_pairs:,} products", bs.build_tree,
               cfg.small_tree_pairs, lambda p: 4 * p - 1, cfg.small_repeats, list(systems)),
              # deep graphs: only for systems whose backward does not recurse in Python
              # (micrograd-rust's may overflow its stack: section 3 runs it in a child process)
              ("big chain", f"chain of {cfg.big_nodes:,} ops", bs.build_chain, cfg.big_nodes,
               lambda n: n + 3, cfg.big_repeats, [s for s in systems if s in ("torch (0-d)", "tapegrad")]),
              ("big tree", f"pairwise sum tree of {cfg.big_nodes // 4:,} products", bs.build_tree,
               cfg.big_nodes // 4, lambda p: 4 * p - 1, cfg.big_repeats,
               [s for s in systems if s in ("torch (0-d)", "tapegrad")])]
    backward = {}
    for key, label, build, size, count, repeats, members in graphs:
        per = {s: [] for s in members}
        nodes = {}
        for round_ in range(repeats + 1):  # round 0 is the warm-up
            for system in list(members):
                try:
                    n, ns = bs.time_backward(build, systems[system], size, 1, count)
                except Exception as error:
                    notes.append(f"backward {label}: {system} failed: {type(error).__name__}: {error}")
                    members.remove(system)
                    continue
                if round_:
                    per[system].append(ns)
                    nodes[system] = n
            gc.collect()
        backward[key] = {"label": label, "systems": {
            s: {"nodes": nodes[s], "median_ns": median(per[s]), "ns_per_node": median(per[s]) / nodes[s]}
            for s in members if per[s]}}
    results["ops"] = ops
    results["ops_counts"] = {s: cfg.op_counts.get(s, cfg.op_count_other) for s in systems}
    results["op_repeats"] = cfg.op_repeats
    results["backward"] = backward


# ------------------------------------------------------------- 5. memory

def child_kept(system, nodes):
    if system in ("tapegrad", "micrograd"):
        return bs.child_kept_graph(system, nodes)
    # bench_scalar.child_kept_graph's probe for the other scalar systems
    make = scalar_value_factory(system)
    gc.collect()
    rss_before = bs.rss_bytes()
    root = bs.build_chain(make, nodes - 3)
    gc.collect()
    rss_kept = bs.rss_bytes()
    del root
    freed = gc.collect()
    return {"nodes": nodes, "rss_before": rss_before, "rss_kept": rss_kept,
            "rss_dropped": bs.rss_bytes(), "segments": None, "node_bytes": None, "freed": freed}


def bench_memory(cfg, peers, results, notes):
    kept = {}
    for system in SCALAR:
        if peers[system]:
            continue
        log(f"  kept graph of {cfg.kept_nodes:,} nodes: {system}")
        kept[system] = run_child(["kept", system, cfg.kept_nodes], cfg.child_timeout)
    results["kept"] = kept
    log(f"  {cfg.memory_steps} tapegrad demo steps")
    results["steps"] = run_child(["steps", cfg.memory_steps], cfg.child_timeout)
    results["memory_steps"] = cfg.memory_steps


# ------------------------------------------------------------ the report

def chain_cell(r):
    if r is None:
        return ""
    if "skipped" in r:
        return r["skipped"]
    if "error" in r:
        return "**fails**: " + r["error"]
    text = f"{seconds(median(r['build_s']))} + {seconds(median(r['backward_s']))}"
    return text + ("" if r.get("grad_ok", True) else " (wrong gradient)")


def summary_rows(results):
    """The README table: one row per workload, one column per system."""
    columns = ["tapegrad", "micrograd", "micrograd-rust", "torch", "autograd"]
    rows = []
    demo = results.get("scalar_demo", {})
    base = demo.get("micrograd", {}).get("median_ms")

    def cell(value, unit, baseline, digits=3):
        if value is None:
            return ""
        return f"{bs.fmt(value, digits)} {unit}" + (f" ({times_faster(baseline, value)})"
                                                     if baseline and times_faster(baseline, value) else "")

    if demo:
        get = lambda s: demo.get(s, {}).get("median_ms")
        rows.append(["moons demo step, scalar (GC on)", cell(get("tapegrad"), "ms", base),
                     cell(get("micrograd"), "ms", None), cell(get("micrograd-rust"), "ms", base),
                     cell(get("torch (0-d)"), "ms", base), ""])
        if get("micrograd (GC off)"):
            rows.append(["moons demo step, scalar, micrograd GC off", "",
                         cell(get("micrograd (GC off)"), "ms", base), "", "", ""])
    for key, label in (("tensor_moons", "moons demo step, tensor"),
                       ("tensor_mlp", "MLP 784-256-10 step, batch 128")):
        if key in results:
            m = results[key]["median_ms"]
            rows.append([label, cell(m.get("tapegrad"), "ms", m.get("torch")), "", "",
                         cell(m.get("torch"), "ms", None), cell(m.get("autograd"), "ms", m.get("torch"))])
    ops = results.get("ops", {})
    for name, _ in OPS:
        per = ops.get(name, {})
        if per:
            b = per.get("micrograd")
            rows.append([f"build `{name.split(': ')[1]}`", cell(per.get("tapegrad"), "ns", b),
                         cell(b, "ns", None), cell(per.get("micrograd-rust"), "ns", b),
                         cell(per.get("torch (0-d)"), "ns", b), ""])
    for key in ("chain", "tree", "big chain"):
        g = results.get("backward", {}).get(key)
        if g:
            s = g["systems"]
            get = lambda name: s.get(name, {}).get("ns_per_node")
            b = get("micrograd")
            rows.append([f"backward, {g['label']}, per node", cell(get("tapegrad"), "ns", b),
                         cell(b, "ns", None) if b else ("not run: recursive backward"
                                                         if key == "big chain" else ""),
                         cell(get("micrograd-rust"), "ns", b), cell(get("torch (0-d)"), "ns", b), ""])
    chains = results.get("chains", {})
    if chains:
        depths = results["chain_depths"]
        row = [f"deep chain, {depth_label(depths[-1])} ops: build + backward"]
        fails = ["deep chain: first depth that fails (tried up to " + depth_label(depths[-1]) + ")"]
        for col in columns:
            system = "torch (0-d)" if col == "torch" else col
            per = chains.get(system)
            if per is None:
                row.append("")
                fails.append("")
                continue
            row.append(chain_cell(per.get(str(depths[-1]))).replace("**fails**: ", "fails: "))
            failed = results["chain_failed_at"].get(system)
            if failed is None:
                skipped = [d for d in depths if "skipped" in per.get(str(d), {})]
                skipped = f" (skipped {', '.join(map(depth_label, skipped))})" if skipped else ""
                fails.append("none" + skipped)
            else:
                fails.append(f"{depth_label(failed)}: {per[str(failed)]['error']}")
        rows += [row, fails]
    kept = results.get("kept", {})
    if kept:
        row = [f"memory: kept {results['kept_nodes_label']}-node graph"]
        for col in columns:
            system = "torch (0-d)" if col == "torch" else col
            r = kept.get(system)
            if r is None:
                row.append("")
            elif "error" in r:
                row.append("fails: " + r["error"])
            else:
                row.append(f"{bs.fmt((r['rss_kept'] - r['rss_before']) / r['nodes'])} B/node")
        rows.append(row)
    steps = results.get("steps")
    if steps and "error" not in steps:
        at_warmup = next(r for r in steps["rows"] if r[0] == steps["warmup"])
        end = steps["rows"][-1]
        rows.append([f"memory: RSS change over {end[0] - at_warmup[0]:,} demo steps after warm-up",
                     f"{(end[1] - at_warmup[1]) / 2**20:+.1f} MiB", "", "", "", ""])
    return ["workload"] + columns, rows


def detail_sections(results, cfg):
    out = []
    demo = results.get("scalar_demo")
    if demo:
        base = demo.get("micrograd", {}).get("median_ms")
        out.append("## 1. moons demo step, scalar engines\n")
        out.append("micrograd's demo: MLP(2, [16, 16, 1]) on 100 points, SVM max-margin loss + L2, "
                   "backward, SGD; one step builds the inputs, runs forward, loss, zero_grad, "
                   "backward and the update. torch (0-d): the same MLP with one float64 0-d tensor per "
                   f"value. Interleaved: {cfg.demo_rounds} rounds of one step per system "
                   f"(tapegrad {cfg.demo_tg_per_round} a round) after a warm-up step "
                   f"(tapegrad {cfg.demo_tg_warmup}), GC on; then micrograd alone with gc.disable() "
                   "and an untimed gc.collect() after each step.\n")
        rows = []
        for system, d in demo.items():
            rows.append([system, "off" if "GC off" in system else "on", d["n"], bs.fmt(d["median_ms"]),
                         bs.fmt(d["min_ms"]), bs.fmt(d["max_ms"]), times_faster(base, d["median_ms"])])
        out.append(table(["system", "GC", "steps timed", "median ms/step", "min ms", "max ms",
                          "micrograd (GC on) / system"], rows))
        losses = ", ".join(f"{k} {v!r}" for k, v in results["scalar_demo_first_loss"].items())
        out.append(f"Sanity check, loss of step 0 (same seed, same model): {losses}.\n")
    for key, title in (("tensor_moons", "## 2. moons demo step, tensor engines"),
                       ("tensor_mlp", "## 6. MLP 784-256-10 step, batch 128")):
        if key not in results:
            continue
        r = results[key]
        m = r["median_ms"]
        out.append(title + "\n")
        out.append("bench_tensor.py's step (float32): "
                   + ("MLP 2-16-16-1 on the 100 moons points, SVM loss + L2, SGD. "
                      if key == "tensor_moons" else
                      "relu hidden layer, cross-entropy, SGD, on random data. ")
                   + f"Systems interleaved, {r['warmup']} warm-up and {r['repeats']} timed steps each.\n")
        out.append(table(["system", "median ms/step", "torch / system"],
                         [[s, bs.fmt(m[s]), times_faster(m.get("torch"), m[s])] for s in TENSOR if s in m]))
        out.append("First-step loss: "
                   + ", ".join(f"{k} {v:.6f}" for k, v in r["first_loss"].items()) + ".\n")
    chains = results.get("chains")
    if chains:
        depths = results["chain_depths"]
        out.append("## 3. Deep chains\n")
        out.append("A chain of N operations alternating `y*a` and `y+b` (bench_scalar.build_chain), built "
                   "then backpropagated, in a child process per system and depth with a timeout of "
                   f"{cfg.chain_timeout} s and an address-space cap of 3/4 of RAM. Cells: median build "
                   "time + backward time (3 runs up to 1e4 or 1e5 ops, 1 run above, after a 100-op "
                   "warm-up), or how the child failed: a Python exception, a crash (killed by a "
                   "signal), a timeout. After a failure the larger depths are not run. "
                   "`skipped (time)`: a pure-Python peer at 1e7, not run.\n")
        rows = []
        for system, per in chains.items():
            peak = max((r.get("peak_rss") or 0 for r in per.values()), default=0)
            rows.append([system] + [chain_cell(per.get(str(d))) for d in depths]
                        + [bs.mib(peak) if peak else ""])
        out.append(table(["system"] + [f"{depth_label(d)} ops" for d in depths] + ["peak RSS MiB"], rows))
    if results.get("ops"):
        out.append("## 4. Per-op costs\n")
        counts = ", ".join(f"{s} {n:,}" for s, n in results["ops_counts"].items())
        out.append("Build: loops of `y = <op>` over two scalars that record the operation "
                   f"(bench_scalar.time_loop), total time / ops, median of {results['op_repeats']} "
                   f"interleaved runs after a warm-up run; ops per run: {counts}. micrograd 0.1.0 has "
                   "no tanh.\n")
        systems = [s for s in SCALAR if any(s in per for per in results["ops"].values())]
        rows = []
        others = [s for s in systems if s != "micrograd"]
        for name, per in results["ops"].items():
            b = per.get("micrograd")
            rows.append([name] + [bs.fmt(per.get(s)) if per.get(s) else "n/a" for s in systems]
                        + [" / ".join(times_faster(b, per.get(s)) or "-" for s in others)])
        out.append(table(["op (ns/op)"] + systems + ["micrograd / " + ", ".join(others)], rows))
        out.append("Backward: `root.backward()` on a freshly built graph each run "
                   "(bench_scalar.time_backward, build untimed), median over interleaved runs after a "
                   "warm-up run, divided by the node count (tapegrad: growth of its tape, leaves "
                   "included; others: operations + leaves). micrograd's backward recurses, so the deep "
                   "graphs run only on systems that do not.\n")
        rows = []
        for key, g in results["backward"].items():
            b = g["systems"].get("micrograd", {}).get("ns_per_node")
            for system, r in g["systems"].items():
                rows.append([g["label"], system, f"{r['nodes']:,}", bs.fmt(r["median_ns"] / 1e6),
                             bs.fmt(r["ns_per_node"]), times_faster(b, r["ns_per_node"])])
        out.append(table(["graph", "system", "nodes", "median ms", "ns/node", "micrograd / system"], rows))
    kept = results.get("kept")
    if kept is not None:
        out.append("## 5. Memory\n")
        out.append("Each probe runs in a fresh child process; RSS is the current resident set size "
                   "(/proc/self/statm). Kept graph: a chain kept alive by its output handle, RSS "
                   "before and after building it, collections around (bench_scalar.child_kept_graph).\n")
        rows = []
        for system, r in kept.items():
            if "error" in r:
                rows.append([system, "fails: " + r["error"], "", "", "", ""])
                continue
            grown = r["rss_kept"] - r["rss_before"]
            tape = f"{r['node_bytes']} B/node, {r['segments']} segments" if r.get("node_bytes") else ""
            rows.append([system, f"{r['nodes']:,}", bs.mib(grown), bs.fmt(grown / r["nodes"]),
                         bs.mib(r["rss_dropped"] - r["rss_before"]), tape])
        out.append(table(["system", "nodes kept", "RSS growth MiB", "bytes/node",
                          "RSS left after drop + collect, MiB", "tape"], rows))
        steps = results.get("steps", {})
        out.append(f"Steady state: {results['memory_steps']:,} tapegrad demo steps with the GC on "
                   "(bench_scalar.child_demo_memory).\n")
        if "error" in steps:
            out.append(f"> the steps probe failed: {steps['error']}\n")
        else:
            at_warmup = next(r for r in steps["rows"] if r[0] == steps["warmup"])
            out.append(table(
                ["after step", "RSS MiB", "vs after warm-up, MiB", "tape segments", "tape nodes"],
                [[s, bs.mib(rss), f"{(rss - at_warmup[1]) / 2**20:+.1f}", seg, f"{n:,}"]
                 for s, rss, seg, n in steps["rows"]]))
            end = steps["rows"][-1]
            out.append(f"After the {steps['warmup']}-step warm-up: peak RSS {bs.mib(steps['peak_rss'])} MiB, "
                       f"peak tape segments {steps['peak_segments']}; RSS change warm-up -> end "
                       f"{(end[1] - at_warmup[1]) / 2**20:+.1f} MiB over {end[0] - at_warmup[0]:,} steps.\n")
    return out


def write_markdown(path, results, cfg, env_rows, notes, elapsed, png_name):
    lines = ["# tapegrad benchmarks\n",
             f"Made by `python benchmarks/run.py{'' if cfg.mode == 'full' else ' --' + cfg.mode}` "
             f"in {elapsed:.0f} s; nothing here is typed by hand.\n",
             table(["", ""], env_rows)]
    if notes:
        lines.append("\n".join(f"> {n}  " for n in notes) + "\n")
    headers, rows = summary_rows(results)
    lines.append("## Summary\n")
    lines.append("Medians. In parentheses: how many times faster than micrograd (GC on) for the scalar "
                 "rows, than torch for the tensor rows. The torch column is torch with one 0-d tensor per "
                 "value in the scalar rows (moons scalar step, build, backward, deep chain, memory). "
                 "Deep chains: build + backward time.\n")
    lines.append("<!-- summary -->")
    lines.append(table(headers, rows))
    if png_name:
        lines.append(f"![benchmark plot]({png_name})\n")
    lines += detail_sections(results, cfg)
    path.write_text("\n".join(lines))


def write_plot(path, results, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    def legend(ax, systems, loc):
        """Legend patches in each system's colour, drawn bars or not (a failed system has none)."""
        ax.legend(handles=[Patch(color=COLORS.get(s, "gray"), label=s) for s in systems],
                  fontsize=8, loc=loc, framealpha=0.9)

    fig, axes = plt.subplots(2, 2, figsize=(15, 11))
    fig.suptitle(title, fontsize=13)

    def bars(ax, groups, series, unit, heading):
        """Grouped horizontal bars on a log axis: groups down the y axis, one bar per series."""
        present = [s for s in series if any(v.get(s) for v in groups.values())]
        height = 0.8 / max(1, len(present))
        labels = list(groups)
        for i, s in enumerate(present):
            ys = [g + (i - (len(present) - 1) / 2) * height for g in range(len(labels))]
            vals = [groups[label].get(s) for label in labels]
            ax.barh([y for y, v in zip(ys, vals) if v], [v for v in vals if v], height=height,
                    color=COLORS.get(s, "gray"), label=s)
            for y, v in zip(ys, vals):
                if v:
                    ax.text(v * 1.08, y, bs.fmt(v), va="center", fontsize=8)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel(f"{unit} (log scale, lower is faster)")
        ax.set_title(heading)
        xmin, xmax = ax.get_xlim()
        ax.set_xlim(xmin, xmax * 30)  # room for the value labels and the legend
        if present:
            legend(ax, present, "lower right")

    demo = results.get("scalar_demo", {})
    order = ["micrograd", "micrograd (GC off)", "micrograd-rust", "torch (0-d)", "tapegrad"]
    ax = axes[0][0]
    names = [s for s in order if s in demo]
    vals = [demo[s]["median_ms"] for s in names]
    if names:
        ax.barh(names, vals, color=[COLORS[s] for s in names])
        base = demo.get("micrograd", {}).get("median_ms")
        for y, (s, v) in enumerate(zip(names, vals)):
            faster = times_faster(base, v) if s != "micrograd" else ""
            ax.text(v * 1.08, y, f"{bs.fmt(v)} ms" + (f" ({faster} micrograd)" if faster else ""),
                    va="center", fontsize=9)
        ax.invert_yaxis()
        ax.set_xscale("log")
        xmin, xmax = ax.get_xlim()
        ax.set_xlim(xmin, xmax * 4)
    ax.set_xlabel("ms per step (log scale, lower is faster)")
    ax.set_title("micrograd's moons demo step, scalar engines")

    groups = {}
    for key, label in (("tensor_moons", "moons demo step\n(tensor form)"),
                       ("tensor_mlp", "MLP 784-256-10\nbatch 128")):
        if key in results:
            groups[label] = results[key]["median_ms"]
    bars(axes[0][1], groups, TENSOR, "ms per step", "Tensor engines: one training step")

    groups = {}
    for name, _ in OPS:
        if name in results.get("ops", {}):
            groups["build " + name.split(": ")[1]] = results["ops"][name]
    for key in ("chain", "tree"):
        g = results.get("backward", {}).get(key)
        if g:
            groups["backward per node,\n" + g["label"]] = {
                s: r["ns_per_node"] for s, r in g["systems"].items()}
    bars(axes[1][0], groups, SCALAR, "ns per op or node", "Scalar engines: cost per operation")

    ax = axes[1][1]
    chains = results.get("chains", {})
    depths = results.get("chain_depths", [])
    systems = list(chains)
    width = 0.8 / max(1, len(systems))
    totals = {}
    for s in systems:
        for d in depths:
            r = chains[s].get(str(d), {})
            if "error" not in r and r.get("build_s") and r.get("backward_s"):
                totals[s, d] = median(r["build_s"]) + median(r["backward_s"])
    from matplotlib.transforms import blended_transform_factory
    in_axes = blended_transform_factory(ax.transData, ax.transAxes)  # x: data, y: 0..1 up the axes
    if totals:
        ax.set_ylim(min(totals.values()) / 30, max(totals.values()) * 30)
    else:
        # no chain finished: a log axis still needs a positive range (the x labels
        # below say why each failed)
        ax.set_ylim(0.01, 100)
    for i, s in enumerate(systems):
        xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(depths))]
        ys = [totals.get((s, d)) for d in depths]
        ax.bar([x for x, y in zip(xs, ys) if y], [y for y in ys if y], width=width,
               color=COLORS.get(s, "gray"), label=s)
        for x, d, y in zip(xs, depths, ys):
            r = chains[s].get(str(d), {})
            if y:
                ax.text(x, y * 1.15, seconds(y), rotation=90, ha="center", va="bottom", fontsize=7)
            elif "error" in r or "skipped" in r:
                text = r.get("error", r.get("skipped")).split(":")[0].split(" (")[0]
                if "skipped" in r:
                    text = "not run" if "failed" in r["skipped"] else "skipped (time)"
                ax.text(x, 0.02, "x " + text, transform=in_axes, rotation=90, ha="center",
                        va="bottom", fontsize=8, color="black",
                        bbox=dict(boxstyle="square,pad=0.15", fc=COLORS.get(s, "gray"), alpha=0.35, lw=0))
    ax.set_xticks(range(len(depths)), [f"{depth_label(d)} ops" for d in depths])
    ax.set_xlim(-0.65, len(depths) - 0.35)
    ax.set_yscale("log")
    ax.set_ylabel("build + backward, seconds (log scale)")
    ax.set_xlabel("chain length (operations y*a, y+b)")
    ax.set_title("Deep chains: time, and where each system fails")
    if systems:
        legend(ax, systems, "upper left")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------ main

def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Runs every tapegrad benchmark and writes results.md and results.png.")
    parser.add_argument("--quick", action="store_true", help="a shorter run (under two minutes)")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT, metavar="DIR",
                        help=f"where results.md and results.png go (default {DEFAULT_OUTPUT})")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # tests: tiny sizes
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # internal: one probe
    return parser.parse_args(argv)


def child_main(args):
    kind, *rest = args
    if kind == "chain":
        result = child_chain(rest[0], int(rest[1]), int(rest[2]))
    elif kind == "kept":
        result = child_kept(rest[0], int(rest[1]))
    elif kind == "steps":
        result = bs.child_demo_memory(int(rest[0]))
    else:
        raise SystemExit(f"unknown child probe {kind}")
    print(json.dumps(result), flush=True)


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        child_main(args.child)
        return 0
    cfg = SMOKE if args.smoke else QUICK if args.quick else FULL
    start = time.perf_counter()
    load_at_start = load_average()
    at_start = {"load": load_at_start, "commit": bs.git_commit(), "extensions": extension_state()}
    peers = detect_peers()
    notes = [f"{system}: {why}; its rows are skipped." for system, why in peers.items()
             if why and system != "torch (0-d)"]
    if load_at_start is not None and load_at_start > 0.25 * (os.cpu_count() or 1):
        notes.append(f"the machine was busy when the run started (load average {load_at_start:.2f} on "
                     f"{os.cpu_count()} CPUs): timings can be inflated, torch's multi-threaded ops most.")
    for note in notes:
        log("note: " + note)
    results = {"kept_nodes_label": depth_label(cfg.kept_nodes)}
    sections = [("1. scalar demo step", lambda: bench_scalar_demo(cfg, peers, results, notes)),
                ("2. tensor demo step", lambda: bench_tensor_task(cfg, peers, results, notes, "moons")),
                ("3. deep chains", lambda: bench_chains(cfg, peers, results, notes)),
                ("4. per-op costs", lambda: bench_ops(cfg, peers, results, notes)),
                ("5. memory", lambda: bench_memory(cfg, peers, results, notes)),
                ("6. MLP 784-256-10", lambda: bench_tensor_task(cfg, peers, results, notes, "mlp"))]
    for name, section in sections:
        t0 = time.perf_counter()
        log(f"{name} ...")
        try:
            section()
        except (Exception, SystemExit) as error:  # report it and go on with the other sections
            # (SystemExit: tapegrad.demo.moons() without scikit-learn)
            traceback.print_exc()
            notes.append(f"section {name} failed: {type(error).__name__}: {error}")
        gc.collect()
        log(f"{name}: {time.perf_counter() - t0:.1f} s")
    elapsed = time.perf_counter() - start

    out_dir = args.output_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, png_path = out_dir / "results.md", out_dir / "results.png"
    env_rows = environment(cfg, at_start)
    commit_now, extensions_now = bs.git_commit(), extension_state()
    if commit_now != at_start["commit"]:
        notes.append(f"the checkout changed during the run: commit {at_start['commit']} at the start, "
                     f"{commit_now} at the end.")
    if extensions_now != at_start["extensions"]:
        notes.append(f"the tapegrad extensions changed during the run ({extensions_now} at the end): "
                     "child processes started after that loaded the new build.")
    png_name = None
    try:
        commit = bs.git_commit()
        write_plot(png_path, results, f"tapegrad benchmarks ({cfg.mode} run, commit {commit}, "
                                      f"{bs.cpu_model()}, Python {platform.python_version()})")
        png_name = png_path.name
    except ImportError as error:
        notes.append(f"no plot: matplotlib is not importable ({error}); pip install matplotlib")
    except Exception as error:
        traceback.print_exc()
        notes.append(f"the plot failed: {type(error).__name__}: {error}")
    write_markdown(md_path, results, cfg, env_rows, notes, elapsed, png_name)
    print(md_path.read_text())
    log(f"wrote {md_path}" + (f" and {png_path}" if png_name else "") + f" in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
