"""The NumPy RNN op alone: central differences, the course's double sum against the sweep, truncation, errors.

No torch here: `numpy_ops.gradcheck.check_op` (h = 1e-5, float64) checks every input's gradient of `RNNOp`;
`numpy_ops.bptt.bptt_double_sum` (the delta_{t,k} table) must give the same dL/dU, dL/dW, dL/db as the sweep.
"""

from __future__ import annotations

import numpy as np
import pytest

from numpy_ops import spec as S
from numpy_ops.bptt import bptt_double_sum
from numpy_ops.gradcheck import check_op, numerical_gradient, rel_error
from numpy_ops.network import build
from numpy_ops.rnn import RNNOp


def make(rng, N=2, T=5, D=3, H=4, L=1, with_h0=True, scale=0.6):
    x = rng.normal(size=(N, T, D))
    params = []
    for l in range(L):
        d_in = D if l == 0 else H
        params += [rng.normal(scale=scale, size=(H, d_in)), rng.normal(scale=scale, size=(H, H)),
                   rng.normal(scale=0.3, size=H), rng.normal(scale=0.3, size=H)]
    h0 = [rng.normal(size=(L, N, H))] if with_h0 else []
    return [x, *params, *h0]


def min_abs_preactivation(inputs, L):
    """Smallest |s| over every layer and step (relu checks need it away from 0)."""
    x, rest = inputs[0], inputs[1:]
    N, H = x.shape[0], rest[1].shape[0]
    h0 = rest[4 * L] if len(rest) > 4 * L else np.zeros((L, N, H))
    inp, smallest = x, np.inf
    for l in range(L):
        U, W, b1, b2 = rest[4 * l:4 * l + 4]
        h, hs = h0[l], []
        for t in range(x.shape[1]):
            s = inp[:, t] @ U.T + b1 + h @ W.T + b2
            smallest = min(smallest, np.abs(s).min())
            h = np.maximum(s, 0)
            hs.append(h)
        inp = np.stack(hs, 1)
    return smallest


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("output", ["all", "last"])
@pytest.mark.parametrize("with_h0", [True, False])
def test_every_gradient_matches_central_differences(nonlinearity, layers, output, with_h0):
    rng = np.random.default_rng(3)
    inputs = make(rng, L=layers, with_h0=with_h0)
    if nonlinearity == "relu":
        assert min_abs_preactivation(inputs, layers) > 1e-3, "test point too close to the relu kink"
    errors = check_op(RNNOp(nonlinearity, layers, output), inputs)
    # Elementwise relative error: with output "last" the early steps' dx are small (the gradient vanishes
    # going back), so central-difference rounding (~1e-11) weighs more there.
    assert max(errors) < (1e-7 if output == "all" else 1e-6), errors


def test_without_h0_the_gradient_is_that_of_a_zero_initial_state():
    rng = np.random.default_rng(0)
    x, *params = make(rng, with_h0=False)
    op = RNNOp()
    out, cache = op.forward(x, *params)
    out0, cache0 = op.forward(x, *params, np.zeros((1, 2, 4)))
    np.testing.assert_array_equal(out, out0)
    dout = rng.normal(size=out.shape)
    for a, b in zip(op.backward(dout, cache), op.backward(dout, cache0)):
        np.testing.assert_array_equal(a, b)


def test_h0_of_shape_batch_hidden_for_one_layer():
    rng = np.random.default_rng(1)
    x, *params, h0 = make(rng)
    op = RNNOp()
    out, cache = op.forward(x, *params, h0[0])
    np.testing.assert_array_equal(out, op(x, *params, h0))
    assert op.backward(np.ones_like(out), cache)[-1].shape == h0[0].shape


def test_forward_is_the_recurrence():
    rng = np.random.default_rng(2)
    x, U, W, b1, b2, h0 = make(rng)
    out = RNNOp("tanh")(x, U, W, b1, b2, h0)
    h = h0[0]
    for t in range(x.shape[1]):
        h = np.tanh(W @ h.T + U @ x[:, t].T + (b1 + b2)[:, None]).T  # the course's s_t = W h + U x + b
        np.testing.assert_allclose(out[:, t], h, rtol=0, atol=1e-14)


# ---- the course's double sum is the sweep ----

def course_example(rng, T=6, D=3, H=4, C=5):
    return (rng.normal(size=(T, D)), rng.integers(0, C, T), rng.normal(scale=0.7, size=(H, D)),
            rng.normal(scale=0.7, size=(H, H)), rng.normal(size=(C, H)), rng.normal(scale=0.3, size=H),
            rng.normal(size=H))


def sweep_gradients(x, y, U, W, V, b, h0, nonlinearity, truncation):
    """The op's sweep with dL/dh_t = V^T (y_hat_t - y_t), the upstream gradient of L = sum_t L_t."""
    op = RNNOp(nonlinearity, truncation=truncation)
    H = W.shape[0]
    h, cache = op.forward(x[None], U, W, b, np.zeros(H), h0[None])
    z = h[0] @ V.T
    y_hat = np.exp(z - z.max(1, keepdims=True))
    y_hat /= y_hat.sum(1, keepdims=True)
    dz = y_hat - np.eye(V.shape[0])[y]
    dx, dU, dW, db, _, dh0 = op.backward((dz @ V)[None], cache)
    return dU, dW, db


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("truncation", [None, 1, 2, 4])
def test_double_sum_equals_sweep(nonlinearity, truncation):
    rng = np.random.default_rng(5)
    x, y, U, W, V, b, h0 = course_example(rng)
    table = bptt_double_sum(x, y, U, W, V, b, h0, nonlinearity, truncation)
    for formula, sweep in zip((table.dU, table.dW, table.db),
                              sweep_gradients(x, y, U, W, V, b, h0, nonlinearity, truncation)):
        np.testing.assert_allclose(formula, sweep, rtol=0, atol=1e-12)


def test_delta_table_is_dLt_dsk_by_central_differences():
    """delta[t, k] = dL_t / ds_k: perturb s_k by adding to the bias only at step k (s_k = ... + b + e)."""
    rng = np.random.default_rng(6)
    x, y, U, W, V, b, h0 = course_example(rng, T=4)
    table = bptt_double_sum(x, y, U, W, V, b, h0)
    T, H = len(x), W.shape[0]
    for t in range(T):
        for k in range(T):
            e = np.zeros(H)

            def L_t():
                h, total = h0, 0.0
                for j in range(t + 1):
                    h = np.tanh(W @ h + U @ x[j] + b + (e if j == k else 0))
                z = V @ h
                return float(np.log(np.exp(z).sum()) - z[y[t]])

            numeric = numerical_gradient(L_t, e)
            np.testing.assert_allclose(table.delta[t, k], numeric, rtol=0, atol=1e-8)


def test_double_sum_dU_matches_central_differences_of_the_total_loss():
    rng = np.random.default_rng(7)
    x, y, U, W, V, b, h0 = course_example(rng)
    table = bptt_double_sum(x, y, U, W, V, b, h0)
    numeric = numerical_gradient(lambda: bptt_double_sum(x, y, U, W, V, b, h0).loss, U)
    assert rel_error(table.dU, numeric) < 1e-7


# ---- truncation ----

def test_truncation_window_at_least_T_is_full_bptt_and_shorter_differs():
    rng = np.random.default_rng(8)
    inputs = make(rng, T=5, L=2)
    out, cache = RNNOp(num_layers=2).forward(*inputs)
    dout = rng.normal(size=out.shape)
    full = RNNOp(num_layers=2).backward(dout, cache)
    same = RNNOp(num_layers=2, truncation=5).backward(dout, cache)
    short = RNNOp(num_layers=2, truncation=2).backward(dout, cache)
    for a, b in zip(full, same):
        np.testing.assert_array_equal(a, b)
    assert np.abs(full[2] - short[2]).max() > 1e-3  # dW loses the long paths


def test_truncation_one_keeps_only_the_direct_path():
    """k = 1: dL_t/ds_t only, so dW = sum_t ds_t^T h_{t-1} with ds_t = dout_t * f'(s_t); no carry."""
    rng = np.random.default_rng(9)
    x, U, W, b1, b2, h0 = make(rng)
    op = RNNOp(truncation=1)
    out, cache = op.forward(x, U, W, b1, b2, h0)
    dout = rng.normal(size=out.shape)
    ds = dout * (1 - out**2)
    prev = np.concatenate([h0[0][:, None], out[:, :-1]], 1)
    _, dU, dW, *_ = op.backward(dout, cache)
    np.testing.assert_allclose(dW, np.einsum("nth,ntj->hj", ds, prev), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dU, np.einsum("nth,ntd->hd", ds, x), rtol=0, atol=1e-12)


# ---- spec and pure-NumPy network ----

def test_spec_shapes_and_parameter_names():
    layer = S.parse_layer({"type": "rnn", "hidden_size": 5, "num_layers": 2, "output": "last"})
    assert layer.output_shape((7, 3)) == (5,)
    assert S.RNN(5).output_shape((7, 3)) == (7, 5)
    params = layer.init_params((7, 3), np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == {
        "weight_ih_l0": (5, 3), "weight_hh_l0": (5, 5), "bias_ih_l0": (5,), "bias_hh_l0": (5,),
        "weight_ih_l1": (5, 5), "weight_hh_l1": (5, 5), "bias_ih_l1": (5,), "bias_hh_l1": (5,)}
    assert all(np.abs(v).max() <= 1 / np.sqrt(5) for v in params.values())  # nn.RNN's U(-1/sqrt(H), 1/sqrt(H))
    assert S.RNN(4).to_dict()["type"] == "rnn"


def test_numpy_network_with_an_rnn_layer_trains_its_parameters():
    net = build([{"type": "rnn", "hidden_size": 4, "output": "last"}, {"type": "linear", "out_features": 2}],
                (6, 3), np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(5, 6, 3))
    out = net(x)
    assert out.shape == (5, 2)
    net.backward(np.ones_like(out))
    assert sorted(dict(net.named_parameters())) == sorted(
        ["0.weight_ih_l0", "0.weight_hh_l0", "0.bias_ih_l0", "0.bias_hh_l0", "1.weight", "1.bias"])
    assert all(np.abs(g).sum() > 0 for g in net.gradients())


@pytest.mark.parametrize("bad, message", [
    ({"nonlinearity": "sigmoid"}, "nonlinearity"),
    ({"output": "first"}, "output"),
    ({"truncation": 0}, "truncation"),
    ({"num_layers": 0}, "num_layers"),
    ({"hidden_size": 0}, "hidden_size"),
])
def test_bad_settings_name_the_argument(bad, message):
    args = {"type": "rnn", "hidden_size": 3, **bad}
    with pytest.raises(ValueError, match=message):
        S.parse_layer(args)


def test_wrong_shapes_say_what_was_expected():
    rng = np.random.default_rng(0)
    x, U, W, b1, b2, h0 = make(rng)
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        RNNOp()(x[0], U, W, b1, b2)
    with pytest.raises(ValueError, match="weight_ih"):
        RNNOp()(x, U.T, W, b1, b2)
    with pytest.raises(ValueError, match="h0 must be"):
        RNNOp()(x, U, W, b1, b2, h0[:, :1])
    with pytest.raises(ValueError, match="expected x, 8 parameters"):
        RNNOp(num_layers=2)(x, U, W, b1, b2)
