"""The table of ops: each hand-written op once, with float64 inputs away from its kinks and its native PyTorch twin
(a function of the same tensors). `tests/test_ops.py` runs every row through central differences (NumPy), the
bridge under ``torch.autograd.gradcheck`` and the comparison with the twin (output and every gradient).

A new op is one `OpCase` here (or a few, for settings that take different code paths).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from helpers import random_away_from_kinks

from lightning_ffnn.layers import torch_activation
from numpy_ops import activations, conv, layers, losses, pooling, reshape, rnn
from numpy_ops.dropout import dropout, dropout_mask
from numpy_ops.gradcheck import rel_error, scaled_error
from numpy_ops.op import Op


@dataclass(frozen=True)
class OpCase:
    """One row: ``op`` on ``inputs(rng)`` (float64 arrays; integer labels stay integers) equals ``twin`` on the
    same tensors. ``constant``: float inputs that get no gradient (dropout's mask). ``error``: how central
    differences are compared (`scaled_error` where gradient entries are near-cancelling sums)."""

    id: str
    op: Op
    inputs: Callable[[np.random.Generator], tuple[np.ndarray, ...]]
    twin: Callable[..., torch.Tensor]
    constant: tuple[int, ...] = ()
    error: Callable[[np.ndarray, np.ndarray], float] = field(default=rel_error)
    tol: float = 1e-7

    def differentiable(self, arrays) -> list[int]:
        return [i for i, a in enumerate(arrays) if a.dtype.kind == "f" and i not in self.constant]


def _rows(*shape):
    return lambda rng: (random_away_from_kinks(rng, shape),)


def _distinct(*shape):
    """A permutation of well-separated values: max pooling has no ties, hence no kink, there."""
    return lambda rng: (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1,)


def _rnn_twin(x, U, W, b_ih, b_hh, h0):
    hs, h = [], h0
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ U.T + b_ih + h @ W.T + b_hh)
        hs.append(h)
    return torch.stack(hs, dim=1)


ACTIVATION_SETTINGS = [("identity", {}), ("sigmoid", {}), ("tanh", {}), ("relu", {}), ("leaky_relu", {}),
                       ("leaky_relu", {"negative_slope": 0.3}), ("elu", {}), ("elu", {"alpha": 2.0}), ("softplus", {}),
                       ("swish", {}), ("swish", {"beta": 0.5}), ("gelu", {}), ("gelu_tanh", {})]
POOL_SETTINGS = [(2, None, 0), (3, 1, 1), (3, 2, 1), (2, 1, 0)]  # (kernel, stride, padding): overlapping or not
CONV_SETTINGS = [(2, 3, 7, 6, 4, 3, 1, 1), (1, 2, 8, 9, 3, 3, 2, 0), (2, 2, 7, 7, 2, 5, 1, "same"),
                 (2, 2, 6, 8, 3, 2, 2, 1)]  # (N, C, H, W, F, k, stride, padding)

OPS: list[OpCase] = [
    OpCase("linear", layers.linear, lambda rng: (rng.standard_normal((5, 4)), rng.standard_normal((3, 4)),
                                                 rng.standard_normal(3)), F.linear),
    OpCase("linear_batch1", layers.linear, lambda rng: (rng.standard_normal((1, 6)), rng.standard_normal((2, 6)),
                                                        rng.standard_normal(2)), F.linear),
    OpCase("linear_per_time_step", layers.linear, lambda rng: (rng.standard_normal((2, 3, 4)),
                                                               rng.standard_normal((5, 4)), rng.standard_normal(5)),
           F.linear),
    *(OpCase(f"{name}{kwargs or ''}", activations.get_activation(name, **kwargs), _rows(4, 3),
             torch_activation(name, **kwargs)) for name, kwargs in ACTIVATION_SETTINGS),
    OpCase("flatten", reshape.flatten, lambda rng: (rng.standard_normal((2, 3, 4, 2)),),
           lambda x: x.reshape(len(x), -1)),
    OpCase("softmax_cross_entropy_labels", losses.softmax_cross_entropy,
           lambda rng: (rng.standard_normal((6, 3)), rng.integers(0, 3, 6)), F.cross_entropy),
    OpCase("softmax_cross_entropy_soft", losses.softmax_cross_entropy,
           lambda rng: (rng.standard_normal((5, 4)), rng.dirichlet(np.ones(4), 5)), F.cross_entropy),
    OpCase("mse", losses.mse, lambda rng: (rng.standard_normal((4, 3)) * 2, rng.standard_normal((4, 3))), F.mse_loss),
    OpCase("bce_with_logits", losses.bce_with_logits,
           lambda rng: (rng.standard_normal((4, 3)) * 2, rng.uniform(0.05, 0.95, (4, 3))),
           F.binary_cross_entropy_with_logits),
    *(OpCase(f"conv2d_C{c}H{h}W{w}k{k}s{s}p{p}", conv.conv2d(s, p),
             lambda rng, n=n, c=c, h=h, w=w, f=f, k=k: (rng.standard_normal((n, c, h, w)),
                                                        rng.standard_normal((f, c, k, k)), rng.standard_normal(f)),
             lambda x, W, b, s=s, p=p: F.conv2d(x, W, b, stride=s, padding=p), error=scaled_error)
      for n, c, h, w, f, k, s, p in CONV_SETTINGS),
    *(OpCase(f"max_pool2d_k{k}s{s}p{p}", pooling.max_pool2d(k, s, p), _distinct(2, 3, 7, 6),
             lambda x, k=k, s=s, p=p: F.max_pool2d(x, k, s, p), error=scaled_error) for k, s, p in POOL_SETTINGS),
    *(OpCase(f"avg_pool2d_k{k}s{s}p{p}", pooling.avg_pool2d(k, s, p), _distinct(2, 3, 7, 6),
             lambda x, k=k, s=s, p=p: F.avg_pool2d(x, k, s, p), error=scaled_error) for k, s, p in POOL_SETTINGS),
    OpCase("dropout", dropout,
           lambda rng: (rng.standard_normal((4, 6)), dropout_mask(rng, (4, 6), 0.4, np.float64)),
           lambda x, mask: x * mask, constant=(1,)),
    OpCase("rnn_tanh", rnn.RNNOp("tanh"),
           lambda rng: (rng.standard_normal((3, 5, 4)), rng.standard_normal((2, 4)) * 0.5,
                        rng.standard_normal((2, 2)) * 0.5, rng.standard_normal(2) * 0.5,
                        rng.standard_normal(2) * 0.5, rng.standard_normal((3, 2)) * 0.5), _rnn_twin),
]
