"""Rosenblatt's perceptron, in NumPy.

The model is ``y_hat = sign(w . x + b)`` with labels in {-1, +1}. The learning rule visits the
samples in order and, for each one it gets wrong (``y (w . x + b) <= 0``; a point on the line
counts as wrong, so learning can start from w = 0), moves the line towards it::

    w <- w + lr * y * x,    b <- b + lr * y

It stops after the first epoch without a mistake. On linearly separable data that happens after
a finite number of updates (Novikoff's theorem); on XOR it never does, so ``max_epochs`` caps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PerceptronResult:
    """What `fit_perceptron` learned and how it got there.

    Attributes:
        w: weights, shape (d,).
        b: bias.
        n_updates: total number of corrections made.
        mistakes_per_epoch: misclassified samples in each epoch, in order.
        converged: True when the last epoch made no mistake.
    """

    w: np.ndarray
    b: float
    n_updates: int
    mistakes_per_epoch: list[int] = field(default_factory=list)
    converged: bool = False

    @property
    def epochs(self) -> int:
        return len(self.mistakes_per_epoch)


def fit_perceptron(X: np.ndarray, y: np.ndarray, lr: float = 1.0, max_epochs: int = 100) -> PerceptronResult:
    """Train a perceptron from w = 0, b = 0 with the rule in the module docstring.

    Args:
        X: samples, shape (n, d).
        y: labels in {-1, +1}, shape (n,).
        lr: learning rate (with w starting at 0 it only rescales w and b, not the line).
        max_epochs: the most passes over the data before giving up.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"expected X of shape (n, d) and y of shape (n,), got {X.shape} and {y.shape}")
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError(f"labels must be -1 or +1, got {np.unique(y)}")

    w, b = np.zeros(X.shape[1]), 0.0
    n_updates, mistakes_per_epoch = 0, []
    for _ in range(max_epochs):
        mistakes = 0
        for xi, yi in zip(X, y):
            if yi * (w @ xi + b) <= 0:
                w = w + lr * yi * xi
                b = b + lr * yi
                mistakes += 1
        n_updates += mistakes
        mistakes_per_epoch.append(mistakes)
        if mistakes == 0:
            break
    return PerceptronResult(w=w, b=float(b), n_updates=n_updates, mistakes_per_epoch=mistakes_per_epoch,
                            converged=mistakes_per_epoch[-1] == 0)


def predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Labels in {-1, +1} for samples ``X`` of shape (n, d); points on the line get -1."""
    return np.where(np.asarray(X, dtype=np.float64) @ w + b > 0, 1, -1)
