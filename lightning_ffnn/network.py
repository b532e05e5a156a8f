"""Build a network spec (`numpy_ops.spec`) as an ``nn.Sequential``, for either backend.

Both backends give the same module layout (the spec's layer ``i`` at index ``i``) and the same
parameter names (each NumPy-backed module subclasses or mirrors its native twin), so a state dict, a
checkpoint, or `numpy_ops.network.Sequential` weights move between them unchanged. Initial weights come
from `numpy_ops.spec.init_all` with a NumPy generator seeded by ``seed``, whatever the backend, so the
same seed gives the same network in NumPy, in bridged layers and in native ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal, NamedTuple

import numpy as np
import torch
from torch import nn

from numpy_ops import spec as S

from .layers import (NumpyActivation, NumpyFlatten, NumpyLinear, NumpyUserActivation, NumpyUserLinear, native_module,
                     torch_activation)
from .layers_cnn import NumpyAvgPool2d, NumpyConv2d, NumpyDropout, NumpyMaxPool2d
from .layers_gated import NumpyGRU, NumpyLSTM, TorchGRU, TorchLSTM
from .layers_rnn import NumpyRNN, TorchRNN
from .layers_transformer import (NumpyAttention, NumpyBatchNorm1d, NumpyBatchNorm2d, NumpyEmbedding, NumpyLayerNorm,
                                 NumpyPositionEmbedding, NumpyResidual, PositionEmbedding, Residual, TorchAttention)

Backend = Literal["torch", "numpy"]
#: Makes one layer's module from (spec, per-example input shape, dtype).
ModuleMaker = Callable[[S.LayerSpec, tuple[int, ...], torch.dtype], nn.Module]


class LayerModules(NamedTuple):
    """The two modules of one layer type: NumPy-backed (the hand-written op through the bridge) and native."""

    numpy: ModuleMaker
    native: ModuleMaker


def _channels(spec: S.LayerSpec, shape: tuple[int, ...]) -> int:
    if len(shape) != 3:
        raise ValueError(f"{spec.type} expects (channels, height, width) per example, got {shape}: "
                         "serve the data with layout 'image'")
    return shape[0]


def _rnn(cls):
    return lambda s, shape, dtype: cls(shape[-1], s.hidden_size, s.nonlinearity, s.num_layers, s.output,
                                       s.truncation, dtype=dtype)


def _gated(cls):
    return lambda s, shape, dtype: cls(shape[-1], s.hidden_size, s.num_layers, s.output, dtype=dtype)


def _activation(s, shape, dtype):
    return torch_activation(s.name, **s.kwargs)


def _batch_norm(numpy: bool) -> ModuleMaker:
    """BatchNorm1d over the features of (D,) examples, BatchNorm2d over the channels of (C, H, W) ones."""
    def make(s, shape, dtype):
        one_d = len(shape) == 1
        if numpy:
            cls = NumpyBatchNorm1d if one_d else NumpyBatchNorm2d
        else:
            cls = nn.BatchNorm1d if one_d else nn.BatchNorm2d
        return cls(shape[0], s.eps, s.momentum, dtype=dtype)
    return make


def _residual(numpy: bool) -> ModuleMaker:
    """``x + body(x)``: the body's layers built by this same table, for the same backend."""
    def make(s, shape, dtype):
        build = numpy_module if numpy else torch_module
        shapes = S.shapes(s.layers, shape)
        body = nn.Sequential(*(build(layer, in_shape, dtype) for layer, in_shape in zip(s.layers, shapes)))
        return NumpyResidual(body) if numpy else Residual(body)
    return make


def _attention(cls) -> ModuleMaker:
    return lambda s, shape, dtype: cls(shape[-1], s.num_heads, s.causal, dtype=dtype)


def _position(cls) -> ModuleMaker:
    return lambda s, shape, dtype: cls(s.max_len or shape[0], shape[-1], dtype=dtype)


def _layer_norm(cls) -> ModuleMaker:
    return lambda s, shape, dtype: cls(tuple(shape[-s.ndim:]), s.eps, dtype=dtype)


def _embedding(cls) -> ModuleMaker:
    return lambda s, shape, dtype: cls(s.num_embeddings, s.embedding_dim, dtype=dtype)


#: Layer spec class -> its two modules. A new layer type is one row here (docs/architecture.md).
MODULES: dict[type[S.LayerSpec], LayerModules] = {
    S.Linear: LayerModules(lambda s, shape, dtype: NumpyLinear(shape[-1], s.out_features, dtype=dtype),
                           lambda s, shape, dtype: nn.Linear(shape[-1], s.out_features, dtype=dtype)),
    S.Activation: LayerModules(lambda s, shape, dtype: NumpyActivation(s.name, **s.kwargs), _activation),
    S.UserActivation: LayerModules(lambda s, shape, dtype: NumpyUserActivation(s.path, s.name, **s.kwargs),
                                   _activation),
    S.UserLinear: LayerModules(
        lambda s, shape, dtype: NumpyUserLinear(shape[-1], s.out_features, s.path, dtype=dtype),
        lambda s, shape, dtype: nn.Linear(shape[-1], s.out_features, dtype=dtype)),
    S.Flatten: LayerModules(lambda s, shape, dtype: NumpyFlatten(), lambda s, shape, dtype: nn.Flatten()),
    S.RNN: LayerModules(_rnn(NumpyRNN), _rnn(TorchRNN)),
    S.Conv2d: LayerModules(
        lambda s, shape, dtype: NumpyConv2d(_channels(s, shape), s.out_channels, s.kernel_size, s.stride, s.padding,
                                            dtype=dtype),
        lambda s, shape, dtype: nn.Conv2d(_channels(s, shape), s.out_channels, s.kernel_size, stride=s.stride,
                                          padding=s.padding, dtype=dtype)),
    S.MaxPool2d: LayerModules(lambda s, shape, dtype: NumpyMaxPool2d(s.kernel_size, s.stride, s.padding),
                              lambda s, shape, dtype: nn.MaxPool2d(s.kernel_size, s.stride, s.padding)),
    S.AvgPool2d: LayerModules(lambda s, shape, dtype: NumpyAvgPool2d(s.kernel_size, s.stride, s.padding),
                              lambda s, shape, dtype: nn.AvgPool2d(s.kernel_size, s.stride, s.padding)),
    S.Dropout: LayerModules(lambda s, shape, dtype: NumpyDropout(s.p), lambda s, shape, dtype: nn.Dropout(s.p)),
    S.LSTM: LayerModules(_gated(NumpyLSTM), _gated(TorchLSTM)),
    S.GRU: LayerModules(_gated(NumpyGRU), _gated(TorchGRU)),
    S.BatchNorm: LayerModules(_batch_norm(True), _batch_norm(False)),
    S.LayerNorm: LayerModules(_layer_norm(NumpyLayerNorm), _layer_norm(nn.LayerNorm)),
    S.Embedding: LayerModules(_embedding(NumpyEmbedding), _embedding(nn.Embedding)),
    S.PositionEmbedding: LayerModules(_position(NumpyPositionEmbedding), _position(PositionEmbedding)),
    S.Attention: LayerModules(_attention(NumpyAttention), _attention(TorchAttention)),
    S.Residual: LayerModules(_residual(True), _residual(False)),
}


def _modules(spec: S.LayerSpec) -> LayerModules:
    if type(spec) not in MODULES:
        raise ValueError(f"no torch module for layer type {spec.type!r} ({type(spec).__name__}); "
                         "add a row to lightning_ffnn.network.MODULES")
    return MODULES[type(spec)]


def numpy_module(spec: S.LayerSpec, in_shape: tuple[int, ...], dtype: torch.dtype) -> nn.Module:
    """The NumPy-backed module of one layer spec (input of per-example shape ``in_shape``)."""
    return _modules(spec).numpy(spec, in_shape, dtype)


def torch_module(spec: S.LayerSpec, in_shape: tuple[int, ...], dtype: torch.dtype) -> nn.Module:
    """The native torch module of one layer spec."""
    return _modules(spec).native(spec, in_shape, dtype)


def build_network(
    layers: Sequence[S.LayerSpec | Mapping],
    input_shape: int | Sequence[int],
    backend: Backend = "torch",
    init: str = "torch_default",
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    uniform_bounds: tuple[float, float] = (-0.1, 0.1),
) -> nn.Sequential:
    """The spec's layers as modules of ``backend`` (``"numpy"``: the hand-written ops through the bridge)."""
    if backend not in ("torch", "numpy"):
        raise ValueError(f"backend must be 'torch' or 'numpy', got {backend!r}")
    layers = S.parse(layers)
    input_shape = (input_shape,) if isinstance(input_shape, (int, np.integer)) else tuple(input_shape)
    shapes = S.shapes(layers, input_shape)
    params = S.init_all(layers, input_shape, np.random.default_rng(seed), init, np.float64,
                        uniform_bounds=uniform_bounds)
    make = numpy_module if backend == "numpy" else torch_module
    modules = []
    for spec, in_shape, p in zip(layers, shapes, params):
        module = make(spec, in_shape, dtype)
        with torch.no_grad():
            for name, value in p.items():
                module.get_parameter(name).copy_(torch.from_numpy(value))  # body.0.weight too
        modules.append(module)
    return nn.Sequential(*modules)


def build_mlp(
    sizes: Sequence[int],
    activation: str = "sigmoid",
    backend: Backend = "torch",
    init: str = "torch_default",
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    uniform_bounds: tuple[float, float] = (-0.1, 0.1),
) -> nn.Sequential:
    """The MLP short form: ``sizes[0] -> ... -> sizes[-1]``, ``activation`` after every hidden layer."""
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"layer sizes must be [in, hidden..., out] with every size >= 1, got {list(sizes)}")
    return build_network(S.mlp_spec(sizes[1:-1], activation, sizes[-1]), sizes[0], backend, init, seed, dtype,
                         uniform_bounds)


def native_twin(net: nn.Sequential) -> nn.Sequential:
    """A native-PyTorch copy of a (possibly NumPy-backed) network, with the same weights."""
    twin = nn.Sequential(*(native_module(m) for m in net))
    twin.load_state_dict(net.state_dict())
    return twin.train(net.training)
