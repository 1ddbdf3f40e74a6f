"""The report of a run: markdown tables and a matplotlib plot, made from the
records of harness.py (nothing is measured here).

Every table and panel reads a cell with Results.median / per_unit, which give
None for a system with no result, and a None cell is left blank (or n/a), so
a peer that is missing or failed never breaks the report.
"""
import contextlib
import io
import math

from harness import SCALAR, TENSOR, median

COLORS = {"micrograd": "tab:orange", "micrograd (GC off)": "#f5b971",
          "micrograd-rust": "tab:brown", "torch (0-d)": "tab:red", "torch": "tab:red",
          "autograd": "tab:green", "tapegrad": "tab:blue", "tapegrad compiled": "#4f8fd6",
          "tapegrad compiled, fused SGD": "#9cc3ec",
          "tapegrad compiled, user-written Neuron": "#2f6fb6", "digits: tapegrad eager": "tab:cyan",
          "digits: tapegrad compiled": "#a6e3ea"}
COLUMNS = ["tapegrad", "micrograd", "micrograd-rust", "torch", "autograd"]  # the summary's
OPS = ["add: x + c", "mul: x * c", "tanh: x.tanh()"]          # build costs run.py measures
COMPILED = ["tapegrad compiled", "tapegrad compiled, fused SGD",
            "tapegrad compiled, user-written Neuron"]


# ------------------------------------------------------------ formatting

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


def times_faster(baseline, value):
    """baseline / value as '12.3x'; '' without both."""
    if baseline is None or value is None or value == 0:
        return ""
    return ratio(baseline, value)


def mib(n):
    return f"{n / 2**20:.1f}"


def seconds(x):
    if x is None:
        return "n/a"
    return f"{fmt(x * 1e3)} ms" if x < 1 else f"{fmt(x)} s"


def ms(x):
    """seconds as a number of milliseconds"""
    return None if x is None else x * 1e3


def ns(x):
    return None if x is None else x * 1e9


def depth_label(depth):
    if depth >= 10 and math.log10(depth).is_integer():
        return f"1e{round(math.log10(depth))}"
    return f"{depth:,}"


def print_table(headers, rows):
    """A markdown table with aligned columns, on stdout."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"
    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        print(line(r))
    print()


def table(headers, rows):
    """print_table's table as a string."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        print_table(headers, rows)
    return buffer.getvalue()


def cell(value, unit, baseline=None, digits=3):
    """'2.24 ms (686.5x)': a value, and how many times faster than the baseline."""
    if value is None:
        return ""
    faster = times_faster(baseline, value) if baseline else ""
    return f"{fmt(value, digits)} {unit}" + (f" ({faster})" if faster else "")


def system_of(column):
    """The system a summary column shows: the torch column is torch with 0-d tensors in the
    scalar rows."""
    return "torch (0-d)" if column == "torch" else column


# --------------------------------------------------------------- summary

def chain_cell(r):
    if r is None:
        return ""
    if r.skipped:
        return r.skipped
    if r.failed:
        return "**fails**: " + r.error
    text = f"{seconds(median(r.build_s))} + {seconds(median(r.backward_s))}"
    return text + ("" if r.grad_ok in (True, None) else " (wrong gradient)")


def failed_at(results, system):
    """The first depth at which `system`'s chain failed, or None."""
    return next((c.depth for c in results.chains if c.system == system and c.failed), None)


def summary_rows(results, cfg):
    """The README table: one row per workload, one column per system."""
    rows = []
    demo = lambda system: ms(results.median("scalar demo", system))
    base = demo("micrograd")
    if results.has("scalar demo"):
        rows.append(["moons demo step, scalar (GC on)", cell(demo("tapegrad"), "ms", base),
                     cell(base, "ms"), cell(demo("micrograd-rust"), "ms", base),
                     cell(demo("torch (0-d)"), "ms", base), ""])
        if demo("micrograd (GC off)"):
            rows.append(["moons demo step, scalar, micrograd GC off", "",
                         cell(demo("micrograd (GC off)"), "ms", base), "", "", ""])
    rows += compiled_summary_rows(results)
    for key, label in (("tensor moons", "moons demo step, tensor"),
                       ("tensor mlp", "MLP 784-256-10 step, batch 128")):
        if results.has(key):
            m = lambda system: ms(results.median(key, system))
            rows.append([label, cell(m("tapegrad"), "ms", m("torch")), "", "",
                         cell(m("torch"), "ms"), cell(m("autograd"), "ms", m("torch"))])
    for name in OPS:
        if results.has(name):
            per = lambda system: ns(results.per_unit(name, system))
            b = per("micrograd")
            rows.append([f"build `{name.split(': ')[1]}`", cell(per("tapegrad"), "ns", b),
                         cell(b, "ns"), cell(per("micrograd-rust"), "ns", b),
                         cell(per("torch (0-d)"), "ns", b), ""])
    for key in ("chain", "tree", "big chain"):
        workload = "backward " + key
        if results.has(workload):
            per = lambda system: ns(results.per_unit(workload, system))
            b = per("micrograd")
            label = results.note(workload)
            rows.append([f"backward, {label}, per node", cell(per("tapegrad"), "ns", b),
                         cell(b, "ns") if b else ("not run: recursive backward"
                                                  if key == "big chain" else ""),
                         cell(per("micrograd-rust"), "ns", b), cell(per("torch (0-d)"), "ns", b),
                         ""])
    if results.chains:
        depths = cfg.chain_depths
        row = [f"deep chain, {depth_label(depths[-1])} ops: build + backward"]
        fails = [f"deep chain: first depth that fails (tried up to {depth_label(depths[-1])})"]
        for column in COLUMNS:
            system = system_of(column)
            if system not in results.chain_systems():
                row.append("")
                fails.append("")
                continue
            row.append(chain_cell(results.chain(system, depths[-1])).replace("**fails**: ",
                                                                             "fails: "))
            depth = failed_at(results, system)
            if depth is None:
                skipped = [d for d in depths
                           if (found := results.chain(system, d)) and found.skipped]
                skipped = f" (skipped {', '.join(map(depth_label, skipped))})" if skipped else ""
                fails.append("none" + skipped)
            else:
                fails.append(f"{depth_label(depth)}: {results.chain(system, depth).error}")
        rows += [row, fails]
    if results.kept:
        row = [f"memory: kept {depth_label(cfg.kept_nodes)}-node graph"]
        for column in COLUMNS:
            r = next((k for k in results.kept if k.system == system_of(column)), None)
            if r is None:
                row.append("")
            elif r.failed:
                row.append("fails: " + r.error)
            else:
                row.append(f"{fmt(r.bytes_per_node)} B/node")
        rows.append(row)
    steps = results.steps
    if steps is not None and not steps.failed:
        at_warmup, end = steps.at(steps.warmup), steps.rows[-1]
        rows.append([f"memory: RSS change over {end[0] - at_warmup[0]:,} demo steps after warm-up",
                     f"{(end[1] - at_warmup[1]) / 2**20:+.1f} MiB", "", "", "", ""])
    return ["workload"] + COLUMNS, rows


def compiled_summary_rows(results):
    """tapegrad.compile's rows: the moons step (micrograd's figure of the same interleaved
    run is the baseline), the replay's cost per op, the digits MLP eager and compiled."""
    rows = []
    step = lambda system: ms(results.median("compile moons", system))
    base = step("micrograd")
    for system, label in (("tapegrad compiled", "moons step, compiled: replay + backward() + "
                                                "Python SGD (GC on)"),
                          ("tapegrad compiled, fused SGD", "moons step, compiled with fused SGD "
                                                           "(GC on)"),
                          ("tapegrad compiled, user-written Neuron",
                           "moons step, user-written Neuron, compiled (GC on)")):
        if step(system) is not None:
            rows.append([label, cell(step(system), "ms", base), cell(base, "ms"), "", "", ""])
    replay = ns(results.per_unit("compile replay moons", "tapegrad"))
    if replay is not None:
        rows.append(["compiled replay of the moons step, per op", cell(replay, "ns"),
                     "", "", "", ""])
    digits = lambda system: ms(results.median("compile digits", system))
    eager = digits("tapegrad eager")
    if eager is not None:
        rows.append(["digits MLP(64, [32, 10]) step, eager", cell(eager, "ms"), "", "", "", ""])
    if digits("tapegrad compiled") is not None:
        rows.append(["digits MLP(64, [32, 10]) step, compiled (x eager)",
                     cell(digits("tapegrad compiled"), "ms", eager), "", "", "", ""])
    return rows


# --------------------------------------------------------------- details

def demo_section(results, cfg):
    base = ms(results.median("scalar demo", "micrograd"))
    out = ["## 1. moons demo step, scalar engines\n",
           "micrograd's demo: MLP(2, [16, 16, 1]) on 100 points, SVM max-margin loss + L2, "
           "backward, SGD; one step builds the inputs, runs forward, loss, zero_grad, backward "
           "and the update. torch (0-d): the same MLP with one float64 0-d tensor per value. "
           f"Interleaved: {cfg.demo_rounds} rounds of one step per system "
           f"(tapegrad {cfg.demo_tg_per_round} a round) after a warm-up step "
           f"(tapegrad {cfg.demo_tg_warmup}), GC on; then micrograd alone with gc.disable() "
           "and an untimed gc.collect() after each step.\n"]
    rows = []
    for t in (t for t in results.timings if t.workload == "scalar demo"):
        samples = [ms(s) for s in t.seconds_samples]
        rows.append([t.system, "off" if "GC off" in t.system else "on", len(samples),
                     fmt(median(samples)), fmt(min(samples)), fmt(max(samples)),
                     times_faster(base, median(samples))])
    out.append(table(["system", "GC", "steps timed", "median ms/step", "min ms", "max ms",
                      "micrograd (GC on) / system"], rows))
    losses = ", ".join(f"{k} {v!r}" for k, v in results.first_losses["scalar demo"].items())
    out.append(f"Sanity check, loss of step 0 (same seed, same model): {losses}.\n")
    return out


def tensor_section(results, cfg, key, title):
    m = lambda system: ms(results.median(key, system))
    out = [title + "\n",
           "bench_tensor.py's step (float32): "
           + ("MLP 2-16-16-1 on the 100 moons points, SVM loss + L2, SGD. "
              if key == "tensor moons" else
              "relu hidden layer, cross-entropy, SGD, on random data. ")
           + f"Systems interleaved, {cfg.tensor_warmup} warm-up and {cfg.tensor_repeats} timed "
           "steps each.\n"]
    out.append(table(["system", "median ms/step", "torch / system"],
                     [[s, fmt(m(s)), times_faster(m("torch"), m(s))]
                      for s in TENSOR if m(s) is not None]))
    out.append("First-step loss: " + ", ".join(f"{k} {v:.6f}" for k, v in
                                               results.first_losses[key].items()) + ".\n")
    return out


def chains_section(results, cfg):
    depths = cfg.chain_depths
    out = ["## 3. Deep chains\n",
           "A chain of N operations alternating `y*a` and `y+b` (bench_scalar.build_chain), built "
           "then backpropagated, in a child process per system and depth with a timeout of "
           f"{cfg.chain_timeout} s and an address-space cap of 3/4 of RAM. Cells: median build "
           "time + backward time (3 runs up to 1e4 or 1e5 ops, 1 run above, after a 100-op "
           "warm-up), or how the child failed: a Python exception, a crash (killed by a "
           "signal), a timeout. After a failure the larger depths are not run. "
           "`skipped (time)`: a pure-Python peer at 1e7, not run.\n"]
    rows = []
    for system in results.chain_systems():
        peak = max((c.peak_rss or 0 for c in results.chains if c.system == system), default=0)
        rows.append([system] + [chain_cell(results.chain(system, d)) for d in depths]
                    + [mib(peak) if peak else ""])
    out.append(table(["system"] + [f"{depth_label(d)} ops" for d in depths] + ["peak RSS MiB"],
                     rows))
    return out


def ops_section(results, cfg):
    systems = [s for s in SCALAR if any(results.timing(name, s) for name in OPS)]
    counts = ", ".join(f"{s} {cfg.op_count(s):,}" for s in systems)
    out = ["## 4. Per-op costs\n",
           "Build: loops of `y = <op>` over two scalars that record the operation "
           f"(bench_scalar.time_loop), total time / ops, median of {cfg.op_repeats} interleaved "
           f"runs after a warm-up run; ops per run: {counts}. micrograd 0.1.0 has no tanh.\n"]
    others = [s for s in systems if s != "micrograd"]
    rows = []
    for name in OPS:
        if not results.has(name):
            continue
        per = lambda system: ns(results.per_unit(name, system))
        b = per("micrograd")
        rows.append([name] + [fmt(per(s)) if per(s) else "n/a" for s in systems]
                    + [" / ".join(times_faster(b, per(s)) or "-" for s in others)])
    out.append(table(["op (ns/op)"] + systems + ["micrograd / " + ", ".join(others)], rows))
    out.append("Backward: `root.backward()` on a freshly built graph each run "
               "(bench_scalar.time_backward, build untimed), median over interleaved runs after "
               "a warm-up run, divided by the node count (tapegrad: growth of its tape, leaves "
               "included; others: operations + leaves). micrograd's backward recurses, so the "
               "deep graphs run only on systems that do not.\n")
    rows = []
    for key in ("chain", "tree", "big chain", "big tree"):
        timings = [t for t in results.timings if t.workload == "backward " + key]
        b = ns(results.per_unit("backward " + key, "micrograd"))
        for t in timings:
            rows.append([t.note, t.system, f"{t.units:,}", fmt(ms(t.median)),
                         fmt(ns(t.per_unit)), times_faster(b, ns(t.per_unit))])
    out.append(table(["graph", "system", "nodes", "median ms", "ns/node", "micrograd / system"],
                     rows))
    return out


def memory_section(results, cfg):
    out = ["## 5. Memory\n",
           "Each probe runs in a fresh child process; RSS is the current resident set size "
           "(/proc/self/statm). Kept graph: a chain kept alive by its output handle, RSS "
           "before and after building it, collections around (harness.kept_graph).\n"]
    rows = []
    for r in results.kept:
        if r.failed:
            rows.append([r.system, "fails: " + r.error, "", "", "", ""])
            continue
        grown = r.rss_kept - r.rss_before
        tape = f"{r.node_bytes} B/node, {r.segments} segments" if r.node_bytes else ""
        rows.append([r.system, f"{r.nodes:,}", mib(grown), fmt(grown / r.nodes),
                     mib(r.rss_dropped - r.rss_before), tape])
    out.append(table(["system", "nodes kept", "RSS growth MiB", "bytes/node",
                      "RSS left after drop + collect, MiB", "tape"], rows))
    steps = results.steps
    if steps is None:
        return out
    out.append(f"Steady state: {cfg.memory_steps:,} tapegrad demo steps with the GC on "
               "(bench_scalar.child_demo_memory).\n")
    if steps.failed:
        out.append(f"> the steps probe failed: {steps.error}\n")
        return out
    at_warmup = steps.at(steps.warmup)
    out.append(table(
        ["after step", "RSS MiB", "vs after warm-up, MiB", "tape segments", "tape nodes"],
        [[s, mib(rss), f"{(rss - at_warmup[1]) / 2**20:+.1f}", seg, f"{n:,}"]
         for s, rss, seg, n in steps.rows]))
    end = steps.rows[-1]
    out.append(f"After the {steps.warmup}-step warm-up: peak RSS {mib(steps.peak_rss)} MiB, "
               f"peak tape segments {steps.peak_segments}; RSS change warm-up -> end "
               f"{(end[1] - at_warmup[1]) / 2**20:+.1f} MiB over {end[0] - at_warmup[0]:,} "
               "steps.\n")
    return out


def compile_section(results, cfg):
    out = ["## 7. tapegrad.compile\n",
           "bench_compile.py's workloads, GC on. The moons step as the whole user step: "
           "forward (compiled: a replay), zero_grad, loss.backward(), the SGD loop in Python; "
           "fused: `compile(loss_fn, optimizer=SGD(...))` does all of it. micrograd, tapegrad "
           f"eager and tapegrad compiled are interleaved, {cfg.compile_rounds} rounds (micrograd "
           f"1 step a round, eager 3, compiled {cfg.compile_steps}). The digits classifier in "
           "Values: load_digits, MLP(64, [32, 10]), softmax cross-entropy, minibatches of "
           f"{cfg.digits[1]} rows of input Values set before each step; eager and compiled "
           "interleaved. "
           "Replay: the replay alone (forward values and local derivatives written into the "
           "tape), per recorded op.\n"]
    base = ms(results.median("compile moons", "micrograd"))
    rows = [[t.system, fmt(ms(t.median)), times_faster(base, ms(t.median))]
            for t in results.timings if t.workload == "compile moons"]
    out.append(table(["moons step (whole user step)", "median ms/step", "micrograd / system"],
                     rows))
    eager = ms(results.median("compile digits", "tapegrad eager"))
    rows = [[t.system, fmt(ms(t.median)), times_faster(eager, ms(t.median))]
            for t in results.timings if t.workload == "compile digits"]
    if rows:
        out.append(table(["digits MLP(64, [32, 10]) step", "median ms/step", "eager / system"],
                         rows))
    rows = []
    for program in ("moons", "digits"):
        replay = results.timing("compile replay " + program, "tapegrad")
        if replay is not None:
            facts = results.facts.get("compile " + program, {})
            rows.append([program, f"{replay.units:,}", fmt(ns(replay.per_unit)),
                         facts.get("recordings", ""), facts.get("replays", "")])
    out.append(table(["program", "recorded ops", "replay ns/op", "recordings", "replays"], rows))
    check = results.facts.get("compile digits", {}).get("loss_equal")
    if check is not None:
        out.append(f"Check: the compiled digits loss equals the eager one: {check}.\n")
    return out


def detail_sections(results, cfg):
    out = []
    if results.has("scalar demo"):
        out += demo_section(results, cfg)
    for key, title in (("tensor moons", "## 2. moons demo step, tensor engines"),
                       ("tensor mlp", "## 6. MLP 784-256-10 step, batch 128")):
        if results.has(key):
            out += tensor_section(results, cfg, key, title)
    if results.chains:
        out += chains_section(results, cfg)
    if any(results.has(name) for name in OPS):
        out += ops_section(results, cfg)
    if results.kept or results.steps is not None:
        out += memory_section(results, cfg)
    if results.has("compile moons"):
        out += compile_section(results, cfg)
    return out


def write_markdown(path, results, cfg, env_rows, notes, elapsed, png_name):
    lines = ["# tapegrad benchmarks\n",
             f"Made by `python benchmarks/run.py{'' if cfg.mode == 'full' else ' --' + cfg.mode}` "
             f"in {elapsed:.0f} s; nothing here is typed by hand.\n",
             table(["", ""], env_rows)]
    if notes:
        lines.append("\n".join(f"> {n}  " for n in notes) + "\n")
    headers, rows = summary_rows(results, cfg)
    lines.append("## Summary\n")
    lines.append("Medians. In parentheses: how many times faster than micrograd (GC on) for the "
                 "scalar rows (the compiled moons rows: micrograd in the same interleaved run; "
                 "the digits compiled row: tapegrad eager), than torch for the tensor rows. The "
                 "torch column is torch with one 0-d tensor per value in the scalar rows (moons "
                 "scalar step, build, backward, deep chain, memory). Deep chains: build + "
                 "backward time.\n")
    lines.append("<!-- summary -->")
    lines.append(table(headers, rows))
    if png_name:
        lines.append(f"![benchmark plot]({png_name})\n")
    lines += detail_sections(results, cfg)
    path.write_text("\n".join(lines))


# ------------------------------------------------------------------ plot

def write_plot(path, results, cfg, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(15, 11))
    fig.suptitle(title, fontsize=13)
    scalar_steps_panel(axes[0][0], results)
    groups = {}
    for key, label in (("tensor moons", "moons demo step\n(tensor form)"),
                       ("tensor mlp", "MLP 784-256-10\nbatch 128")):
        if results.has(key):
            groups[label] = {s: ms(results.median(key, s)) for s in TENSOR}
    bars(axes[0][1], groups, TENSOR, "ms per step", "Tensor engines: one training step")
    groups = {}
    for name in OPS:
        if results.has(name):
            groups["build " + name.split(": ")[1]] = {
                s: ns(results.per_unit(name, s)) for s in SCALAR}
    for key in ("chain", "tree"):
        workload = "backward " + key
        if results.has(workload):
            groups["backward per node,\n" + results.note(workload)] = {
                s: ns(results.per_unit(workload, s)) for s in SCALAR}
    replay = ns(results.per_unit("compile replay moons", "tapegrad"))
    if replay is not None:
        groups["compiled replay per op,\nmoons step"] = {"tapegrad": replay}
    bars(axes[1][0], groups, SCALAR, "ns per op or node", "Scalar engines: cost per operation")
    chains_panel(axes[1][1], results, cfg)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def legend(ax, systems, loc):
    """Legend patches in each system's colour, drawn bars or not (a failed system has none)."""
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color=COLORS.get(s, "gray"), label=s) for s in systems],
              fontsize=8, loc=loc, framealpha=0.9)


def bars(ax, groups, series, unit, heading):
    """Grouped horizontal bars on a log axis: groups down the y axis, one bar per series;
    a missing value (None) leaves its slot empty."""
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
                ax.text(v * 1.08, y, fmt(v), va="center", fontsize=8)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel(f"{unit} (log scale, lower is faster)")
    ax.set_title(heading)
    if present:
        xmin, xmax = ax.get_xlim()
        ax.set_xlim(xmin, xmax * 30)  # room for the value labels and the legend
        legend(ax, present, "lower right")


def scalar_steps_panel(ax, results):
    """One bar per scalar system's moons step (the compiled ones against the micrograd of
    their own run), then the digits MLP, eager and compiled."""
    entries = []  # (label, ms, baseline ms, baseline's name)
    demo_base = ms(results.median("scalar demo", "micrograd"))
    for system in ["micrograd", "micrograd (GC off)", "micrograd-rust", "torch (0-d)",
                   "tapegrad"]:
        value = ms(results.median("scalar demo", system))
        if value is not None:
            entries.append((system, value, None if system == "micrograd" else demo_base,
                            "micrograd"))
    compile_base = ms(results.median("compile moons", "micrograd"))
    for system in COMPILED:
        value = ms(results.median("compile moons", system))
        if value is not None:
            entries.append((system, value, compile_base, "micrograd"))
    digits_eager = ms(results.median("compile digits", "tapegrad eager"))
    for system in ("tapegrad eager", "tapegrad compiled"):
        value = ms(results.median("compile digits", system))
        if value is not None:
            entries.append(("digits: " + system, value,
                            digits_eager if system != "tapegrad eager" else None, "eager"))
    if entries:
        ax.barh([e[0] for e in entries], [e[1] for e in entries],
                color=[COLORS.get(e[0], "gray") for e in entries])
        for y, (label, value, base, base_name) in enumerate(entries):
            faster = times_faster(base, value)
            ax.text(value * 1.08, y, f"{fmt(value)} ms" + (f" ({faster} {base_name})"
                                                           if faster else ""),
                    va="center", fontsize=9)
        ax.invert_yaxis()
        ax.set_xscale("log")
        xmin, xmax = ax.get_xlim()
        ax.set_xlim(xmin, xmax * 4)
    ax.set_xlabel("ms per step (log scale, lower is faster)")
    ax.set_title("micrograd's moons demo step, scalar engines (and a digits MLP)")


def chains_panel(ax, results, cfg):
    from matplotlib.transforms import blended_transform_factory
    systems = results.chain_systems()
    depths = list(cfg.chain_depths)
    width = 0.8 / max(1, len(systems))
    totals = {(c.system, c.depth): c.total_s for c in results.chains if c.total_s}
    in_axes = blended_transform_factory(ax.transData, ax.transAxes)  # x: data, y: 0..1 up
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
            r = results.chain(s, d)
            if y:
                ax.text(x, y * 1.15, seconds(y), rotation=90, ha="center", va="bottom",
                        fontsize=7)
            elif r is not None and (r.failed or r.skipped):
                if r.skipped:
                    text = "not run" if "failed" in r.skipped else "skipped (time)"
                else:
                    text = r.error.split(":")[0].split(" (")[0]
                ax.text(x, 0.02, "x " + text, transform=in_axes, rotation=90, ha="center",
                        va="bottom", fontsize=8, color="black",
                        bbox=dict(boxstyle="square,pad=0.15", fc=COLORS.get(s, "gray"),
                                  alpha=0.35, lw=0))
    ax.set_xticks(range(len(depths)), [f"{depth_label(d)} ops" for d in depths])
    ax.set_xlim(-0.65, len(depths) - 0.35)
    ax.set_yscale("log")
    ax.set_ylabel("build + backward, seconds (log scale)")
    ax.set_xlabel("chain length (operations y*a, y+b)")
    ax.set_title("Deep chains: time, and where each system fails")
    if systems:
        legend(ax, systems, "upper left")
