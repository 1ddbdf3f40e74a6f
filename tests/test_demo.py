"""The main job, python -m tapegrad, end to end on its short setting."""
import re
import subprocess
import sys

import pytest


def test_the_demo_trains_all_four_models_and_writes_its_plots(tmp_path):
    pytest.importorskip("sklearn")
    result = subprocess.run([sys.executable, "-m", "tapegrad", "--quick", "--quiet", "--out",
                             str(tmp_path)], capture_output=True, text=True, check=True,
                            timeout=300)
    out = result.stdout
    accuracy = {name: float(value) for name, value in
                re.findall(r"^(\w+ \(\w+ engine\))\s+loss [\d.]+\s+accuracy\s+([\d.]+)%", out,
                           re.M)}
    assert accuracy["moons (scalar engine)"] >= 85
    assert accuracy["moons (tensor engine)"] >= 85
    assert accuracy["XOR (tensor engine)"] == 100
    assert accuracy["digits (tensor engine)"] >= 85
    # the compiled scalar run, beside the eager one: replays, with the eager bits
    assert re.search(r"^moons \(scalar, compiled\)\s+loss [\d.]+\s+accuracy\s+([\d.]+)%", out,
                     re.M)
    assert "compiled and eager scalar losses: the same bits at every step" in out
    assert re.search(r"2 recordings, 28 replays", out)
    table = [line.split("|") for line in out.splitlines()
             if re.match(r"^\s+[01]\s+[01]\s+\|", line)]
    assert [(row[0].split(), row[-1].strip()) for row in table] == [
        (["0", "0"], "0"), (["0", "1"], "1"), (["1", "0"], "1"), (["1", "1"], "0")]
    assert re.search(r"ms/step", out)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no plots" in out
        return
    for name in ("moons_decision_boundary.png", "loss_curves.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert str(tmp_path) in out


def test_the_demo_lists_its_options():
    result = subprocess.run([sys.executable, "-m", "tapegrad", "--help"], capture_output=True,
                            text=True, check=True)
    for option in ("--steps", "--xor-steps", "--digits-epochs", "--out", "--quick"):
        assert option in result.stdout
    bad = subprocess.run([sys.executable, "-m", "tapegrad", "--steps", "0"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "at least 1" in bad.stderr
