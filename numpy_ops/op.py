"""The one contract every hand-written op follows.

An op is a stateless object (its hyper-parameters, e.g. a leaky ReLU's slope, are attributes)
with two methods:

    out, cache = op.forward(*inputs)
    grads      = op.backward(dout, cache, needs)

* ``forward`` takes NumPy arrays and returns the output array and a tuple of arrays that
  ``backward`` needs (the cache). Arrays in the cache may be the inputs or the output themselves;
  the autograd bridge recognises them by identity and saves the original tensors.
* ``backward`` takes the upstream gradient ``dout`` (same shape as ``out``) and returns one
  gradient per input, in order, with the input's shape and dtype. ``needs`` is an optional tuple
  of booleans, one per input: where it is False the op may skip the work and return None (this is
  how ``ctx.needs_input_grad`` reaches the NumPy code).

Nothing here imports torch; `lightning_ffnn.bridge` turns any Op into a `torch.autograd.Function`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Cache = tuple[np.ndarray, ...]


class Op:
    """Base class: a differentiable function of NumPy arrays. See the module docstring."""

    name: str = "op"
    #: Number of array inputs ``forward`` takes.
    n_inputs: int = 1

    def forward(self, *inputs: np.ndarray) -> tuple[np.ndarray, Cache]:
        raise NotImplementedError

    def backward(
        self, dout: np.ndarray, cache: Cache, needs: tuple[bool, ...] | None = None
    ) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    def __call__(self, *inputs: np.ndarray) -> np.ndarray:
        """Forward only, for code that does not need the gradient."""
        return self.forward(*inputs)[0]

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def wants(needs: tuple[bool, ...] | None, i: int) -> bool:
    """Whether the gradient of input ``i`` is wanted (all are, when ``needs`` is None)."""
    return needs is None or bool(needs[i])


def check_float_array(name: str, a: Any) -> np.ndarray:
    """Return ``a`` as a floating NumPy array, or raise a TypeError naming ``name``."""
    a = np.asarray(a)
    if a.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array (float32 or float64), got dtype {a.dtype}")
    return a
