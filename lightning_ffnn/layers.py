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
`NumpyConv2d`                     ``nn.Conv2d`` (it *is* one, as NumpyLinear)
`NumpyMaxPool2d`                  ``nn.MaxPool2d``
`NumpyAvgPool2d`                  ``nn.AvgPool2d``
`NumpyDropout`                    `ReplayDropout` (replays the NumPy mask; ``nn.Dropout`` in a torch-backend net)
================================  =====================================

Every NumPy-backed layer module has ``native()``, its twin with the same settings (`native_twin`
copies the weights). `numpy_module` / `torch_module` build one layer of a network spec
(`numpy_ops.spec`) for each backend; a new kind of layer adds one entry to `MODULES`.
"""

from __future__ import annotations

import copy

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


def native_module(module: nn.Module) -> nn.Module:
    """A NumPy-backed module's native twin (``module.native()``, fresh weights), or a copy of a native module."""
    return module.native() if hasattr(module, "native") else copy.deepcopy(module)


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


# ---- recurrent layers (numpy_ops.rnn) ----

def _rnn_window_reference(rnn: nn.RNN, x: torch.Tensor, h0: torch.Tensor, k: int) -> torch.Tensor:
    """Truncated BPTT the plain way: h_t rebuilt from ``h_{t-k}.detach()`` (every layer) over the last k
    steps, so the loss at step t reaches back at most k steps. Same values as the full forward; O(T k)."""
    with torch.no_grad():  # every layer's states, to restart windows from
        states, inp = [], x
        for l in range(rnn.num_layers):
            inp, _ = _one_layer(rnn, l, inp, h0[l])
            states.append(inp)
    outs = []
    for t in range(x.shape[1]):
        start = t - k + 1
        inp = x[:, max(start, 0):t + 1]
        for l in range(rnn.num_layers):
            h_start = h0[l] if start <= 0 else states[l][:, start - 1]
            inp, _ = _one_layer(rnn, l, inp, h_start)
        outs.append(inp[:, -1])
    return torch.stack(outs, dim=1)


def _one_layer(rnn: nn.RNN, l: int, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    f = torch.tanh if rnn.nonlinearity == "tanh" else torch.relu
    U, W = getattr(rnn, f"weight_ih_l{l}"), getattr(rnn, f"weight_hh_l{l}")
    b = getattr(rnn, f"bias_ih_l{l}") + getattr(rnn, f"bias_hh_l{l}")
    hs = []
    for t in range(x.shape[1]):
        h = f(x[:, t] @ U.T + b + h @ W.T)
        hs.append(h)
    return torch.stack(hs, dim=1), h


class TorchRNN(nn.RNN):
    """The native twin of `NumpyRNN`: ``nn.RNN(batch_first=True)`` returning what the spec asks for, all hidden
    states (N, T, H) or the last (N, H), instead of nn.RNN's (output, h_n) pair. Same parameters and names.
    With ``truncation=k`` it runs `_rnn_window_reference` (nn.RNN itself has no truncated backward)."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh", num_layers: int = 1,
                 output: str = "all", truncation: int | None = None, dtype: torch.dtype | None = None):
        super().__init__(input_size, hidden_size, num_layers=num_layers, nonlinearity=nonlinearity,
                         batch_first=True, dtype=dtype)
        self.output, self.truncation = output, truncation

    def _h0(self, x: torch.Tensor, h0: torch.Tensor | None) -> torch.Tensor:
        if h0 is None:
            return x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)
        return h0 if h0.dim() == 3 else h0.unsqueeze(0)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        if self.truncation is not None and self.truncation < x.shape[1]:
            out = _rnn_window_reference(self, x, self._h0(x, h0), self.truncation)
        else:
            out, _ = super().forward(x, self._h0(x, h0))
        return out if self.output == "all" else out[:, -1]

    def extra_repr(self) -> str:
        return super().extra_repr() + f", output={self.output!r}, truncation={self.truncation}"


class NumpyRNN(TorchRNN):
    """A `TorchRNN` (so ``nn.RNN``'s parameters, names, state dict and init) whose forward and backward run
    `numpy_ops.rnn.RNNOp`. ``h0``: (num_layers, N, H), (N, H) for one layer, or None (zeros; no gradient)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from numpy_ops.rnn import RNNOp

        self.op = RNNOp(self.nonlinearity, self.num_layers, self.output, self.truncation)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        return apply_op(self.op, x, *self._flat_weights, h0)

    def native(self) -> TorchRNN:
        w = self.weight_ih_l0
        return TorchRNN(self.input_size, self.hidden_size, self.nonlinearity, self.num_layers, self.output,
                        self.truncation, dtype=w.dtype).to(w.device)


def _rnn_module(cls):
    return lambda s, shape, dtype: cls(shape[-1], s.hidden_size, s.nonlinearity, s.num_layers, s.output,
                                       s.truncation, dtype=dtype)


MODULES[S.RNN] = (_rnn_module(NumpyRNN), _rnn_module(TorchRNN))


# Convolutional layers live in their own module (layers_cnn) and add their MODULES entries there.
from .layers_cnn import (NumpyAvgPool2d, NumpyConv2d, NumpyDropout, NumpyMaxPool2d,  # noqa: E402, F401
                         ReplayDropout)

# Normalization, embeddings, attention and residual blocks (layers_transformer) add their MODULES entries the same way.
from .layers_transformer import (NumpyAttention, NumpyBatchNorm1d, NumpyBatchNorm2d,  # noqa: E402, F401
                                 NumpyEmbedding, NumpyLayerNorm, NumpyPositionEmbedding, NumpyResidual,
                                 PositionEmbedding, Residual, TorchAttention)
