"""Polynomial curve fitting by least squares and ridge regression (Bishop, PRML section 1.1).

The model is ``y(x, w) = w_0 + w_1 x + ... + w_M x^M = Phi(x) @ w`` with the design matrix
``Phi[n, j] = x_n ** j`` of shape (N, M + 1). With Bishop's error function

    E(w) = 1/2 sum_n (y(x_n, w) - t_n)^2 + lambda/2 ||w||^2

setting the gradient ``Phi^T (Phi w - t) + lambda w`` to zero gives the normal equations

    (Phi^T Phi + lambda I) w = Phi^T t.

For lambda = 0 and M = 9 on ten points, ``Phi^T Phi`` is numerically singular (its condition
number is about 1e15), so plain least squares uses ``np.linalg.lstsq`` on ``Phi w = t`` instead
of forming it. Like Bishop, the penalty includes w_0. The RMS error is
``E_RMS = sqrt(2 E(w) / N)`` with lambda = 0, i.e. the root mean squared residual.
"""

from __future__ import annotations

import numpy as np


def sin_data(n: int, noise_std: float = 0.3, seed: int = 0, evenly_spaced: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy samples of sin(2 pi x) on [0, 1].

    Returns:
        ``(x, t)`` of shape (n,) each; ``x`` evenly spaced (Bishop's training set) or uniform at
        random (a test set), ``t = sin(2 pi x) + N(0, noise_std^2)`` with a seeded generator.
    """
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, n) if evenly_spaced else np.sort(rng.uniform(0.0, 1.0, n))
    t = np.sin(2 * np.pi * x) + noise_std * rng.standard_normal(n)
    return x, t


def design_matrix(x: np.ndarray, order: int) -> np.ndarray:
    """``Phi[n, j] = x[n] ** j`` for j = 0 ... order; shape (len(x), order + 1)."""
    return np.vander(np.asarray(x, dtype=np.float64), order + 1, increasing=True)


def fit_polynomial(x: np.ndarray, t: np.ndarray, order: int, ln_lambda: float | None = None) -> np.ndarray:
    """Coefficients ``w`` (shape (order + 1,), w_0 first) minimising Bishop's E(w).

    Args:
        x, t: inputs and targets, shape (N,).
        order: the polynomial order M.
        ln_lambda: natural log of the ridge strength lambda; None for plain least squares
            (lambda = 0, i.e. ln lambda = -inf).
    """
    Phi = design_matrix(x, order)
    t = np.asarray(t, dtype=np.float64)
    if ln_lambda is None:
        w, *_ = np.linalg.lstsq(Phi, t, rcond=None)
        return w
    lam = np.exp(ln_lambda)
    return np.linalg.solve(Phi.T @ Phi + lam * np.eye(order + 1), Phi.T @ t)


def predict_polynomial(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``y(x, w)`` for inputs of shape (N,); returns shape (N,)."""
    return design_matrix(x, len(w) - 1) @ w


def rms_error(x: np.ndarray, t: np.ndarray, w: np.ndarray) -> float:
    """Bishop's ``E_RMS = sqrt(2 E(w) / N)`` without the penalty: the RMS of the residuals."""
    return float(np.sqrt(np.mean((predict_polynomial(x, w) - t) ** 2)))
