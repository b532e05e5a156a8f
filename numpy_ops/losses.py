"""Losses, as two-input ops ``(prediction, target) -> scalar``, mean-reduced like PyTorch's defaults.

Each backward returns ``(d prediction, d target)``; the target gradient is computed only when
asked for (``needs[1]``), which the classification loss never supports since labels are discrete.
The loss value is a 0-d array of the prediction's dtype; ``dout`` is the upstream scalar gradient.
"""

from __future__ import annotations

import numpy as np

from .activations import _sigmoid
from .op import Op, wants


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of (N, C) logits, stable for logits of any size (log-sum-exp trick)."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def one_hot(labels: np.ndarray, num_classes: int, dtype=np.float64) -> np.ndarray:
    """(N,) integer labels -> (N, C) one-hot rows."""
    out = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


class SoftmaxCrossEntropyOp(Op):
    """Mean softmax cross-entropy from logits.

    Shapes: ``logits`` (N, C); ``target`` either integer labels (N,) in [0, C) or one-hot /
    probability rows (N, C). Loss: ``mean_n( logsumexp(z_n) - sum_c t_nc z_nc )``.
    Backward: ``dlogits = dout * (softmax(z) - onehot) / N``.
    """

    name = "softmax_cross_entropy"
    n_inputs = 2

    def forward(self, logits, target):
        n, c = logits.shape
        logp = log_softmax(logits)
        if target.ndim == 1:
            if target.dtype.kind not in "iu":
                raise TypeError(f"softmax_cross_entropy: integer labels expected, got dtype {target.dtype}")
            if target.size and (target.min() < 0 or target.max() >= c):
                raise ValueError(f"softmax_cross_entropy: labels must lie in [0, {c}), got {target.min()}..{target.max()}")
            t = one_hot(target, c, logits.dtype)
        else:
            if target.shape != logits.shape:
                raise ValueError(f"softmax_cross_entropy: target shape {target.shape} != logits shape {logits.shape}")
            t = target.astype(logits.dtype, copy=False)
        loss = -(t * logp).sum() / n
        return np.asarray(loss, dtype=logits.dtype), (np.exp(logp), t)

    def backward(self, dout, cache, needs=None):
        probs, t = cache
        if needs is not None and len(needs) > 1 and needs[1]:
            raise NotImplementedError("softmax_cross_entropy: no gradient with respect to the target")
        scale = dout / probs.shape[0]
        return (probs - t) * scale, None


class MSEOp(Op):
    """Mean squared error over all elements: ``mean((pred - target)^2)``.

    Shapes: ``pred`` and ``target`` the same shape (any). Backward: ``dpred = dout * 2 (pred - target) / numel``,
    ``dtarget = -dpred``.
    """

    name = "mse"
    n_inputs = 2

    def forward(self, pred, target):
        if pred.shape != target.shape:
            raise ValueError(f"mse: prediction shape {pred.shape} != target shape {target.shape}")
        diff = pred - target
        return np.asarray(np.mean(diff * diff), dtype=pred.dtype), (diff,)

    def backward(self, dout, cache, needs=None):
        (diff,) = cache
        dpred = diff * (2 * dout / diff.size)
        return (dpred if wants(needs, 0) else None), (-dpred if wants(needs, 1) else None)


class BCEWithLogitsOp(Op):
    """Mean binary cross-entropy from logits: ``mean( max(z,0) - z t + log(1 + e^-|z|) )``.

    Shapes: ``logits`` and ``target`` (probabilities in [0, 1]) the same shape.
    Backward: ``dz = dout * (sigmoid(z) - t) / numel``, ``dt = -dout * z / numel``.
    """

    name = "bce_with_logits"
    n_inputs = 2

    def forward(self, logits, target):
        if logits.shape != target.shape:
            raise ValueError(f"bce_with_logits: logits shape {logits.shape} != target shape {target.shape}")
        z, t = logits, target
        loss = np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))
        return np.asarray(loss, dtype=z.dtype), (z, t)

    def backward(self, dout, cache, needs=None):
        z, t = cache
        scale = dout / z.size
        dz = (_sigmoid(z) - t) * scale if wants(needs, 0) else None
        dt = -z * scale if wants(needs, 1) else None
        return dz, dt


softmax_cross_entropy = SoftmaxCrossEntropyOp()
mse = MSEOp()
bce_with_logits = BCEWithLogitsOp()

LOSSES: dict[str, Op] = {op.name: op for op in (softmax_cross_entropy, mse, bce_with_logits)}
