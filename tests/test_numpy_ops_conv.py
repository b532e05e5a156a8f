"""conv2d in NumPy alone: the im2col op against the naive loops (the formula), central differences, and the
settings torch accepts and refuses. No torch here (the twins are in tests/test_bridge_conv.py)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import scaled_errors

from numpy_ops.conv import Conv2dOp, col2im, conv2d, conv2d_naive_backward, conv2d_naive_forward, im2col

# (N, C, H, W, F, k, stride, padding): odd and even sizes and kernels, stride 1 and 2, padding 0 / 1 / "same"
CASES = [
    (2, 3, 7, 6, 4, 3, 1, 1),
    (1, 2, 8, 9, 3, 3, 2, 0),
    (2, 3, 7, 7, 2, 5, 1, "same"),
    (2, 2, 6, 8, 3, 2, 2, 1),
    (1, 1, 5, 5, 1, 1, 1, 0),
    (3, 2, 9, 4, 2, 4, 2, 2),
]
IDS = [f"N{c[0]}C{c[1]}H{c[2]}W{c[3]}F{c[4]}k{c[5]}s{c[6]}p{c[7]}" for c in CASES]


def make(case, seed=0, dtype=np.float64):
    N, C, H, W, F, k, _, _ = case
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, C, H, W)).astype(dtype), rng.standard_normal((F, C, k, k)).astype(dtype),
            rng.standard_normal(F).astype(dtype))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_im2col_forward_and_backward_equal_the_naive_loops(case):
    x, W, b = make(case)
    stride, padding = case[6], case[7]
    op = conv2d(stride, padding)
    out, cache = op.forward(x, W, b)
    np.testing.assert_allclose(out, conv2d_naive_forward(x, W, b, stride, padding), rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    for name, fast, slow in zip(("dx", "dW", "db"), op.backward(dout, cache),
                                conv2d_naive_backward(dout, x, W, stride, padding)):
        assert fast.shape == slow.shape, name
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12, err_msg=f"{name} of {op!r}")


@pytest.mark.parametrize("case", CASES[:4], ids=IDS[:4])
def test_central_differences(case):
    x, W, b = make(case, seed=2)
    errors = scaled_errors(conv2d(case[6], case[7]), [x, W, b])
    assert max(errors) < 1e-7, dict(zip(("dx", "dW", "db"), errors))


def test_central_differences_catch_a_wrong_backward():
    class Wrong(Conv2dOp):
        def backward(self, dout, cache):
            dx, dW, db = super().backward(dout, cache)
            return dx, dW * 1.01, db

    x, W, b = make(CASES[0])
    assert scaled_errors(Wrong(1, 1), [x, W, b])[1] > 1e-3


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), c> = <x, col2im(c)> for every x, c: the backward of a linear map is its transpose
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 6))
    cols = im2col(x, (3, 2), 2, (1, 0))
    c = rng.standard_normal(cols.shape)
    assert np.isclose(np.sum(cols * c), np.sum(x * col2im(c, x.shape, 2, (1, 0))), rtol=1e-12)


def test_non_contiguous_and_float32_inputs():
    x, W, b = make(CASES[0], dtype=np.float32)
    x_strided = np.asfortranarray(x)[:, :, ::-1]  # negative strides, not C-contiguous
    out = conv2d(1, 1)(x_strided, W, b)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, conv2d_naive_forward(np.ascontiguousarray(x_strided), W, b, 1, 1), rtol=1e-5,
                               atol=1e-5)


def test_without_bias():
    x, W, _ = make(CASES[1])
    np.testing.assert_allclose(conv2d(2, 0)(x, W, None), conv2d_naive_forward(x, W, None, 2, 0), atol=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    ({"stride": 0}, "stride"),
    ({"padding": -1}, "padding"),
    ({"padding": "full"}, "padding"),
    ({"stride": 2, "padding": "same"}, "stride 1"),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Conv2dOp(**kwargs)


def test_bad_shapes_are_named():
    x, W, b = make(CASES[0])
    with pytest.raises(ValueError, match="does not fit a weight"):
        conv2d()(x[:, :2], W, b)
    with pytest.raises(ValueError, match="odd kernels"):
        conv2d(1, "same")(x, W[:, :, :2, :2], b)
    with pytest.raises(TypeError, match="dtype"):
        conv2d()(x.astype(np.float32), W, b)
