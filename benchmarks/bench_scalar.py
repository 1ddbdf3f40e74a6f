#!/usr/bin/env python3
"""Benchmark of the tapegrad scalar engine against micrograd, in one run.

What it measures (all figures are medians; nothing is asserted):

1. Demo step: one step of micrograd's moons demo (MLP(2, [16, 16, 1]) on 100
   points, SVM max-margin loss + L2, backward, SGD), in ms/step, for tapegrad
   (its nn.MLP, and a Neuron written by the user with Python's sum) and
   micrograd, with the cyclic GC on (as users run it) and with gc.disable().
   Each system runs in a fresh child process of its own, and the systems take
   turns, round after round (--rounds), so that neither one's heap slows the
   other and a change in the machine's load hits all of them.
2. Build cost per operation (ns/op): loops of `y = x + c`, `y = x * c`,
   `y = x.tanh()`, ... with Value operands, total time / ops.
3. Backward cost per node (ns/node): tapegrad on a chain of ~1e6 operations
   and on a sum of ~250k products (~1e6 nodes); tapegrad and micrograd on small
   graphs micrograd's recursive backward can handle (a 400-op chain, a pairwise
   sum tree of ~1e4 nodes). Every timed backward runs on a freshly built graph.
4. Memory: bytes per node of a kept ~1e6-node chain (current RSS delta from
   /proc/self/statm over the node count of tapegrad._engine.tape_stats()), and
   RSS + tape segments across N demo steps, to show memory stays flat. These
   run in fresh child processes of this script, so the heap left behind by
   the other sections (micrograd's garbage above all) does not blur them.

Run from the repository root, with the extension built in place:

    python setup.py build_ext --inplace -q
    PYTHONPATH=src python benchmarks/bench_scalar.py [--quick] [--memory-steps N]

--quick shrinks every section (under ~30 s); the full run takes well under
3 minutes on 2 cores. micrograd is optional: without it its rows are skipped.
Output is markdown on stdout.
"""
import argparse
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from types import SimpleNamespace

import tapegrad
from tapegrad import Value as TValue
from tapegrad import _engine as tape
from tapegrad.engine import weighted_sum
from tapegrad.nn import MLP as TMLP

try:
    from micrograd.engine import Value as MValue
    from micrograd.nn import MLP as MMLP
    MICROGRAD_ERROR = None
except Exception as error:  # not installed, or broken: skip its rows
    MValue = MMLP = None
    MICROGRAD_ERROR = f"{type(error).__name__}: {error}"

REPO = Path(__file__).resolve().parent.parent

FULL = SimpleNamespace(
    demo_rounds=5, demo_tg_on=20, demo_tg_off=10, demo_mg_on=2, demo_mg_off=1,
    tg_warmup=3,
    op_count_tg=1_000_000, op_count_mg=200_000, op_repeats=5,
    big_nodes=1_000_000, big_repeats=7,
    small_chain_ops=400, small_tree_pairs=2_500, small_repeats=30,
    kept_nodes=1_000_000, mg_kept_nodes=200_000,
)
QUICK = SimpleNamespace(
    demo_rounds=2, demo_tg_on=10, demo_tg_off=5, demo_mg_on=1, demo_mg_off=1,
    tg_warmup=3,
    op_count_tg=200_000, op_count_mg=50_000, op_repeats=3,
    big_nodes=200_000, big_repeats=3,
    small_chain_ops=400, small_tree_pairs=2_500, small_repeats=10,
    kept_nodes=1_000_000, mg_kept_nodes=50_000,
)


# ------------------------------------------------------------------ helpers

def now_ns():
    return time.perf_counter_ns()


def rss_bytes():
    """Current resident set size; peak RSS where /proc is missing (not Linux)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def mib(n):
    return f"{n / 2**20:.1f}"


def fmt(x, digits=3):
    """A number to `digits` significant figures, without exponent notation."""
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - int(f"{abs(x):e}".split("e")[1]))
    return f"{x:,.{decimals}f}"


def ratio(slow, fast):
    if slow is None or fast is None or fast == 0:
        return "n/a"
    return f"{slow / fast:,.1f}x"


def print_table(headers, rows):
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"
    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        print(line(r))
    print()


def split(total, parts):
    """total as `parts` near-equal non-negative block sizes."""
    return [total // parts + (i < total % parts) for i in range(parts)]


def have_micrograd():
    return MValue is not None


# ------------------------------------------------------------------- header

def git_commit():
    try:
        run = lambda *args: subprocess.run(["git", "-C", str(REPO), *args], capture_output=True,
                                           text=True, timeout=10, check=True).stdout.strip()
        commit = run("rev-parse", "--short", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no")
        return commit + (" (+ uncommitted changes)" if dirty else "")
    except Exception:
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version_of(module_name):
    try:
        from importlib.metadata import version
        return version(module_name)
    except Exception:
        module = sys.modules.get(module_name)
        return getattr(module, "__version__", "not installed")


def extension_staleness():
    """A warning when the built extension is older than its sources in the checkout."""
    built = Path(tape.__file__)
    stamp = time.strftime("built %Y-%m-%d %H:%M:%S UTC", time.gmtime(built.stat().st_mtime))
    # the scalar engine's own sources (the tensor engine's are another extension)
    sources = [REPO / "src" / "tapegrad" / name
               for name in ("_engine.pyx", "_collect.pxi", "_neurons.pxi", "_tape.pxd")] + \
        [REPO / "csrc" / name for name in ("tg_tape.c", "tg_tape.h", "tg_ops.h")]
    sources = [p for p in sources if p.exists()]
    if not sources or not built.is_relative_to(REPO):
        return f"{stamp}; not checked against sources (not imported from this checkout)"
    newest = max(p.stat().st_mtime for p in sources)
    if newest > built.stat().st_mtime:
        return f"{stamp}; WARNING: older than its sources, rebuild with `python setup.py build_ext --inplace`"
    return f"{stamp}; up to date with its sources"


def print_header(args):
    import numpy
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print("# tapegrad scalar engine vs micrograd\n")
    print_table(["", ""], [
        ["machine", f"{platform.platform()}; {cpu_model()}"],
        ["CPUs", f"{os.cpu_count()} (usable: {affinity})"],
        ["Python", f"{platform.python_implementation()} {platform.python_version()}"],
        ["tapegrad", f"{tapegrad.__version__} ({Path(tapegrad.__file__).parent})"],
        ["extension", extension_staleness()],
        ["micrograd", version_of("micrograd") if have_micrograd() else f"not importable ({MICROGRAD_ERROR})"],
        ["numpy", numpy.__version__],
        ["scikit-learn", version_of("scikit-learn")],
        ["git commit", git_commit()],
        ["mode", ("quick" if args.quick else "full") + f", --memory-steps {args.memory_steps}"],
    ])
    if not have_micrograd():
        print("> micrograd is not importable: its rows are skipped.\n")


# ---------------------------------------------------------------- demo step

def load_moons():
    from tapegrad import demo
    return demo.moons()


class UserNeuron:
    """A Neuron as users write it on micrograd: Python's sum over the products."""

    def __init__(self, nin, nonlin=True):
        self.w = [TValue(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = TValue(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class UserMLP:
    """micrograd's MLP of UserNeurons, layers as plain lists."""

    def __init__(self, nin, nouts):
        sizes = [nin] + list(nouts)
        self.layers = [[UserNeuron(sizes[i], nonlin=i != len(nouts) - 1)
                        for _ in range(sizes[i + 1])] for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            out = [n(x) for n in layer]
            x = out[0] if len(out) == 1 else out
        return x

    def parameters(self):
        return [p for layer in self.layers for n in layer for p in n.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0


class Trainer:
    """micrograd's moons demo (tapegrad.demo): one model, stepping with the demo's schedule."""

    def __init__(self, mlp, value, X, y):
        random.seed(1337)  # same seed, same draws: both systems get the same model
        self.model, self.value, self.X, self.y = mlp(2, [16, 16, 1]), value, X, y
        self.k = 0

    def step(self):
        """One forward + backward + SGD update; returns (ms, loss)."""
        from tapegrad import demo
        start = now_ns()
        loss, _ = demo.sgd_step(self.model, self.X, self.y, self.value, self.k)
        elapsed = (now_ns() - start) / 1e6
        self.k += 1
        return elapsed, loss


DEMO_SYSTEMS = {  # the name in the table: the model class and the Value class
    "tapegrad": lambda: (TMLP, TValue),
    "tapegrad, user-written Neuron": lambda: (UserMLP, TValue),
    "micrograd": lambda: (MMLP, MValue),
}


def child_demo_steps(system, warmup, steps_on, steps_off):
    """ms of demo steps of one system, alone in this process: `steps_on` with
    the GC on, after `warmup` steps, then `steps_off` with gc.disable() (and,
    for micrograd, an untimed collection after each, or its heap grows by
    ~100 MB a step)."""
    X, y = load_moons()
    mlp, value = DEMO_SYSTEMS[system]()
    trainer = Trainer(mlp, value, X, y)
    gc.enable()
    first_loss = float(trainer.step()[1])
    for _ in range(warmup - 1):
        trainer.step()
    on = [trainer.step()[0] for _ in range(steps_on)]
    off = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(steps_off):
            off.append(trainer.step()[0])
            if value is not TValue:
                gc.collect()
    finally:
        gc.enable()
    return {"on": on, "off": off, "first_loss": first_loss}


def bench_demo(cfg):
    systems = [name for name in DEMO_SYSTEMS if name != "micrograd" or have_micrograd()]
    samples = {(name, state): [] for name in systems for state in ("on", "off")}
    round_medians = {key: [] for key in samples}
    first_loss = {}
    for r in range(cfg.demo_rounds):
        # a different system goes first each round
        for name in systems[r % len(systems):] + systems[:r % len(systems)]:
            tapegrad_system = name != "micrograd"
            result = run_child("demo", name, cfg.tg_warmup if tapegrad_system else 1,
                               cfg.demo_tg_on if tapegrad_system else cfg.demo_mg_on,
                               cfg.demo_tg_off if tapegrad_system else cfg.demo_mg_off)
            if "error" in result:
                raise RuntimeError(f"{name}: {result['error']}")
            first_loss[name] = result["first_loss"]
            for state in ("on", "off"):
                if result[state]:
                    samples[name, state] += result[state]
                    round_medians[name, state].append(statistics.median(result[state]))

    print("## 1. Demo step (micrograd's moons demo, MLP(2, [16, 16, 1]), 100 points)\n")
    print("One step = build inputs, forward, loss, zero_grad, backward, SGD update. Each system "
          f"runs alone in a fresh process, the systems taking turns, {cfg.demo_rounds} rounds; "
          f"per round tapegrad times {cfg.demo_tg_on} steps with the GC on and "
          f"{cfg.demo_tg_off} with it off (after {cfg.tg_warmup} warm-up steps), micrograd "
          f"{cfg.demo_mg_on} and {cfg.demo_mg_off} (after 1).\n")
    rows, medians = [], {}
    for (system, gc_state), times in samples.items():
        if not times:
            continue
        medians[system, gc_state] = statistics.median(times)
        rows.append([system, gc_state, len(times), fmt(medians[system, gc_state]),
                     fmt(min(times)), fmt(max(times))])
    print_table(["system", "GC", "steps timed", "median ms/step", "min ms", "max ms"], rows)
    if have_micrograd():
        ratio_rows = []
        for system in systems[:-1]:
            for state in ("on", "off"):
                per_round = [m / t for m, t in zip(round_medians["micrograd", state],
                                                   round_medians[system, state])]
                ratio_rows.append([system, state, ratio(medians.get(("micrograd", state)),
                                                        medians.get((system, state))),
                                   ", ".join(f"{x:,.0f}x" for x in per_round)])
        print_table(["tapegrad", "GC", "micrograd / tapegrad (median ms/step)",
                     "the same, round by round"], ratio_rows)
    losses = ", ".join(f"{k} {v!r}" for k, v in first_loss.items())
    print(f"Sanity check, loss of step 0 (same seed, same model): {losses}.\n")


# ---------------------------------------------------------- per-op build cost

# One loop per operation, so the timed loop holds nothing but the operation.
def loop_add(x, c, n):
    for _ in range(n):
        y = x + c


def loop_mul(x, c, n):
    for _ in range(n):
        y = x * c


def loop_add_float(x, c, n):
    for _ in range(n):
        y = x + 0.25


def loop_tanh(x, c, n):
    for _ in range(n):
        y = x.tanh()


def loop_relu(x, c, n):
    for _ in range(n):
        y = x.relu()


OPS = [  # name, loop, tapegrad nodes per op
    ("add: x + c", loop_add, 1),
    ("mul: x * c", loop_mul, 1),
    ("tanh: x.tanh()", loop_tanh, 1),
    ("relu: x.relu()", loop_relu, 1),
    ("add a float: x + 0.25", loop_add_float, 1),   # the float is folded into the node
]


def time_loop(loop, value, n):
    """ns per iteration of loop over operands value(0.5), value(0.25)."""
    x, c = value(0.5), value(0.25)
    start = now_ns()
    loop(x, c, n)
    return (now_ns() - start) / n


def bench_ops(cfg):
    samples = {}
    for _ in range(cfg.op_repeats):
        for name, loop, _nodes in OPS:
            samples.setdefault((name, "tapegrad"), []).append(time_loop(loop, TValue, cfg.op_count_tg))
            if have_micrograd() and (loop is not loop_tanh or hasattr(MValue, "tanh")):
                samples.setdefault((name, "micrograd"), []).append(
                    time_loop(loop, MValue, cfg.op_count_mg))
        samples.setdefault(("float", "python"), []).append(time_loop(loop_add, float, cfg.op_count_tg))
    median = {key: statistics.median(v) for key, v in samples.items()}

    print("## 2. Build cost per operation (forward, recording the node)\n")
    print(f"Loops of `y = <op>` over Value operands, total time / ops, median of {cfg.op_repeats} "
          f"runs; tapegrad {cfg.op_count_tg:,} ops a run, micrograd {cfg.op_count_mg:,}. GC on.\n")
    rows = []
    for name, _loop, nodes in OPS:
        tg, mg = median[name, "tapegrad"], median.get((name, "micrograd"))
        rows.append([name, nodes, fmt(tg), fmt(mg), ratio(mg, tg)])
    rows.append(["(plain floats: x + c, loop overhead for scale)", "-",
                 fmt(median["float", "python"]), "", ""])
    print_table(["op", "tapegrad nodes/op", "tapegrad ns/op", "micrograd ns/op",
                 "micrograd / tapegrad"], rows)


# ------------------------------------------------------------ backward cost

def build_chain(value, ops):
    """x, then `ops` operations alternating y*a and y+b: ops + 3 nodes, depth ops."""
    x, a, b = value(1.0), value(0.999999), value(1e-3)
    y = x
    for i in range(ops):
        y = y * a if i % 2 == 0 else y + b
    return y


def build_weighted_sum(value, pairs):
    """sum of `pairs` products of leaves with weighted_sum: 4 * pairs + 1 nodes."""
    rng = random.Random(7)
    ws = [value(rng.uniform(-1, 1)) for _ in range(pairs)]
    xs = [value(rng.uniform(-1, 1)) for _ in range(pairs)]
    return weighted_sum(ws, xs, value(0.0))


def build_tree(value, pairs):
    """products of pairs of leaves, summed pairwise (depth log2): 4 * pairs - 1 nodes."""
    rng = random.Random(7)
    terms = [value(rng.uniform(-1, 1)) * value(rng.uniform(-1, 1)) for _ in range(pairs)]
    while len(terms) > 1:
        summed = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        terms = summed + terms[len(terms) - len(terms) % 2:]
    return terms[0]


def time_backward(build, value, size, repeats, count_nodes):
    """(nodes, median backward ns) over `repeats` freshly built graphs."""
    times, nodes = [], None
    for _ in range(repeats):
        if value is TValue:
            tape.collect()
            before = tape.tape_stats()["nodes"]
        root = build(value, size)
        nodes = tape.tape_stats()["nodes"] - before if value is TValue else count_nodes(size)
        start = now_ns()
        root.backward()
        times.append(now_ns() - start)
        del root
    return nodes, statistics.median(times)


def bench_backward(cfg):
    chain_nodes = lambda ops: ops + 3
    tree_nodes = lambda pairs: 4 * pairs - 1
    big_pairs = cfg.big_nodes // 4
    rows = []

    def row(graph, system, build, value, size, repeats, count, baseline=None):
        nodes, ns = time_backward(build, value, size, repeats, count)
        per_node = ns / nodes
        rows.append([graph, system, f"{nodes:,}", repeats, fmt(ns / 1e6), fmt(per_node),
                     ratio(per_node, baseline) if baseline else ""])
        return per_node

    row(f"chain of {cfg.big_nodes:,} ops (y*a, y+b)", "tapegrad", build_chain, TValue,
        cfg.big_nodes, cfg.big_repeats, chain_nodes)
    row(f"weighted_sum of {big_pairs:,} products", "tapegrad", build_weighted_sum, TValue,
        big_pairs, cfg.big_repeats, None)
    row(f"pairwise sum tree of {big_pairs:,} products", "tapegrad", build_tree, TValue,
        big_pairs, cfg.big_repeats, None)
    for graph, build, size, count in [
            (f"chain of {cfg.small_chain_ops} ops", build_chain, cfg.small_chain_ops, chain_nodes),
            (f"pairwise sum tree of {cfg.small_tree_pairs:,} products", build_tree,
             cfg.small_tree_pairs, tree_nodes)]:
        tg = row(graph, "tapegrad", build, TValue, size, cfg.small_repeats, count)
        if have_micrograd():
            row(graph, "micrograd", build, MValue, size, cfg.small_repeats, count, baseline=tg)

    print("## 3. Backward cost per node\n")
    print("`root.backward()` on a freshly built graph each run (build untimed), median over runs. "
          "tapegrad nodes: growth of `tape_stats()['nodes']`, leaves included. micrograd's "
          "backward is recursive (RecursionError near depth 1000), so it only gets small graphs; "
          "its time includes its topological sort.\n")
    print_table(["graph", "system", "nodes", "runs", "median ms", "ns/node",
                 "micrograd / tapegrad"], rows)


# --------------------------------------------------------- memory (children)

def child_kept_graph(system, nodes):
    """RSS growth while a chain of ~`nodes` nodes is kept by its output handle."""
    value = TValue if system == "tapegrad" else MValue
    collect = tape.collect if system == "tapegrad" else gc.collect
    count = lambda: tape.tape_stats()["nodes"] if system == "tapegrad" else 0
    collect()
    nodes_before, rss_before = count(), rss_bytes()
    root = build_chain(value, nodes - 3)
    collect()
    nodes_kept = count() - nodes_before if system == "tapegrad" else nodes
    rss_kept = rss_bytes()
    stats = tape.tape_stats() if system == "tapegrad" else {}
    del root
    freed = collect()
    return {"nodes": nodes_kept, "rss_before": rss_before, "rss_kept": rss_kept,
            "rss_dropped": rss_bytes(), "segments": stats.get("segments"),
            "node_bytes": stats.get("node_bytes"), "freed": freed}


def child_demo_memory(steps):
    """RSS and tape size across `steps` tapegrad demo steps."""
    X, y = load_moons()
    trainer = Trainer(TMLP, TValue, X, y)
    warmup = max(1, steps // 10)
    checkpoints = {0, warmup, steps} | {steps * q // 4 for q in (1, 2, 3)}
    rows, peak_rss, peak_segments = [], 0, 0

    def sample(step):
        stats = tape.tape_stats()
        rows.append([step, rss_bytes(), stats["segments"], stats["nodes"]])

    sample(0)
    start = now_ns()
    for step in range(1, steps + 1):
        trainer.step()
        if step > warmup:
            peak_rss = max(peak_rss, rss_bytes())
            peak_segments = max(peak_segments, tape.tape_stats()["segments"])
        if step in checkpoints:
            sample(step)
    return {"rows": rows, "warmup": warmup, "peak_rss": peak_rss, "peak_segments": peak_segments,
            "seconds": (now_ns() - start) / 1e9, "segment_capacity": tape.tape_stats()["segment_capacity"]}


def run_child(*args):
    """Runs this script as a fresh process for one memory probe; its JSON result, or an error."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *map(str, args)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit status {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_memory(cfg, memory_steps):
    print("## 4. Memory\n")
    print("Each probe runs in a fresh child process. RSS: current resident set size "
          "(/proc/self/statm).\n")
    rows = []
    probes = [("tapegrad", cfg.kept_nodes)]
    if have_micrograd():
        probes.append(("micrograd", cfg.mg_kept_nodes))
    for system, nodes in probes:
        r = run_child("kept", system, nodes)
        if "error" in r:
            rows.append([system, "failed: " + r["error"], "", "", "", ""])
            continue
        kept = r["rss_kept"] - r["rss_before"]
        rows.append([system, f"{r['nodes']:,}", mib(kept), fmt(kept / r["nodes"]),
                     mib(r["rss_dropped"] - r["rss_before"]),
                     f"{r['node_bytes']} B/node, {r['segments']} segments" if r["node_bytes"] else ""])
    print("Kept graph: a chain (y*a, y+b) kept alive by its output handle; RSS delta around "
          "building it, collection before and after (tapegrad `_engine.collect()`, micrograd "
          "`gc.collect()`); nodes from `tape_stats()` for tapegrad.\n")
    print_table(["system", "nodes kept", "RSS delta MiB", "bytes/node",
                 "RSS left after drop + collect, MiB", "tape"], rows)

    r = run_child("steps", memory_steps)
    print(f"Steady state: {memory_steps} tapegrad demo steps (GC on), tape collecting as it goes.\n")
    if "error" in r:
        print(f"> memory-steps probe failed: {r['error']}\n")
        return
    at_warmup = next(row for row in r["rows"] if row[0] == r["warmup"])
    print_table(["after step", "RSS MiB", "vs after warm-up, MiB", "tape segments", "tape nodes"], [
        [step, mib(rss), f"{(rss - at_warmup[1]) / 2**20:+.1f}", segments, f"{nodes:,}"]
        for step, rss, segments, nodes in r["rows"]])
    end = r["rows"][-1]
    print(f"Warm-up: first {r['warmup']} steps. After warm-up: peak RSS {mib(r['peak_rss'])} MiB, "
          f"peak tape segments {r['peak_segments']} ({r['segment_capacity']} nodes each); "
          f"RSS change warm-up -> end {(end[1] - at_warmup[1]) / 2**20:+.1f} MiB over "
          f"{end[0] - at_warmup[0]} steps. {r['seconds'] / memory_steps * 1e3:.2f} ms/step "
          f"including sampling.\n")


# --------------------------------------------------------------------- main

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shrink every section (~30 s)")
    parser.add_argument("--rounds", type=int, metavar="N",
                        help="rounds of the demo step (default 5, --quick 2)")
    parser.add_argument("--only", choices=["demo", "ops", "backward", "memory"],
                        help="run one section")
    parser.add_argument("--memory-steps", type=int, default=300, metavar="N",
                        help="demo steps of the memory section (default 300)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # internal: memory probes
    return parser.parse_args()


def main():
    args = parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "kept":
            result = child_kept_graph(rest[0], int(rest[1]))
        elif kind == "demo":
            result = child_demo_steps(rest[0], *map(int, rest[1:]))
        else:
            result = child_demo_memory(int(rest[0]))
        print(json.dumps(result))
        return
    cfg = QUICK if args.quick else FULL
    if args.rounds:
        cfg = SimpleNamespace(**{**vars(cfg), "demo_rounds": args.rounds})
    start = time.perf_counter()
    print_header(args)
    sections = [("demo", lambda: bench_demo(cfg)), ("ops", lambda: bench_ops(cfg)),
                ("backward", lambda: bench_backward(cfg)),
                ("memory", lambda: bench_memory(cfg, args.memory_steps))]
    for name, section in sections:
        if args.only and name != args.only:
            continue
        sys.stdout.flush()
        try:
            section()
        except Exception as error:  # report it and go on with the other sections
            traceback.print_exc()
            print(f"> section {name} failed: {type(error).__name__}: {error}\n")
    print(f"Total time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
