"""The small generated sets of the seed reports and labs: sine regression, XOR, the planar "flower"."""

from __future__ import annotations

import numpy as np


def sine_function(x: np.ndarray) -> np.ndarray:
    """y = 24 sin(3.2x) + 42 cos(2.3x), elementwise (no noise: the report's experiment fits the curve itself)."""
    x = np.asarray(x, dtype=np.float64)
    return 24.0 * np.sin(3.2 * x) + 42.0 * np.cos(2.3 * x)


def make_sine(n_train: int = 1000, n_test: int = 100, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """x ~ U(-2pi, 2pi), y = sine_function(x). Returns {"train", "test"} -> (x, y), float64 (N, 1) each."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, n in (("train", n_train), ("test", n_test)):
        x = rng.uniform(-2 * np.pi, 2 * np.pi, size=(n, 1))
        out[name] = (x, sine_function(x))
    return out


def make_xor() -> tuple[np.ndarray, np.ndarray]:
    """The four points of XOR. Returns X float64 (4, 2) and y int64 (4,): 0, 1, 1, 0."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0, 1, 1, 0], dtype=np.int64)


def make_flower(n: int = 400, a: float = 4.0, noise: float = 0.2, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The planar "flower" of the lab: two classes of n/2 points each on the petals r = a sin(4 theta).

    Class j takes theta evenly spaced over [3.12 j, 3.12 (j+1)] plus N(0, noise^2), and r = a sin(4 theta) plus
    N(0, noise^2); the point is (r sin theta, r cos theta). The draws are made in the lab generator's order from
    `np.random.RandomState(seed)`, so seed=1 (the lab's np.random.seed(1)) gives the lab's very points.

    Returns X float64 (n, 2), y int64 (n,) with 0/1, class 0 first.
    """
    rng = np.random.RandomState(seed)  # the legacy generator on purpose: it reproduces the lab's points
    half = n // 2
    X = np.zeros((2 * half, 2))
    y = np.repeat(np.arange(2, dtype=np.int64), half)
    for j in range(2):
        theta = np.linspace(j * 3.12, (j + 1) * 3.12, half) + rng.randn(half) * noise
        r = a * np.sin(4 * theta) + rng.randn(half) * noise
        X[j * half : (j + 1) * half] = np.column_stack([r * np.sin(theta), r * np.cos(theta)])
    return X, y
