"""Build a network spec (`numpy_ops.spec`) as an ``nn.Sequential``, for either backend.

Both backends give the same module layout (the spec's layer ``i`` at index ``i``) and the same
parameter names (each NumPy-backed module subclasses or mirrors its native twin), so a state dict, a
checkpoint, or `numpy_ops.network.Sequential` weights move between them unchanged. Initial weights come
from `numpy_ops.spec.init_all` with a NumPy generator seeded by ``seed``, whatever the backend, so the
same seed gives the same network in NumPy, in bridged layers and in native ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import torch
from torch import nn

from numpy_ops import spec as S

from .layers import native_module, numpy_module, torch_module

Backend = Literal["torch", "numpy"]


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
                module.get_parameter(name).copy_(torch.from_numpy(value))
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
