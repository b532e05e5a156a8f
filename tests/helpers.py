"""Helpers the gradient tests share: inputs away from kinks, float64 gradcheck with its own report.

Finite differences are meaningless across a kink (ReLU, leaky ReLU and ELU at 0; max-pool ties), so
gradient tests move every value at least `KINK_MARGIN` away from 0, keeping its sign.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.autograd.gradcheck import GradcheckError

from numpy_ops.gradcheck import check_op, scaled_error

#: Distance from 0 kept by `away_from_kinks`: far wider than any finite-difference step used here (<= 1e-5).
KINK_MARGIN = 0.1


def away_from_kinks(x):
    """``x`` (NumPy array or tensor) with every value pushed to ``|x| + KINK_MARGIN``, sign kept (0 goes to +)."""
    if isinstance(x, torch.Tensor):
        return x + KINK_MARGIN * torch.where(x >= 0, 1.0, -1.0).to(x.dtype)
    return x + KINK_MARGIN * np.where(x >= 0, 1.0, -1.0).astype(x.dtype)


def random_away_from_kinks(rng: np.random.Generator, shape) -> np.ndarray:
    """float64 values with |x| in [KINK_MARGIN, 3], random signs."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(KINK_MARGIN, 3.0, size=shape)


def assert_gradcheck(fn, inputs, what: str) -> None:
    """``torch.autograd.gradcheck`` in float64; a failure is an AssertionError that starts with ``what`` and goes
    on with gradcheck's own report (numerical vs analytical Jacobian)."""
    try:
        torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-8, rtol=1e-6, raise_exception=True)
    except GradcheckError as exc:
        raise AssertionError(f"{what}: {exc}") from None


def scaled_errors(op, inputs, wrt=None, seed=0) -> list[float]:
    """Per input of a `numpy_ops` op: max |analytic - central difference| / max |central difference| in float64
    (`numpy_ops.gradcheck.scaled_error`: a pooling window's or a convolution's gradient can be a near-cancelling
    sum, whose elementwise relative error is only the differences' rounding)."""
    return check_op(op, [np.array(a, dtype=np.float64) for a in inputs], wrt, seed, error=scaled_error)
