"""``nn.Module`` layers whose forward and backward are the hand-written NumPy ops.

Each module here has a native twin with the same parameters and the same maths:

================================  =====================================
NumPy-backed                      native twin
================================  =====================================
`NumpyLinear`                     ``nn.Linear`` (it *is* one: same parameters, names, state dict, init)
`NumpyActivation("relu")`, ...    `torch_activation("relu")`, ... (the table `TORCH_ACTIVATIONS`)
`NumpyFlatten`                    ``nn.Flatten``
`NumpySoftmaxCrossEntropy`        ``nn.CrossEntropyLoss``
`NumpyMSELoss`                    ``nn.MSELoss``
`NumpyBCEWithLogitsLoss`          ``nn.BCEWithLogitsLoss``
`NumpyUserActivation`             `torch_activation` of the activation it stands in for
`NumpyUserLinear`                 ``nn.Linear`` (a user's linear op, `NumpyLinear`'s parameters)
`layers_cnn.NumpyConv2d`          ``nn.Conv2d`` (it *is* one, as NumpyLinear)
`layers_cnn.NumpyMaxPool2d`       ``nn.MaxPool2d``
`layers_cnn.NumpyAvgPool2d`       ``nn.AvgPool2d``
`layers_cnn.NumpyDropout`         `ReplayDropout` (replays the NumPy mask; ``nn.Dropout`` in a torch-backend net)
`layers_rnn.NumpyRNN`             `layers_rnn.TorchRNN` (``nn.RNN`` returning all states or the last)
`layers_gated.NumpyLSTM`          `layers_gated.TorchLSTM` (``nn.LSTM``, likewise)
`layers_gated.NumpyGRU`           `layers_gated.TorchGRU` (``nn.GRU``, likewise)
`layers_transformer.Numpy...`     batch norm, layer norm, embeddings, attention, residual blocks (see there)
================================  =====================================

Every NumPy-backed layer module has ``native()``, its twin with the same settings (`native_twin`
copies the weights). Convolution, pooling and dropout modules are in `layers_cnn`, the recurrent ones in
`layers_rnn` and `layers_gated`; `lightning_ffnn.network.MODULES` maps each layer spec to its pair of modules.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from numpy_ops import activations as np_act
from numpy_ops.activations_fast import get_fast_activation
from numpy_ops import spec as S
from numpy_ops.layers import linear
from numpy_ops.losses import bce_with_logits, mse, softmax_cross_entropy
from numpy_ops.reshape import flatten
from numpy_ops.user_op import load_op

from .bridge import apply_op

#: Activation names accepted everywhere (settings, CLI): numpy_ops' registry.
ACTIVATION_NAMES = tuple(np_act.ACTIVATIONS)


class NumpyLinear(nn.Linear):
    """``nn.Linear`` whose forward and backward run `numpy_ops.layers.LinearOp`.

    Subclassing keeps parameters (``weight`` (out, in), ``bias`` (out,)), their names, the state
    dict and the default init identical to ``nn.Linear``, so checkpoints move between backends."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_op(linear, x, self.weight, self.bias)

    def native(self) -> nn.Linear:
        return nn.Linear(self.in_features, self.out_features, dtype=self.weight.dtype, device=self.weight.device)


class NumpyUserLinear(NumpyLinear):
    """`NumpyLinear` whose forward and backward are a user's op from a file (`numpy_ops.spec.UserLinear`): the
    same parameters and native twin (``nn.Linear``), so the gradient-parity check compares the user's backward
    with autograd's."""

    def __init__(self, in_features: int, out_features: int, path: str, dtype=None):
        super().__init__(in_features, out_features, dtype=dtype)
        self.path, self.like = path, "linear"
        self.op = load_op(path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_op(self.op, x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, op={self.path!r}"


class NumpyActivation(nn.Module):
    """An activation from `numpy_ops.activations`, by name (``"leaky_relu"``, ``"gelu_tanh"``, ...)."""

    def __init__(self, name: str, **kwargs):
        super().__init__()
        self.name, self.kwargs = name, kwargs
        self.op = get_fast_activation(name, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_op(self.op, x)

    def native(self) -> nn.Module:
        return torch_activation(self.name, **self.kwargs)

    def extra_repr(self) -> str:
        return repr(self.op)


class NumpyFlatten(nn.Module):
    """(N, ...) -> (N, prod(...)) by `numpy_ops.reshape.flatten`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_op(flatten, x)

    def native(self) -> nn.Module:
        return nn.Flatten()


class Swish(nn.Module):
    """Native ``x * sigmoid(beta x)`` (``nn.SiLU`` is the beta = 1 case)."""

    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)


#: Activation name (a key of `numpy_ops.activations.ACTIVATIONS`) -> its native twin, made from the NumPy op
#: (which holds the arguments: a slope, an alpha).
TORCH_ACTIVATIONS = {
    "identity": lambda op: nn.Identity(),
    "sigmoid": lambda op: nn.Sigmoid(),
    "tanh": lambda op: nn.Tanh(),
    "relu": lambda op: nn.ReLU(),
    "leaky_relu": lambda op: nn.LeakyReLU(op.negative_slope),
    "elu": lambda op: nn.ELU(op.alpha),
    # nn.Softplus's default threshold=20 returns x itself above 20, 2e-9 off the exact softplus (and a derivative
    # of 1 instead of sigmoid(x)). Above 40, e^-x is below float64 rounding, so the switch no longer shows, and
    # exp(40) is still finite in float32.
    "softplus": lambda op: nn.Softplus(threshold=40.0),
    "swish": lambda op: nn.SiLU() if op.beta == 1.0 else Swish(op.beta),
    "gelu": lambda op: nn.GELU(approximate=op.approximate),
    "gelu_tanh": lambda op: nn.GELU(approximate=op.approximate),
}


def torch_activation(name: str, **kwargs) -> nn.Module:
    """The native PyTorch module computing the same function as ``NumpyActivation(name, **kwargs)``."""
    op = np_act.get_activation(name, **kwargs)  # validates the name and the arguments
    if name not in TORCH_ACTIVATIONS:
        raise ValueError(f"no native twin for activation {name!r}: add it to lightning_ffnn.layers.TORCH_ACTIVATIONS")
    return TORCH_ACTIVATIONS[name](op)


class _NumpyLoss(nn.Module):
    op = None

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return apply_op(self.op, prediction, target)


class NumpySoftmaxCrossEntropy(_NumpyLoss):
    """Mean softmax cross-entropy from logits (N, C) and integer labels (N,) or one-hot (N, C)."""

    op = softmax_cross_entropy


class NumpyMSELoss(_NumpyLoss):
    """Mean squared error over all elements."""

    op = mse


class NumpyBCEWithLogitsLoss(_NumpyLoss):
    """Mean binary cross-entropy from logits."""

    op = bce_with_logits


LOSS_MODULES: dict[str, tuple[type[nn.Module], type[nn.Module]]] = {
    # name: (NumPy-backed, native twin)
    "softmax_cross_entropy": (NumpySoftmaxCrossEntropy, nn.CrossEntropyLoss),
    "mse": (NumpyMSELoss, nn.MSELoss),
    "bce_with_logits": (NumpyBCEWithLogitsLoss, nn.BCEWithLogitsLoss),
}


class NumpyUserActivation(nn.Module):
    """A user's own activation from a file (`numpy_ops.spec.UserActivation`), through the bridge; its native
    twin is the `numpy_ops` activation it should equal (``like``), so the gradient-parity check compares them."""

    def __init__(self, path: str, like: str, **kwargs):
        super().__init__()
        self.path, self.like, self.kwargs = path, like, kwargs
        S.UserActivation(like, kwargs, path)  # checks the reference and that the file loads
        self.op = load_op(path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_op(self.op, x)

    def native(self) -> nn.Module:
        return torch_activation(self.like, **self.kwargs)

    def extra_repr(self) -> str:
        return f"{self.path!r}, like={self.like!r}"


def native_module(module: nn.Module) -> nn.Module:
    """A NumPy-backed module's native twin (``module.native()``, fresh weights), or a copy of a native module."""
    return module.native() if hasattr(module, "native") else copy.deepcopy(module)
