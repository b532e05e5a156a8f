"""Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1 - p).

The randomness is kept out of the op. `dropout_mask` draws a mask from a ``numpy.random.Generator``
(values 0 and 1/(1-p), as torch's own dropout multiplies by); the op `dropout` is then the plain product
``out = x * mask`` with its mask as an input, so:

* the mask sits in the cache (it is an input), and backward is ``dx = dout * mask``;
* the same mask can be handed to a native-torch twin (``x * mask``), so gradient checks and golden tests
  compare like with like;
* the same seed gives the same masks, hence the same run.

In evaluation dropout is the identity (no mask, no scaling): the scaling in training keeps each unit's
expected value the same in both modes. `numpy_ops.network.DropoutLayer` is the layer that does this.
"""

from __future__ import annotations

import numpy as np

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
