"""The one contract every hand-written op follows.

An op is a stateless object (its hyper-parameters, e.g. a leaky ReLU's slope, are attributes)
with two methods:

    out, cache = op.forward(*inputs)
    grads      = op.backward(dout, cache)

* ``forward`` takes NumPy arrays and returns the output array and a tuple of arrays that
  ``backward`` needs (the cache). Arrays in the cache may be the inputs or the output themselves;
  the autograd bridge recognises them by identity and saves the original tensors.
* ``backward`` takes the upstream gradient ``dout`` (same shape as ``out``) and returns one
  gradient per input, in order, with the input's shape and dtype; None for an input that has no
  gradient (integer class labels, an absent bias). It computes every gradient: the caller throws
  away what it does not need (the bridge does, for what autograd did not ask for).

Nothing here imports torch; `lightning_ffnn.bridge` turns any Op into a `torch.autograd.Function`.
"""

from __future__ import annotations

import numpy as np

Cache = tuple[np.ndarray, ...]


class Op:
    """Base class: a differentiable function of NumPy arrays. See the module docstring."""

    name: str = "op"
    #: Number of array inputs ``forward`` takes.
    n_inputs: int = 1

    def forward(self, *inputs: np.ndarray) -> tuple[np.ndarray, Cache]:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, cache: Cache) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    def __call__(self, *inputs: np.ndarray) -> np.ndarray:
        """Forward only, for code that does not need the gradient."""
        return self.forward(*inputs)[0]

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

