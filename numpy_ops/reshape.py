"""Reshapes between layers: flatten (N, C, H, W) -> (N, C*H*W).

A reshape moves no numbers, so its backward is the inverse reshape of ``dout``.
"""

from __future__ import annotations

from .op import Op


class FlattenOp(Op):
    """``out = x.reshape(N, -1)``. Shapes: ``x`` (N, ...) -> ``out`` (N, prod(...)); ``dx`` has ``x``'s shape."""

    name = "flatten"
    n_inputs = 1

    def forward(self, x):
        return x.reshape(x.shape[0], -1), (x.shape,)

    def backward(self, dout, cache):
        (x_shape,) = cache
        return (dout.reshape(x_shape),)


flatten = FlattenOp()
