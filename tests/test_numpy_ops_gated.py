"""The NumPy LSTM and GRU ops alone: central differences, a step-by-step formula, CS231n's published values, errors.

No torch here. `numpy_ops.gradcheck.check_op` (h = 1e-5, float64) checks every input's gradient; the
recurrences are written out again step by step from the formulas (`lstm_steps`, `gru_steps`) and the ops must
agree with them; CS231n's LSTM reference values (its gates stacked i, f, o, g in (D, 4H) columns) are reproduced
by `LSTMOp` once the gates are put in torch's order i, f, g, o.
"""

from __future__ import annotations

import numpy as np
import pytest

from numpy_ops import spec as S
from numpy_ops.gradcheck import check_op
from numpy_ops.gru import GRUOp
from numpy_ops.lstm import LSTMOp
from numpy_ops.network import build

OPS = {"lstm": (LSTMOp, 4, 2), "gru": (GRUOp, 3, 1)}  # op, gates, number of states


def make(rng, kind, N=2, T=5, D=3, H=4, L=1, with_states=True, scale=0.6):
    _, G, n_states = OPS[kind]
    params = []
    for l in range(L):
        d_in = D if l == 0 else H
        params += [rng.normal(scale=scale, size=(G * H, d_in)), rng.normal(scale=scale, size=(G * H, H)),
                   rng.normal(scale=0.3, size=G * H), rng.normal(scale=0.3, size=G * H)]
    states = [rng.normal(size=(L, N, H)) for _ in range(n_states)] if with_states else []
    return [rng.normal(size=(N, T, D)), *params, *states]


def sig(a):
    return 1 / (1 + np.exp(-a))


def lstm_steps(x, W_ih, W_hh, b_ih, b_hh, h, c):
    """One layer, the formulas one step at a time: returns every h_t and c_t (N, T, H)."""
    hs, cs = [], []
    for t in range(x.shape[1]):
        i, f, g, o = np.split(x[:, t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 4, axis=1)
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs, 1), np.stack(cs, 1)


def gru_steps(x, W_ih, W_hh, b_ih, b_hh, h):
    hs = []
    for t in range(x.shape[1]):
        xr, xz, xn = np.split(x[:, t] @ W_ih.T + b_ih, 3, axis=1)
        hr, hz, hn = np.split(h @ W_hh.T + b_hh, 3, axis=1)
        r, z = sig(xr + hr), sig(xz + hz)
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        hs.append(h)
    return np.stack(hs, 1)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("output", ["all", "last"])
@pytest.mark.parametrize("with_states", [True, False])
def test_every_gradient_matches_central_differences(kind, layers, output, with_states):
    inputs = make(np.random.default_rng(3), kind, L=layers, with_states=with_states)
    errors = check_op(OPS[kind][0](layers, output), inputs)
    assert max(errors) < 1e-6, errors


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_odd_sizes_and_batch_one(kind):
    for sizes in (dict(N=1, T=1, D=1, H=1), dict(N=1, T=7, D=5, H=3), dict(N=3, T=2, D=7, H=5)):
        errors = check_op(OPS[kind][0](), make(np.random.default_rng(4), kind, **sizes))
        assert max(errors) < 1e-6, (sizes, errors)


def test_forward_is_the_recurrence_step_by_step():
    rng = np.random.default_rng(2)
    x, *p, h0, c0 = make(rng, "lstm")
    out, cache = LSTMOp().forward(x, *p, h0, c0)
    hs, cs = lstm_steps(x, *p, h0[0], c0[0])
    np.testing.assert_allclose(out, hs, rtol=0, atol=1e-14)
    np.testing.assert_allclose(cache[-2], cs, rtol=0, atol=1e-14)  # the cell states the cache keeps
    x, *p, h0 = make(rng, "gru")
    np.testing.assert_allclose(GRUOp()(x, *p, h0), gru_steps(x, *p, h0[0]), rtol=0, atol=1e-14)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_stacked_layers_feed_each_other(kind):
    rng = np.random.default_rng(5)
    x, *rest = make(rng, kind, L=2)
    p, states = rest[:8], rest[8:]
    out = OPS[kind][0](2)(x, *p, *states)
    if kind == "lstm":
        below = lstm_steps(x, *p[:4], states[0][0], states[1][0])[0]
        top = lstm_steps(below, *p[4:], states[0][1], states[1][1])[0]
    else:
        top = gru_steps(gru_steps(x, *p[:4], states[0][0]), *p[4:], states[0][1])
    np.testing.assert_allclose(out, top, rtol=0, atol=1e-14)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_absent_states_are_zeros_and_one_layer_states_may_drop_the_layer_axis(kind):
    rng = np.random.default_rng(0)
    op, n_states = OPS[kind][0](), OPS[kind][2]
    x, *p = make(rng, kind, with_states=False)
    zeros = [np.zeros((1, 2, 4))] * n_states
    out, cache = op.forward(x, *p)
    out0, cache0 = op.forward(x, *p, *zeros)
    np.testing.assert_array_equal(out, out0)
    dout = rng.normal(size=out.shape)
    for a, b in zip(op.backward(dout, cache), op.backward(dout, cache0)):
        np.testing.assert_array_equal(a, b)
    states = [rng.normal(size=(2, 4)) for _ in range(n_states)]
    out, cache = op.forward(x, *p, *states)
    np.testing.assert_array_equal(out, op(x, *p, *(s[None] for s in states)))
    assert [g.shape for g in op.backward(dout, cache)[-n_states:]] == [(2, 4)] * n_states


def test_lstm_cell_path_carries_memory_the_hidden_path_forgets():
    """With the forget gate saturated open and the input gate shut after step 0, c_T still holds step 0's input:
    the gradient of h_T reaches x_0 through the cell state alone (W_hh = 0 removes the hidden path)."""
    H, D, T = 2, 1, 30
    W_ih, W_hh = np.zeros((4 * H, D)), np.zeros((4 * H, H))
    W_ih[:H] = 10.0  # the input gate half open at x = 1, shut at x = 0
    b = np.zeros(4 * H)
    b[:H], b[H:2 * H], b[2 * H:3 * H], b[3 * H:] = -10.0, 10.0, 2.0, 10.0  # i shut, f open, g > 0, o open
    x = np.zeros((1, T, D))
    x[0, 0] = 1.0
    op = LSTMOp(output="last")
    out, cache = op.forward(x, W_ih, W_hh, b, np.zeros(4 * H))
    assert out.min() > 0.3  # remembered across 29 steps
    dx = op.backward(np.ones_like(out), cache)[0]
    assert np.abs(dx[0, 0]).max() > 1.0


# ---- CS231n's published LSTM values (assignment 3), fed in torch's gate order ----

def _from_cs231n(Wx, Wh, b):
    """CS231n stacks the gates i, f, o, g in the columns of Wx (D, 4H), Wh (H, 4H), b (4H,); torch stores
    rows (4H, D) in the order i, f, g, o. One bias: theirs goes to bias_ih, bias_hh is zero."""
    H = Wh.shape[0]
    order = np.concatenate([np.arange(H) + k * H for k in (0, 1, 3, 2)])
    return Wx.T[order], Wh.T[order], b[order], np.zeros_like(b)


def test_cs231n_lstm_step_values():
    N, D, H = 3, 4, 5
    x = np.linspace(-0.4, 1.2, num=N * D).reshape(N, 1, D)
    prev_h = np.linspace(-0.3, 0.7, num=N * H).reshape(N, H)
    prev_c = np.linspace(-0.4, 0.9, num=N * H).reshape(N, H)
    Wx = np.linspace(-2.1, 1.3, num=4 * D * H).reshape(D, 4 * H)
    Wh = np.linspace(-0.7, 2.2, num=4 * H * H).reshape(H, 4 * H)
    b = np.linspace(0.3, 0.7, num=4 * H)
    out, cache = LSTMOp().forward(x, *_from_cs231n(Wx, Wh, b), prev_h, prev_c)
    expected_next_h = [[0.24635157, 0.28610883, 0.32240467, 0.35525807, 0.38474904],
                       [0.49223563, 0.55611431, 0.61507696, 0.66844003, 0.7159181],
                       [0.56735664, 0.66310127, 0.74419266, 0.80889665, 0.858299]]
    expected_next_c = [[0.32986176, 0.39145139, 0.451556, 0.51014116, 0.56717407],
                       [0.66382255, 0.76674007, 0.87195994, 0.97902709, 1.08751345],
                       [0.74192008, 0.90592151, 1.07717006, 1.25120233, 1.42395676]]
    np.testing.assert_allclose(out[:, 0], expected_next_h, rtol=0, atol=6e-9)  # published to 8 decimals
    np.testing.assert_allclose(cache[-2][:, 0], expected_next_c, rtol=0, atol=6e-9)
    # and in CS231n's own order the op computes something else: the gate order matters
    assert np.abs(LSTMOp()(x, Wx.T, Wh.T, b, np.zeros_like(b), prev_h, prev_c)[:, 0] - expected_next_h).max() > 1e-2


def test_cs231n_lstm_forward_values():
    N, D, H, T = 2, 5, 4, 3
    x = np.linspace(-0.4, 0.6, num=N * T * D).reshape(N, T, D)
    h0 = np.linspace(-0.4, 0.8, num=N * H).reshape(N, H)
    Wx = np.linspace(-0.2, 0.9, num=4 * D * H).reshape(D, 4 * H)
    Wh = np.linspace(-0.3, 0.6, num=4 * H * H).reshape(H, 4 * H)
    b = np.linspace(0.2, 0.7, num=4 * H)
    expected_h = [[[0.01764008, 0.01823233, 0.01882671, 0.0194232],
                   [0.11287491, 0.12146228, 0.13018446, 0.13902939],
                   [0.31358768, 0.33338627, 0.35304453, 0.37250975]],
                  [[0.45767879, 0.4761092, 0.4936887, 0.51041945],
                   [0.6704845, 0.69350089, 0.71486014, 0.7346449],
                   [0.81733511, 0.83677871, 0.85403753, 0.86935314]]]
    h = LSTMOp().forward(x, *_from_cs231n(Wx, Wh, b), h0)[0]  # c0 absent: zeros, as CS231n's lstm_forward
    np.testing.assert_allclose(h, expected_h, rtol=0, atol=6e-9)


# ---- spec, pure-NumPy network, errors ----

@pytest.mark.parametrize("kind, G", [("lstm", 4), ("gru", 3)])
def test_spec_shapes_and_parameter_names(kind, G):
    layer = S.parse_layer({"type": kind, "hidden_size": 5, "num_layers": 2, "output": "last"})
    assert layer.output_shape((7, 3)) == (5,)
    assert S.parse_layer({"type": kind, "hidden_size": 5}).output_shape((7, 3)) == (7, 5)
    params = layer.init_params((7, 3), np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == {
        "weight_ih_l0": (G * 5, 3), "weight_hh_l0": (G * 5, 5), "bias_ih_l0": (G * 5,), "bias_hh_l0": (G * 5,),
        "weight_ih_l1": (G * 5, 5), "weight_hh_l1": (G * 5, 5), "bias_ih_l1": (G * 5,), "bias_hh_l1": (G * 5,)}
    assert all(np.abs(v).max() <= 1 / np.sqrt(5) for v in params.values())  # torch's U(-1/sqrt(H), 1/sqrt(H))
    assert layer.to_dict() == {"type": kind, "hidden_size": 5, "num_layers": 2, "output": "last", "gate_bias": 0.0}
    assert S.parse_layer(layer.to_dict()) == layer


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gate_bias_moves_only_the_bias_ih_block_of_the_gate_that_keeps_the_state(kind):
    """LSTM: the forget gate f (block 1 of i, f, g, o); GRU: the update gate z (block 1 of r, z, n). Same draws."""
    plain = S.parse_layer({"type": kind, "hidden_size": 3, "num_layers": 2})
    biased = S.parse_layer({"type": kind, "hidden_size": 3, "num_layers": 2, "gate_bias": 1.5})
    a, b = (layer.init_params((4, 2), np.random.default_rng(0)) for layer in (plain, biased))
    for name in a:
        diff = b[name] - a[name]
        if name.startswith("bias_ih"):
            np.testing.assert_allclose(diff[3:6], 1.5, rtol=0, atol=1e-15)
            diff[3:6] = 0
        assert not diff.any(), name


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_numpy_network_with_a_gated_layer_trains_every_parameter(kind):
    net = build([{"type": kind, "hidden_size": 4, "output": "last"}, {"type": "linear", "out_features": 2}],
                (6, 3), np.random.default_rng(0))
    out = net(np.random.default_rng(1).normal(size=(5, 6, 3)))
    assert out.shape == (5, 2)
    net.backward(np.ones_like(out))
    assert sorted(dict(net.named_parameters())) == sorted(
        ["0.weight_ih_l0", "0.weight_hh_l0", "0.bias_ih_l0", "0.bias_hh_l0", "1.weight", "1.bias"])
    assert all(np.abs(g).sum() > 0 for g in net.gradients())


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("bad, message", [({"output": "first"}, "output"), ({"num_layers": 0}, "num_layers"),
                                          ({"hidden_size": 0}, "hidden_size"), ({"nonlinearity": "relu"}, "nonlin")])
def test_bad_settings_name_the_argument(kind, bad, message):
    with pytest.raises(ValueError, match=message):
        S.parse_layer({"type": kind, "hidden_size": 3, **bad})


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_wrong_shapes_say_what_was_expected(kind):
    op_cls, G, _ = OPS[kind]
    x, W_ih, W_hh, b1, b2, h0, *_ = make(np.random.default_rng(0), kind)
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        op_cls()(x[0], W_ih, W_hh, b1, b2)
    with pytest.raises(ValueError, match=f"{G} gates of 4"):
        op_cls()(x, W_ih[:4], W_hh, b1, b2)
    with pytest.raises(ValueError, match="h0 must be"):
        op_cls()(x, W_ih, W_hh, b1, b2, h0[:, :1])
    with pytest.raises(ValueError, match="expected x, 8 parameters"):
        op_cls(num_layers=2)(x, W_ih, W_hh, b1, b2)
    with pytest.raises(TypeError, match="dtype"):
        op_cls()(x.astype(np.float32), W_ih, W_hh, b1, b2)
