"""Losses: value and gradients against torch autograd (float64), stability at extreme inputs,
dtype preservation and input validation."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from numpy_ops import LOSSES, bce_with_logits, mse, softmax_cross_entropy
from numpy_ops.losses import one_hot


@contextlib.contextmanager
def strict_fp():
    """Overflow / invalid / divide (as FP errors or any warning) fail; underflow to 0 is intended."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield


def np_loss_and_grads(op, pred, target, dout=1.0):
    loss, cache = op.forward(pred, target)
    grads = op.backward(np.asarray(dout, dtype=pred.dtype), cache)
    return loss, grads


def torch_loss_and_grads(fn, pred, target, dout=1.0, target_grad=True):
    p = torch.tensor(pred, requires_grad=True)
    t = torch.tensor(target, requires_grad=target_grad)
    loss = fn(p, t)
    inputs = (p, t) if target_grad else (p,)
    grads = torch.autograd.grad(loss, inputs, torch.tensor(dout, dtype=loss.dtype))
    return loss.detach().numpy(), [g.numpy() for g in grads]


SHAPES_NC = [(1, 2), (1, 5), (4, 3), (16, 10)]


@pytest.mark.parametrize("dout", [1.0, -2.5])
@pytest.mark.parametrize("n,c", SHAPES_NC)
@pytest.mark.parametrize("target_kind", ["labels", "one_hot", "probabilities"])
def test_softmax_cross_entropy_matches_torch(n, c, target_kind, dout):
    rng = np.random.default_rng(n * 100 + c)
    logits = rng.standard_normal((n, c)) * 3
    labels = rng.integers(0, c, size=n)
    if target_kind == "labels":
        target, t_ref = labels, labels
    elif target_kind == "one_hot":
        target = t_ref = one_hot(labels, c)
    else:
        target = t_ref = rng.dirichlet(np.ones(c), size=n)
    loss, (dlogits, dtarget) = np_loss_and_grads(softmax_cross_entropy, logits, target, dout)
    soft = target_kind != "labels"
    ref_loss, (ref_d, *ref_dt) = torch_loss_and_grads(F.cross_entropy, logits, t_ref, dout, target_grad=soft)
    if soft:
        np.testing.assert_allclose(dtarget, ref_dt[0], rtol=1e-12, atol=1e-14, err_msg="d cross-entropy / d target")
    else:
        assert dtarget is None, "integer labels have no gradient"
    assert loss.shape == () and loss.dtype == np.float64
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12, atol=1e-14, err_msg="cross-entropy value")
    np.testing.assert_allclose(dlogits, ref_d, rtol=1e-12, atol=1e-14, err_msg="d cross-entropy / d logits")
    # The documented closed form: (softmax - onehot) / N.
    z = logits - logits.max(1, keepdims=True)
    softmax = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    t = one_hot(labels, c) if target_kind == "labels" else target
    np.testing.assert_allclose(dlogits, dout * (softmax - t) / n, rtol=1e-12, atol=1e-15)


def test_cross_entropy_labels_and_one_hot_agree():
    rng = np.random.default_rng(3)
    logits, labels = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    a = np_loss_and_grads(softmax_cross_entropy, logits, labels)
    b = np_loss_and_grads(softmax_cross_entropy, logits, one_hot(labels, 4))
    assert a[0] == pytest.approx(float(b[0]), rel=1e-15)
    np.testing.assert_array_equal(a[1][0], b[1][0])


@pytest.mark.parametrize("dout", [1.0, 0.3])
@pytest.mark.parametrize("shape", [(1,), (1, 1), (5, 1), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("name", ["mse", "bce_with_logits"])
def test_mse_and_bce_match_torch(name, shape, dout):
    rng = np.random.default_rng(len(shape) * 10 + shape[-1])
    pred = rng.standard_normal(shape) * 2
    if name == "mse":
        op, fn, target = mse, F.mse_loss, rng.standard_normal(shape)
    else:
        op, fn, target = bce_with_logits, F.binary_cross_entropy_with_logits, rng.uniform(0, 1, shape)
    loss, (dp, dt) = np_loss_and_grads(op, pred, target, dout)
    ref_loss, (ref_dp, ref_dt) = torch_loss_and_grads(fn, pred, target, dout)
    assert loss.shape == () and dp.shape == shape and dt.shape == shape
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12, atol=1e-14, err_msg=f"{name} value")
    np.testing.assert_allclose(dp, ref_dp, rtol=1e-12, atol=1e-14, err_msg=f"d {name} / d prediction")
    np.testing.assert_allclose(dt, ref_dt, rtol=1e-12, atol=1e-14, err_msg=f"d {name} / d target")


def extreme_case(name, dtype):
    """Inputs at the edge: logits of +-1e4 (right and badly wrong), MSE targets of 1e6."""
    if name == "ce_labels":
        logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4]], dtype)
        return softmax_cross_entropy, F.cross_entropy, logits, np.array([1, 0, 2]), False
    if name == "ce_one_hot":
        logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype)
        return softmax_cross_entropy, F.cross_entropy, logits, one_hot(np.array([1, 0]), 3, dtype), False
    if name == "bce":
        z = np.array([1e4, -1e4, 1e4, -1e4, 0.0], dtype)
        return bce_with_logits, F.binary_cross_entropy_with_logits, z, np.array([1, 0, 0, 1, 0.5], dtype), True
    pred = np.array([0.0, -1e6, 1e6, 3.0], dtype)
    return mse, F.mse_loss, pred, np.array([1e6, 1e6, -1e6, 3.0], dtype), True


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["ce_labels", "ce_one_hot", "bce", "mse"])
def test_stable_and_dtype_preserving_at_extremes(name, dtype):
    op, fn, pred, target, target_grad = extreme_case(name, dtype)
    with strict_fp():
        loss, grads = np_loss_and_grads(op, pred, target)
    grads = [g for g in grads if g is not None][:1 + target_grad]
    for what, a in [("loss", loss)] + [(f"grad {i}", g) for i, g in enumerate(grads)]:
        assert a.dtype == dtype, f"{name} {what}: dtype {a.dtype}, inputs were {np.dtype(dtype)}"
        assert np.all(np.isfinite(a)), f"{name} {what} not finite: {a}"
    # Right, not merely finite: torch is stable here too; compare in float64.
    t64 = target if target.dtype.kind in "iu" else target.astype(np.float64)
    ref_loss, ref_grads = torch_loss_and_grads(fn, pred.astype(np.float64), t64, target_grad=target_grad)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss, ref_loss, rtol=rtol, err_msg=f"{name} value at extremes")
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g, r, rtol=rtol, atol=1e-12, err_msg=f"{name} gradient at extremes")


def test_losses_validate_their_inputs():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        softmax_cross_entropy.forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        softmax_cross_entropy.forward(np.zeros((2, 3)), np.array([-1, 0]))
    with pytest.raises(TypeError, match="integer labels"):
        softmax_cross_entropy.forward(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="target shape"):
        softmax_cross_entropy.forward(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="mse: prediction shape"):
        mse.forward(np.zeros((2, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="bce_with_logits: logits shape"):
        bce_with_logits.forward(np.zeros((2, 1)), np.zeros(2))
