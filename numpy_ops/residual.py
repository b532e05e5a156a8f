"""Residual connections: ``out = x + body(x)``, the skip path of a Transformer block (or a ResNet).

The sum's backward hands the upstream gradient to both terms unchanged: ``dx = dout + dbody_in``, where
``dbody_in`` is what the body's own backward returns for ``dout``. The gradient reaches x along the skip
path even where the body's gradient is small, which is why deep stacks of such blocks train.

`add` is the op (two inputs, used by the torch bridge too); `ResidualLayer` is the `numpy_ops.network` layer
holding the body, a `Sequential` of its own, whose parameters it exposes as ``body.{j}.{name}`` (the keys of a
torch ``Residual`` module with a ``body`` ``nn.Sequential``).
"""

from __future__ import annotations

import numpy as np

from .network import Layer, Sequential
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


class ResidualLayer(Layer):
    """``x + body(x)`` in the NumPy network. ``params``, ``grads`` and ``buffers`` are the body's, by
    ``body.{j}.{name}`` (the same arrays, so optimizers and state dicts reach them)."""

    def __init__(self, body: Sequential):
        super().__init__(add)
        self.body = body
        self.params = {f"body.{k}": p for k, p in body.named_parameters()}
        self.grads = dict(zip(self.params, body.gradients()))
        self.buffers = {f"body.{k}": b for k, b in body.named_buffers()}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.op.forward(x, self.body.forward(x))[0]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        d_skip, d_body = self.op.backward(dout, ())
        return d_skip + self.body.backward(d_body)

    def train(self, mode: bool = True) -> None:
        self.training = mode
        self.body.train(mode)

    def __repr__(self):
        inner = "\n".join(f"    ({j}): {layer!r}" for j, layer in enumerate(self.body.layers))
        return f"Residual(\n{inner}\n  )"
