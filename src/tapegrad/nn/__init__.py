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
from tapegrad.nn.micrograd import MLP, Layer, Neuron
from tapegrad.nn.module import Module
from tapegrad.nn.parameter import Parameter

__all__ = ["Module", "Parameter", "Neuron", "Layer", "MLP", "Linear", "Sequential",
           "ModuleList", "ModuleDict", "ParameterList", "ReLU", "Tanh", "Sigmoid", "Softmax",
           "LogSoftmax", "Dropout", "LayerNorm", "Embedding", "Flatten", "Unflatten", "Identity",
           "MSELoss", "L1Loss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
           "functional", "init", "parameter", "utils"]
