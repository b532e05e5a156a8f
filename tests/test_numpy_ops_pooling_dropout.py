"""Pooling and dropout in NumPy alone: central differences, where max pooling sends the gradient (ties
included), average pooling's padding, and dropout's masks (values, rate, seeds, evaluation mode)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import scaled_errors

from numpy_ops import spec as S
from numpy_ops.dropout import dropout, dropout_mask
from numpy_ops.network import DropoutLayer
from numpy_ops.network import build
from numpy_ops.pooling import AvgPool2dOp, MaxPool2dOp, avg_pool2d, max_pool2d

POOLS = [(2, None, 0), (3, 1, 1), (3, 2, 1), (2, 1, 0)]  # (kernel, stride, padding): overlapping or not


@pytest.mark.parametrize("k, s, p", POOLS)
@pytest.mark.parametrize("make", [max_pool2d, avg_pool2d], ids=["max", "avg"])
def test_central_differences(make, k, s, p):
    # a permutation of well-separated values: no ties, so max pooling is differentiable there
    x = np.random.default_rng(0).permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) * 0.1
    assert scaled_errors(make(k, s, p), [x.astype(np.float64)])[0] < 1e-7


def test_max_pool_gradient_goes_to_the_first_maximum_of_a_tie():
    x = np.zeros((1, 1, 2, 4))
    x[0, 0] = [[1, 5, 2, 2], [5, 3, 2, 2]]  # window 1: 5 at (0,1) and (1,0); window 2: all equal
    op = max_pool2d(2)
    out, cache = op.forward(x)
    (dx,) = op.backward(np.array([[[[10.0, 20.0]]]]), cache)
    np.testing.assert_array_equal(out, [[[[5, 2]]]])
    np.testing.assert_array_equal(dx[0, 0], [[0, 10, 20, 0], [0, 0, 0, 0]])


def test_overlapping_max_windows_add_their_gradients():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 7.0  # the centre is the maximum of all four 2x2 windows
    out, cache = max_pool2d(2, 1).forward(x)
    (dx,) = max_pool2d(2, 1).backward(np.ones_like(out), cache)
    assert dx[0, 0, 1, 1] == 4.0 and dx.sum() == 4.0


def test_avg_pool_counts_the_padding():
    out = AvgPool2dOp(3, 1, 1)(np.ones((1, 1, 3, 3)))
    assert out[0, 0, 0, 0] == pytest.approx(4 / 9) and out[0, 0, 1, 1] == pytest.approx(1.0)


def test_pool_settings_are_checked():
    with pytest.raises(ValueError, match="padding"):
        MaxPool2dOp(2, 2, 2)
    with pytest.raises(ValueError, match="kernel_size"):
        AvgPool2dOp(0)
    with pytest.raises(ValueError, match="does not fit"):
        max_pool2d(4)(np.zeros((1, 1, 3, 3)))


def test_dropout_mask_values_rate_and_seed():
    mask = dropout_mask(np.random.default_rng(0), (200, 300), 0.25, np.float32)
    assert mask.dtype == np.float32
    assert set(np.unique(mask)) == {np.float32(0), np.float32(1) / np.float32(0.75)}
    assert abs((mask == 0).mean() - 0.25) < 0.01
    np.testing.assert_array_equal(mask, dropout_mask(np.random.default_rng(0), (200, 300), 0.25, np.float32))
    assert not np.array_equal(mask, dropout_mask(np.random.default_rng(1), (200, 300), 0.25, np.float32))
    assert not dropout_mask(np.random.default_rng(0), (3, 4), 1.0).any()
    with pytest.raises(ValueError, match="p"):
        dropout_mask(np.random.default_rng(0), (3,), 1.5)


def test_dropout_op_central_differences_and_no_mask_gradient():
    rng = np.random.default_rng(0)
    x, mask = rng.standard_normal((4, 5)), dropout_mask(rng, (4, 5), 0.5)
    assert scaled_errors(dropout, [x, mask], wrt=[0])[0] < 1e-7
    assert dropout.backward(np.ones((4, 5)), dropout.forward(x, mask)[1])[1] is None


def test_dropout_layer_trains_with_a_mask_and_is_the_identity_in_eval():
    layer = DropoutLayer(0.5, np.random.default_rng(0))
    x = np.ones((6, 8))
    out = layer.forward(x)
    np.testing.assert_array_equal(out, layer.mask)
    np.testing.assert_array_equal(layer.backward(np.full_like(x, 3.0)), 3.0 * layer.mask)
    first = layer.mask.copy()
    layer.forward(x)
    assert not np.array_equal(first, layer.mask), "each training forward draws a new mask"
    layer.training = False
    assert layer.forward(x) is x and layer.backward(x) is x


def test_numpy_cnn_is_reproducible_by_seed_and_switches_dropout_with_eval():
    spec = [S.Conv2d(3, 3, padding="same"), S.Activation("relu"), S.MaxPool2d(2), S.Flatten(), S.Dropout(0.5),
            S.Linear(4)]
    x = np.random.default_rng(5).standard_normal((2, 1, 6, 4))
    a, b = build(spec, (1, 6, 4), np.random.default_rng(0)), build(spec, (1, 6, 4), np.random.default_rng(0))
    np.testing.assert_array_equal(a(x), b(x))  # same seed: same weights and same masks
    assert not np.array_equal(a(x), a(x))  # training: a new mask each call
    a.eval()
    np.testing.assert_array_equal(a(x), a(x))
