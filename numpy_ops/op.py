"""The one contract every hand-written op follows.

An op is a stateless object (its hyper-parameters, e.g. a leaky ReLU's slope, are attributes)
with two methods:

    out, cache = op.forward(*inputs)
    grads      = op.backward(dout, cache)

* ``forward`` takes NumPy arrays and returns the output array and the cache: what the backward formula
  reads, as a tuple, in the order the formula reads it. Entries are arrays (often the inputs or the output
  themselves: linear caches ``(x, W)`` because ``dx = dout @ W`` and ``dW = dout.T @ x``), tuples of arrays
  (one per recurrent layer), or small values (a shape, a flag).
* ``backward`` takes the upstream gradient ``dout`` (same shape as ``out``) and returns one gradient per
  input, in order, with the input's shape and dtype: the chain rule, ``dL/dinput = dL/dout * dout/dinput``.
  An input that has no gradient gets None (integer class labels, a dropout mask). It computes every
  gradient; a caller throws away what it does not need (the gradient of a bias it did not give).

Nothing here imports torch.
"""

from __future__ import annotations

import numpy as np

Cache = tuple  # of arrays, tuples of arrays, small values


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

