"""The read-first walkthrough computes what the library computes, and its gradients are right."""

import subprocess
import sys

import numpy as np
import pytest

from numpy_ops import walkthrough as W
from numpy_ops.gradcheck import numerical_gradient, scaled_error


@pytest.mark.parametrize("n", [1, 7])
def test_walkthrough_equals_numpy_ops(n):
    rng = np.random.default_rng(n)
    x, y = rng.random((n, 128)), rng.integers(0, 10, n)
    params = W.init_params(rng)
    loss, grads = W.forward_backward(params, x, y)
    lib_loss, lib_grads = W.library_loss_and_grads(params, x, y)
    assert loss == pytest.approx(lib_loss, rel=1e-13)
    for k in W.KEYS:
        np.testing.assert_allclose(grads[k], lib_grads[k], rtol=1e-10, atol=1e-15, err_msg=k)


def test_walkthrough_gradients_match_central_differences():
    rng = np.random.default_rng(3)
    x, y = rng.random((3, 128)), rng.integers(0, 10, 3)
    params = W.init_params(rng, sizes=(128, 64, 64, 10))
    _, grads = W.forward_backward(params, x, y)
    for k in ("W2", "b1", "b3"):
        numeric = numerical_gradient(lambda: W.forward_backward(params, x, y)[0], params[k])
        assert scaled_error(grads[k], numeric) < 1e-6, k


def test_walkthrough_runs_as_a_module():
    out = subprocess.run([sys.executable, "-m", "numpy_ops.walkthrough"], capture_output=True, text=True,
                         check=True).stdout
    assert "W1" in out and "b3" in out and "vs numpy_ops" in out
