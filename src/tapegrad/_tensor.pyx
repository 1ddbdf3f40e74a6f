# cython: language_level=3
"""The tensor engine: a numpy-backed Tensor with PyTorch's autograd conventions.

One extension built from one file per concern (_tensor_engine/*.pxi):
grad_mode (per-thread grad mode, version counters), quiet (numpy's
floating-point warnings muted, as torch is silent), recording (the op table's
entries and the plumbing every op shares), operands (dtypes and promotion),
tensor_base and tensor (the Tensor class), the op families arithmetic,
elementwise (with the C kernels' glue in kernels), reductions, shapes,
indexing, inplace and losses, the backward engine, and custom Functions.

Each differentiable op is an Op: its grad_fn name and, per input, its
vector-Jacobian product, next to its forward. Nodes carry their recording
order, so backward sorts the nodes it reaches and runs them newest first,
without recursion.
"""
cimport cython
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE, PyBUF_WRITABLE
from libc.stdlib cimport malloc, free, qsort

import numbers
import weakref
from collections import namedtuple

import numpy as np

cdef class TensorBase
cdef class Tensor(TensorBase)
cdef class Node

include "_tensor_engine/grad_mode.pxi"
include "_tensor_engine/quiet.pxi"
include "_tensor_engine/recording.pxi"
include "_tensor_engine/operands.pxi"
include "_tensor_engine/tensor_base.pxi"
include "_tensor_engine/kernels.pxi"
include "_tensor_engine/arithmetic.pxi"
include "_tensor_engine/binary_math.pxi"
include "_tensor_engine/products.pxi"
include "_tensor_engine/elementwise.pxi"
include "_tensor_engine/activations.pxi"
include "_tensor_engine/reductions.pxi"
include "_tensor_engine/statistics.pxi"
include "_tensor_engine/sorting.pxi"
include "_tensor_engine/shapes.pxi"
include "_tensor_engine/shapes_more.pxi"
include "_tensor_engine/indexing.pxi"
include "_tensor_engine/gather_scatter.pxi"
include "_tensor_engine/inplace.pxi"
include "_tensor_engine/losses.pxi"
include "_tensor_engine/convolution.pxi"
include "_tensor_engine/backward.pxi"
include "_tensor_engine/functions.pxi"
include "_tensor_engine/tensor.pxi"
include "_tensor_engine/internal.pxi"
