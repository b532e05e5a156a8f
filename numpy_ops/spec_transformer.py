"""Layer specs of normalization, embeddings, attention and residual blocks (see `numpy_ops.spec`).

With these a Transformer is data, not code. A pre-LayerNorm GPT block on (T, D) sequences::

    - {type: residual, layers: [{type: layer_norm}, {type: attention, num_heads: 4, causal: true}]}
    - {type: residual, layers: [{type: layer_norm}, {type: linear, out_features: 256},
                                {type: activation, name: gelu}, {type: linear, out_features: 64}]}

after ``{type: embedding, num_embeddings: V, embedding_dim: 64}`` and ``{type: position_embedding}``.
`numpy_ops.spec` lists them in `LAYER_TYPES` and re-exports them, with `Residual` (which parses a spec list of its
own, so it lives beside `parse`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .attention import AttentionOp
from .norm import BatchNormOp
from .spec_base import LayerSpec, check_positive


def _eps(layer: str, eps: float) -> None:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ValueError(f"{layer}: eps must be a number > 0, got {eps!r}")


def _affine(shape: tuple[int, ...], dtype) -> dict[str, np.ndarray]:
    """weight 1, bias 0: what nn.BatchNorm and nn.LayerNorm start from, whatever the init scheme."""
    return {"weight": np.ones(shape, dtype), "bias": np.zeros(shape, dtype)}


@dataclass(frozen=True)
class BatchNorm(LayerSpec):
    """Batch normalization over each feature of (D,) examples or each channel of (C, H, W) ones
    (`numpy_ops.norm`; ``nn.BatchNorm1d`` / ``nn.BatchNorm2d``). Parameters ``weight``, ``bias`` (C,); buffers
    ``running_mean``, ``running_var``, ``num_batches_tracked``."""

    momentum: float = 0.1
    eps: float = 1e-5
    type: ClassVar[str] = "batch_norm"

    def __post_init__(self):
        BatchNormOp(True, self.momentum, self.eps)  # validates momentum and eps

    def output_shape(self, in_shape):
        if len(in_shape) not in (1, 3):
            raise ValueError(f"batch_norm takes (features,) or (channels, height, width) examples, got {in_shape}")
        return in_shape

    def init_params(self, in_shape, rng, scheme="torch_default", nonlinearity="linear", dtype=np.float64,
                    **init_kwargs):
        return _affine((in_shape[0],), dtype)




@dataclass(frozen=True)
class LayerNorm(LayerSpec):
    """Layer normalization of each example over its last ``ndim`` axes (``nn.LayerNorm``); parameters
    ``weight``, ``bias`` of those axes' shape."""

    ndim: int = 1
    eps: float = 1e-5
    type: ClassVar[str] = "layer_norm"

    def __post_init__(self):
        check_positive("layer_norm", "ndim", self.ndim)
        _eps("layer_norm", self.eps)

    def output_shape(self, in_shape):
        if len(in_shape) < self.ndim:
            raise ValueError(f"layer_norm over the last {self.ndim} axes needs at least that many, got {in_shape}")
        return in_shape

    def init_params(self, in_shape, rng, scheme="torch_default", nonlinearity="linear", dtype=np.float64,
                    **init_kwargs):
        return _affine(tuple(in_shape[-self.ndim:]), dtype)



@dataclass(frozen=True)
class Embedding(LayerSpec):
    """A lookup table (``nn.Embedding``): integer indices (T,) -> vectors (T, embedding_dim). Parameter ``weight``
    (num_embeddings, embedding_dim), drawn N(0, 1) as nn.Embedding does, whatever the init scheme."""

    num_embeddings: int
    embedding_dim: int
    type: ClassVar[str] = "embedding"

    def __post_init__(self):
        check_positive("embedding", "num_embeddings", self.num_embeddings)
        check_positive("embedding", "embedding_dim", self.embedding_dim)

    def output_shape(self, in_shape):
        return (*in_shape, self.embedding_dim)

    def init_params(self, in_shape, rng, scheme="torch_default", nonlinearity="linear", dtype=np.float64,
                    **init_kwargs):
        return {"weight": rng.standard_normal((self.num_embeddings, self.embedding_dim)).astype(dtype)}



@dataclass(frozen=True)
class PositionEmbedding(LayerSpec):
    """A learned vector per time step added to a (T, D) sequence. Parameter ``weight`` (max_len, D), N(0, 1)
    as a GPT's position table (an nn.Embedding indexed by step); ``max_len`` defaults to the input's T."""

    max_len: int | None = None
    type: ClassVar[str] = "position_embedding"

    def __post_init__(self):
        if self.max_len is not None:
            check_positive("position_embedding", "max_len", self.max_len)

    def output_shape(self, in_shape):
        if len(in_shape) != 2:
            raise ValueError(f"position_embedding takes (time, features) examples, got {in_shape}")
        if self.max_len is not None and in_shape[0] > self.max_len:
            raise ValueError(f"position_embedding: {in_shape[0]} steps exceed max_len={self.max_len}")
        return in_shape

    def init_params(self, in_shape, rng, scheme="torch_default", nonlinearity="linear", dtype=np.float64,
                    **init_kwargs):
        return {"weight": rng.standard_normal((self.max_len or in_shape[0], in_shape[1])).astype(dtype)}



@dataclass(frozen=True)
class Attention(LayerSpec):
    """Multi-head self-attention over (T, D) sequences (`numpy_ops.attention`; ``nn.MultiheadAttention``'s
    parameters ``in_proj_weight`` (3D, D), ``in_proj_bias``, ``out_proj.weight`` (D, D), ``out_proj.bias``).
    ``causal``: step t attends to steps <= t only."""

    num_heads: int = 1
    causal: bool = False
    type: ClassVar[str] = "attention"

    def __post_init__(self):
        AttentionOp(self.num_heads, self.causal)  # validates num_heads

    def output_shape(self, in_shape):
        if len(in_shape) != 2:
            raise ValueError(f"attention takes (time, features) examples, got {in_shape}")
        if in_shape[1] % self.num_heads:
            raise ValueError(f"attention: {self.num_heads} heads do not divide {in_shape[1]} features")
        return in_shape

    def init_params(self, in_shape, rng, scheme="torch_default", nonlinearity="linear", dtype=np.float64,
                    **init_kwargs):
        """``nn.MultiheadAttention``'s own init, whatever the scheme: Xavier-uniform in-projection, the
        out-projection as an nn.Linear (U(-1/sqrt(D), 1/sqrt(D))), biases zero."""
        D = in_shape[1]
        a, b = math.sqrt(6.0 / (D + 3 * D)), 1.0 / math.sqrt(D)
        return {"in_proj_weight": rng.uniform(-a, a, (3 * D, D)).astype(dtype), "in_proj_bias": np.zeros(3 * D, dtype),
                "out_proj.weight": rng.uniform(-b, b, (D, D)).astype(dtype), "out_proj.bias": np.zeros(D, dtype)}

