"""benchmarks/run.py runs and writes its table and its plot. No timing is checked.

The runner goes in a child process, as a user runs it; its hidden --smoke flag
takes every code path (peers, child probes, failures, the plot) with tiny sizes.
"""
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif(not RUN.exists(),
                                reason="benchmarks/run.py is not beside the tests")


def run(*args, timeout):
    return subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


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
    assert "the plot failed" not in text
    assert "> section " not in text  # the note of a section that raised


def test_the_plot_draws_when_no_deep_chain_finished(tmp_path):
    """A system with no result for a row (every chain failed) still gets its panel:
    the log axis once had no positive value and the whole plot was lost."""
    pytest.importorskip("matplotlib")
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    run_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_module)
    results = {"chain_depths": [1000, 10**7],
               "chains": {"tapegrad": {"1000": {"error": "MemoryError (build)"}},
                          "micrograd": {"1000": {"error": "RecursionError (backward)"},
                                        "10000000": {"skipped": "failed at a smaller depth"}}}}
    png = tmp_path / "plot.png"
    run_module.write_plot(png, results, "no chain finished")
    assert png.read_bytes()[:8] == PNG_SIGNATURE
