"""Residual connections: ``out = x + body(x)``, the skip path of a Transformer block (or a ResNet).

The sum's backward hands the upstream gradient to both terms unchanged: ``dx = dout + dbody_in``, where
``dbody_in`` is what the body's own backward returns for ``dout``. The gradient reaches x along the skip
path even where the body's gradient is small, which is why deep stacks of such blocks train.

`add` is the op (two inputs, used by the torch bridge too); `numpy_ops.network.ResidualLayer` is the NumPy
network's layer holding the body, a `Sequential` of its own.
"""

from __future__ import annotations

from .op import Op


class AddOp(Op):
    """``out = a + b`` for two arrays of the same shape; backward ``(dout, dout)``."""

    name = "add"
    n_inputs = 2

    def forward(self, a, b):
        if a.shape != b.shape:
            raise ValueError(f"add: the two terms must have the same shape, got {a.shape} and {b.shape}")
        return a + b, ()

    def backward(self, dout, cache):
        return dout, dout


add = AddOp()
