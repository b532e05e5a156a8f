"""The affine (fully connected) layer.

Weight layout: ``W`` has shape ``(out_features, in_features)``, as ``torch.nn.Linear`` stores it,
everywhere in this project. The one place where that layout meets the math is here: the layer
computes ``x @ W.T + b``. No other code transposes weights, so a state dict moves between the
NumPy network and ``torch.nn.Linear`` unchanged.
"""

from __future__ import annotations

from .op import Op


class LinearOp(Op):
    """``out = x @ W.T + b``.

    Shapes: ``x`` (N, in), ``W`` (out, in), ``b`` (out,) or None -> ``out`` (N, out).
    Backward: ``dx = dout @ W`` (N, in), ``dW = dout.T @ x`` (out, in), ``db = dout.sum(0)`` (out,).
    As ``nn.Linear``, ``x`` may have more leading axes, (N, T, in) -> (N, T, out) (a per-time-step
    output layer); ``dW`` and ``db`` then sum over all of them.
    """

    name = "linear"
    n_inputs = 3

    def forward(self, x, W, b):
        if x.ndim < 2 or x.shape[-1] != W.shape[1]:
            raise ValueError(
                f"linear: input of shape {x.shape} does not fit a weight of shape {W.shape}; "
                f"expected (batch, {W.shape[1]})"
            )
        if x.dtype != W.dtype:
            raise TypeError(f"linear: input dtype {x.dtype} differs from weight dtype {W.dtype}")
        # BEGIN SOLUTION linear
        out = x @ W.T if b is None else x @ W.T + b
        return out, (x, W)
        # END SOLUTION

    def backward(self, dout, cache):
        x, W = cache
        # BEGIN SOLUTION linear
        if x.ndim > 2:  # fold the leading axes into one batch axis
            x, dout = x.reshape(-1, x.shape[-1]), dout.reshape(-1, dout.shape[-1])
            return (dout @ W).reshape(cache[0].shape), dout.T @ x, dout.sum(axis=0)
        dx = dout @ W
        dW = dout.T @ x
        db = dout.sum(axis=0)
        return dx, dW, db
        # END SOLUTION


linear = LinearOp()
