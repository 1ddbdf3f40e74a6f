"""Module and Parameter: torch.nn's base, which micrograd's classes share.

A Module registers the Parameters and Modules assigned to its attributes, in
order, and finds them again for parameters(), state_dict() and the repr.
micrograd's Neuron, Layer and MLP override parameters() and __call__ and keep
micrograd's behaviour: zero_grad() sets a scalar Value's grad to 0.
"""
from collections import OrderedDict

import numpy as np

from tapegrad._tensor import Tensor, adopt, no_grad
from tapegrad.engine import Value


def zero_grads(params, set_to_none=True):
    """Clears gradients: a Tensor's to None (or to zeros), a scalar Value's to 0."""
    for p in params:
        if isinstance(p, Value):
            p.grad = 0
        elif set_to_none:
            p.grad = None
        elif p.grad is not None:
            p.grad.zero_()


class Parameter(Tensor):
    """A tensor a Module learns: assigned to a Module's attribute, it is registered."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        array = data.detach().numpy() if isinstance(data, Tensor) else np.asarray(data)
        param = Tensor.__new__(cls)
        adopt(param, array)
        if requires_grad:
            param.requires_grad_(True)
        return param

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self):
        return (Parameter, (self.detach().numpy().copy(), self.requires_grad))


class Module:
    """Base of every layer: torch.nn.Module's API, and micrograd's."""

    training = True

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def _registry(self, name):
        # micrograd-style subclasses do not call __init__
        if name not in self.__dict__:
            object.__setattr__(self, name, OrderedDict())
        return self.__dict__[name]

    def __setattr__(self, name, value):
        parameters, modules = self._registry("_parameters"), self._registry("_modules")
        parameters.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            parameters[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._registry("_parameters").pop(name, None)
        self._registry("_modules").pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} as parameter {name!r} "
                            "(a Parameter or None is required)")
        setattr(self, name, param)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        setattr(self, name, module)

    # -- running

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  "\"forward\" function")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def train(self, mode=True):
        object.__setattr__(self, "training", bool(mode))
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    # -- what it holds

    def named_parameters(self, prefix="", recurse=True):
        seen = set()
        for name, module in self.named_modules(prefix) if recurse else [(prefix, self)]:
            for key, param in module._registry("_parameters").items():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{name}.{key}" if name else key), param

    def parameters(self, recurse=True):
        """The parameters, in registration order (a list, as micrograd's)."""
        return [param for _, param in self.named_parameters(recurse=recurse)]

    def named_children(self):
        for name, module in self._registry("_modules").items():
            if module is not None:
                yield name, module

    def children(self):
        return [module for _, module in self.named_children()]

    def named_modules(self, prefix=""):
        stack, seen = [(prefix, self)], set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{key}" if name else key, child)
                    for key, child in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self):
        return [module for _, module in self.named_modules()]

    def zero_grad(self, set_to_none=True):
        """Tensor grads to None (or zero); a scalar Value's grad to 0, as micrograd."""
        zero_grads(self.parameters(), set_to_none)

    # -- state

    def state_dict(self):
        """Parameter arrays (copies) under torch's key names, e.g. '0.weight'."""
        state = OrderedDict()
        for name, module in self.named_modules():
            for key, param in module._registry("_parameters").items():
                if param is not None:
                    state[f"{name}.{key}" if name else key] = param.detach().numpy().copy()
            for key, buffer in getattr(module, "_buffers", {}).items():
                state[f"{name}.{key}" if name else key] = np.array(buffer, copy=True)
        return state

    def load_state_dict(self, state_dict, strict=True):
        own = {}
        for name, module in self.named_modules():
            for key, param in module._registry("_parameters").items():
                if param is not None:
                    own[f"{name}.{key}" if name else key] = param
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}: "
                f"Missing key(s) in state_dict: {missing}. "
                f"Unexpected key(s) in state_dict: {unexpected}.")
        for key, param in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.detach().numpy() if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != tuple(param.shape):
                raise RuntimeError(
                    f"Error(s) in loading state_dict for {type(self).__name__}: size mismatch "
                    f"for {key}: copying a param with shape {tuple(array.shape)} from "
                    f"checkpoint, the shape in current model is {tuple(param.shape)}.")
            with no_grad():
                param.copy_(Tensor(array.astype(param.dtype)) if array.dtype != param.dtype
                            else _as_tensor(array))
        return _IncompatibleKeys(missing, unexpected)

    # -- repr, as torch's

    def extra_repr(self):
        return ""

    def __repr__(self):
        children = list(self.named_children())
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}("]
        if extra:
            lines.append("  " + extra)
        for name, module in children:
            text = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {text}")
        lines.append(")")
        return "\n".join(lines)


def _as_tensor(array):
    from tapegrad.creation import from_numpy
    return from_numpy(np.ascontiguousarray(array) if array.ndim else np.array(array))


class _IncompatibleKeys(tuple):
    def __new__(cls, missing, unexpected):
        return super().__new__(cls, (missing, unexpected))

    @property
    def missing_keys(self):
        return self[0]

    @property
    def unexpected_keys(self):
        return self[1]

    def __repr__(self):
        if not self[0] and not self[1]:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self[0]}, unexpected_keys={self[1]})"
