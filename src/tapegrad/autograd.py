"""torch.autograd's names: Function for custom operations, grad, and the grad modes."""
from tapegrad._tensor import (Tensor, run_backward, function_apply, gradient_tensor, enable_grad,
                              is_grad_enabled, no_grad, set_grad_enabled)

__all__ = ["Function", "grad", "backward", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled"]


class FunctionCtx:
    """What forward passes to backward: ctx.save_for_backward(*tensors), then
    ctx.saved_tensors; ctx.needs_input_grad; any attribute you set.

    Function.apply makes it, with needs_input_grad the tuple of which of its arguments
    are tensors that require grad.
    """

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()

    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for backward; anything else raises TypeError."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors (or None), not "
                                f"{type(t).__name__}")
        self._saved = tensors

    @property
    def saved_tensors(self):
        """The tuple given to save_for_backward (empty before it is called)."""
        return self._saved


class Function:
    """A custom operation with its own backward, as torch.autograd.Function::

        class Cube(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x ** 2

        y = Cube.apply(x)

    forward returns one tensor; backward returns one gradient per input of
    forward (None for inputs that are not tensors or need no gradient).
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """The subclass's forward: compute the output from args, under no_grad, saving
        on ctx what backward needs. The base raises NotImplementedError."""
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """The subclass's backward: from the output's gradient, one gradient (or None)
        per argument of forward. The base raises NotImplementedError."""
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args):
        """Run forward on args and record the result, so that backward runs in the
        backward pass; call this, never forward, as in torch. forward must return one
        Tensor: a tuple of outputs, which torch allows, raises NotImplementedError."""
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            outputs = cls.forward(ctx, *args)
        if isinstance(outputs, tuple):
            raise NotImplementedError(f"{cls.__name__}.forward returned {len(outputs)} values: "
                                      "tapegrad Functions return a single tensor")
        if not isinstance(outputs, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor, not "
                            f"{type(outputs).__name__}")
        saved = tuple(t for t in ctx.saved_tensors if t is not None)
        return function_apply(cls, ctx, args, outputs, saved)


def backward(tensors, grad_tensors=None, retain_graph=None, inputs=None):
    """Accumulates gradients of tensors into the leaves, as Tensor.backward."""
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    run_backward(tensors, tuple(grad_tensors), bool(retain_graph), inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """The gradients of outputs with respect to inputs, returned rather than
    accumulated into .grad."""
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported "
                                  "by tapegrad")
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (inputs[{i}]) does not "
                               "require grad")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    # an input given twice gets its gradient twice: collected once, under its first index
    first = {}
    for i, t in enumerate(inputs):
        first.setdefault(id(t), i)
    capture = {i: inputs[i] for i in first.values()}
    found = run_backward(outputs, tuple(grad_outputs), bool(retain_graph), None, capture)
    found = {i: found[first[id(t)]] for i, t in enumerate(inputs) if first[id(t)] in found}
    results = []
    for i, t in enumerate(inputs):
        if i not in found:
            if not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            results.append(None)
        else:
            results.append(gradient_tensor(found[i], t))
    return tuple(results)
