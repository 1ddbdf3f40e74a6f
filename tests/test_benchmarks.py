"""The benchmarks run and write their table and their plot. No timing is checked.

The runner goes in a child process, as a user runs it; its hidden --smoke flag
takes every code path (peers, child probes, failures, the plot) with tiny sizes.
The report is also rendered in this process from hand-made records, where the
numbers and the cells that must be missing are known.
"""
import dataclasses
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
RUN = BENCHMARKS / "run.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif(not RUN.exists(),
                                reason="benchmarks/run.py is not beside the tests")


def run(*args, timeout):
    return subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def bench():
    """harness and report, imported as run.py imports them (from benchmarks/)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("harness"), importlib.import_module("report")
    finally:
        sys.path.remove(str(BENCHMARKS))


def table_rows(text, first_header, after=""):
    """{first cell: [cells]} of the first markdown table after the line `after` whose
    header starts with first_header."""
    lines = text.splitlines()
    begin = lines.index(after) if after else 0
    start = next(i for i, line in enumerate(lines)
                 if i > begin and line.startswith(f"| {first_header}"))
    rows = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def hand_made_results(harness):
    """A run in which micrograd has no compiled rows, no one has an MLP row for autograd,
    and micrograd-rust has no result at all."""
    Timing = harness.Timing
    results = harness.Results()
    results.timings += [Timing("scalar demo", "micrograd", [1.0, 1.2, 1.1]),
                        Timing("scalar demo", "tapegrad", [0.002, 0.0025]),
                        Timing("scalar demo", "torch (0-d)", [0.5]),
                        Timing("compile moons", "micrograd", [1.5]),
                        Timing("compile moons", "tapegrad eager", [0.005]),
                        Timing("compile moons", "tapegrad compiled", [0.002]),
                        Timing("compile moons", "tapegrad compiled, fused SGD", [0.001]),
                        Timing("compile moons", "tapegrad compiled, user-written Neuron",
                               [0.0025]),
                        Timing("compile replay moons", "tapegrad", [1e-3], units=100_000),
                        Timing("compile digits", "tapegrad eager", [0.004]),
                        Timing("compile digits", "tapegrad compiled", [0.002]),
                        Timing("tensor mlp", "torch", [0.002]),
                        Timing("tensor mlp", "tapegrad", [0.001]),
                        Timing("add: x + c", "micrograd", [800e-9]),
                        Timing("add: x + c", "tapegrad", [40e-9]),
                        Timing("backward chain", "tapegrad", [4e-6], note="chain of 400 ops",
                               units=403)]
    results.first_losses = {"scalar demo": {"micrograd": 0.9, "tapegrad": 0.9},
                            "tensor mlp": {"torch": 2.3, "tapegrad": 2.3}}
    results.facts["compile moons"] = {"recordings": 1, "replays": 12}
    results.chains += [harness.ChainResult(system="tapegrad", depth=1000, build_s=[0.01],
                                           backward_s=[0.001], grad_ok=True),
                       harness.ChainResult(system="tapegrad", depth=10**4,
                                           error="MemoryError (build)", kind="exception"),
                       harness.ChainResult(system="micrograd", depth=1000,
                                           error="RecursionError (backward)", kind="exception"),
                       harness.ChainResult(system="micrograd", depth=10**4,
                                           skipped="not run (failed at 1e3)")]
    results.kept.append(harness.MemoryResult(system="tapegrad", nodes=1000, rss_before=0,
                                             rss_kept=64_000, rss_dropped=0))
    return results


def test_the_report_renders_records_with_missing_cells(bench, tmp_path):
    harness, report = bench
    cfg = dataclasses.replace(harness.SMOKE, chain_depths=(1000, 10**4))
    md = tmp_path / "results.md"
    report.write_markdown(md, hand_made_results(harness), cfg, [["machine", "test"]], [], 1.0,
                          None)
    text = md.read_text()
    summary = table_rows(text, "workload")
    assert summary["workload"] == report.COLUMNS
    by_column = lambda row: dict(zip(report.COLUMNS, summary[row]))
    demo = by_column("moons demo step, scalar (GC on)")
    # medians, and micrograd / system in parentheses: 1.1 / 0.00225 = 488.9
    assert demo == {"tapegrad": "2.25 ms (488.9x)", "micrograd": "1,100 ms",
                    "micrograd-rust": "", "torch": "500 ms (2.2x)", "autograd": ""}
    # the compiled rows are measured against the micrograd of their own run (1.5 s)
    compiled = by_column("moons step, compiled: replay + backward() + Python SGD (GC on)")
    assert compiled["tapegrad"] == "2.00 ms (750.0x)" and compiled["micrograd"] == "1,500 ms"
    fused = by_column("moons step, compiled with fused SGD (GC on)")
    assert fused["tapegrad"] == "1.00 ms (1,500.0x)"
    user_written = by_column("moons step, user-written Neuron, compiled (GC on)")
    assert user_written["tapegrad"] == "2.50 ms (600.0x)"
    assert by_column("compiled replay of the moons step, per op")["tapegrad"] == "10.0 ns"
    assert by_column("digits MLP(64, [32, 10]) step, eager")["tapegrad"] == "4.00 ms"
    assert by_column("digits MLP(64, [32, 10]) step, compiled (x eager)")["tapegrad"] == \
        "2.00 ms (2.0x)"
    mlp = by_column("MLP 784-256-10 step, batch 128")
    assert mlp["autograd"] == "" and mlp["tapegrad"] == "1.00 ms (2.0x)"
    assert "moons demo step, tensor" not in summary  # no record, no row
    assert by_column("build `x + c`")["tapegrad"] == "40.0 ns (20.0x)"
    failing = by_column("deep chain: first depth that fails (tried up to 1e4)")
    assert failing["tapegrad"] == "1e4: MemoryError (build)"
    assert failing["micrograd"] == "1e3: RecursionError (backward)"
    assert failing["torch"] == "" and failing["micrograd-rust"] == ""
    assert by_column("memory: kept 1e4-node graph")["tapegrad"] == "64.0 B/node"
    chains = table_rows(text, "system", after="## 3. Deep chains")
    assert chains["micrograd"][:2] == ["**fails**: RecursionError (backward)",
                                       "not run (failed at 1e3)"]
    assert "## 7. tapegrad.compile" in text
    assert "## 2. moons demo step, tensor engines" not in text


def test_the_plot_draws_with_missing_cells_and_a_system_without_results(bench, tmp_path):
    pytest.importorskip("matplotlib")
    harness, report = bench
    cfg = dataclasses.replace(harness.SMOKE, chain_depths=(1000, 10**4))
    png = tmp_path / "plot.png"
    report.write_plot(png, hand_made_results(harness), cfg, "missing cells")
    assert png.read_bytes()[:8] == PNG_SIGNATURE


def test_the_plot_draws_when_no_deep_chain_finished(bench, tmp_path):
    """A system with no result for a row (every chain failed) still gets its panel:
    the log axis once had no positive value and the whole plot was lost."""
    pytest.importorskip("matplotlib")
    harness, report = bench
    results = harness.Results()
    results.chains += [harness.ChainResult(system="tapegrad", depth=1000,
                                           error="MemoryError (build)"),
                       harness.ChainResult(system="micrograd", depth=1000,
                                           error="RecursionError (backward)"),
                       harness.ChainResult(system="micrograd", depth=10**7,
                                           skipped="not run (failed at 1e3)")]
    cfg = dataclasses.replace(harness.SMOKE, chain_depths=(1000, 10**7))
    png = tmp_path / "plot.png"
    report.write_plot(png, results, cfg, "no chain finished")
    assert png.read_bytes()[:8] == PNG_SIGNATURE


def test_a_child_that_fails_is_a_record_of_how_it_ended(bench):
    """The one runner: an exception in the child comes back as the record's error."""
    harness, _ = bench
    r = harness.run_child(harness.MemoryResult, "harness:kept_graph", ["no such system", 10],
                          timeout=120, system="no such system")
    assert r.failed and r.kind == "exit"
    assert "ValueError" in r.error and r.system == "no such system"


def test_the_documented_options_are_accepted():
    done = run("--help", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout
    assert "--output-dir" in done.stdout


@pytest.mark.slow
def test_a_smoke_run_writes_the_table_and_the_plot(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")  # the moons demo's data
    out = tmp_path / "results"
    # --quick with --smoke: the options parse together, and --smoke's tiny sizes win
    done = run("--quick", "--smoke", "--output-dir", str(out), timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]

    assert (out / "results.png").read_bytes()[:8] == PNG_SIGNATURE
    text = (out / "results.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| workload"))
    assert [cell.strip() for cell in header.strip("|").split("|")] == [
        "workload", "tapegrad", "micrograd", "micrograd-rust", "torch", "autograd"]
    assert "![benchmark plot](results.png)" in text
    for fact in ("| machine", "| Python", "| tapegrad", "| git commit"):
        assert fact in text
    assert "moons demo step, scalar" in text
    assert "moons step, compiled with fused SGD" in text
    assert "the plot failed" not in text
    assert "> section " not in text  # the note of a section that raised
