"""The version is written once, in src/tapegrad/_version.py: the installed metadata
and tapegrad.__version__ are both that."""
import importlib.metadata
import re
from pathlib import Path

import pytest

import tapegrad

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_version_is_the_one_of_version_py():
    text = (Path(tapegrad.__file__).parent / "_version.py").read_text(encoding="utf-8")
    (written,) = re.findall(r'^__version__ = "([^"]+)"$', text, re.M)
    assert tapegrad.__version__ == written
    assert re.fullmatch(r"\d+\.\d+\.\d+(\S*)", written)


def test_the_installed_metadata_has_the_same_version():
    try:
        installed = importlib.metadata.version("tapegrad")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("tapegrad is not installed (a checkout built in place)")
    assert installed == tapegrad.__version__


def test_pyproject_does_not_write_a_version_of_its_own():
    if not PYPROJECT.exists():
        pytest.skip("pyproject.toml is not beside the tests")
    text = PYPROJECT.read_text(encoding="utf-8")
    assert re.search(r'^dynamic = \["version"\]$', text, re.M)
    assert not re.search(r"^version = \"", text, re.M)
