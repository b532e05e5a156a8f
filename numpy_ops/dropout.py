"""Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1 - p).

The randomness is kept out of the op. `dropout_mask` draws a mask from a ``numpy.random.Generator``
(values 0 and 1/(1-p), as torch's own dropout multiplies by); the op `dropout` is then the plain product
``out = x * mask`` with its mask as an input, so:

* the mask sits in the cache (it is an input), and backward is ``dx = dout * mask``;
* the same mask can be handed to a native-torch twin (``x * mask``), so gradient checks and golden tests
  compare like with like;
* the same seed gives the same masks, hence the same run.

In evaluation dropout is the identity (no mask, no scaling): the scaling in training keeps each unit's
expected value the same in both modes. `DropoutLayer` is the `numpy_ops.network` layer that does this.
"""

from __future__ import annotations

import numpy as np

from .network import Layer
from .op import Op


def check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p (the probability of zeroing an element) must be in [0, 1], got {p!r}")
    return float(p)


def dropout_mask(rng: np.random.Generator, shape: tuple[int, ...], p: float, dtype=np.float64) -> np.ndarray:
    """Each element 1/(1 - p) with probability 1 - p, else 0 (all zeros for p = 1, as torch)."""
    p = check_p(p)
    dtype = np.dtype(dtype)
    if p == 1.0:
        return np.zeros(shape, dtype)
    keep = rng.random(shape, dtype=np.float32 if dtype == np.float32 else np.float64) >= p
    return keep.astype(dtype) / dtype.type(1.0 - p)


class DropoutOp(Op):
    """``out = x * mask``. Shapes: ``x`` and ``mask`` alike (any) -> ``out``; backward ``dx = dout * mask``,
    and None for the mask (it is not learned)."""

    name = "dropout"
    n_inputs = 2

    def forward(self, x, mask):
        if mask.shape != x.shape or mask.dtype != x.dtype:
            raise ValueError(f"dropout: mask {mask.shape} {mask.dtype} must match the input {x.shape} {x.dtype}")
        # BEGIN SOLUTION dropout
        return x * mask, (mask,)
        # END SOLUTION

    def backward(self, dout, cache):
        # BEGIN SOLUTION dropout
        (mask,) = cache
        return dout * mask, None
        # END SOLUTION


dropout = DropoutOp()


class DropoutLayer(Layer):
    """A `numpy_ops.network.Layer` for dropout: draws a mask from ``rng`` at each training forward (kept in
    ``mask``), and passes its input through unchanged in evaluation mode (``training`` False)."""

    def __init__(self, p: float, rng: np.random.Generator):
        super().__init__(dropout)
        self.p, self.rng = check_p(p), rng
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self._cache = None
            return x
        self.mask = dropout_mask(self.rng, x.shape, self.p, x.dtype)
        out, self._cache = self.op.forward(x, self.mask)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout if self._cache is None else self.op.backward(dout, self._cache)[0]

    def __repr__(self):
        return f"Dropout(p={self.p})"
