"""tapegrad.from_dlpack: a tensor over another library's memory (torch, JAX, numpy, ...),
without a copy, through numpy's DLPack import."""
import numpy as np

from tapegrad._tensor import Tensor
from tapegrad.creation import from_numpy


def from_dlpack(ext_tensor):
    """A tensor sharing ext_tensor's memory: anything with __dlpack__ (a tapegrad tensor
    is returned as it is, as torch returns its own)."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    if type(ext_tensor).__name__ == "PyCapsule":
        # a raw capsule (torch.utils.dlpack.to_dlpack's): numpy reads it through an
        # object that hands it over, once
        ext_tensor = _Capsule(ext_tensor)
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack expects an object with __dlpack__, not "
                        f"{type(ext_tensor).__name__}")
    return from_numpy(np.from_dlpack(ext_tensor))


class _Capsule:
    """A DLPack capsule on the CPU, as the protocol's producer object numpy asks for."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, *args, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)           # kDLCPU, device 0
