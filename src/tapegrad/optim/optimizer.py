"""torch.optim.Optimizer: parameter groups, per-parameter state and state_dict.

An optimizer holds a list of parameter groups, each a dict of the parameters
and their options (lr, momentum, ...); a group's options may be changed between
steps, as schedulers do. The update arithmetic is numpy on each parameter's
value and gradient, and the result is written back through the tensor's
in-place API under no_grad, so the parameter's version counter moves as torch's
does and a graph that saved the old value refuses to backpropagate. A scalar
Value is updated as a 0-d array, so a micrograd MLP trains with Adam as a tensor
model does.
"""
from collections import defaultdict

import numpy as np

from tapegrad._tensor import Tensor, enable_grad, no_grad
from tapegrad.creation import from_numpy
from tapegrad.engine import Value
from tapegrad.nn.module import zero_grads


def _typename(obj):
    return f"tapegrad.{type(obj).__name__}" if isinstance(obj, (Tensor, Value)) \
        else type(obj).__name__


def _dtype(p):
    return np.float64 if isinstance(p, Value) else p.detach().numpy().dtype


def _as_array(value, dtype=None):
    """A fresh numpy array from a tapegrad Tensor, a torch tensor, an array or a number."""
    if isinstance(value, Tensor):
        value = value.detach().numpy()
    elif hasattr(value, "detach") and hasattr(value, "numpy"):     # a torch tensor
        value = value.detach().cpu().numpy()
    return np.array(value, dtype=dtype, copy=True)


class Optimizer:
    """Optimizer(params, defaults): the base of every optimizer.

    params is an iterable of Tensors or scalar Values, or of dicts (parameter groups,
    each with "params" and its own options); defaults fills the options a group does
    not give. A subclass writes _update(p, grad, state, group).
    """

    def __init__(self, params, defaults):
        if isinstance(params, (Tensor, Value)):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Adds a group of parameters with its own options; missing options take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, (Tensor, Value)):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = list(params)
        for p in params:
            if not isinstance(p, (Tensor, Value)):
                raise TypeError("optimizer can only optimize Tensors or Values, but one of the "
                                f"params is {_typename(p)}")
            if isinstance(p, Tensor) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group, params=params)
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: a Tensor's to None (or zeros where
        set_to_none is False), a scalar Value's to 0."""
        zero_grads((p for g in self.param_groups for p in g["params"]), set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure()'s loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._opt_called = True        # lets a scheduler see the torch order of calls
        for group in self.param_groups:
            for p in group["params"]:
                grad = self._grad(p)
                if grad is not None:
                    if group.get("maximize"):
                        grad = -grad
                    self._update(p, grad, self.state[p], group)
        return loss

    def _update(self, p, grad, state, group):
        raise NotImplementedError

    # -- reading and writing parameters

    @staticmethod
    def _grad(p):
        """The gradient as an array (read only), or None."""
        if isinstance(p, Value):
            return np.float64(p.grad)
        return None if p.grad is None else p.grad.detach().numpy()

    @staticmethod
    def _value(p):
        """The parameter's value as an array (read only)."""
        return np.float64(p.data) if isinstance(p, Value) else p.detach().numpy()

    @staticmethod
    def _write(p, new):
        """Stores the new value into p in place, through the tensor API."""
        if isinstance(p, Value):
            p.data = float(new)
        else:
            with no_grad():
                p.copy_(from_numpy(np.asarray(new)))

    @staticmethod
    def _buffer(p, fill=0.0):
        """A state tensor shaped as p, filled with fill."""
        return from_numpy(np.full(np.shape(Optimizer._value(p)), fill, dtype=_dtype(p)))

    @staticmethod
    def _step_tensor(value=0.0):
        """torch keeps the step count as a float32 0-d tensor."""
        return from_numpy(np.array(value, dtype=np.float32))

    # -- saving

    def state_dict(self):
        """torch's layout: state by parameter index, and groups with indices for params."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index and s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take the state and group options of state_dict (as state_dict() makes, or as
        torch's optimizer saves), matched to this optimizer's parameters by position;
        ValueError, as torch, where the groups do not match."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"])
               for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        by_index = {}
        for group, saved in zip(self.param_groups, saved_groups):
            by_index.update(zip(saved["params"], group["params"]))
        self.state = defaultdict(dict)
        for i, saved_state in state_dict["state"].items():
            p = by_index.get(int(i))
            if p is None:
                continue
            # the step count keeps its float32; the buffers take the parameter's dtype
            self.state[p] = {k: from_numpy(_as_array(v, np.float32 if k == "step" else _dtype(p)))
                             for k, v in saved_state.items()}
        self.param_groups = [dict(saved, params=group["params"])
                             for group, saved in zip(self.param_groups, saved_groups)]

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"
