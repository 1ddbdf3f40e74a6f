"""Module: torch.nn's base, which micrograd's classes share.

A Module registers the Parameters, buffers and Modules assigned to its
attributes, in order, and finds them again for parameters(), state_dict(),
conversions and the repr. micrograd's Neuron, Layer and MLP override
parameters() and __call__ and keep micrograd's behaviour (parameters() is a
list, zero_grad() sets a scalar Value's grad to 0).

The state dict also holds the scalar Values a model keeps, named by the
attribute path that reaches them ('layers.0.neurons.3.w.1'), so a micrograd
model saves and loads like a torch one.
"""
import itertools
from collections import OrderedDict

import numpy as np

from tapegrad._tensor import Device, Size, Tensor, no_grad
from tapegrad.creation import zeros
from tapegrad.engine import Value, zero_value_grads
from tapegrad.nn.parameter import Parameter

__all__ = ["Module", "Parameter", "RemovableHandle", "zero_grads"]


def zero_grads(params, set_to_none=True):
    """Clears gradients: a Tensor's to None (or to zeros), a scalar Value's to 0."""
    for p in zero_value_grads(params):     # the Values' at once, natively
        if set_to_none:
            p.grad = None
        elif p.grad is not None:
            p.grad.zero_()


def _typename(obj):
    """torch.typename's spelling: a tensor's type(), else the qualified class name."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else \
        f"{cls.__module__}.{cls.__qualname__}"


def _is_floating(t):
    return np.dtype(t.dtype).kind == "f"


def _addindent(text, spaces):
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])


class RemovableHandle:
    """What register_forward_hook returns: remove() unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, *registries):
        self.id = next(RemovableHandle._next_id)
        self._registries = registries

    def remove(self):
        """Unregister the hook; removing it twice does nothing."""
        for registry in self._registries:
            registry.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# a Module's own bookkeeping, never part of its state
_INTERNAL = frozenset({"_parameters", "_buffers", "_non_persistent_buffers_set", "_modules",
                       "_forward_hooks", "_forward_hooks_with_kwargs",
                       "_forward_hooks_always_called", "_forward_pre_hooks",
                       "_forward_pre_hooks_with_kwargs", "training"})


class Module:
    """Base of every layer: torch.nn.Module's API, and micrograd's."""

    training = True

    def __init__(self):
        for name in ("_parameters", "_buffers", "_modules", "_forward_hooks",
                     "_forward_pre_hooks"):
            object.__setattr__(self, name, OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "training", True)

    def _registry(self, name):
        # micrograd-style subclasses do not call __init__: make the registry on first use
        registry = self.__dict__.get(name)
        if registry is None:
            registry = set() if name == "_non_persistent_buffers_set" else OrderedDict()
            object.__setattr__(self, name, registry)
        return registry

    def _get_name(self):
        return type(self).__name__

    def __setattr__(self, name, value):
        parameters, modules = self._registry("_parameters"), self._registry("_modules")
        buffers = self._registry("_buffers")
        if isinstance(value, Parameter):
            buffers.pop(name, None)
            modules.pop(name, None)
            parameters[name] = value
        elif name in parameters:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(tapegrad.nn.Parameter or None expected)")
            parameters[name] = None
        elif isinstance(value, Module):
            parameters.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(tapegrad.nn.Module or None expected)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(tapegrad.nn.Buffer, tapegrad.Tensor or None expected)")
            buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            self._registry(registry).pop(name, None)
        self._registry("_non_persistent_buffers_set").discard(name)
        object.__delattr__(self, name)

    def _check_new_name(self, kind, name):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f"{kind} name can't contain \".\"")
        if name == "":
            raise KeyError(f"{kind} name can't be empty string \"\"")
        if hasattr(self, name) and name not in self._registry(
                {"parameter": "_parameters", "buffer": "_buffers"}[kind]):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Add a Parameter (or None, a slot for one) under name, as assigning it to the
        attribute does; bad names and non-Parameters raise as torch."""
        self._check_new_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(tapegrad.nn.Parameter or None required)")
        if param is None:
            self._registry("_parameters")[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor the module keeps but does not learn (a running mean, say): saved in the
        state dict unless persistent=False, converted by to()/double()."""
        self._check_new_name("buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(tapegrad Tensor or None required)")
        self._registry("_parameters").pop(name, None)
        self._registry("_modules").pop(name, None)
        self._registry("_buffers")[name] = tensor
        if persistent:
            self._registry("_non_persistent_buffers_set").discard(name)
        else:
            self._registry("_non_persistent_buffers_set").add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name, module):
        """Add a child Module (or None) under name, as assigning it to the attribute does;
        register_module is the same method."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._registry("_modules"):
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f"module name can't contain \".\", got: {name}")
        if name == "":
            raise KeyError("module name can't be empty string \"\"")
        self._registry("_modules")[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at the dotted path target ("" is self); AttributeError, worded as
        torch's, where the path leads nowhere or to something that is not a Module."""
        module = self
        for item in target.split(".") if target else []:
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    # -- running

    def forward(self, *args, **kwargs):
        """The computation each subclass defines; call the module, not forward, so hooks run.

        The base raises NotImplementedError.
        """
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  "\"forward\" function")

    def __call__(self, *args, **kwargs):
        if not (self.__dict__.get("_forward_hooks") or self.__dict__.get("_forward_pre_hooks")):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        with_kwargs = self._registry("_forward_pre_hooks_with_kwargs")
        for key, hook in list(self._registry("_forward_pre_hooks").items()):
            if key in with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        hooks = list(self._registry("_forward_hooks").items())
        always = self._registry("_forward_hooks_always_called")
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for key, hook in hooks:
                if key in always:
                    try:
                        self._run_forward_hook(key, hook, args, kwargs, None)
                    except Exception:
                        pass
            raise
        for key, hook in hooks:
            result = self._run_forward_hook(key, hook, args, kwargs, output)
            if result is not None:
                output = result
        return output

    def _run_forward_hook(self, key, hook, args, kwargs, output):
        if key in self._registry("_forward_hooks_with_kwargs"):
            return hook(self, args, kwargs, output)
        return hook(self, args, output)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) runs before forward; a result other than None replaces args."""
        hooks = self._registry("_forward_pre_hooks")
        flags = self._registry("_forward_pre_hooks_with_kwargs")
        handle = RemovableHandle(hooks, flags)
        hooks[handle.id] = hook
        if with_kwargs:
            flags[handle.id] = True
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """hook(module, args, output) runs after forward; a result other than None
        replaces the output."""
        hooks = self._registry("_forward_hooks")
        flags = self._registry("_forward_hooks_with_kwargs")
        always = self._registry("_forward_hooks_always_called")
        handle = RemovableHandle(hooks, flags, always)
        hooks[handle.id] = hook
        if with_kwargs:
            flags[handle.id] = True
        if always_call:
            always[handle.id] = True
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def train(self, mode=True):
        """Set training mode (a bool) on self and every submodule; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        object.__setattr__(self, "training", mode)
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """train(False): evaluation mode, for Dropout and BatchNorm; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on every parameter (to freeze or unfreeze them); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Tensor grads to None (or zero); a scalar Value's grad to 0, as micrograd."""
        zero_grads(self.parameters(), set_to_none)

    # -- what it holds (generators, as torch's)

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for name, module in modules:
            for key, member in module._registry(registry).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield (f"{name}.{key}" if name else key), member

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, Parameter) for self's parameters and, with recurse, its
        submodules', each shared one once unless remove_duplicate is False."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield every Parameter, as named_parameters does without the names.

        micrograd's Neuron, Layer and MLP override this to return a list of Values.
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (dotted name, tensor) for every registered buffer that is not None."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yield every registered buffer that is not None."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def named_children(self):
        """Yield (name, module) for each direct child, each shared one once."""
        seen = set()
        for name, module in self._registry("_modules").items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """Yield each direct child module once."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield (dotted name, module) for self ("") and every submodule, depth first."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._registry("_modules").items():
            if module is not None:
                child_prefix = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self):
        """Yield self and every submodule once, depth first."""
        for _, module in self.named_modules():
            yield module

    def apply(self, fn):
        """fn(module) on every submodule, children first, then on self (as init code uses)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- conversions: parameters keep their identity, so optimizers built before still work

    def _apply(self, fn):
        for module in self.children():
            module._apply(fn)
        for param in self._registry("_parameters").values():
            if param is None:
                continue
            with no_grad():
                converted = fn(param)
                if converted is not param:
                    param.data = converted
                grad = param.grad
                if grad is not None:
                    converted_grad = fn(grad)
                    if converted_grad is not grad:
                        param.grad = converted_grad.detach()
        buffers = self._registry("_buffers")
        for name, buffer in buffers.items():
            if buffer is not None:
                with no_grad():
                    buffers[name] = fn(buffer)
                object.__setattr__(self, name, buffers[name])
        return self

    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype), to(tensor): floating-point parameters and
        buffers take the dtype; 'cpu' is the only device, others raise as Tensor.to does."""
        device, dtype = _parse_to(args, kwargs)
        probe = zeros(0)
        probe.to(device=device)            # raises for a device tapegrad does not have
        if dtype is not None:
            dtype = probe.to(dtype=dtype).dtype
            if np.dtype(dtype).kind != "f":
                raise TypeError("nn.Module.to only accepts floating point or complex dtypes, "
                                f"but got desired dtype=tapegrad.{np.dtype(dtype)}")

        def convert(t):
            return t.to(device=device, dtype=dtype if _is_floating(t) else None)
        return self._apply(convert)

    def cpu(self):
        """Parameters and buffers on the CPU, where they already are; returns self."""
        return self._apply(lambda t: t.cpu())

    def float(self):
        """Floating-point parameters and buffers to float32, in place; returns self."""
        return self._apply(lambda t: t.float() if _is_floating(t) else t)

    def double(self):
        """Floating-point parameters and buffers to float64, in place; returns self."""
        return self._apply(lambda t: t.double() if _is_floating(t) else t)

    # -- state

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """Parameters, persistent buffers and scalar Values under torch's key names ('0.weight',
        'layers.0.neurons.3.w.1'); numpy copies, or the objects themselves with keep_vars."""
        if args:
            raise TypeError("state_dict() takes its arguments by keyword: "
                            "destination=, prefix=, keep_vars=")
        state = OrderedDict() if destination is None else destination
        for key, holder in _state_entries(self, prefix, frozenset(), True):
            if keep_vars:
                state[key] = holder
            elif isinstance(holder, Value):
                state[key] = np.array(float(holder.data))
            else:
                state[key] = holder.detach().numpy().copy()
        return state

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copies the values in, in place; with strict, missing or unexpected keys raise
        RuntimeError after the matching ones are copied, as torch does."""
        if not hasattr(state_dict, "items"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        if assign:
            raise NotImplementedError("load_state_dict(assign=True) is not supported by "
                                      "tapegrad: values are always copied into the existing "
                                      "parameters")
        own = OrderedDict(_state_entries(self, "", frozenset(), True))
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        for key, holder in own.items():
            if key in state_dict:
                error = _load_entry(key, holder, state_dict[key])
                if error:
                    errors.append(error)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # -- repr, as torch's

    def extra_repr(self):
        """The text inside the module's repr before its children: "" here; layers
        override it to show their options, as torch's do."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_addindent(repr(module), 2)}"
                       for name, module in self._registry("_modules").items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def _parse_to(args, kwargs):
    """(device, dtype) from Module.to's forms, as torch's _parse_to reads them."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if len(args) > 3:
        raise TypeError(f"to() takes at most 3 positional arguments ({len(args)} given)")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, bool):
            pass                                # non_blocking: nothing is asynchronous here
        elif isinstance(arg, (str, Device, int)):
            device = arg
        else:
            dtype = arg
    return device, dtype


# ------------------------------------------------------------- state walking

def _state_entries(module, prefix, path, tensors):
    """(key, holder) for what module saves: its Parameters and persistent buffers (when
    tensors), the scalar Values its attributes reach, then its children's. Modules reached
    through plain lists or dicts contribute only Values: torch does not register them."""
    if id(module) in path:
        return                                  # a back-reference, not a new place
    path = path | {id(module)}
    own = module.__dict__
    registered = set()
    for registry in ("_parameters", "_buffers", "_modules"):
        registered.update(own.get(registry, ()))
    if tensors:
        for name, param in own.get("_parameters", {}).items():
            if param is not None:
                yield prefix + name, param
        skipped = own.get("_non_persistent_buffers_set", ())
        for name, buffer in own.get("_buffers", {}).items():
            if buffer is not None and name not in skipped:
                yield prefix + name, buffer
    for name, value in list(own.items()):
        if name not in _INTERNAL and name not in registered:
            yield from _value_entries(value, prefix + name, path)
    for name, child in own.get("_modules", {}).items():
        if child is not None:
            yield from _state_entries(child, f"{prefix}{name}.", path, tensors)


def _value_entries(value, key, path):
    """The scalar Values reachable from one attribute, keyed by their path under it."""
    if isinstance(value, Value):
        yield key, value
    elif isinstance(value, Module):
        yield from _state_entries(value, key + ".", path, False)
    elif isinstance(value, (list, tuple, dict)) or _is_model_like(value):
        if id(value) in path:
            return
        path = path | {id(value)}
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, (list, tuple)):
            items = enumerate(value)
        else:
            items = [(k, v) for k, v in vars(value).items() if not k.startswith("__")]
        for name, item in items:
            yield from _value_entries(item, f"{key}.{name}", path)


def _is_model_like(obj):
    """A plain object written as micrograd's classes are: attributes and a parameters()."""
    return (not isinstance(obj, type) and hasattr(obj, "__dict__")
            and callable(getattr(obj, "parameters", None)))


def _load_entry(key, holder, value):
    """Copies value into holder (a Value or a tensor); an error message, or None."""
    if isinstance(value, Value):
        value = value.data
    array = value.detach().numpy() if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype == object:
        return (f'While copying the parameter named "{key}", expected tapegrad.Tensor or '
                f"Tensor-like object from checkpoint but received {type(value)}")
    shape = () if isinstance(holder, Value) else tuple(holder.shape)
    if array.shape != shape and not (shape == () and array.shape == (1,)):
        return (f"size mismatch for {key}: copying a param with shape {Size(array.shape)!r} "
                f"from checkpoint, the shape in current model is {Size(shape)!r}.")
    if isinstance(holder, Value):
        holder.data = float(array.reshape(()))
        return None
    with no_grad():
        holder.copy_(_as_tensor(array.reshape(shape).astype(holder.dtype, copy=False)))
    return None


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
