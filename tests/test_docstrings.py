"""Every public name has a docstring (issue 15).

The checker walks tapegrad's public modules (every module whose dotted name has no
part starting with an underscore), their public names (``__all__``, or the names
without a leading underscore), and the public methods and properties of every public
class, and lists each one defined in tapegrad that has no docstring. Dunder methods
are exempt, except ``__init__`` of a class whose docstring does not say how to build
it, that is, does not name each of the constructor's arguments. A plain attribute is
documented by an "Attributes" section of its class's docstring.

The compiled modules embed each method's signature at the top of its docstring
(Cython's ``embedsignature``): a docstring that is only that signature is no docstring.
"""
import importlib
import inspect
import pkgutil
import re
import types

import tapegrad

def without_signature(doc):
    """doc without the signature Cython embeds at its top: "name(arguments)", or
    "name(arguments) -> type", alone on its line(s). A docstring that only starts with
    a call, "Linear(in_features, ...): y = ...", is left whole."""
    opening = re.match(r"\s*\w+\(", doc)
    if not opening:
        return doc
    depth = 0
    for end in range(opening.end() - 1, len(doc)):
        depth += {"(": 1, ")": -1}.get(doc[end], 0)
        if depth == 0:
            break
    else:
        return doc
    rest_of_line, _, after = doc[end + 1:].partition("\n")
    if rest_of_line.strip() and not rest_of_line.lstrip().startswith("->"):
        return doc
    return after


def docstring_of(obj):
    """obj's own docstring without an embedded signature, or "" where there is none."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str):
        return ""
    return without_signature(doc).strip()


def is_ours(obj, package_name):
    """obj is defined in the package."""
    where = getattr(obj, "__module__", None)
    return isinstance(where, str) and (where == package_name
                                       or where.startswith(package_name + "."))


def public_modules(package):
    """The package and its public submodules, imported, by dotted name."""
    modules = {package.__name__: package}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            modules[info.name] = importlib.import_module(info.name)
    return dict(sorted(modules.items()))


def public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in vars(module) if not name.startswith("_")]
    return names


def own_classes(cls, package_name):
    """cls and the private classes of the package it derives from: their public members
    are cls's public members (a public base documents its own)."""
    return [klass for klass in cls.__mro__ if klass is cls or (
        is_ours(klass, package_name) and klass.__name__.startswith("_"))]


def constructor_arguments(cls, package_name):
    """The names of the arguments cls's __init__ takes (not self, *args, **kwargs), where
    cls or a private base defines it."""
    owner = next((klass for klass in cls.__mro__ if "__init__" in vars(klass)), object)
    if owner not in own_classes(cls, package_name):
        return []
    init = vars(owner)["__init__"]
    try:
        parameters = inspect.signature(init).parameters.values()
    except (TypeError, ValueError):          # a C slot without a signature
        return []
    return [p.name for p in parameters if p.name != "self"
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def says_how_to_build(cls, package_name):
    """The class docstring, or its __init__'s, names each constructor argument."""
    text = docstring_of(cls) + "\n" + docstring_of(getattr(cls, "__init__", None))
    words = set(re.findall(r"\w+", text))
    return all(name in words for name in constructor_arguments(cls, package_name))


def names_attribute(cls, name):
    """cls's docstring lists name under Attributes (numpy style): how a plain attribute
    of a compiled class, which cannot carry a docstring of its own, is documented."""
    _, heading, attributes = docstring_of(cls).partition("Attributes\n")
    return bool(heading) and re.search(rf"^\s*{name}\b", attributes, re.MULTILINE) is not None


def undocumented_members(cls, qualname, package_name, seen):
    """cls's public methods and properties without a docstring (each object once)."""
    missing = [] if says_how_to_build(cls, package_name) else [f"{qualname}.__init__"]
    names = set()
    for klass in own_classes(cls, package_name):
        for name, member in vars(klass).items():
            if name.startswith("_") or name in names:
                continue
            names.add(name)
            routine = member.__func__ if isinstance(member, (staticmethod, classmethod)) \
                else member
            if not (inspect.isroutine(routine) or inspect.isdatadescriptor(member)) \
                    or id(member) in seen:
                continue
            seen.add(id(member))
            if not (docstring_of(member) or names_attribute(cls, name)):
                missing.append(f"{qualname}.{name}")
    return missing


def undocumented(package=tapegrad):
    """Every public name of package (modules, functions, classes, their methods and
    properties) that has no docstring, each once, by its first public dotted name."""
    missing, seen = [], set()
    for module_name, module in public_modules(package).items():
        if not docstring_of(module):
            missing.append(module_name)
        for name in public_names(module):
            obj = getattr(module, name, None)
            if isinstance(obj, types.ModuleType) or not is_ours(obj, package.__name__) \
                    or id(obj) in seen:
                continue
            seen.add(id(obj))
            qualname = f"{module_name}.{name}"
            if inspect.isclass(obj):
                if not docstring_of(obj):
                    missing.append(qualname)
                missing += undocumented_members(obj, qualname, package.__name__, seen)
            elif inspect.isroutine(obj) and not docstring_of(obj):
                missing.append(qualname)
    return missing


def test_every_public_name_has_a_docstring():
    missing = undocumented()
    assert not missing, f"{len(missing)} public names without a docstring:\n" + "\n".join(
        missing)


def test_the_checker_lists_what_has_no_docstring(tmp_path, monkeypatch):
    """A made-up package: every kind of gap is listed, and nothing documented is."""
    package = tmp_path / "tapegrad_fake"
    package.mkdir()
    (package / "__init__.py").write_text('"""A fake package."""\nfrom .mod import *\n')
    (package / "_private.py").write_text("def hidden():\n    pass\n")
    (package / "mod.py").write_text('''
"""A module."""
__all__ = ["Documented", "Bare", "Listed", "Built", "function", "bare_function", "signature_only"]


class Documented:
    """Documented(size): a docstring that starts with a call is not a signature."""

    def __init__(self, size):
        self.size = size

    def method(self):
        """Does something."""

    @property
    def prop(self):
        """A property."""

    def _private(self):
        pass


class Bare:
    def __init__(self, size):
        pass

    def method(self):
        pass

    @property
    def prop(self):
        return 1

    @staticmethod
    def static():
        pass

    @classmethod
    def klass(cls):
        pass

    def __repr__(self):
        return "exempt"


class Listed:
    """A class whose attributes are listed.

    Attributes
    ----------
    size : int
        Documented here.
    """

    size = property(lambda self: 1)
    other = property(lambda self: 2)


class Built:
    """A class whose docstring does not name its argument."""

    def __init__(self, size):
        """Made with a size."""


class Unnamed:
    """Made as Unnamed(n)."""

    def __init__(self, count):
        pass


def function():
    """A function."""


def bare_function():
    pass


def signature_only(x):
    pass


signature_only.__doc__ = "signature_only(x) -> int"
''')
    (package / "other.py").write_text("from .mod import Unnamed\n")   # no module docstring
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = importlib.import_module("tapegrad_fake")
    assert undocumented(fake) == [
        "tapegrad_fake.Bare", "tapegrad_fake.Bare.__init__", "tapegrad_fake.Bare.method",
        "tapegrad_fake.Bare.prop", "tapegrad_fake.Bare.static", "tapegrad_fake.Bare.klass",
        "tapegrad_fake.Listed.other", "tapegrad_fake.bare_function", "tapegrad_fake.signature_only",
        "tapegrad_fake.other", "tapegrad_fake.other.Unnamed.__init__"]
