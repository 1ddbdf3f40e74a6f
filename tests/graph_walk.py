"""Walking a scalar graph from its root, as eager code walks `_prev`."""


def nodes_below(root):
    """Every node below root, root included, each once. The list holds their
    handles: a freed handle's id would soon be another's, and tapegrad makes
    a folded constant's handle on demand."""
    seen, nodes, stack = set(), [], [root]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        nodes.append(v)
        stack.extend(v._prev)
    return nodes
