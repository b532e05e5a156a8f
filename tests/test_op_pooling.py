"""Pooling's own behaviour: where max pooling sends the gradient (ties, overlapping windows, as torch does),
average pooling's padding, the settings, and the fast forms the training paths run. Central differences, the
bridge's gradcheck and the native twin: the pooling rows of tests/op_table.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lightning_ffnn.bridge import apply_op
from numpy_ops.pooling import AvgPool2dOp, MaxPool2dOp, max_pool2d


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


@pytest.mark.parametrize("s", [1, 2])
def test_max_pool_ties_route_as_torch(s):
    # small integers: many ties inside each window, and overlapping windows for stride 1
    x = torch.randint(0, 3, (2, 2, 7, 6), generator=torch.Generator().manual_seed(1)).double()
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    mine, theirs = apply_op(max_pool2d(3, s, 1), a), F.max_pool2d(b, 3, s, 1)
    torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-12, msg=lambda m: f"max pooling with ties: {m}")
    up = torch.randn(mine.shape, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    mine.backward(up)
    theirs.backward(up)
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-12, atol=1e-12,
                               msg=lambda m: f"max pooling with ties, gradient: {m}")


@pytest.mark.parametrize("memory", ["channels_first", "channels_last"])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_the_fast_pooling_gives_the_textbook_numbers_and_keeps_the_layout(kind, memory):
    from numpy_ops import pooling_fast

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 7, 6)).astype(np.float32)
    if memory == "channels_last":
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    name = "MaxPool2dOp" if kind == "max" else "AvgPool2dOp"
    for k, s, p in [(2, None, 0), (3, 2, 1)]:
        slow, fast = getattr(pooling_fast.textbook, name)(k, s, p), getattr(pooling_fast, name)(k, s, p)
        (y1, c1), (y2, c2) = slow.forward(x), fast.forward(x)
        dout = rng.standard_normal(y1.shape).astype(np.float32)
        if memory == "channels_last":
            dout = np.ascontiguousarray(dout.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        (g1,), (g2,) = slow.backward(dout, c1), fast.backward(dout, c2)
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(g1, g2)
        assert repr(slow) == repr(fast)
        if memory == "channels_last" and p == 0:  # (padding copies into a new, channels-first array)
            # channels next to each other in memory: the fast forms keep a conv's layout
            assert y2.strides[1] == g2.strides[1] == x.itemsize, (y2.strides, g2.strides)

