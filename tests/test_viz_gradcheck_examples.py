"""Graph pictures, the numerical gradient check, and the seeds' example scripts."""
import pathlib
import shutil
import subprocess
import sys
import xml.dom.minidom

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import GradcheckError, Value, gradcheck, viz
from tapegrad.autograd import Function

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
needs_graphviz = pytest.mark.skipif(not viz.graphviz_available(),
                                    reason="the graphviz package and its dot program are needed")


def seed_graph():
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    f.backward()
    return f


# ------------------------------------------------------------------- viz

def test_value_graph_has_a_record_per_value_and_a_node_per_op():
    dot = viz.to_dot(seed_graph())
    assert dot.count("shape=\"record\"") == 5
    assert dot.count("shape=\"circle\"") == 2
    assert '"{ q | data 3.0000 | grad -4.0000 }"' in dot
    assert '"{ x | data -2.0000 | grad -4.0000 }"' in dot
    assert dot.count("->") == 6      # x, y -> +; + -> q; q, z -> *; * -> f
    assert "rankdir=LR" in dot


def test_edges_run_the_way_the_data_flows():
    f = seed_graph()
    q = next(p for p in f._prev if p.label == "q")
    dot = viz.to_dot(f)
    assert f'"v{id(q)}" -> "v{id(f)}op"' in dot
    assert f'"v{id(f)}op" -> "v{id(f)}"' in dot


def test_tensor_graph_shows_grad_fns_shapes_and_dtypes():
    x = tg.randn(3, 2, requires_grad=True)
    w = tg.randn(2, dtype=tg.float64, requires_grad=True)
    out = (x.double() @ w).tanh().sum()
    dot = viz.to_dot(out)
    for name in ("SumBackward0", "TanhBackward0", "MmBackward0", "ToCopyBackward0"):
        assert name in dot
    assert "leaf (3, 2) float32" in dot and "leaf (2) float64" in dot
    assert "output () float64" in dot


def test_large_graphs_are_cut_with_a_visible_note():
    x = Value(0.5)
    y = x
    for _ in range(2000):
        y = (y * 1.0001).tanh()
    dot = viz.to_dot(y, max_nodes=50)
    assert dot.count("shape=\"record\"") == 50
    assert "more nodes not drawn (max_nodes=50)" in dot
    t = tg.ones(3, requires_grad=True)
    u = t
    for _ in range(300):
        u = u * 1.0
    assert "more nodes not drawn" in viz.to_dot(u.sum(), max_nodes=20)


def test_the_note_counts_every_value_left_out():
    """A chain of 20,000 ops on a constant is 40,001 values (each constant has its
    handle too): 400 drawn, 39,601 hidden. The count once walked handles that _prev
    makes afresh and the freelist reuses, and said 5."""
    y = Value(0.5)
    for _ in range(20_000):
        y = y * 1.0001
    dot = viz.to_dot(y, max_nodes=400)
    assert dot.count('shape="record"') == 400
    assert "... 39601 more nodes not drawn (max_nodes=400)" in dot


def test_without_graphviz_draw_dot_returns_dot_source_and_says_how_to_install(monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    with pytest.warns(viz.GraphvizMissingWarning, match="apt-get install graphviz"):
        source = viz.draw_dot(seed_graph())
    assert isinstance(source, str) and source.startswith("digraph G {")


def test_bad_arguments_are_clear_errors():
    with pytest.raises(TypeError, match="Value or a Tensor"):
        viz.to_dot(3.0)
    with pytest.raises(ValueError, match="rankdir"):
        viz.to_dot(seed_graph(), rankdir="XY")
    with pytest.raises(ValueError, match="format"):
        viz.draw_dot(seed_graph(), format="gif")


@needs_graphviz
def test_pictures_are_valid_svg_and_png():
    svg = viz.draw_dot(seed_graph()).pipe(format="svg")
    document = xml.dom.minidom.parseString(svg)
    assert document.documentElement.tagName == "svg"
    assert b"data &#45;12.0000" in svg      # SVG escapes the minus sign
    png = viz.draw_dot(tg.ones(2, requires_grad=True).exp().sum(), format="png").pipe()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


# ------------------------------------------------------------- gradcheck

class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x ** 2          # deliberately wrong


def wrong_value_cube(v):
    out = Value(v.data ** 3, (v,), "cube")

    def _backward():
        v.grad += 2 * v.data ** 2 * out.grad   # deliberately wrong
    out._backward = _backward
    return out


def test_gradcheck_passes_correct_gradients():
    a, b = Value(1.5), Value(-0.7)
    assert gradcheck(lambda x, y: (x * y).tanh() + x ** 2 - y.exp() / x, [a, b])
    assert (a.data, b.data, a.grad, b.grad) == (1.5, -0.7, 0.0, 0.0)   # inputs left as they were
    tg.manual_seed(0)
    x = tg.randn(3, 2, dtype=tg.float64, requires_grad=True)
    w = tg.randn(2, dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda x, w: (x @ w).tanh().softmax(0), [x, w])
    assert gradcheck(lambda x: Cube.apply(x).sum(), [x])
    strided = tg.from_numpy(np.asfortranarray(np.random.default_rng(1).standard_normal((3, 3))))
    strided.requires_grad_()
    assert gradcheck(lambda s: (s * s.T).sigmoid(), [strided])


def test_gradcheck_catches_a_wrong_backward_and_names_the_worst_element():
    x = tg.tensor([[0.5, -1.0], [2.0, 1.5]], dtype=tg.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda t: WrongCube.apply(t), [x])
    message = str(caught.value)
    assert "input 0 element (1, 0)" in message        # x = 2.0: the largest error
    assert "backward gives 8.0" in message and "finite differences give 12.0" in message
    assert "atol=1e-05, rtol=0.001" in message
    with pytest.raises(GradcheckError, match=r"input 0 .*backward gives 8.0"):
        gradcheck(wrong_value_cube, [Value(2.0, label="v")])
    assert gradcheck(lambda t: WrongCube.apply(t), [x], raise_exception=False) is False


def test_gradcheck_refuses_what_it_cannot_check():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda t: t * 2, [tg.ones(2, requires_grad=True)])
    with pytest.raises(TypeError, match="all Values or all Tensors"):
        gradcheck(lambda a, b: a, [Value(1.0), tg.ones(1)])
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda t: t * 2, [tg.ones(2, dtype=tg.float64)])


# ---------------------------------------------------------------- examples

def run_example(name, tmp_path):
    if not EXAMPLES.exists():
        pytest.skip("examples/ is not beside the tests")
    result = subprocess.run([sys.executable, str(EXAMPLES / name), "--out", str(tmp_path)],
                            capture_output=True, text=True, check=True)
    return result.stdout


def pictures(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir())


def test_example_000_chain_rule(tmp_path):
    out = run_example("seed_000_chain_rule.py", tmp_path)
    assert "forward:  q = 3, f = -12" in out
    assert "backward: df/dx = -4, df/dy = -4, df/dz = 3" in out
    assert pictures(tmp_path) in (["seed_000_f.svg"], ["seed_000_f.dot"])


def test_example_001_single_node_and_regression(tmp_path):
    out = run_example("seed_001_single_node.py", tmp_path)
    assert "forward:  y_hat = 1, s = -1, loss = 1" in out
    assert "dloss/dw = -2" in out
    assert "predict (after training) 4 -> 7.9905" in out


def test_example_002_computational_graph(tmp_path):
    out = run_example("seed_002_computational_graph.py", tmp_path)
    assert "price = 715.0" in out
    assert ("d/d apple price = 2.2, d/d apples = 110.0, d/d orange price = 3.3, "
            "d/d oranges = 165.0, d/d tax = 650.0") in out
    assert "x = -1.5: relu' = 0" in out and "x = +2.0: relu' = 1" in out
    lines = {line.split("=")[0].strip(): line.split("=", 1)[1].split() for line in out.splitlines()
             if line.startswith(("dL/da", "y - t"))}
    assert lines["dL/da"] == lines["y - t"]
    assert "(agree)" in out


def test_example_003_external_gradient(tmp_path):
    out = run_example("seed_003_external_gradient.py", tmp_path)
    assert out.count("tensor([True, True])") == 2
    assert "a.grad = tensor([36., 81.])" in out and "b.grad = tensor([-12.,  -8.])" in out


def test_example_004_xor_and_affine(tmp_path):
    out = run_example("seed_004_xor_and_affine.py", tmp_path)
    assert "df/dw = -2 (= x), df/dx = 3 (= w), df/db = 1" in out
    rows = [line.split() for line in out.splitlines() if line[:1] == " " and "|" in line
            and line.split()[0] in ("0", "1")]
    assert [(r[0], r[1], r[-1]) for r in rows] == [("0", "0", "0"), ("0", "1", "1"),
                                                   ("1", "0", "1"), ("1", "1", "0")]


@needs_graphviz
def test_examples_write_valid_pictures(tmp_path):
    run_example("seed_002_computational_graph.py", tmp_path)
    svg = (tmp_path / "seed_002_price.svg").read_bytes()
    assert xml.dom.minidom.parseString(svg).documentElement.tagName == "svg"
    assert b"apple price" in svg and b"715.0000" in svg


def test_graphviz_dot_found_means_the_package_too():
    if shutil.which("dot"):
        pytest.importorskip("graphviz")
        assert viz.graphviz_available()
