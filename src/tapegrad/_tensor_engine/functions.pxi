# Custom operations: a tapegrad.autograd.Function's backward as a node.

cdef class FunctionNode(Node):
    """A node whose backward is a tapegrad.autograd.Function's."""
    cdef public object ctx
    cdef public object function

    cdef tuple apply(self, object g):
        cdef Py_ssize_t k, n = len(self.edges)
        _check_versions(self)
        name = self.name()
        grads = self.function.backward(self.ctx, _wrap(_writable(g), None))
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != n and not (len(grads) > n and all(x is None for x in grads[n:])):
            raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(grads)})")
        result = []
        for k in range(n):
            gk = grads[k]
            if gk is None or self.edges[k] is None:
                result.append(None)
                continue
            if not isinstance(gk, TensorBase):
                raise RuntimeError(f"expected Variable or None (got {type(gk).__name__})")
            arr = (<TensorBase>gk)._data
            shape = <tuple>self.shapes[k]
            if arr.shape != shape and not _expands_to(shape, arr.shape):
                raise RuntimeError(f"Function {name} returned an invalid gradient at index {k} - "
                                   f"got {list(arr.shape)} but expected shape compatible with "
                                   f"{list(shape)}")
            result.append(_fit(arr, shape, self.dtypes[k]))
        return tuple(result)

    cdef void release(self):
        self.ctx = None

    def name(self):
        return f"{self.function.__name__}Backward"


cdef bint _expands_to(tuple shape, tuple target):
    """Whether shape broadcasts to target (so a gradient of target sums back to it)."""
    if len(shape) > len(target):
        return False
    for a, b in zip(reversed(shape), reversed(target)):
        if a != b and a != 1:
            return False
    return True


def function_apply(function, ctx, args, outputs, saved):
    """Records a Function's node: called by autograd.Function.apply."""
    if not _grad_enabled() or not any(_needs_grad(a) for a in args):
        return outputs
    global _seq
    cdef FunctionNode node = FunctionNode.__new__(FunctionNode)
    node.ctx, node.function = ctx, function
    _seq += 1
    node.seq = _seq
    node.edges = tuple(_edge(<TensorBase>a) if _needs_grad(a) else None for a in args)
    node.shapes = tuple((<TensorBase>a)._data.shape if _needs_grad(a) else None for a in args)
    node.dtypes = tuple((<TensorBase>a)._data.dtype if _needs_grad(a) else None for a in args)
    node.versions = tuple((_version_of(<TensorBase>t), (<TensorBase>t)._version.value)
                          for t in saved)
    results = []
    for o in (outputs if isinstance(outputs, tuple) else (outputs,)):
        if isinstance(o, TensorBase):
            r = _wrap((<TensorBase>o)._data, node)
            r._version = _version_of(<TensorBase>o)   # what forward saved of it is checked
            results.append(r)
        else:
            results.append(o)
    return tuple(results) if isinstance(outputs, tuple) else results[0]
