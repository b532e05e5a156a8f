"""Attention, embeddings and residual blocks in NumPy alone: central differences (float64, h = 1e-5), the causal
mask, the scatter-add of the embedding gradient, a whole GPT-style network, and the errors. No torch here.

The key projection's bias has an exactly-zero gradient (adding one vector to every key shifts a query's scores
by a constant, which the softmax ignores), so gradients are compared with `scaled_error`.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import gpt_spec
from numpy_ops import spec as S
from numpy_ops.attention import AttentionOp, causal_mask
from numpy_ops.embedding import embedding, position_embedding
from numpy_ops.gradcheck import check_op, numerical_gradient, scaled_error
from numpy_ops.network import build
from numpy_ops.residual import add


def attention_inputs(rng, N, T, D):
    return [rng.normal(size=(N, T, D)), rng.normal(scale=0.5, size=(3 * D, D)), rng.normal(scale=0.5, size=3 * D),
            rng.normal(scale=0.5, size=(D, D)), rng.normal(size=D)]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("N, T, D, heads", [(1, 1, 2, 1), (1, 4, 3, 1), (3, 5, 6, 2), (2, 7, 6, 3)])
def test_attention_gradients_match_central_differences(causal, N, T, D, heads):
    inputs = attention_inputs(np.random.default_rng(N * 100 + T), N, T, D)
    errors = check_op(AttentionOp(heads, causal), inputs, error=scaled_error)
    assert max(errors) < 1e-8, errors


def test_attention_non_contiguous_input_gives_the_same_output_and_gradients():
    rng = np.random.default_rng(1)
    x, *params = attention_inputs(rng, 2, 5, 4)
    strided = np.zeros((2, 5, 8))
    strided[..., ::2] = x
    op, dout = AttentionOp(2, True), rng.normal(size=(2, 5, 4))
    out_a, cache_a = op.forward(x, *params)
    out_b, cache_b = op.forward(strided[..., ::2], *params)
    np.testing.assert_allclose(out_a, out_b, rtol=0, atol=1e-14)
    for a, b in zip(op.backward(dout, cache_a), op.backward(dout, cache_b)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)


def test_causal_attention_does_not_look_ahead():
    rng = np.random.default_rng(2)
    x, *params = attention_inputs(rng, 2, 6, 4)
    op = AttentionOp(2, causal=True)
    later = x.copy()
    later[:, 4:] = rng.normal(size=(2, 2, 4))
    np.testing.assert_allclose(op(later, *params)[:, :4], op(x, *params)[:, :4], rtol=1e-14)
    p = op.weights(x, *params[:2])
    assert p.shape == (2, 2, 6, 6)
    np.testing.assert_allclose(p.sum(-1), 1, rtol=1e-14)
    assert np.all(p[..., causal_mask(6)] == 0)
    # without the mask the last steps do change the first ones
    assert not np.allclose(AttentionOp(2)(later, *params)[:, :4], AttentionOp(2)(x, *params)[:, :4])


def test_attention_one_head_matches_the_formula():
    rng = np.random.default_rng(3)
    x, w_in, b_in, w_out, b_out = attention_inputs(rng, 1, 3, 2)
    q, k, v = np.split(x[0] @ w_in.T + b_in, 3, axis=-1)
    s = q @ k.T / np.sqrt(2)
    p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
    np.testing.assert_allclose(AttentionOp(1)(x, w_in, b_in, w_out, b_out)[0], p @ v @ w_out.T + b_out, rtol=1e-12)


def test_embedding_gradient_is_scattered_to_the_rows_used():
    rng = np.random.default_rng(4)
    idx, W = np.array([[0, 2, 2], [2, 4, 0]]), rng.normal(size=(5, 3))
    out, cache = embedding.forward(idx, W)
    np.testing.assert_array_equal(out, W[idx])
    dout = rng.normal(size=out.shape)
    dx, dW = embedding.backward(dout, cache)
    assert dx is None
    np.testing.assert_allclose(dW[2], dout[0, 1] + dout[0, 2] + dout[1, 0], rtol=1e-14)  # row 2 used three times
    assert np.all(dW[[1, 3]] == 0)
    assert check_op(embedding, [idx, W], wrt=[1])[0] < 1e-8


def test_position_embedding_and_add_gradients_match_central_differences():
    rng = np.random.default_rng(5)
    assert max(check_op(position_embedding, [rng.normal(size=(3, 4, 2)), rng.normal(size=(6, 2))])) < 1e-8
    assert max(check_op(add, [rng.normal(size=(2, 3)), rng.normal(size=(2, 3))])) < 1e-8


@pytest.mark.parametrize("call, message", [
    (lambda: embedding.forward(np.ones((2, 3)), np.ones((4, 2))), "indices must be integers"),
    (lambda: embedding.forward(np.array([0, 4]), np.ones((4, 2))), "indices must lie in [0, 4)"),
    (lambda: position_embedding.forward(np.ones((1, 5, 2)), np.ones((4, 2))), "5 time steps"),
    (lambda: AttentionOp(4).forward(*attention_inputs(np.random.default_rng(0), 1, 2, 6)), "4 heads do not divide"),
    (lambda: AttentionOp(0), "num_heads must be"),
    (lambda: S.shapes(S.parse([{"type": "residual", "layers": [{"type": "linear", "out_features": 3}]}]), (2,)),
     "they must keep the shape"),
    (lambda: S.parse([{"type": "residual", "layers": []}]), "at least one layer"),
])
def test_bad_input_names_what_is_wrong(call, message):
    with pytest.raises((ValueError, TypeError, IndexError)) as info:
        call()
    assert message in str(info.value)


GPT = gpt_spec(vocab=7, dim=4, heads=2, hidden=8)


def test_gpt_network_from_a_spec_every_gradient_matches_central_differences():
    net = build(GPT, (5,), np.random.default_rng(0))
    assert "2.body.1.out_proj.weight" in net.state_dict()
    idx = np.random.default_rng(1).integers(0, 7, (2, 5))
    r = np.random.default_rng(2).normal(size=(2, 5, 7))
    net.zero_grad()
    net.forward(idx)
    net.backward(r)
    for (name, p), g in zip(net.named_parameters(), net.gradients()):
        num = numerical_gradient(lambda: float((net.forward(idx) * r).sum()), p)
        assert scaled_error(g, num) < 1e-7, name


def test_residual_spec_round_trips_through_its_dict_form():
    layers = S.parse(GPT)
    again = S.parse([layer.to_dict() for layer in layers])
    assert again == layers
    assert S.shapes(layers, (5,))[-1] == (5, 7)
