"""Neural-network building blocks on both engines.

micrograd's Neuron, Layer and MLP (scalar Values) and torch.nn's layers,
containers and losses (Tensors) share one Module base.
"""
from tapegrad.nn import functional, init, parameter, utils
from tapegrad.nn.containers import ModuleDict, ModuleList, ParameterList, Sequential
from tapegrad.nn.layers import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Dropout,
                                Embedding, Flatten, Identity, L1Loss, LayerNorm, Linear,
                                LogSoftmax, MSELoss, NLLLoss, ReLU, Sigmoid, Softmax, Tanh,
                                Unflatten)
# --- nn layers (issue 12)
from tapegrad.nn.activation import ELU, GELU, Hardtanh, LeakyReLU, ReLU6, SiLU, Softplus
from tapegrad.nn.conv import Conv1d, Conv2d
from tapegrad.nn.layers import HuberLoss, SmoothL1Loss
from tapegrad.nn.normalization import BatchNorm1d, BatchNorm2d, Dropout2d
from tapegrad.nn.pooling import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from tapegrad.nn.micrograd import MLP, Layer, Neuron
from tapegrad.nn.module import Module
from tapegrad.nn.parameter import Parameter

__all__ = ["Module", "Parameter", "Neuron", "Layer", "MLP", "Linear", "Sequential",
           "ModuleList", "ModuleDict", "ParameterList", "ReLU", "Tanh", "Sigmoid", "Softmax",
           "LogSoftmax", "Dropout", "LayerNorm", "Embedding", "Flatten", "Unflatten", "Identity",
           "MSELoss", "L1Loss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
           "functional", "init", "parameter", "utils",
           "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
           "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout2d", "LeakyReLU", "GELU",
           "ELU", "SiLU", "Softplus", "Hardtanh", "ReLU6", "SmoothL1Loss", "HuberLoss"]
