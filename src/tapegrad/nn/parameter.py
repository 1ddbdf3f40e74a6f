"""Parameter: a tensor that a Module learns (torch.nn.parameter.Parameter)."""
import numpy as np

from tapegrad._tensor import Tensor, adopt


class Parameter(Tensor):
    """Parameter(data=None, requires_grad=True): a tensor a Module learns; assigned to a
    Module's attribute, it is registered, so parameters() and state_dict() find it.

    data (a Tensor, an array or a list) is taken without a copy where it can be, as
    torch shares a tensor's storage; None gives an empty float32 tensor.
    """

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
