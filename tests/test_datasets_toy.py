"""The generated sets: sine, XOR, the planar flower."""

from __future__ import annotations

import numpy as np

from course.datasets import make_flower, make_sine, make_xor, sine_function


def test_sine_sizes_range_formula_and_determinism():
    data = make_sine(1000, 100, seed=0)
    x, y = data["train"]
    assert x.shape == y.shape == (1000, 1) and data["test"][0].shape == (100, 1)
    assert (np.abs(x) < 2 * np.pi).all()
    np.testing.assert_allclose(y, 24 * np.sin(3.2 * x) + 42 * np.cos(2.3 * x))
    np.testing.assert_array_equal(make_sine(seed=0)["test"][0], data["test"][0])
    assert sine_function(np.array([0.0]))[0] == 42.0


def test_xor():
    X, y = make_xor()
    assert X.shape == (4, 2) and y.tolist() == [0, 1, 1, 0]
    np.testing.assert_array_equal(y, X[:, 0].astype(int) ^ X[:, 1].astype(int))


def _lab_flower():
    """The lab's own generator, verbatim in substance (global NumPy seed 1)."""
    state = np.random.get_state()
    try:
        np.random.seed(1)
        m, N, a = 400, 200, 4
        X = np.zeros((m, 2))
        Y = np.zeros((m, 1), dtype="uint8")
        for j in range(2):
            ix = range(N * j, N * (j + 1))
            t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2
            r = a * np.sin(4 * t) + np.random.randn(N) * 0.2
            X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
            Y[ix] = j
        return X, Y
    finally:
        np.random.set_state(state)


def test_flower_reproduces_the_labs_points():
    X, y = make_flower()
    X_lab, Y_lab = _lab_flower()
    assert X.shape == (400, 2) and np.bincount(y).tolist() == [200, 200]
    np.testing.assert_array_equal(X, X_lab)
    np.testing.assert_array_equal(y, Y_lab.ravel())
    assert (make_flower(seed=2)[0] != X).any()
