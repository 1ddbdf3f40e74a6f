"""save and load of state dicts (name -> array), as .npz files."""
import numpy as np

from tapegrad._tensor import Tensor


def save(obj, path):
    """Writes a state dict (a mapping of names to arrays or tensors) to path as .npz."""
    if not hasattr(obj, "items"):
        raise TypeError(f"save writes a state dict (a mapping of names to arrays), not "
                        f"{type(obj).__name__}; use model.state_dict()")
    arrays = {}
    for key, value in obj.items():
        if isinstance(value, Tensor):
            value = value.detach().numpy()
        value = np.asarray(value)
        if value.dtype == object:
            raise TypeError(f"save: the value of {key!r} is not an array")
        arrays[str(key)] = value
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def load(path):
    """Reads a state dict written by save: a dict of names to numpy arrays."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
