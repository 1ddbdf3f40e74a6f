"""Neural-network building blocks on both engines.

micrograd's Neuron, Layer and MLP (scalar Values) and torch.nn's layers and
losses (Tensors) share one Module base.
"""
from tapegrad.nn import functional
from tapegrad.nn.layers import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Dropout,
                                Embedding, Flatten, Identity, L1Loss, LayerNorm, Linear,
                                LogSoftmax, MSELoss, NLLLoss, ReLU, Sequential, Sigmoid, Softmax,
                                Tanh)
from tapegrad.nn.micrograd import MLP, Layer, Neuron
from tapegrad.nn.module import Module, Parameter

__all__ = ["Module", "Parameter", "Neuron", "Layer", "MLP", "Linear", "Sequential", "ReLU",
           "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Dropout", "LayerNorm", "Embedding",
           "Flatten", "Identity", "MSELoss", "L1Loss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
           "CrossEntropyLoss", "functional"]
