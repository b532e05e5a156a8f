"""NumPy-only gradient checking by central differences.

``numerical_gradient(f, x)`` perturbs each element of ``x`` by +-h and returns
``(f(x + h e_i) - f(x - h e_i)) / 2h``; ``rel_error`` compares two gradients the way CS231n does,
``max |a - b| / max(|a| + |b|, tiny)``. In float64 with h = 1e-5 a correct backward gives
relative errors around 1e-10; above 1e-7 something is wrong (or the point sits on a kink).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .op import Op


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-5,
                       at: np.ndarray | None = None) -> np.ndarray:
    """d f() / d x by central differences; ``f`` reads ``x`` (modified in place and restored). ``at``: only at
    these flat indices (a sparse check), NaN elsewhere."""
    grad = np.zeros_like(x, dtype=np.float64) if at is None else np.full(x.shape, np.nan)
    where = np.ndindex(x.shape) if at is None else (np.unravel_index(int(k), x.shape) for k in at)
    for i in where:
        old = x[i].copy()
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest elementwise relative error between two arrays (0 when both are zero)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    denom = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(np.abs(a - b) / denom)) if a.size else 0.0


def scaled_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max |b|: the error against the size of the gradient ``b`` as a whole. Use it where entries
    can be near-cancelling sums (pooling windows, a network's first layer): there the elementwise ratio of
    `rel_error` measures only the central differences' own rounding (~1e-11 absolute)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)) if a.size else 0.0


def check_op(op: Op, inputs: Sequence[np.ndarray], wrt: Sequence[int] | None = None, seed: int = 0,
             h: float = 1e-5, error: Callable[[np.ndarray, np.ndarray], float] = rel_error) -> list[float]:
    """``error(analytic, numeric)`` of ``op.backward`` against central differences, for each input in ``wrt``
    (`rel_error` by default; `scaled_error` for gradients with near-cancelling entries).

    Uses the scalar ``L = sum(forward(*inputs) * r)`` with a fixed random ``r``, so every output
    element gets a distinct upstream gradient. Inputs must be float64 and away from kinks."""
    inputs = [np.array(a, copy=True) for a in inputs]
    wrt = range(len(inputs)) if wrt is None else wrt
    out, cache = op.forward(*inputs)
    r = np.random.default_rng(seed).standard_normal(out.shape)
    analytic = op.backward(r, cache)

    def scalar() -> float:
        return float(np.sum(op.forward(*inputs)[0] * r))

    return [error(analytic[i], numerical_gradient(scalar, inputs[i], h)) for i in wrt]
