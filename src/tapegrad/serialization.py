"""save and load, as torch.save and torch.load, without pickle.

The file is a numpy .npz archive (a zip of .npy arrays) written to exactly
the path given. A state dict's arrays are stored under their own names, so
numpy.load reads a model's weights too. Anything else that is made of dicts,
lists and tuples of tensors, arrays, numbers, strings and None (a checkpoint
with the optimizer's state, say) is stored as its arrays plus a JSON
description of the structure, entry "__tapegrad__". Nothing is ever unpickled:
a file can hold data only, never code.
"""
import json
import os
import zipfile

import numpy as np

from tapegrad._tensor import Device, Tensor, as_device
from tapegrad.creation import from_numpy

_MANIFEST = "__tapegrad__"          # the structure; deeper arrays are "__tapegrad__/<n>"
_TYPES = ("tensors, numpy arrays, numbers, strings, None, and dicts, lists and tuples of "
          "them")


class _Writer:
    """Turns an object into a JSON-able description, collecting its arrays by name."""

    def __init__(self):
        self.arrays = {}

    def _store(self, array, name):
        name = f"{_MANIFEST}/{len(self.arrays)}" if name is None else name
        self.arrays[name] = array
        return name

    def describe(self, obj, name=None):
        """name: the array's entry name, for a top-level state dict value; else numbered."""
        if isinstance(obj, Tensor):
            return {"tensor": self._store(obj.detach().numpy(), name),
                    "requires_grad": obj.requires_grad}
        if isinstance(obj, np.generic) and not isinstance(obj, (np.str_, np.bytes_)):
            return {"value": obj.item()}
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                raise TypeError("save: an object array cannot be stored without pickle")
            return {"array": self._store(obj, name)}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return {"value": obj}
        if isinstance(obj, dict):          # keys may be ints, as an optimizer's state has
            return {"dict": [[self.describe(k), self.describe(v)] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            return {"tuple" if isinstance(obj, tuple) else "list":
                    [self.describe(v) for v in obj]}
        raise TypeError(f"save cannot store a {type(obj).__name__}: tapegrad saves {_TYPES}, "
                        "without pickle (for a model, save model.state_dict())")


def save(obj, f):
    """Writes obj to f (a path, written exactly as given, or a binary file object)."""
    if hasattr(obj, "state_dict") and hasattr(obj, "parameters"):
        raise TypeError(f"save cannot store a {type(obj).__name__} without pickle: save its "
                        "state dict, tapegrad.save(model.state_dict(), path)")
    writer = _Writer()
    if isinstance(obj, dict):
        # only the top level's string keys name arrays; deeper ones are numbered
        items = []
        for k, v in obj.items():
            if isinstance(k, str) and k.startswith(_MANIFEST):
                raise ValueError(f"save: the key {k!r} is reserved")
            flat = isinstance(k, str) and isinstance(v, (Tensor, np.ndarray))
            items.append([writer.describe(k), writer.describe(v, k if flat else None)])
        manifest = {"dict": items}
    else:
        manifest = writer.describe(obj)
    text = json.dumps(manifest, allow_nan=True).encode()
    arrays = dict(writer.arrays)
    arrays[_MANIFEST] = np.frombuffer(text, dtype=np.uint8)
    if hasattr(f, "write"):
        np.savez(f, **arrays)
    else:
        with open(f, "wb") as file:     # an open file: numpy adds no ".npz" to the name
            np.savez(file, **arrays)


def _check_location(map_location):
    if map_location is None:
        return
    if isinstance(map_location, (str, Device)) or type(map_location).__name__ == "device":
        device = map_location if isinstance(map_location, Device) else Device(str(map_location))
        if device.type == "cuda":       # torch's load raises RuntimeError here
            raise RuntimeError("Attempting to deserialize object on a CUDA device but tapegrad "
                               "has no CUDA (it runs on the cpu only): use map_location='cpu'")
        as_device(device)               # anything but the cpu raises
        return
    raise TypeError(f"map_location must be None, a device or a device name, not "
                    f"{type(map_location).__name__}")


def _refuse_unreadable(f, name):
    """Raises a RuntimeError that says what the file is, when it is not ours to read."""
    if hasattr(f, "read"):
        start = f.tell()
        head = f.read(6)
        f.seek(start)
    else:
        with open(f, "rb") as file:
            head = file.read(6)
    if head == b"\x93NUMPY":
        raise RuntimeError(f"{name} is a .npy file (one numpy array), not a file written by "
                           "tapegrad.save: read it with numpy.load")
    if head[:4] != b"PK\x03\x04":
        raise RuntimeError(f"{name} is not a file written by tapegrad.save (an .npz zip "
                           f"archive): it starts with {head!r}")


def _check_archive(f, name, max_bytes):
    start = f.tell() if hasattr(f, "tell") else None
    try:
        with zipfile.ZipFile(f) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile as error:
        raise RuntimeError(f"{name} is a damaged zip archive: {error}") from None
    finally:
        if start is not None:
            f.seek(start)
    names = [e.filename for e in entries]
    if any(n.endswith("data.pkl") for n in names):
        raise RuntimeError(f"{name} was written by torch.save, with pickle, which tapegrad "
                           "never loads: save the state dict with tapegrad.save instead")
    if any(not n.endswith(".npy") for n in names):
        raise RuntimeError(f"{name} is a zip archive but not an .npz of arrays: it holds "
                           f"{[n for n in names if not n.endswith('.npy')][:3]}")
    inflated = sum(e.file_size for e in entries)
    if max_bytes is not None and inflated > max_bytes:
        raise ValueError(f"{name} inflates to {inflated} bytes, past max_bytes={max_bytes}")


def _rebuild(node, data):
    if "tensor" in node:
        t = from_numpy(data[node["tensor"]])
        return t.requires_grad_(True) if node["requires_grad"] else t
    if "array" in node:
        return data[node["array"]]
    if "value" in node:
        return node["value"]
    if "dict" in node:
        return {_rebuild(k, data): _rebuild(v, data) for k, v in node["dict"]}
    if "tuple" in node:
        return tuple(_rebuild(v, data) for v in node["tuple"])
    return [_rebuild(v, data) for v in node["list"]]


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         max_bytes=None):
    """Reads back what save wrote. A plain .npz of arrays loads as a dict of them.

    weights_only and map_location are accepted as torch's load takes them: the file
    can only hold data, and tensors live on the cpu. max_bytes refuses a file whose
    arrays would inflate past that size, before anything is read.
    """
    if pickle_module is not None:
        raise TypeError("load: tapegrad never unpickles, so pickle_module cannot be used")
    _check_location(map_location)
    name = repr(os.fspath(f)) if not hasattr(f, "read") else "the file"
    _refuse_unreadable(f, name)
    _check_archive(f, name, max_bytes)
    try:
        with np.load(f, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except ValueError as error:      # an object array inside
        raise RuntimeError(f"{name} holds data that needs pickle, which tapegrad never "
                           f"loads ({error})") from None
    if _MANIFEST not in arrays:
        return arrays
    manifest = json.loads(arrays.pop(_MANIFEST).tobytes().decode())
    return _rebuild(manifest, arrays)
