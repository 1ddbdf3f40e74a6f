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
   run in fresh child processes, so the heap left behind by the other sections
   (micrograd's garbage above all) does not blur them.

Run from the repository root, with the extension built in place:

    python setup.py build_ext --inplace -q
    PYTHONPATH=src python benchmarks/bench_scalar.py [--quick] [--memory-steps N]

--quick shrinks every section (under ~30 s); the full run takes well under
3 minutes on 2 cores. micrograd is optional: without it its rows are skipped.
Output is markdown on stdout. The same workloads, with more peers, run in
run.py; the configuration, the child processes and the environment come from
harness.py.
"""
import argparse
import gc
import os
import platform
import random
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import harness
from harness import (MMLP, MValue, SCALAR, DemoStepsResult, MemoryResult, StepsResult, Timing,
                     build_chain, median, now_ns, rotated, rss_bytes, run_child)
from report import fmt, mib, print_table, ratio

import tapegrad
from tapegrad import Value as TValue
from tapegrad import _engine as tape
from tapegrad.engine import weighted_sum
from tapegrad.nn import MLP as TMLP

__all__ = ["build_chain"]  # the shared chain, from harness: bench_scalar.build_chain as before


def have_micrograd():
    return MValue is not None


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


class FloatNeuron(UserNeuron):
    """UserNeuron over plain Python floats: the same Python, no autodiff."""

    def __init__(self, nin, nonlin=True):
        self.w = [random.uniform(-1, 1) for _ in range(nin)]
        self.b = 0.0
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return max(act, 0.0) if self.nonlin else act


class FloatFloor:
    """The user-written step's forward and loss on Python floats, as demo.sgd_step writes
    them (inputs, scores, SVM loss, L2, accuracy), with nothing to differentiate: what
    Python alone costs to run the user's code, which no eager engine can beat."""

    def __init__(self, X, y):
        random.seed(1337)
        self.model = UserMLP(2, [16, 16, 1], neuron=FloatNeuron)
        self.X, self.y = X, y

    def step(self):
        start = now_ns()
        inputs = [list(map(float, row)) for row in self.X]
        scores = list(map(self.model, inputs))
        losses = [max(1 + -yi * score, 0.0) for yi, score in zip(self.y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum((p * p for p in self.model.parameters()))
        accuracy = [(yi > 0) == (score > 0) for yi, score in zip(self.y, scores)]
        loss = data_loss + reg_loss
        elapsed = (now_ns() - start) / 1e9
        del accuracy     # computed, as demo.sgd_step computes it
        return elapsed, loss


class UserMLP:
    """micrograd's MLP of UserNeurons, layers as plain lists."""

    def __init__(self, nin, nouts, neuron=UserNeuron):
        sizes = [nin] + list(nouts)
        self.layers = [[neuron(sizes[i], nonlin=i != len(nouts) - 1)
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
        """One forward + backward + SGD update; returns (seconds, loss)."""
        from tapegrad import demo
        start = now_ns()
        loss, _ = demo.sgd_step(self.model, self.X, self.y, self.value, self.k)
        elapsed = (now_ns() - start) / 1e9
        self.k += 1
        return elapsed, loss


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
    """Trainer's step (tapegrad.demo.sgd_step's math) for peers without micrograd's nn."""

    def __init__(self, system, X, y):
        make = harness.scalar_value_factory(system)
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
                    else (lambda v: v * (1.0 if v.data > 0 else 0.0)))  # relu's value and grad
        random.seed(1337)  # Trainer's seed: the same model as micrograd's
        self.model = ScalarMLP(make, relu, 2, [16, 16, 1])
        self.relu, self.X, self.y = relu, X, [float(v) for v in y]
        self.params = self.model.parameters()
        self.k = 0

    def step(self):
        """One step of tapegrad.demo.sgd_step's math; returns (seconds, loss)."""
        start = now_ns()
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
        elapsed = (now_ns() - start) / 1e9
        self.k += 1
        return elapsed, float(loss.item() if self.torch is not None else loss.data)


def make_trainer(system, X, y):
    if system == "tapegrad":
        return Trainer(TMLP, TValue, X, y)
    if system == "micrograd":
        return Trainer(MMLP, MValue, X, y)
    return GenericTrainer(system, X, y)


def demo_interleaved(cfg, peers, notes):
    """run.py's demo step: every usable scalar system in this process, interleaved, GC on;
    then micrograd with gc.disable(). Timings of workload "scalar demo", and step 0's loss
    of each system."""
    X, y = load_moons()
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
    timings = [Timing("scalar demo", system, s) for system, s in samples.items() if s]
    if off:
        timings.append(Timing("scalar demo", "micrograd (GC off)", off))
    return timings, first_loss


FLOAT_FLOOR = "python floats, user-written Neuron, no autodiff (forward + loss only)"

DEMO_SYSTEMS = {  # the name in the table: the model class and the Value class
    "tapegrad": lambda: (TMLP, TValue),
    "tapegrad, user-written Neuron": lambda: (UserMLP, TValue),
    "micrograd": lambda: (MMLP, MValue),
    # not a system: the Python floor of the user-written Neuron (forward and loss only)
    FLOAT_FLOOR: None,
}


def child_demo_steps(system, warmup, steps_on, steps_off):
    """Seconds of demo steps of one system, alone in this process: `steps_on` with the GC
    on, after `warmup` steps, then `steps_off` with gc.disable() (and, for micrograd, an
    untimed collection after each, or its heap grows by ~100 MB a step)."""
    warmup, steps_on, steps_off = int(warmup), int(steps_on), int(steps_off)
    X, y = load_moons()
    if system == FLOAT_FLOOR:
        trainer, value = FloatFloor(X, y), float
    else:
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
    return DemoStepsResult(system=system, on_s=on, off_s=off, first_loss=first_loss)


def demo_in_children(cfg, rounds):
    """bench_scalar.py's demo step: each system in a child process of its own, taking turns.
    Timings of workloads "demo, GC on" / "demo, GC off", a timing per round, and step 0's
    losses."""
    systems = [name for name in DEMO_SYSTEMS if name != "micrograd" or have_micrograd()]
    tg_on, tg_off, mg_on, mg_off = cfg.child_demo_steps
    timings, first_loss = [], {}
    for r in range(rounds):
        for name in rotated(systems, r):  # a different system goes first each round
            tapegrad_system = name != "micrograd"
            result = run_child(DemoStepsResult, "bench_scalar:child_demo_steps",
                               [name, cfg.demo_tg_warmup if tapegrad_system else 1,
                                tg_on if tapegrad_system else mg_on,
                                tg_off if tapegrad_system else mg_off],
                               cfg.child_timeout, system=name)
            if result.failed:
                raise RuntimeError(f"{name}: {result.error}")
            first_loss[name] = result.first_loss
            for state, samples in (("on", result.on_s), ("off", result.off_s)):
                if samples:
                    timings.append(Timing(f"demo, GC {state}", name, samples, note=f"round {r}"))
    return timings, first_loss


def print_demo(cfg, rounds):
    timings, first_loss = demo_in_children(cfg, rounds)
    tg_on, tg_off, mg_on, mg_off = cfg.child_demo_steps
    print("## 1. Demo step (micrograd's moons demo, MLP(2, [16, 16, 1]), 100 points)\n")
    print("One step = build inputs, forward, loss, zero_grad, backward, SGD update. Each system "
          f"runs alone in a fresh process, the systems taking turns, {rounds} rounds; "
          f"per round tapegrad times {tg_on} steps with the GC on and "
          f"{tg_off} with it off (after {cfg.demo_tg_warmup} warm-up steps), micrograd "
          f"{mg_on} and {mg_off} (after 1).\n")
    systems = list(dict.fromkeys(t.system for t in timings))
    pooled = {}  # (system, state): every step's ms, over all rounds
    for t in timings:
        pooled.setdefault((t.system, t.workload[-3:].strip()), []).extend(
            s * 1e3 for s in t.seconds_samples)
    rows, medians = [], {}
    for system in systems:
        for state in ("on", "off"):
            times = pooled.get((system, state))
            if times:
                medians[system, state] = median(times)
                rows.append([system, state, len(times), fmt(medians[system, state]),
                             fmt(min(times)), fmt(max(times))])
    print_table(["system", "GC", "steps timed", "median ms/step", "min ms", "max ms"], rows)
    if have_micrograd():
        round_median = lambda system, state: [t.median for t in timings if t.system == system
                                              and t.workload == f"demo, GC {state}"]
        ratio_rows = []
        for system in [s for s in systems if s != "micrograd"]:
            for state in ("on", "off"):
                per_round = [m / t for m, t in zip(round_median("micrograd", state),
                                                   round_median(system, state))]
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


OPS = [  # name, loop, the method the operands need (None: an operator), tapegrad nodes per op
    ("add: x + c", loop_add, None, 1),
    ("mul: x * c", loop_mul, None, 1),
    ("tanh: x.tanh()", loop_tanh, "tanh", 1),
    ("relu: x.relu()", loop_relu, "relu", 1),
    ("add a float: x + 0.25", loop_add_float, None, 1),   # the float is folded into the node
]


def time_loop(loop, value, n):
    """ns per iteration of loop over operands value(0.5), value(0.25)."""
    x, c = value(0.5), value(0.25)
    start = now_ns()
    loop(x, c, n)
    return (now_ns() - start) / n


def op_costs(cfg, factories, ops):
    """Build cost of each op on each system ({name: float -> scalar}), interleaved, after a
    warm-up round: a Timing per (op, system), workload = the op's name, samples = seconds
    per op. An op whose method a system lacks (micrograd 0.1.0's tanh) is left out."""
    samples = {}
    for round_ in range(cfg.op_repeats + 1):  # round 0 is the warm-up
        for name, loop, method, _nodes in ops:
            for system, make in factories.items():
                if method and not hasattr(make(0.5), method):
                    continue
                n = cfg.op_count(system)
                per_op_ns = time_loop(loop, make, n if round_ else max(1, n // 10))
                if round_:
                    samples.setdefault((name, system), []).append(per_op_ns * 1e-9)
    return [Timing(name, system, s) for (name, system), s in samples.items()]


def print_ops(cfg):
    factories = {"tapegrad": TValue}
    if have_micrograd():
        factories["micrograd"] = MValue
    timings = op_costs(cfg, factories, OPS)
    plain = op_costs(cfg, {"python": float}, OPS[:1])[0]
    per_op = {(t.workload, t.system): t.median * 1e9 for t in timings}
    print("## 2. Build cost per operation (forward, recording the node)\n")
    print(f"Loops of `y = <op>` over Value operands, total time / ops, median of {cfg.op_repeats} "
          f"runs after a warm-up run; tapegrad {cfg.op_count('tapegrad'):,} ops a run, micrograd "
          f"{cfg.op_count('micrograd'):,}. GC on.\n")
    rows = []
    for name, _loop, _method, nodes in OPS:
        tg, mg = per_op[name, "tapegrad"], per_op.get((name, "micrograd"))
        rows.append([name, nodes, fmt(tg), fmt(mg), ratio(mg, tg)])
    rows.append(["(plain floats: x + c, loop overhead for scale)", "-",
                 fmt(plain.median * 1e9), "", ""])
    print_table(["op", "tapegrad nodes/op", "tapegrad ns/op", "micrograd ns/op",
                 "micrograd / tapegrad"], rows)


# ------------------------------------------------------------ backward cost

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


chain_nodes = lambda ops: ops + 3
tree_nodes = lambda pairs: 4 * pairs - 1


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
    return nodes, median(times)


@dataclass
class Graph:
    """A graph whose backward is timed: workload key, what it is in words, how to build it."""
    key: str
    label: str
    build: object        # (value, size) -> root
    size: int
    count_nodes: object  # size -> nodes, for systems without a tape to count
    repeats: int
    systems: list


def backward_costs(graphs, factories, notes):
    """Backward of each graph on each of its systems, interleaved, after a warm-up round:
    a Timing per (graph, system), workload "backward <key>", samples = seconds per graph,
    units = its nodes. A system that raises is noted and left out of that graph."""
    timings = []
    for g in graphs:
        members = list(g.systems)
        samples, nodes = {s: [] for s in members}, {}
        for round_ in range(g.repeats + 1):  # round 0 is the warm-up
            for system in list(members):
                try:
                    n, ns = time_backward(g.build, factories[system], g.size, 1, g.count_nodes)
                except Exception as error:
                    notes.append(f"backward {g.label}: {system} failed: "
                                 f"{type(error).__name__}: {error}")
                    members.remove(system)
                    continue
                if round_:
                    samples[system].append(ns * 1e-9)
                    nodes[system] = n
            gc.collect()
        timings += [Timing("backward " + g.key, s, samples[s], note=g.label, units=nodes[s])
                    for s in members if samples[s]]
    return timings


def run_graphs(cfg, systems):
    """run.py's graphs: small ones for every system, 1e6-node ones (--quick: 2e5) only for
    systems whose backward does not recurse in Python (micrograd-rust's may overflow its
    stack: the deep chains run it in a child process)."""
    flat = [s for s in systems if s in ("torch (0-d)", "tapegrad")]
    return [Graph("chain", f"chain of {cfg.small_chain_ops} ops", build_chain,
                  cfg.small_chain_ops, chain_nodes, cfg.small_repeats, list(systems)),
            Graph("tree", f"pairwise sum tree of {cfg.small_tree_pairs:,} products", build_tree,
                  cfg.small_tree_pairs, tree_nodes, cfg.small_repeats, list(systems)),
            Graph("big chain", f"chain of {cfg.big_nodes:,} ops", build_chain, cfg.big_nodes,
                  chain_nodes, cfg.big_repeats, flat),
            Graph("big tree", f"pairwise sum tree of {cfg.big_nodes // 4:,} products",
                  build_tree, cfg.big_nodes // 4, tree_nodes, cfg.big_repeats, flat)]


def print_backward(cfg):
    big_pairs = cfg.big_nodes // 4
    small = ["tapegrad", "micrograd"] if have_micrograd() else ["tapegrad"]
    graphs = [Graph("big chain", f"chain of {cfg.big_nodes:,} ops (y*a, y+b)", build_chain,
                    cfg.big_nodes, chain_nodes, cfg.big_repeats, ["tapegrad"]),
              Graph("weighted sum", f"weighted_sum of {big_pairs:,} products",
                    build_weighted_sum, big_pairs, None, cfg.big_repeats, ["tapegrad"]),
              Graph("big tree", f"pairwise sum tree of {big_pairs:,} products", build_tree,
                    big_pairs, None, cfg.big_repeats, ["tapegrad"]),
              Graph("chain", f"chain of {cfg.small_chain_ops} ops", build_chain,
                    cfg.small_chain_ops, chain_nodes, cfg.small_repeats, small),
              Graph("tree", f"pairwise sum tree of {cfg.small_tree_pairs:,} products",
                    build_tree, cfg.small_tree_pairs, tree_nodes, cfg.small_repeats, small)]
    notes = []
    timings = backward_costs(graphs, {"tapegrad": TValue, "micrograd": MValue}, notes)
    rows = []
    for t in timings:
        tg = next(u for u in timings if u.workload == t.workload and u.system == "tapegrad")
        rows.append([t.note, t.system, f"{t.units:,}", len(t.seconds_samples),
                     fmt(t.median * 1e3), fmt(t.per_unit * 1e9),
                     ratio(t.per_unit, tg.per_unit) if t.system != "tapegrad" else ""])
    print("## 3. Backward cost per node\n")
    print("`root.backward()` on a freshly built graph each run (build untimed), median over runs "
          "after a warm-up run. tapegrad nodes: growth of `tape_stats()['nodes']`, leaves "
          "included. micrograd's backward is recursive (RecursionError near depth 1000), so it "
          "only gets small graphs; its time includes its topological sort.\n")
    print_table(["graph", "system", "nodes", "runs", "median ms", "ns/node",
                 "micrograd / tapegrad"], rows)
    for note in notes:
        print(f"> {note}\n")


# ------------------------------------------------------------------- memory

def child_demo_memory(steps):
    """RSS and tape size across `steps` tapegrad demo steps (a child process's probe)."""
    steps = int(steps)
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
    return StepsResult(system="tapegrad", steps=steps, rows=rows, warmup=warmup,
                       peak_rss=peak_rss, peak_segments=peak_segments,
                       seconds=(now_ns() - start) / 1e9,
                       segment_capacity=tape.tape_stats()["segment_capacity"])


def kept_graphs(cfg, systems):
    """harness.kept_graph of each system, each in a fresh child process."""
    found = []
    for system in systems:
        harness.log(f"  kept graph of {cfg.kept_nodes:,} nodes: {system}")
        found.append(run_child(MemoryResult, "harness:kept_graph", [system, cfg.kept_nodes],
                               cfg.child_timeout, system=system))
    return found


def demo_memory(cfg, steps):
    harness.log(f"  {steps} tapegrad demo steps")
    return run_child(StepsResult, "bench_scalar:child_demo_memory", [steps], cfg.child_timeout,
                     system="tapegrad", steps=steps)


def print_memory(cfg, memory_steps):
    print("## 4. Memory\n")
    print("Each probe runs in a fresh child process. RSS: current resident set size "
          "(/proc/self/statm).\n")
    rows = []
    for r in kept_graphs(cfg, ["tapegrad"] + (["micrograd"] if have_micrograd() else [])):
        if r.failed:
            rows.append([r.system, "failed: " + r.error, "", "", "", ""])
            continue
        kept = r.rss_kept - r.rss_before
        rows.append([r.system, f"{r.nodes:,}", mib(kept), fmt(kept / r.nodes),
                     mib(r.rss_dropped - r.rss_before),
                     f"{r.node_bytes} B/node, {r.segments} segments" if r.node_bytes else ""])
    print("Kept graph: a chain (y*a, y+b) kept alive by its output handle; RSS delta around "
          "building it, collection before and after (tapegrad `_engine.collect()`, micrograd "
          "`gc.collect()`); nodes from `tape_stats()` for tapegrad.\n")
    print_table(["system", "nodes kept", "RSS delta MiB", "bytes/node",
                 "RSS left after drop + collect, MiB", "tape"], rows)

    r = demo_memory(cfg, memory_steps)
    print(f"Steady state: {memory_steps} tapegrad demo steps (GC on), tape collecting as it "
          "goes.\n")
    if r.failed:
        print(f"> memory-steps probe failed: {r.error}\n")
        return
    at_warmup = r.at(r.warmup)
    print_table(["after step", "RSS MiB", "vs after warm-up, MiB", "tape segments",
                 "tape nodes"], [
        [step, mib(rss), f"{(rss - at_warmup[1]) / 2**20:+.1f}", segments, f"{nodes:,}"]
        for step, rss, segments, nodes in r.rows])
    end = r.rows[-1]
    print(f"Warm-up: first {r.warmup} steps. After warm-up: peak RSS {mib(r.peak_rss)} MiB, "
          f"peak tape segments {r.peak_segments} ({r.segment_capacity} nodes each); "
          f"RSS change warm-up -> end {(end[1] - at_warmup[1]) / 2**20:+.1f} MiB over "
          f"{end[0] - at_warmup[0]} steps. {r.seconds / memory_steps * 1e3:.2f} ms/step "
          f"including sampling.\n")


# --------------------------------------------------------------------- main

def print_header(args, start):
    import numpy
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print("# tapegrad scalar engine vs micrograd\n")
    print_table(["", ""], [
        ["machine", f"{platform.platform()}; {harness.cpu_model()}"],
        ["CPUs", f"{os.cpu_count()} (usable: {affinity})"],
        ["Python", f"{platform.python_implementation()} {platform.python_version()}"],
        ["tapegrad", f"{tapegrad.__version__} ({Path(tapegrad.__file__).parent})"],
        ["extensions", start.extensions],
        ["micrograd", harness.version_of("micrograd") if have_micrograd()
         else f"not importable ({harness.MICROGRAD_ERROR})"],
        ["numpy", numpy.__version__],
        ["scikit-learn", harness.version_of("scikit-learn")],
        ["git commit", start.commit],
        ["mode", ("quick" if args.quick else "full") + f", --memory-steps {args.memory_steps}"],
    ])
    if not have_micrograd():
        print("> micrograd is not importable: its rows are skipped.\n")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shrink every section (~30 s)")
    parser.add_argument("--rounds", type=int, metavar="N",
                        help="rounds of the demo step (default 5, --quick 2)")
    parser.add_argument("--only", choices=["demo", "ops", "backward", "memory"],
                        help="run one section")
    parser.add_argument("--memory-steps", type=int, default=300, metavar="N",
                        help="demo steps of the memory section (default 300)")
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = harness.QUICK if args.quick else harness.FULL
    rounds = args.rounds or cfg.demo_rounds
    start = harness.RunStart.now()
    print_header(args, start)
    sections = [("demo", lambda: print_demo(cfg, rounds)), ("ops", lambda: print_ops(cfg)),
                ("backward", lambda: print_backward(cfg)),
                ("memory", lambda: print_memory(cfg, args.memory_steps))]
    for name, section in sections:
        if args.only and name != args.only:
            continue
        sys.stdout.flush()
        try:
            section()
        except Exception as error:  # report it and go on with the other sections
            traceback.print_exc()
            print(f"> section {name} failed: {type(error).__name__}: {error}\n")
    print(f"Total time: {time.perf_counter() - start.clock:.1f} s")


if __name__ == "__main__":
    main()
