"""Dropout in NumPy alone: its masks (values, rate, seeds), the op without a mask gradient, the layer in training
and evaluation mode, and a NumPy CNN with dropout. Pooling: tests/test_op_pooling.py and tests/op_table.py."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import scaled_errors

from numpy_ops import spec as S
from numpy_ops.dropout import dropout, dropout_mask
from numpy_ops.network import DropoutLayer, build


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
