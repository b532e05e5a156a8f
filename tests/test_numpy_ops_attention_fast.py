"""The attention the training paths run (`numpy_ops.attention_fast`) against the textbook one
(`numpy_ops.attention`): the same output and gradients with and without masks, dtypes kept, and central
differences of its own."""

from __future__ import annotations

import numpy as np
import pytest

from numpy_ops import attention, attention_fast
from numpy_ops.gradcheck import check_op, scaled_error

from test_attention_padding import padding
from test_numpy_ops_attention import attention_inputs

MASKS = {"none": (False, False), "causal": (True, False), "padding": (False, True), "causal + padding": (True, True)}


def inputs_for(rng, N, T, D, key_padding, dtype=np.float64):
    inputs = [a.astype(dtype) for a in attention_inputs(rng, N, T, D)]
    return inputs + [padding(N, T)] if key_padding else inputs


@pytest.mark.parametrize("mask", sorted(MASKS))
@pytest.mark.parametrize("N, T, D, heads", [(1, 1, 2, 1), (1, 4, 3, 1), (3, 5, 6, 2), (2, 7, 6, 3)])
def test_fast_form_gives_the_textbook_output_and_every_gradient(mask, N, T, D, heads):
    causal, key_padding = MASKS[mask]
    rng = np.random.default_rng(N * 10 + T)
    inputs = inputs_for(rng, N, T, D, key_padding)
    inputs[0] = np.asfortranarray(inputs[0])  # non-contiguous, as a strided tensor gives
    slow, fast = (m.AttentionOp(heads, causal, key_padding) for m in (attention, attention_fast))
    (out1, cache1), (out2, cache2) = slow.forward(*inputs), fast.forward(*inputs)
    np.testing.assert_allclose(out2, out1, rtol=1e-13, atol=1e-14)
    dout = rng.normal(size=out1.shape)
    g1, g2 = slow.backward(dout, cache1), fast.backward(dout, cache2)
    assert len(g1) == len(g2) == len(inputs)
    for name, a, b in zip(("dx", "dW_in", "db_in", "dW_out", "db_out", "mask"), g1, g2):
        if a is None:
            assert b is None, name
            continue
        assert a.shape == b.shape, name
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13, err_msg=name)


def test_float32_stays_float32_and_agrees_to_its_rounding():
    inputs = inputs_for(np.random.default_rng(1), 3, 6, 8, True, np.float32)
    slow, fast = attention.AttentionOp(2, True, True), attention_fast.AttentionOp(2, True, True)
    (out1, c1), (out2, c2) = slow.forward(*inputs), fast.forward(*inputs)
    assert out2.dtype == np.float32
    np.testing.assert_allclose(out2, out1, rtol=1e-5, atol=1e-6)
    dout = np.ones_like(out1)
    for a, b in zip(slow.backward(dout, c1)[:5], fast.backward(dout, c2)[:5]):
        assert b.dtype == np.float32
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mask", sorted(MASKS))
def test_fast_form_matches_central_differences(mask):
    causal, key_padding = MASKS[mask]
    inputs = inputs_for(np.random.default_rng(2), 3, 5, 6, key_padding)
    errors = check_op(attention_fast.AttentionOp(2, causal, key_padding), inputs, wrt=range(5), error=scaled_error)
    assert max(errors) < 1e-8, errors
