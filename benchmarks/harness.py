"""What every benchmark shares: the run configuration, the result records, one
child-process runner, the median and interleaving helpers, the peers, and the
environment (machine, versions, whether the built extensions are stale).

The workloads (bench_*.py) return the records defined here; report.py turns
them into tables and a plot; run.py runs them all. A probe that must run alone
(a deep chain, a kept graph, many demo steps) goes through run_child, which
starts this file as `python harness.py --child MODULE FUNCTION ARGS...`: the
function returns a record, the child prints it as JSON, the parent rebuilds it.
"""
import dataclasses
import gc
import importlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
try:
    import tapegrad
except ImportError:  # a checkout built in place: python setup.py build_ext --inplace
    sys.path.insert(1, str(REPO / "src"))
    import tapegrad

try:
    from micrograd.engine import Value as MValue
    from micrograd.nn import MLP as MMLP
    MICROGRAD_ERROR = None
except Exception as error:  # not installed, or broken: skip its rows
    MValue = MMLP = None
    MICROGRAD_ERROR = f"{type(error).__name__}: {error}"


# --------------------------------------------------------- configuration

@dataclass(frozen=True)
class Config:
    """How much of each workload a run does. FULL and QUICK are the documented
    runs; SMOKE takes every code path at tiny sizes, for the test suite."""
    mode: str
    demo_points: Optional[int]  # None: all 100 moons points
    demo_rounds: int            # interleaved rounds of the in-process demo step
    demo_tg_per_round: int
    demo_tg_warmup: int
    demo_mg_off_steps: int
    # bench_scalar.py on its own: each system's demo steps in a child process of its
    # own, (tapegrad GC on, tapegrad GC off, micrograd GC on, micrograd GC off) a round
    child_demo_steps: tuple
    tensor_repeats: int
    tensor_warmup: int
    chain_depths: tuple
    chain_timeout: int
    chain_reps_small: int       # runs of a chain up to chain_small_depth ops; 1 above
    chain_small_depth: int
    op_count_tapegrad: int
    op_count_other: int
    op_repeats: int
    small_chain_ops: int
    small_tree_pairs: int
    small_repeats: int
    big_nodes: int
    big_repeats: int
    kept_nodes: int
    memory_steps: int
    child_timeout: int
    compile_rounds: int         # moons: micrograd steps, each round; tapegrad more
    compile_steps: int          # compiled steps a round
    digits: tuple               # (batches, batch size, compiled steps a batch)

    def chain_reps(self, depth):
        return self.chain_reps_small if depth <= self.chain_small_depth else 1

    def op_count(self, system):
        return self.op_count_tapegrad if system == "tapegrad" else self.op_count_other


FULL = Config(
    mode="full", demo_points=None,
    demo_rounds=5, demo_tg_per_round=6, demo_tg_warmup=3, demo_mg_off_steps=5,
    child_demo_steps=(20, 10, 2, 1),
    tensor_repeats=300, tensor_warmup=20,
    chain_depths=(10**3, 10**4, 10**5, 10**6, 10**7), chain_timeout=420,
    chain_reps_small=3, chain_small_depth=10**5,
    op_count_tapegrad=1_000_000, op_count_other=200_000, op_repeats=5,
    small_chain_ops=400, small_tree_pairs=2_500, small_repeats=20,
    big_nodes=1_000_000, big_repeats=3,
    kept_nodes=1_000_000, memory_steps=1_000, child_timeout=600,
    compile_rounds=7, compile_steps=30, digits=(5, 32, 10),
)
QUICK = Config(
    mode="quick", demo_points=None,
    demo_rounds=2, demo_tg_per_round=5, demo_tg_warmup=3, demo_mg_off_steps=2,
    child_demo_steps=(10, 5, 1, 1),
    tensor_repeats=30, tensor_warmup=5,
    chain_depths=(10**3, 10**4, 10**5), chain_timeout=90,
    chain_reps_small=3, chain_small_depth=10**4,
    op_count_tapegrad=200_000, op_count_other=50_000, op_repeats=3,
    small_chain_ops=400, small_tree_pairs=2_500, small_repeats=7,
    big_nodes=200_000, big_repeats=2,
    kept_nodes=1_000_000, memory_steps=200, child_timeout=300,
    compile_rounds=3, compile_steps=10, digits=(2, 3, 5),
)
SMOKE = Config(
    mode="smoke", demo_points=10,
    demo_rounds=1, demo_tg_per_round=1, demo_tg_warmup=1, demo_mg_off_steps=1,
    child_demo_steps=(1, 1, 1, 1),
    tensor_repeats=2, tensor_warmup=1,
    chain_depths=(10**2, 10**3), chain_timeout=60,
    chain_reps_small=1, chain_small_depth=0,
    op_count_tapegrad=2_000, op_count_other=500, op_repeats=1,
    small_chain_ops=50, small_tree_pairs=50, small_repeats=1,
    big_nodes=2_000, big_repeats=1,
    kept_nodes=10_000, memory_steps=5, child_timeout=60,
    compile_rounds=1, compile_steps=1, digits=(1, 2, 1),
)


# ------------------------------------------------------------- records

@dataclass
class Timing:
    """Repeated measurements of one system on one workload. Each sample is the
    seconds of one repetition; `units` is what one repetition did (operations,
    graph nodes), so `per_unit` is seconds per operation or node."""
    workload: str
    system: str
    seconds_samples: list
    note: str = ""
    units: int = 1

    @property
    def median(self):
        return median(self.seconds_samples)

    @property
    def per_unit(self):
        return None if self.median is None else self.median / self.units


@dataclass
class ChildRecord:
    """A record a child process made; `error` and `kind` say how a child that
    gave no result ended (an exception, a crash, a timeout)."""
    system: str = ""
    error: Optional[str] = None
    kind: Optional[str] = None
    wall_s: Optional[float] = None

    @property
    def failed(self):
        return self.error is not None


@dataclass
class ChainResult(ChildRecord):
    """A deep chain of `depth` operations: build, backward and free times of each run."""
    depth: int = 0
    build_s: list = field(default_factory=list)
    backward_s: list = field(default_factory=list)
    free_s: list = field(default_factory=list)
    grad_ok: Optional[bool] = None
    peak_rss: Optional[int] = None
    skipped: Optional[str] = None   # not run, and why

    @property
    def total_s(self):
        if self.failed or self.skipped or not self.build_s or not self.backward_s:
            return None
        return median(self.build_s) + median(self.backward_s)


@dataclass
class MemoryResult(ChildRecord):
    """RSS around a kept graph: before building it, while kept, after dropping it."""
    nodes: int = 0
    rss_before: int = 0
    rss_kept: int = 0
    rss_dropped: int = 0
    segments: Optional[int] = None
    node_bytes: Optional[int] = None
    freed: Optional[int] = None

    @property
    def bytes_per_node(self):
        return (self.rss_kept - self.rss_before) / self.nodes


@dataclass
class DemoStepsResult(ChildRecord):
    """One system's demo steps alone in a child process: seconds a step with the GC on,
    then with it off, and the loss of the first step."""
    on_s: list = field(default_factory=list)
    off_s: list = field(default_factory=list)
    first_loss: Optional[float] = None


@dataclass
class StepsResult(ChildRecord):
    """RSS and tape size sampled across many tapegrad demo steps.
    rows: [step, rss bytes, tape segments, tape nodes]."""
    steps: int = 0
    rows: list = field(default_factory=list)
    warmup: int = 0
    peak_rss: int = 0
    peak_segments: int = 0
    seconds: float = 0.0
    segment_capacity: int = 0

    def at(self, step):
        return next(row for row in self.rows if row[0] == step)


@dataclass
class Results:
    """Every record of one run, in the order the workloads made them."""
    timings: list = field(default_factory=list)
    chains: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    steps: Optional[StepsResult] = None
    first_losses: dict = field(default_factory=dict)   # workload -> {system: loss}
    facts: dict = field(default_factory=dict)          # workload -> {what: number}

    def timing(self, workload, system):
        return next((t for t in self.timings if t.workload == workload and t.system == system),
                    None)

    def median(self, workload, system):
        found = self.timing(workload, system)
        return None if found is None else found.median

    def per_unit(self, workload, system):
        found = self.timing(workload, system)
        return None if found is None else found.per_unit

    def systems(self, workload):
        return [t.system for t in self.timings if t.workload == workload]

    def note(self, workload):
        """The note of a workload's first timing (what the workload was, in words)."""
        return next((t.note for t in self.timings if t.workload == workload), "")

    def has(self, workload):
        return any(t.workload == workload for t in self.timings)

    def chain(self, system, depth):
        return next((c for c in self.chains if c.system == system and c.depth == depth), None)

    def chain_systems(self):
        return list(dict.fromkeys(c.system for c in self.chains))


# ------------------------------------------------------- measuring helpers

def tapegrad_and_torch(missing_note):
    """{"tapegrad": tapegrad, "torch": torch at one intra-op thread}, torch only when
    installed (else missing_note is printed): the systems of the tensor micro-benchmarks."""
    import tapegrad
    systems = {"tapegrad": tapegrad}
    try:
        import torch
    except ImportError:
        print(missing_note)
        return systems
    torch.set_num_threads(1)
    systems["torch"] = torch
    return systems


def median(samples):
    return statistics.median(samples) if samples else None


def rotated(items, shift):
    """`items` starting at position `shift`: a different one goes first each round."""
    shift %= max(1, len(items))
    return items[shift:] + items[:shift]


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


def total_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def limit_memory(fraction=0.75):
    """Caps this process's address space, so running out of memory is a result, not the
    OOM killer."""
    try:
        import resource
        cap = int(total_memory() * fraction)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        return cap
    except Exception:
        return None


def log(message):
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------ the runner

def run_child(record_type, target, args, timeout, cap_memory=False, **identity):
    """Runs `target` ("module:function", a module beside this file) in a fresh process with
    `args`; its record, or a record of `record_type` whose error says how the child ended."""
    module, function = target.split(":")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", module, function,
               "1" if cap_memory else "0", *map(str, args)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return record_type(**identity, error=f"timeout (> {timeout} s)", kind="timeout")
    wall = time.perf_counter() - start
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        tail = (done.stderr.strip().splitlines() or [""])[-1][:120]
        return record_type(**identity, error=f"crashed ({name})" + (f": {tail}" if tail else ""),
                           kind="crash", wall_s=wall)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:160]
        return record_type(**identity, error=f"exit status {done.returncode}: {tail}",
                           kind="exit", wall_s=wall)
    try:
        payload = json.loads(lines[-1])
    except ValueError:
        return record_type(**identity, error=f"unreadable child output: {lines[-1][:120]}",
                           kind="exit")
    return record_type(**{**identity, **payload, "wall_s": wall})


def child_main(argv):
    """The child's side of run_child: call the function, print its record as JSON."""
    module, function, cap_memory, *args = argv
    if cap_memory == "1":
        limit_memory()
    record = getattr(importlib.import_module(module), function)(*args)
    print(json.dumps(dataclasses.asdict(record)), flush=True)


# ----------------------------------------------------- the shared probes

def build_chain(value, ops):
    """x, then `ops` operations alternating y*a and y+b: ops + 3 nodes, depth ops."""
    x, a, b = value(1.0), value(0.999999), value(1e-3)
    y = x
    for i in range(ops):
        y = y * a if i % 2 == 0 else y + b
    return y


def kept_graph(system, nodes):
    """RSS growth while a chain of ~`nodes` nodes is kept by its output handle (a child
    process's probe: run it through run_child)."""
    nodes = int(nodes)
    make = scalar_value_factory(system)
    if system == "tapegrad":
        from tapegrad import _engine as tape
        collect, count = tape.collect, lambda: tape.tape_stats()["nodes"]
    else:
        collect, count = gc.collect, None
    collect()
    nodes_before, rss_before = count() if count else 0, rss_bytes()
    root = build_chain(make, nodes - 3)
    collect()
    nodes_kept = count() - nodes_before if count else nodes
    rss_kept = rss_bytes()
    stats = tape.tape_stats() if system == "tapegrad" else {}
    del root
    freed = collect()
    return MemoryResult(system=system, nodes=nodes_kept, rss_before=rss_before, rss_kept=rss_kept,
                        rss_dropped=rss_bytes(), segments=stats.get("segments"),
                        node_bytes=stats.get("node_bytes"), freed=freed)


# ------------------------------------------------------------- the peers

# scalar systems in display order; micrograd is the baseline of the scalar rows
SCALAR = ["micrograd", "micrograd-rust", "torch (0-d)", "tapegrad"]
# tensor systems; torch is the baseline of the tensor rows
TENSOR = ["torch", "autograd", "tapegrad"]


def import_micrograd_rust():
    """micrograd-rust's Value class, or raises ImportError."""
    module = importlib.import_module("micrograd_rust")
    value = getattr(module, "Value", None)
    if value is None:
        value = importlib.import_module("micrograd_rust.engine").Value
    return value


def scalar_value_factory(system):
    """float -> a scalar of `system` that records operations (a leaf that wants gradients)."""
    if system == "tapegrad":
        return tapegrad.Value
    if system == "micrograd":
        if MValue is None:
            raise ImportError(MICROGRAD_ERROR)
        return MValue
    if system == "micrograd-rust":
        value = import_micrograd_rust()
        return lambda x: value(float(x))
    if system == "torch (0-d)":
        import torch
        return lambda x: torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
    raise ValueError(system)


def detect_peers():
    """{system: None if usable, else why not} for every scalar and tensor system."""
    status = {"micrograd": None if MValue is not None else f"not importable ({MICROGRAD_ERROR})"}
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
        status["torch"] = status["torch (0-d)"] = (f"not importable ({type(error).__name__}: "
                                                   f"{error})")
    try:
        import autograd  # noqa: F401
        status["autograd"] = None
    except Exception as error:
        status["autograd"] = f"not importable ({type(error).__name__}: {error})"
    status["tapegrad"] = None
    return status


# ----------------------------------------------------------- environment

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


def version_of(dist):
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        module = sys.modules.get(dist)
        return getattr(module, "__version__", "not installed")


def load_average():
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return None


# What each extension is built from (setup.py's sources and depends, and the
# .pxi its .pyx includes): a newer one means the build is stale.
EXTENSION_SOURCES = {
    "_engine": ["src/tapegrad/_engine.pyx", "src/tapegrad/_tape.pxd", "src/tapegrad/_*.pxi",
                "csrc/tg_tape.*", "csrc/tg_ops.h", "csrc/tg_replay*", "csrc/tg_record.h",
                "csrc/tg_debug.h"],
    "_tensor": ["src/tapegrad/_tensor.pyx", "src/tapegrad/_kernels.pxd",
                "src/tapegrad/_tensor_engine/*.pxi", "csrc/tg_kernels.*", "csrc/tg_debug.h"],
}


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
    stale = [module for module, mtime in built.items()
             if any(p.stat().st_mtime > mtime
                    for pattern in EXTENSION_SOURCES[module] for p in REPO.glob(pattern))]
    if stale:
        return (f"{stamp}; WARNING: {', '.join(stale)} older than its sources, rebuild with "
                "`python setup.py build_ext --inplace`")
    return f"{stamp}; up to date with the checkout's sources"


@dataclass
class RunStart:
    """What is read when a run begins, to compare with its end."""
    load: Optional[float]
    commit: str
    extensions: str
    clock: float

    @classmethod
    def now(cls):
        return cls(load_average(), git_commit(), extension_state(), time.perf_counter())


def environment(cfg, start):
    """The table of the machine and versions, as [name, value] rows."""
    import numpy
    versions = {"tapegrad": f"{tapegrad.__version__} ({Path(tapegrad.__file__).parent})",
                "tapegrad extensions": start.extensions}
    for label, dist in [("micrograd", "micrograd"), ("micrograd-rust", "micrograd-rust"),
                        ("torch", "torch"), ("autograd (HIPS)", "autograd"), ("numpy", "numpy"),
                        ("scikit-learn", "scikit-learn"), ("matplotlib", "matplotlib")]:
        found = version_of(dist)
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
    rows = [["machine", f"{platform.platform()}; {cpu_model()}"],
            ["CPUs", f"{os.cpu_count()} (usable: {affinity})"],
            ["memory", f"{total_memory() / 2**30:.1f} GiB"],
            ["Python", f"{platform.python_implementation()} {platform.python_version()} "
                       f"({sys.executable})"]]
    rows += [[k, v] for k, v in versions.items()]
    blas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS")
            if k in os.environ}
    if blas:
        rows.append(["environment", ", ".join(f"{k}={v}" for k, v in blas.items())])
    load_at_end = load_average()
    if start.load is not None:
        rows.append(["load average (1 min)",
                     f"{start.load:.2f} at the start, {load_at_end:.2f} at the end "
                     "(this run's own processes count in the second)"])
    rows += [["git commit", start.commit],
             ["mode", cfg.mode],
             ["date", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())]]
    return rows


def start_notes(peers, start):
    """The notes a run begins with: peers it skips, a machine that is busy."""
    notes = [f"{system}: {why}; its rows are skipped." for system, why in peers.items()
             if why and system != "torch (0-d)"]
    if start.load is not None and start.load > 0.25 * (os.cpu_count() or 1):
        notes.append(f"the machine was busy when the run started (load average {start.load:.2f} "
                     f"on {os.cpu_count()} CPUs): timings can be inflated, torch's multi-threaded "
                     "ops most.")
    return notes


def end_notes(start):
    """Notes on what changed under a run: the checkout, the built extensions."""
    notes = []
    commit_now, extensions_now = git_commit(), extension_state()
    if commit_now != start.commit:
        notes.append(f"the checkout changed during the run: commit {start.commit} at the start, "
                     f"{commit_now} at the end.")
    if extensions_now != start.extensions:
        notes.append(f"the tapegrad extensions changed during the run ({extensions_now} at the "
                     "end): child processes started after that loaded the new build.")
    return notes


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        sys.exit("harness.py is a library; run benchmarks/run.py")
