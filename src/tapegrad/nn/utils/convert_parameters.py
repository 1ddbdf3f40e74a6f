"""Parameters as one flat vector and back (torch.nn.utils.parameters_to_vector)."""
from tapegrad._tensor import Tensor, cat


def parameters_to_vector(parameters):
    """One 1-D tensor of every parameter's values, in order (differentiable, as torch's)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Points each parameter's data at its slice of vec (sharing vec's memory, as torch)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    start = 0
    for p in parameters:
        n = p.numel()
        p.data = vec[start:start + n].view_as(p).data
        start += n
