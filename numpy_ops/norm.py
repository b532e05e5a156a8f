"""Batch normalization and layer normalization, forward and backward.

Both normalise a group of numbers to mean 0 and variance 1, then scale and shift them by learned
``weight`` (gamma) and ``bias`` (beta)::

    mu = mean(x)        var = mean((x - mu)^2)        (the biased variance, as torch normalises with)
    xhat = (x - mu) / sqrt(var + eps)                 out = weight * xhat + bias

They differ in which numbers form a group. Batch norm: one feature (or channel) over the whole batch
(and the image's positions), so every example's output depends on every other example's input. Layer
norm: one example's last dimension(s), so examples stay independent.

Backward of the normalisation over a group of m numbers, with ``g = dout * weight`` (dL/dxhat)::

    dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)

``mean(g)`` is the path through mu, ``xhat * mean(g * xhat)`` the path through var: forgetting the first
is the classic mistake. ``dweight = sum(dout * xhat)``, ``dbias = sum(dout)`` over every axis but the
parameter's own.

Batch norm in evaluation uses running estimates instead of the batch's statistics, updated by each
training forward as ``torch.nn.BatchNorm`` does: ``running = (1 - momentum) * running + momentum * batch``,
with the *unbiased* variance (times m / (m - 1)) in the running variance. The update writes into the
running arrays given, as ``torch.nn.functional.batch_norm`` does; the output never depends on them in
training. In evaluation the op is affine in x: ``dx = dout * weight / sqrt(running_var + eps)``.
"""

from __future__ import annotations

import numpy as np

from .op import Op


def _check_affine(name: str, x: np.ndarray, weight: np.ndarray, bias: np.ndarray, shape: tuple[int, ...]) -> None:
    if weight.shape != shape or bias.shape != shape:
        raise ValueError(f"{name}: input of shape {x.shape} needs weight and bias of shape {shape}, "
                         f"got {weight.shape} and {bias.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"{name}: input dtype {x.dtype} differs from weight dtype {weight.dtype}")


def _normalize_backward(g: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """dL/dx of xhat = (x - mean) * inv_std over ``axes``, from g = dL/dxhat (the formula above)."""
    # BEGIN SOLUTION batch_norm layer_norm
    return (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)) * inv_std
    # END SOLUTION


class BatchNormOp(Op):
    """``forward(x, weight, bias, running_mean, running_var)`` -> out, as ``F.batch_norm``.

    Shapes: ``x`` (N, C) or (N, C, H, W); ``weight``, ``bias``, ``running_mean``, ``running_var`` (C,). The
    statistics are per channel C, over N (and H, W). ``training=True``: normalise by the batch's mean and
    biased variance and update the running arrays in place (unbiased variance, ``momentum``);
    ``training=False``: normalise by the running arrays. ``backward`` returns ``(dx, dweight, dbias, None, None)``
    (the running statistics are not learned).
    """

    name = "batch_norm"
    n_inputs = 5

    def __init__(self, training: bool = True, momentum: float = 0.1, eps: float = 1e-5):
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"batch_norm: momentum must be in [0, 1], got {momentum!r}")
        if not eps > 0:
            raise ValueError(f"batch_norm: eps must be > 0, got {eps!r}")
        self.training, self.momentum, self.eps = bool(training), float(momentum), float(eps)

    def extra_repr(self) -> str:
        return f"training={self.training}, momentum={self.momentum}, eps={self.eps}"

    @staticmethod
    def _axes(x: np.ndarray) -> tuple[int, ...]:
        if x.ndim not in (2, 4):
            raise ValueError(f"batch_norm: input must be (batch, features) or (batch, channels, height, width), "
                             f"got shape {x.shape}")
        return (0,) if x.ndim == 2 else (0, 2, 3)

    def _per_channel(self, a: np.ndarray, x: np.ndarray) -> np.ndarray:
        """A (C,) array shaped to broadcast against x: (1, C) or (1, C, 1, 1)."""
        return a.reshape(1, -1, *([1] * (x.ndim - 2)))

    def forward(self, x, weight, bias, running_mean, running_var):
        axes = self._axes(x)
        shape = (x.shape[1],)
        _check_affine("batch_norm", x, weight, bias, shape)
        if running_mean.shape != shape or running_var.shape != shape:
            raise ValueError(f"batch_norm: running_mean and running_var must be {shape}, "
                             f"got {running_mean.shape} and {running_var.shape}")
        if self.training:
            m = x.size // x.shape[1]
            if m < 2:
                raise ValueError(f"batch_norm: training needs more than one value per channel, got input {x.shape}")
            # BEGIN SOLUTION batch_norm
            mean = x.mean(axis=axes, keepdims=True)
            var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
            running_mean *= 1 - self.momentum
            running_mean += self.momentum * mean.reshape(shape)
            running_var *= 1 - self.momentum
            running_var += self.momentum * var.reshape(shape) * (m / (m - 1))
            # END SOLUTION
        else:
            # BEGIN SOLUTION batch_norm_eval
            mean, var = self._per_channel(running_mean, x), self._per_channel(running_var, x)
            # END SOLUTION
        # BEGIN SOLUTION batch_norm batch_norm_eval
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mean) * inv_std
        out = xhat * self._per_channel(weight, x) + self._per_channel(bias, x)
        # END SOLUTION
        return out, (xhat, inv_std, weight)

    def backward(self, dout, cache):
        xhat, inv_std, weight = cache
        axes = (0,) if xhat.ndim == 2 else (0, 2, 3)
        # BEGIN SOLUTION batch_norm batch_norm_eval
        g = dout * self._per_channel(weight, xhat)
        if self.training:
            dx = _normalize_backward(g, xhat, inv_std, axes)
        else:
            dx = g * inv_std
        return dx, (dout * xhat).sum(axis=axes), dout.sum(axis=axes), None, None
        # END SOLUTION


class LayerNormOp(Op):
    """``forward(x, weight, bias)`` -> out: each example normalised over its last ``ndim`` axes, as
    ``nn.LayerNorm(x.shape[-ndim:])``.

    Shapes: ``x`` (..., *S) with S the last ``ndim`` axes; ``weight``, ``bias`` S. ``backward`` returns
    ``(dx, dweight, dbias)``; the parameter gradients sum over the leading axes.
    """

    name = "layer_norm"
    n_inputs = 3

    def __init__(self, ndim: int = 1, eps: float = 1e-5):
        if int(ndim) < 1:
            raise ValueError(f"layer_norm: ndim (how many last axes to normalise over) must be >= 1, got {ndim!r}")
        if not eps > 0:
            raise ValueError(f"layer_norm: eps must be > 0, got {eps!r}")
        self.ndim, self.eps = int(ndim), float(eps)

    def extra_repr(self) -> str:
        return f"ndim={self.ndim}, eps={self.eps}"

    def forward(self, x, weight, bias):
        if x.ndim <= self.ndim:
            raise ValueError(f"layer_norm: input of shape {x.shape} needs a batch axis before the "
                             f"{self.ndim} normalised one(s)")
        _check_affine("layer_norm", x, weight, bias, x.shape[-self.ndim:])
        axes = tuple(range(-self.ndim, 0))
        # BEGIN SOLUTION layer_norm
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mean) * inv_std
        return xhat * weight + bias, (xhat, inv_std, weight)
        # END SOLUTION

    def backward(self, dout, cache):
        xhat, inv_std, weight = cache
        axes = tuple(range(-self.ndim, 0))
        lead = tuple(range(xhat.ndim - self.ndim))
        # BEGIN SOLUTION layer_norm
        dx = _normalize_backward(dout * weight, xhat, inv_std, axes)
        return dx, (dout * xhat).sum(axis=lead), dout.sum(axis=lead)
        # END SOLUTION


layer_norm = LayerNormOp()
