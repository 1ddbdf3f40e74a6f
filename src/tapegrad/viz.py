"""Pictures of computation graphs, as the backpropagation posts draw them.

draw_dot(root) draws the graph that root was computed from: for a scalar
Value, one record per value (label | data | grad) and a small node per
operation; for a Tensor, its grad_fn graph with shapes and dtypes. Edges run
the way the data flows. With the graphviz package and its `dot` program it
returns a graphviz.Digraph (render it, or show it in a notebook); without
them it returns the DOT source as a string and warns how to install them.
"""
import shutil
import warnings

from tapegrad._tensor import AccumulateGrad, Tensor
from tapegrad.engine import Value

MAX_NODES = 400


class GraphvizMissingWarning(UserWarning):
    """draw_dot returned DOT source: graphviz is not installed."""


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _record_label(text):
    # record labels give | { } < > a meaning of their own
    for ch in "\\|{}<>":
        text = text.replace(ch, "\\" + ch)
    return text


def _value_graph(root, max_nodes):
    """Nodes and edges of a Value graph, breadth first from root: a value
    record per Value, an op node per operation."""
    nodes, edges, seen, order = [], [], {id(root): root}, [root]
    i = 0
    while i < len(order) and len(order) < max_nodes:
        v = order[i]
        i += 1
        for parent in v._prev:
            if id(parent) not in seen:
                if len(order) >= max_nodes:
                    break
                seen[id(parent)] = parent
                order.append(parent)
    drawn = {id(v) for v in order}
    for v in order:
        fields = [str(v.label), f"data {v.data:.4f}", f"grad {v.grad:.4f}"]
        nodes.append((f"v{id(v)}", {"label": "{ " + " | ".join(map(_record_label, fields)) + " }",
                                    "shape": "record"}))
        if v._prev:
            op = f"v{id(v)}op"
            nodes.append((op, {"label": v._op or "?", "shape": "circle"}))
            edges.append((op, f"v{id(v)}"))
            for parent in v._prev:
                if id(parent) in drawn:
                    edges.append((f"v{id(parent)}", op))
    hidden = _count_hidden(order, drawn)
    return nodes, edges, hidden


def _count_hidden(order, drawn):
    """How many values beyond the drawn ones the graph has (counted up to a
    bound, so a huge graph is not walked)."""
    stack = [p for v in order for p in v._prev if id(p) not in drawn]
    # seen keeps the handles alive: _prev makes fresh handles for parents nobody
    # holds, and a freed handle's id is soon another's (the freelist reuses it)
    seen = {}
    while stack and len(seen) < 100_000:
        v = stack.pop()
        if id(v) in seen or id(v) in drawn:
            continue
        seen[id(v)] = v
        stack.extend(v._prev)
    return len(seen)


def _function_id(fn):
    # a leaf's AccumulateGrad is made anew at each look: name it by its tensor
    if isinstance(fn, AccumulateGrad):
        return f"leaf{id(fn.variable)}"
    return f"f{id(fn)}"


def _shape(t):
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def _tensor_graph(root, max_nodes):
    """Nodes and edges of a Tensor's grad_fn graph: a box per grad_fn, the
    leaves with their shape and dtype, the root tensor at the end."""
    root_id = f"t{id(root)}"
    nodes = [(root_id, {"label": f"output {_shape(root)} {root.dtype}", "shape": "box",
                        "style": "filled", "fillcolor": "darkolivegreen1"})]
    edges = []
    if root.grad_fn is None:
        return nodes, edges, 0
    queue, hidden = [root.grad_fn], 0
    seen = {_function_id(root.grad_fn)}
    edges.append((_function_id(root.grad_fn), root_id))
    i = 0
    while i < len(queue):
        fn = queue[i]
        i += 1
        fid = _function_id(fn)
        if isinstance(fn, AccumulateGrad):
            leaf = fn.variable
            nodes.append((fid, {"label": f"leaf {_shape(leaf)} {leaf.dtype}", "shape": "box",
                                "style": "filled", "fillcolor": "lightblue"}))
            continue
        nodes.append((fid, {"label": fn.name(), "shape": "box"}))
        for parent, _ in fn.next_functions:
            if parent is None:
                continue
            pid = _function_id(parent)
            if pid not in seen:
                if len(seen) >= max_nodes:
                    hidden += 1
                    continue
                seen.add(pid)
                queue.append(parent)
            edges.append((pid, fid))
    return nodes, edges, hidden


def to_dot(root, rankdir="LR", max_nodes=MAX_NODES):
    """The DOT source of root's graph."""
    if isinstance(root, Value):
        nodes, edges, hidden = _value_graph(root, max_nodes)
    elif isinstance(root, Tensor):
        nodes, edges, hidden = _tensor_graph(root, max_nodes)
    else:
        raise TypeError(f"draw_dot draws a Value or a Tensor, not {type(root).__name__}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be one of LR, TB, RL, BT, not {rankdir!r}")
    lines = ["digraph G {", f"  rankdir={rankdir};", '  node [fontname="Helvetica"];']
    for node_id, attrs in nodes:
        rendered = ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items())
        lines.append(f"  {_quote(node_id)} [{rendered}];")
    for a, b in edges:
        lines.append(f"  {_quote(a)} -> {_quote(b)};")
    if hidden:
        note = _quote(f"... {hidden} more nodes not drawn (max_nodes={max_nodes})")
        lines.append(f'  "truncated" [label={note}, shape=note, style=filled, '
                     'fillcolor=lightyellow];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_available():
    """True when the graphviz package and its dot program are both installed."""
    try:
        import graphviz  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def draw_dot(root, format="svg", rankdir="LR", max_nodes=MAX_NODES):
    """root's computation graph: a graphviz.Digraph, or its DOT source as a
    string when graphviz is missing. Graphs larger than max_nodes are cut
    there, with a note in the picture saying how much was left out."""
    if format not in ("svg", "png", "pdf", "dot"):
        raise ValueError(f"format must be svg, png, pdf or dot, not {format!r}")
    source = to_dot(root, rankdir, max_nodes)
    if not graphviz_available():
        missing = []
        try:
            import graphviz  # noqa: F401
        except ImportError:
            missing.append("the graphviz Python package (pip install graphviz)")
        if shutil.which("dot") is None:
            missing.append("Graphviz's dot program (apt-get install graphviz, brew install "
                           "graphviz, or https://graphviz.org/download/)")
        warnings.warn("draw_dot returns DOT source: install " + " and ".join(missing)
                      + " to get a picture", GraphvizMissingWarning, stacklevel=2)
        return source
    import graphviz
    return graphviz.Source(source, format=format)


def save_graph(root, path, format="svg", rankdir="LR", max_nodes=MAX_NODES):
    """Writes root's graph to path + '.' + format, or to path + '.dot' when
    graphviz is missing; returns the file written."""
    import pathlib
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not graphviz_available():
        target = path.with_suffix(".dot")
        target.write_text(to_dot(root, rankdir, max_nodes), encoding="utf-8")
        return target
    target = path.with_suffix("." + format)
    target.write_bytes(draw_dot(root, format, rankdir, max_nodes).pipe(format=format))
    return target
