"""The central-difference checker itself (`numpy_ops.gradcheck`): it catches a wrong backward, and its pieces
compute what they say. Every op's own check, at several shapes including batch size 1: tests/test_ops.py."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import random_away_from_kinks

from numpy_ops import check_op, rel_error
from numpy_ops.activations import Activation, _sigmoid
from numpy_ops.gradcheck import numerical_gradient


class WrongSigmoid(Activation):
    """A deliberately broken derivative (missing the (1 - y) factor), to prove the checker can fail."""

    name = "wrong_sigmoid"

    def fn(self, x):
        return _sigmoid(x)

    def local_grad(self, x, y):
        return y


def test_checker_catches_a_wrong_backward():
    x = random_away_from_kinks(np.random.default_rng(0), (3, 4))
    (err,) = check_op(WrongSigmoid(), [x])
    assert err > 1e-2, f"a wrong derivative passed the gradient check (rel error {err:.2e})"


def test_numerical_gradient_and_rel_error():
    x = np.array([1.0, -2.0, 3.0])
    g = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-9)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored after perturbation
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1.0]), np.array([1.0 + 1e-6])) == pytest.approx(0.5e-6, rel=1e-3)
