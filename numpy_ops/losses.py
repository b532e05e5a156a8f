"""Losses, as two-input ops ``(prediction, target) -> scalar``, mean-reduced like PyTorch's defaults.

Each backward returns ``(d prediction, d target)``; the target gradient is None for integer class
labels, which are discrete. Prediction and target must share a dtype (a float32 prediction against a
float64 target is refused at forward, naming both). The loss value is a 0-d array of the
prediction's dtype; ``dout`` is the upstream scalar gradient.
"""

from __future__ import annotations

import numpy as np

from .activations_fast import sigmoid
from .op import Op


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of (N, C) logits, stable for logits of any size (log-sum-exp trick)."""
    # BEGIN SOLUTION softmax_cross_entropy
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    # END SOLUTION


def one_hot(labels: np.ndarray, num_classes: int, dtype=np.float64) -> np.ndarray:
    """(N,) integer labels -> (N, C) one-hot rows."""
    out = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


class SoftmaxCrossEntropyOp(Op):
    """Mean softmax cross-entropy from logits.

    Shapes: ``logits`` (N, C); ``target`` either integer labels (N,) in [0, C) or rows of
    probabilities (N, C) (one-hot, or soft targets). Loss: ``mean_n sum_c -t_nc log softmax(z_n)_c``.
    Backward: ``dz_n = dout * (softmax(z_n) * sum_c t_nc - t_n) / N`` (``softmax - onehot`` when a row
    sums to 1), and for probability targets ``dt = -dout * log softmax(z) / N``.
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
            is_label = True
        else:
            if target.shape != logits.shape:
                raise ValueError(f"softmax_cross_entropy: target shape {target.shape} != logits shape {logits.shape}")
            _same_dtype(self.name, logits, target)
            t, is_label = target, False
        # BEGIN SOLUTION softmax_cross_entropy
        # Where t is 0 the term is 0, even where a logit of -inf makes log p = -inf (0 * -inf would be nan).
        loss = -np.where(t != 0, t * logp, 0).sum() / n
        return np.asarray(loss, dtype=logits.dtype), (logp, t, is_label)
        # END SOLUTION

    def backward(self, dout, cache):
        # BEGIN SOLUTION softmax_cross_entropy
        logp, t, is_label = cache
        scale = dout / logp.shape[0]
        dz = (np.exp(logp) * t.sum(axis=1, keepdims=True) - t) * scale
        dt = None if is_label else -np.where(np.isfinite(logp), logp, 0) * scale
        return dz, dt
        # END SOLUTION


def _same_dtype(name: str, prediction: np.ndarray, target: np.ndarray) -> None:
    if prediction.dtype != target.dtype:
        raise TypeError(f"{name}: the prediction is {prediction.dtype} but the target is {target.dtype}; "
                        "give both the same dtype (e.g. target.astype(prediction.dtype))")


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
        _same_dtype(self.name, pred, target)
        # BEGIN SOLUTION mse
        diff = pred - target
        return np.asarray(np.mean(diff * diff), dtype=pred.dtype), (diff,)
        # END SOLUTION

    def backward(self, dout, cache):
        # BEGIN SOLUTION mse
        (diff,) = cache
        dpred = diff * (2 * dout / diff.size)
        return dpred, -dpred
        # END SOLUTION


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
        _same_dtype(self.name, logits, target)
        z, t = logits, target
        loss = np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))
        return np.asarray(loss, dtype=z.dtype), (z, t)

    def backward(self, dout, cache):
        z, t = cache
        scale = dout / z.size
        return (sigmoid(z) - t) * scale, -z * scale


softmax_cross_entropy = SoftmaxCrossEntropyOp()
mse = MSEOp()
bce_with_logits = BCEWithLogitsOp()

LOSSES: dict[str, Op] = {op.name: op for op in (softmax_cross_entropy, mse, bce_with_logits)}
