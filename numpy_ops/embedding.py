"""Embeddings: a table lookup by integer index, and learned position vectors added to a sequence.

``embedding``: ``out = weight[indices]``. Each output row is a copy of one row of the table, so the
gradient of a table row is the sum of the upstream gradients of every position that looked it up; rows
no index used get zero. Indices are integers: they have no gradient (None). ``np.add.at`` does the
scatter-add (a plain ``dW[indices] += dout`` would count a row used twice only once).

``position_embedding``: ``out[n, t] = x[n, t] + weight[t]`` for a sequence of T <= max_len steps: every
example gets the same vector at step t, so ``dweight[t] = sum_n dout[n, t]`` (zero for the steps beyond T)
and ``dx = dout``.
"""

from __future__ import annotations

import numpy as np

from .op import Op


class EmbeddingOp(Op):
    """``forward(indices, weight)`` -> ``weight[indices]``, as ``nn.Embedding``.

    Shapes: ``indices`` any shape S of integers in [0, V); ``weight`` (V, D) -> out (*S, D). ``backward``
    returns ``(None, dweight)`` with dweight (V, D)."""

    name = "embedding"
    n_inputs = 2

    def forward(self, indices, weight):
        if indices.dtype.kind not in "iu":
            raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype} (serve the data as "
                            "class indices, not one-hot rows)")
        if weight.ndim != 2:
            raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got shape {weight.shape}")
        if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
            raise IndexError(f"embedding: indices must lie in [0, {weight.shape[0]}), got values from "
                             f"{indices.min()} to {indices.max()}")
        # The cache holds the indices and a zero-size stand-in carrying the table's shape and dtype.
        # BEGIN SOLUTION embedding
        return weight[indices], (indices, np.empty((weight.shape[0], 0), weight.dtype))
        # END SOLUTION

    def backward(self, dout, cache):
        indices, table = cache
        # BEGIN SOLUTION embedding
        dweight = np.zeros((table.shape[0], dout.shape[-1]), dtype=dout.dtype)
        np.add.at(dweight, indices.reshape(-1), dout.reshape(-1, dout.shape[-1]))
        return None, dweight
        # END SOLUTION


class PositionEmbeddingOp(Op):
    """``forward(x, weight)`` -> ``x + weight[:T]``: a learned vector per time step.

    Shapes: ``x`` (N, T, D); ``weight`` (max_len, D) with T <= max_len -> out (N, T, D). ``backward`` returns
    ``(dout, dweight)``, dweight (max_len, D) with rows T and later zero."""

    name = "position_embedding"
    n_inputs = 2

    def forward(self, x, weight):
        if x.ndim != 3 or weight.ndim != 2 or x.shape[2] != weight.shape[1]:
            raise ValueError(f"position_embedding: input (batch, time, features) {x.shape} does not fit a table of "
                             f"shape {weight.shape} (max_len, features)")
        if x.shape[1] > weight.shape[0]:
            raise ValueError(f"position_embedding: {x.shape[1]} time steps, but the table has {weight.shape[0]}")
        if x.dtype != weight.dtype:
            raise TypeError(f"position_embedding: input dtype {x.dtype} differs from weight dtype {weight.dtype}")
        return x + weight[:x.shape[1]], (np.empty((weight.shape[0], 0), weight.dtype),)

    def backward(self, dout, cache):
        (table,) = cache
        dweight = np.zeros((table.shape[0], dout.shape[2]), dtype=dout.dtype)
        dweight[:dout.shape[1]] = dout.sum(axis=0)
        return dout, dweight


embedding = EmbeddingOp()
position_embedding = PositionEmbeddingOp()
