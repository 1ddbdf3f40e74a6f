"""The type stubs ship beside the compiled modules and name their whole public
surface, and the compiled classes carry signatures for inspect and help()."""
import ast
import inspect
import pydoc
from pathlib import Path

import pytest

import tapegrad
from tapegrad import Tensor, Value

PACKAGE = Path(tapegrad.__file__).parent


def stub_names(module, cls):
    """The names class cls declares in the stub of module (methods and attributes)."""
    tree = ast.parse((PACKAGE / f"{module}.pyi").read_text(encoding="utf-8"))
    (node,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
    names = set()
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(item.name)
        elif isinstance(item, ast.AnnAssign):
            names.add(item.target.id)
    return names


def public_names(cls):
    return {n for n in dir(cls) if not n.startswith("_")}


def test_the_package_is_marked_typed():
    assert (PACKAGE / "py.typed").is_file()


@pytest.mark.parametrize("module, cls", [("_engine", Value), ("_tensor", Tensor)],
                         ids=["Value", "Tensor"])
def test_every_public_name_is_in_the_stub(module, cls):
    missing = public_names(cls) - stub_names(module, cls.__name__)
    assert not missing, f"{module}.pyi lacks {sorted(missing)}: add them to the stub"
    stale = {n for n in stub_names(module, cls.__name__) - public_names(cls)
             if not n.startswith("_")}
    assert not stale, f"{module}.pyi declares {sorted(stale)}, which {cls.__name__} lacks"


def test_inspect_signature_reads_the_compiled_classes():
    assert str(inspect.signature(Value)) == "(data, _children=(), _op='', label='')"
    assert str(inspect.signature(Tensor)) == (
        "(*args, device=None, requires_grad=False, dtype=None)")
    assert str(inspect.signature(Tensor.sum)) == "(self, dim=None, keepdim=False, dtype=None)"
    assert str(inspect.signature(Value.tanh)) == "(self)"


def test_help_shows_the_signature_and_the_docstring():
    text = pydoc.render_doc(Value, renderer=pydoc.plaintext)
    assert "Value(data, _children=(), _op='', label='')" in text
    assert "one node of the tape" in text
