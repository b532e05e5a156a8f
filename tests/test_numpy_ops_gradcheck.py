"""Central-difference checks (`numpy_ops.gradcheck.check_op`) of every op's backward, float64,
at several shapes including batch size 1, with inputs kept away from kinks."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import random_away_from_kinks

from numpy_ops import bce_with_logits, check_op, get_activation, linear, mse, rel_error, softmax_cross_entropy
from numpy_ops.activations import Activation, _sigmoid
from numpy_ops.gradcheck import numerical_gradient
from numpy_ops.losses import one_hot

TOL = 1e-7


@pytest.mark.parametrize("n,d_in,d_out", [(1, 1, 1), (1, 4, 3), (5, 3, 2), (8, 6, 7)])
def test_linear_all_three_inputs(n, d_in, d_out):
    rng = np.random.default_rng(n + 10 * d_in + 100 * d_out)
    x, W, b = rng.standard_normal((n, d_in)), rng.standard_normal((d_out, d_in)), rng.standard_normal(d_out)
    errs = check_op(linear, [x, W, b])
    assert max(errs) < TOL, f"linear (N={n}, in={d_in}, out={d_out}): rel errors dx, dW, db = {errs}"


ACTS = [("identity", {}), ("sigmoid", {}), ("tanh", {}), ("relu", {}), ("leaky_relu", {}),
        ("leaky_relu", {"negative_slope": 0.3}), ("elu", {}), ("elu", {"alpha": 2.0}), ("softplus", {}),
        ("swish", {}), ("swish", {"beta": 0.5}), ("gelu", {}), ("gelu_tanh", {})]


@pytest.mark.parametrize("shape", [(1,), (1, 5), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("name,kwargs", ACTS, ids=[f"{n}{kw or ''}" for n, kw in ACTS])
def test_every_activation(name, kwargs, shape):
    act = get_activation(name, **kwargs)
    x = random_away_from_kinks(np.random.default_rng(sum(shape)), shape)
    (err,) = check_op(act, [x])
    assert err < TOL, f"{act!r} at shape {shape}: rel error {err:.2e}"


@pytest.mark.parametrize("n,c", [(1, 2), (1, 4), (6, 3), (10, 5)])
@pytest.mark.parametrize("target_kind", ["labels", "one_hot"])
def test_softmax_cross_entropy_wrt_logits(n, c, target_kind):
    rng = np.random.default_rng(n * c)
    # Unit-scale logits: `rel_error` is elementwise, and central-difference round-off (~1e-12 absolute)
    # on a gradient entry of ~1e-6 (a very unlikely class) alone exceeds 1e-7 even for a correct backward.
    logits, labels = rng.standard_normal((n, c)), rng.integers(0, c, n)
    target = labels if target_kind == "labels" else one_hot(labels, c)
    (err,) = check_op(softmax_cross_entropy, [logits, target], wrt=[0])
    assert err < TOL, f"softmax_cross_entropy ({target_kind}, N={n}, C={c}): rel error {err:.2e}"


@pytest.mark.parametrize("shape", [(1,), (1, 1), (7, 1), (4, 3)])
@pytest.mark.parametrize("name", ["mse", "bce_with_logits"])
def test_mse_and_bce_wrt_prediction_and_target(name, shape):
    rng = np.random.default_rng(sum(shape))
    pred = rng.standard_normal(shape) * 2
    if name == "mse":
        op, target = mse, rng.standard_normal(shape)
    else:
        op, target = bce_with_logits, rng.uniform(0.05, 0.95, shape)
    errs = check_op(op, [pred, target])
    assert max(errs) < TOL, f"{name} at shape {shape}: rel errors d pred, d target = {errs}"


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
