"""torch.nn's containers: Sequential, ModuleList, ModuleDict, ParameterList.

Each keeps its members as registered attributes named '0', '1', ... (or by
key), so parameters(), state_dict() and the repr see them as torch's do.
"""
import operator
from collections import OrderedDict

from tapegrad._tensor import Tensor
from tapegrad.nn.module import Module, _addindent
from tapegrad.nn.parameter import Parameter


def _index(index, length):
    """An integer index as a non-negative position, with torch's IndexError."""
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range")
    return index + length if index < 0 else index


class _IndexedModules(Module):
    """What Sequential and ModuleList share: modules under the names '0', '1', ..."""

    def _renumber(self, modules):
        for name in list(self._modules):
            delattr(self, name)
        for position, module in enumerate(modules):
            self.add_module(str(position), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        return list(self._modules.values())[_index(index, len(self))]

    def __setitem__(self, index, module):
        name = list(self._modules)[_index(index, len(self))]
        self.add_module(name, module)

    def __delitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_index(index, len(modules))]
        self._renumber(modules)

    def append(self, module):
        """Add module at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index, module):
        """Put module before position index (list.insert's rule), renumbering the rest."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def extend(self, modules):
        """Append each module of an iterable; returns self."""
        for module in modules:
            self.append(module)
        return self

    def pop(self, index):
        """Remove the module at index and return it, renumbering the rest."""
        module = self[index]
        del self[index]
        return module

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]


class Sequential(_IndexedModules):
    """``Sequential(*modules)`` or ``Sequential(OrderedDict(name=module, ...))``: the modules run
    one after another, each on the previous one's output. Without names they are
    registered as '0', '1', ...; a slice is a new Sequential of the same modules."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return super().__getitem__(index)

    def insert(self, index, module):
        """Put module before position index (negative counts from the end) and return
        self; IndexError outside -len..len, as torch."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        if not -len(self) <= index <= len(self):
            raise IndexError(f"Index out of range: {index}")
        return super().insert(index, module) or self

    def forward(self, input):
        """Each module in turn on the previous one's output; the last output."""
        for module in self:
            input = module(input)
        return input


class ModuleList(_IndexedModules):
    """ModuleList(modules=None): a list of modules (from an iterable), registered as
    '0', '1', ... so that parameters(), state_dict() and the repr see them."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return super().__getitem__(index)

    def extend(self, modules):
        """Append each module of an iterable; TypeError for anything else, as torch."""
        if not hasattr(modules, "__iter__"):
            raise TypeError("ModuleList.extend should be called with an iterable, but got "
                            + type(modules).__name__)
        return super().extend(modules)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def __repr__(self):
        # torch's: a run of identical children prints once, as "(2-4): 3 x Linear(...)"
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []                                       # [start, end, repr]
        for position, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = position
            else:
                runs.append([position, position, text])
        lines = []
        for start, end, text in runs:
            line = f"({start}): {text}" if start == end else \
                f"({start}-{end}): {end - start + 1} x {text}"
            lines.append(_addindent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """ModuleDict(modules=None): a dict of modules, in insertion order, registered under
    their keys; modules is a mapping or an iterable of (key, module) pairs."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]
        object.__delattr__(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Remove every module."""
        for key in list(self._modules):
            del self[key]

    def pop(self, key):
        """Remove the module under key and return it."""
        module = self[key]
        del self[key]
        return module

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self):
        """The (key, module) pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def update(self, modules):
        """Add or replace modules from a mapping or an iterable of (key, module) pairs;
        errors worded as torch's."""
        if isinstance(modules, (str, bytes)) or not hasattr(modules, "__iter__"):
            raise TypeError("ModuleDict.update should be called with an iterable of key/value "
                            "pairs, but got " + type(modules).__name__)
        pairs = modules.items() if hasattr(modules, "items") else modules
        for index, pair in enumerate(pairs):
            if not hasattr(pair, "__iter__") or isinstance(pair, (str, bytes)):
                raise TypeError(f"ModuleDict update sequence element #{index} should be "
                                f"Iterable; is {type(pair).__name__}")
            pair = tuple(pair)
            if len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{index} has length "
                                 f"{len(pair)}; 2 is required")
            self[pair[0]] = pair[1]


class ParameterList(Module):
    """ParameterList(values=None): a list of parameters (from an iterable), registered
    under '0', '1', ...; a plain Tensor put in becomes a Parameter."""

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList([self[i] for i in range(len(self))[index]])
        return getattr(self, str(_index(index, len(self))))

    def __setitem__(self, index, param):
        if isinstance(param, Tensor) and not isinstance(param, Parameter):
            param = Parameter(param)
        setattr(self, str(_index(index, len(self))), param)

    def append(self, value):
        """Add value at the end (a Tensor as a Parameter); returns self."""
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values):
        """Append each value of an iterable (not a Tensor); returns self."""
        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            + type(values).__name__)
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def extra_repr(self):
        """One line per entry, as torch prints it: its kind, dtype and size."""
        lines = []
        for index, p in enumerate(self):
            if isinstance(p, Tensor):
                size = "x".join(str(s) for s in p.size())
                kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
                lines.append(f"  ({index}): {kind} containing: [tapegrad.{p.dtype} of size {size}]")
            else:
                lines.append(f"  ({index}): Object of type: {type(p).__name__}")
        return "\n".join(lines)
