"""Build the labs' feed-forward networks as plain ``nn.Sequential`` modules, for either backend.

Both backends give the same module layout (Linear at 0, activation at 1, Linear at 2, ...), so a
state dict, a checkpoint, or `numpy_ops.network.Sequential` weights move between them unchanged.
Initial weights come from `numpy_ops.init` with a NumPy generator seeded by ``seed``, whatever the
backend, so the same seed gives the same network in NumPy, in bridged layers and in native ones.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from torch import nn

from numpy_ops.init import init_linear

from .layers import NumpyActivation, NumpyLinear, torch_activation

Backend = Literal["torch", "numpy"]


def build_mlp(
    sizes: Sequence[int],
    activation: str = "sigmoid",
    backend: Backend = "torch",
    init: str = "torch_default",
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    uniform_bounds: tuple[float, float] = (-0.1, 0.1),
) -> nn.Sequential:
    """``sizes[0] -> ... -> sizes[-1]`` with ``activation`` after every hidden layer and none after
    the last (losses take logits / raw outputs)."""
    if backend not in ("torch", "numpy"):
        raise ValueError(f"backend must be 'torch' or 'numpy', got {backend!r}")
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"layer sizes must be [in, hidden..., out] with every size >= 1, got {list(sizes)}")
    rng = np.random.default_rng(seed)
    linear_cls = NumpyLinear if backend == "numpy" else nn.Linear
    layers: list[nn.Module] = []
    n_layers = len(sizes) - 1
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == n_layers - 1
        layer = linear_cls(fan_in, fan_out, dtype=dtype)
        W, b = init_linear(rng, fan_out, fan_in, init, nonlinearity="linear" if last else activation,
                           dtype=np.float64, uniform_bounds=uniform_bounds)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(b))
        layers.append(layer)
        if not last:
            layers.append(NumpyActivation(activation) if backend == "numpy" else torch_activation(activation))
    return nn.Sequential(*layers)


def native_twin(net: nn.Sequential) -> nn.Sequential:
    """A native-PyTorch copy of a (possibly NumPy-backed) network, with the same weights."""
    layers: list[nn.Module] = []
    for m in net:
        if isinstance(m, NumpyLinear):
            twin = nn.Linear(m.in_features, m.out_features, bias=m.bias is not None,
                             dtype=m.weight.dtype, device=m.weight.device)
        elif isinstance(m, NumpyActivation):
            twin = torch_activation(m.name, **m.kwargs)
        else:
            twin = copy.deepcopy(m)
        layers.append(twin)
    out = nn.Sequential(*layers)
    out.load_state_dict(net.state_dict())
    return out
