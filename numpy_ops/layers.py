"""The affine (fully connected) layer.

Weight layout: ``W`` has shape ``(out_features, in_features)``, as ``torch.nn.Linear`` stores it,
everywhere in this project. The one place where that layout meets the math is here: the layer
computes ``x @ W.T + b``. No other code transposes weights, so a state dict moves between the
NumPy network and ``torch.nn.Linear`` unchanged.
"""

from __future__ import annotations

from .op import Op, wants


class LinearOp(Op):
    """``out = x @ W.T + b``.

    Shapes: ``x`` (N, in), ``W`` (out, in), ``b`` (out,) or None -> ``out`` (N, out).
    Backward: ``dx = dout @ W`` (N, in), ``dW = dout.T @ x`` (out, in), ``db = dout.sum(0)`` (out,).
    """

    name = "linear"
    n_inputs = 3

    def forward(self, x, W, b):
        if x.ndim != 2 or x.shape[1] != W.shape[1]:
            raise ValueError(
                f"linear: input of shape {x.shape} does not fit a weight of shape {W.shape}; "
                f"expected (batch, {W.shape[1]})"
            )
        if x.dtype != W.dtype:
            raise TypeError(f"linear: input dtype {x.dtype} differs from weight dtype {W.dtype}")
        out = x @ W.T
        if b is not None:
            out += b
        return out, (x, W)

    def backward(self, dout, cache, needs=None):
        x, W = cache
        dx = dout @ W if wants(needs, 0) else None
        dW = dout.T @ x if wants(needs, 1) else None
        db = dout.sum(axis=0) if wants(needs, 2) else None
        return dx, dW, db


linear = LinearOp()
