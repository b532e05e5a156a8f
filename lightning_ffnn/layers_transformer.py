"""NumPy-backed modules of normalization, embeddings, attention and residual blocks, and their native twins
(see `lightning_ffnn.layers`):

================================  =====================================
NumPy-backed                      native twin
================================  =====================================
`NumpyBatchNorm1d` / `2d`         ``nn.BatchNorm1d`` / ``nn.BatchNorm2d`` (they *are* those: buffers included)
`NumpyLayerNorm`                  ``nn.LayerNorm``
`NumpyEmbedding`                  ``nn.Embedding``
`NumpyPositionEmbedding`          `PositionEmbedding`
`NumpyAttention`                  `TorchAttention` (an ``nn.MultiheadAttention``, self-attention, batch first)
`NumpyResidual`                   `Residual` (``x + body(x)``, the body's modules twinned one by one)
================================  =====================================

`lightning_ffnn.network.MODULES` maps each layer spec to its pair of modules.
"""

from __future__ import annotations

import torch
from torch import nn

from numpy_ops.attention_fast import AttentionOp
from numpy_ops.embedding import embedding, position_embedding
from numpy_ops.norm import BatchNormOp, LayerNormOp
from numpy_ops.residual import add

from .bridge import apply_op
from .layers import native_module


class _NumpyBatchNorm:
    """The forward of `NumpyBatchNorm1d` / `2d`: `numpy_ops.norm.BatchNormOp` on the module's own parameters and
    buffers. In training the op writes the running statistics into the buffers' memory, as ``F.batch_norm``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.momentum is None or not self.track_running_stats or not self.affine:
            raise ValueError("the NumPy batch norm needs a float momentum, running statistics and affine parameters")
        if self.training:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
        op = BatchNormOp(self.training, self.momentum, self.eps)
        return apply_op(op, x, self.weight, self.bias, self.running_mean, self.running_var)


class NumpyBatchNorm1d(_NumpyBatchNorm, nn.BatchNorm1d):
    """``nn.BatchNorm1d`` over the features of (N, D), computed by `numpy_ops.norm.BatchNormOp`."""

    def native(self) -> nn.BatchNorm1d:
        w = self.weight
        return nn.BatchNorm1d(self.num_features, self.eps, self.momentum, dtype=w.dtype, device=w.device)


class NumpyBatchNorm2d(_NumpyBatchNorm, nn.BatchNorm2d):
    """``nn.BatchNorm2d`` over the channels of (N, C, H, W), computed by `numpy_ops.norm.BatchNormOp`."""

    def native(self) -> nn.BatchNorm2d:
        w = self.weight
        return nn.BatchNorm2d(self.num_features, self.eps, self.momentum, dtype=w.dtype, device=w.device)


class NumpyLayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` computed by `numpy_ops.norm.LayerNormOp`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_op(LayerNormOp(len(self.normalized_shape), self.eps), x, self.weight, self.bias)

    def native(self) -> nn.LayerNorm:
        w = self.weight
        return nn.LayerNorm(self.normalized_shape, self.eps, dtype=w.dtype, device=w.device)


class NumpyEmbedding(nn.Embedding):
    """``nn.Embedding`` computed by `numpy_ops.embedding.EmbeddingOp` (integer indices in)."""

    def forward(self, indices: torch.Tensor) -> torch.Tensor:
        return apply_op(embedding, indices, self.weight)

    def native(self) -> nn.Embedding:
        w = self.weight
        return nn.Embedding(self.num_embeddings, self.embedding_dim, dtype=w.dtype, device=w.device)


class PositionEmbedding(nn.Module):
    """``x + weight[:T]`` for x (N, T, D): a learned vector per step; ``weight`` (max_len, D)."""

    def __init__(self, max_len: int, dim: int, dtype: torch.dtype | None = None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(max_len, dim, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight[:x.shape[1]]

    def extra_repr(self) -> str:
        return f"max_len={self.weight.shape[0]}, dim={self.weight.shape[1]}"


class NumpyPositionEmbedding(PositionEmbedding):
    """`PositionEmbedding` computed by `numpy_ops.embedding.PositionEmbeddingOp`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_op(position_embedding, x, self.weight)

    def native(self) -> PositionEmbedding:
        w = self.weight
        return PositionEmbedding(w.shape[0], w.shape[1], dtype=w.dtype).to(w.device)


class TorchAttention(nn.MultiheadAttention):
    """Self-attention on (N, T, D) as one tensor in, one out: ``nn.MultiheadAttention(batch_first=True)`` called
    with x as query, key and value, a boolean causal mask when ``causal``, and no weights returned.
    ``forward(x, key_padding_mask=None)``: the optional mask is booleans (N, T), True where a key is padding."""

    def __init__(self, dim: int, num_heads: int, causal: bool = False, dtype: torch.dtype | None = None):
        super().__init__(dim, num_heads, batch_first=True, dtype=dtype)
        self.causal = causal

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        mask = None
        if self.causal:
            T = x.shape[1]
            mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        out = super().forward(x, x, x, key_padding_mask=key_padding_mask, attn_mask=mask, need_weights=False)[0]
        # With batch_first, nn.MultiheadAttention returns a transposed view of a (T, N, D) result, and nn.Dropout
        # draws its mask in its input's memory order: laid out row-major, a dropout after attention draws the mask
        # the NumPy backend draws (lightning_ffnn.rng), so a seed gives the same run on both backends.
        return out.contiguous()

    def extra_repr(self) -> str:
        return f"dim={self.embed_dim}, num_heads={self.num_heads}, causal={self.causal}"


class NumpyAttention(TorchAttention):
    """`TorchAttention`'s parameters (so ``nn.MultiheadAttention``'s names, state dict and init) computed by
    `numpy_ops.attention_fast.AttentionOp` (the fast form of `numpy_ops.attention`'s). `weights(x)` gives the
    attention maps (N, H, T, T) for drawing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.op = AttentionOp(self.num_heads, self.causal)
        self.padded_op = AttentionOp(self.num_heads, self.causal, key_padding=True)

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        params = (self.in_proj_weight, self.in_proj_bias, self.out_proj.weight, self.out_proj.bias)
        if key_padding_mask is None:
            return apply_op(self.op, x, *params)
        return apply_op(self.padded_op, x, *params, key_padding_mask)

    @torch.no_grad()
    def weights(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.op.weights(x.detach().numpy(), self.in_proj_weight.detach().numpy(),
                                                self.in_proj_bias.detach().numpy()))

    def native(self) -> TorchAttention:
        w = self.in_proj_weight
        return TorchAttention(self.embed_dim, self.num_heads, self.causal, dtype=w.dtype).to(w.device)


class Residual(nn.Module):
    """``x + body(x)``, ``body`` an ``nn.Sequential`` (parameters ``body.{j}.{name}``)."""

    def __init__(self, body: nn.Sequential):
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class NumpyResidual(Residual):
    """`Residual` whose sum is `numpy_ops.residual.add` (its body holds NumPy-backed modules)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_op(add, x, self.body(x))

    def native(self) -> Residual:
        return Residual(nn.Sequential(*(native_module(m) for m in self.body)))
