"""``nn.Module`` layers whose forward and backward are the hand-written NumPy ops.

Each module here has a native twin with the same parameters and the same maths:

================================  =====================================
NumPy-backed                      native twin
================================  =====================================
`NumpyLinear`                     ``nn.Linear`` (it *is* one: same parameters, names, state dict, init)
`NumpyActivation("relu")`, ...    `torch_activation("relu")`, ...
`NumpyFlatten`                    ``nn.Flatten``
`NumpySoftmaxCrossEntropy`        ``nn.CrossEntropyLoss``
`NumpyMSELoss`                    ``nn.MSELoss``
`NumpyBCEWithLogitsLoss`          ``nn.BCEWithLogitsLoss``
================================  =====================================

Every NumPy-backed layer module has ``native()``, its twin with the same settings (`native_twin`
copies the weights). `numpy_module` / `torch_module` build one layer of a network spec
(`numpy_ops.spec`) for each backend; a new kind of layer adds one entry to `MODULES`.
"""

from __future__ import annotations

import torch
from torch import nn

from numpy_ops import activations as np_act
from numpy_ops import spec as S
from numpy_ops.layers import linear
from numpy_ops.losses import bce_with_logits, mse, softmax_cross_entropy
from numpy_ops.reshape import flatten

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


class NumpyActivation(nn.Module):
    """An activation from `numpy_ops.activations`, by name (``"leaky_relu"``, ``"gelu_tanh"``, ...)."""

    def __init__(self, name: str, **kwargs):
        super().__init__()
        self.name, self.kwargs = name, kwargs
        self.op = np_act.get_activation(name, **kwargs)

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


def torch_activation(name: str, **kwargs) -> nn.Module:
    """The native PyTorch module computing the same function as ``NumpyActivation(name, **kwargs)``."""
    op = np_act.get_activation(name, **kwargs)  # validates the name and the arguments
    if isinstance(op, np_act.Identity):
        return nn.Identity()
    if isinstance(op, np_act.Sigmoid):
        return nn.Sigmoid()
    if isinstance(op, np_act.Tanh):
        return nn.Tanh()
    if isinstance(op, np_act.ReLU):
        return nn.ReLU()
    if isinstance(op, np_act.LeakyReLU):
        return nn.LeakyReLU(op.negative_slope)
    if isinstance(op, np_act.ELU):
        return nn.ELU(op.alpha)
    if isinstance(op, np_act.Softplus):
        # nn.Softplus's default threshold=20 returns x itself above 20, 2e-9 off the exact softplus
        # (and a derivative of 1 instead of sigmoid(x)). Above 40, e^-x is below float64 rounding, so the
        # switch no longer shows, and exp(40) is still finite in float32.
        return nn.Softplus(threshold=40.0)
    if isinstance(op, np_act.Swish):
        return nn.SiLU() if op.beta == 1.0 else Swish(op.beta)
    if isinstance(op, np_act.GELU):
        return nn.GELU(approximate=op.approximate)
    raise ValueError(f"no native twin for activation {name!r}")


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


#: Layer spec type -> (NumPy-backed module, native module), each built from (spec, per-example input shape, dtype).
MODULES = {
    S.Linear: (lambda s, shape, dtype: NumpyLinear(shape[-1], s.out_features, dtype=dtype),
               lambda s, shape, dtype: nn.Linear(shape[-1], s.out_features, dtype=dtype)),
    S.Activation: (lambda s, shape, dtype: NumpyActivation(s.name, **s.kwargs),
                   lambda s, shape, dtype: torch_activation(s.name, **s.kwargs)),
    S.Flatten: (lambda s, shape, dtype: NumpyFlatten(), lambda s, shape, dtype: nn.Flatten()),
}


def _module(spec: S.LayerSpec, in_shape: tuple[int, ...], dtype: torch.dtype, which: int) -> nn.Module:
    if type(spec) not in MODULES:
        raise ValueError(f"no torch module for layer type {spec.type!r}")
    return MODULES[type(spec)][which](spec, in_shape, dtype)


def numpy_module(spec: S.LayerSpec, in_shape: tuple[int, ...], dtype: torch.dtype) -> nn.Module:
    """The NumPy-backed module of one layer spec (input of per-example shape ``in_shape``)."""
    return _module(spec, in_shape, dtype, 0)


def torch_module(spec: S.LayerSpec, in_shape: tuple[int, ...], dtype: torch.dtype) -> nn.Module:
    """The native torch module of one layer spec."""
    return _module(spec, in_shape, dtype, 1)


class NumpyUserActivation(nn.Module):
    """A user's own activation from a file (`numpy_ops.spec.UserActivation`), through the bridge; its native
    twin is the `numpy_ops` activation it should equal (``like``), so the gradient-parity check compares them."""

    def __init__(self, path: str, like: str, **kwargs):
        super().__init__()
        self.path, self.like, self.kwargs = path, like, kwargs
        self.op = S.UserActivation(like, kwargs, path).op()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_op(self.op, x)

    def native(self) -> nn.Module:
        return torch_activation(self.like, **self.kwargs)

    def extra_repr(self) -> str:
        return f"{self.path!r}, like={self.like!r}"


MODULES[S.UserActivation] = (lambda s, shape, dtype: NumpyUserActivation(s.path, s.name, **s.kwargs),
                             lambda s, shape, dtype: torch_activation(s.name, **s.kwargs))
