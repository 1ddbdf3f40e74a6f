"""torch.linalg's norms: vector_norm, and norm for vectors and the Frobenius norm.

Matrix norms other than the Frobenius norm (ord 1, 2, inf, 'nuc' of a matrix)
are not implemented: they raise NotImplementedError rather than giving a vector
norm's number.
"""
from tapegrad._tensor import vector_norm

__all__ = ["vector_norm", "norm"]


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """The 2-norm of all of A (ord None), the Frobenius norm of a matrix (ord 'fro'),
    or a vector norm of a 1-D A or along an int dim."""
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None and A.dim() > 2:
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A.dim()}D.")
    if ord == 'fro':
        if dim is None:
            if A.dim() != 2:
                raise RuntimeError("linalg.matrix_norm: The input tensor A must have at "
                                   "least 2 dimensions.")
            dim = (-2, -1)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    vector = (dim is None and A.dim() == 1) or isinstance(dim, int) or \
        (isinstance(dim, (tuple, list)) and len(dim) == 1)
    if isinstance(ord, str) or not vector:
        raise NotImplementedError(f"tapegrad: linalg.norm with ord={ord!r} of a matrix "
                                  "is not implemented; use linalg.vector_norm")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)
