"""Reshapes between layers: flatten (N, C, H, W) -> (N, C*H*W).

A reshape moves no numbers, so its backward is the inverse reshape of ``dout``.
"""

from __future__ import annotations

import numpy as np

from .op import Op


class FlattenOp(Op):
    """``out = x.reshape(N, -1)``. Shapes: ``x`` (N, ...) -> ``out`` (N, prod(...)); ``dx`` has ``x``'s shape."""

    name = "flatten"
    n_inputs = 1

    def forward(self, x):
        # The cache holds arrays only (the bridge saves them as tensors): an empty array of shape (0, ...) carries
        # the per-example shape that backward restores.
        return x.reshape(x.shape[0], -1), (np.empty((0, *x.shape[1:]), dtype=np.bool_),)

    def backward(self, dout, cache):
        (shape_holder,) = cache
        return (dout.reshape(len(dout), *shape_holder.shape[1:]),)


flatten = FlattenOp()
