"""The checker catches the typical mistakes of a hand-written LSTM or GRU backward.

Each mutant keeps the op's forward (so the output check passes) and breaks the backward as students do: the gates
read in another order (CS231n stacks the LSTM's i, f, o, g; torch i, f, g, o), the LSTM's cell-state path through
time dropped (dc_{t-1} = 0: only the hidden path carries the gradient back), the GRU's path h_{t-1} -> h_t through
z dropped, and the GRU's b_hn treated as if it sat outside the reset gate. The step-by-step backward written here
from the formulas (`lstm_backward_steps`, `gru_backward_steps`) is itself checked against the ops' sweeps.
"""

from __future__ import annotations

import numpy as np
import pytest

from course.opcheck import check
from numpy_ops.gru import GRUOp
from numpy_ops.lstm import LSTMOp


def lstm_backward_steps(dout, cache, cell_path=True):
    """One layer, output "all": the chain rule one step at a time, from the gates the op's cache holds."""
    x, h0, c0, W_ih, W_hh, gates, cs, hs = cache
    N, T, H = hs.shape
    h0, c0 = h0.reshape(N, H), c0.reshape(N, H)
    dx, dW_ih, dW_hh, db = np.zeros_like(x), np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(4 * H, x.dtype)
    dh_next, dc_next = np.zeros((N, H), x.dtype), np.zeros((N, H), x.dtype)
    for t in reversed(range(T)):
        i, f, g, o = (gates[:, t, k] for k in range(4))
        c_prev, h_prev = (cs[:, t - 1], hs[:, t - 1]) if t else (c0, h0)
        tc = np.tanh(cs[:, t])
        dh = dout[:, t] + dh_next
        dc = dh * o * (1 - tc ** 2) + (dc_next if cell_path else 0)
        da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2),
                             dh * tc * o * (1 - o)], axis=1)
        dx[:, t], dh_next, dc_next = da @ W_ih, da @ W_hh, dc * f
        dW_ih += da.T @ x[:, t]
        dW_hh += da.T @ h_prev
        db += da.sum(0)
    return dx, dW_ih, dW_hh, db, db.copy(), dh_next.reshape(cache[1].shape), dc_next.reshape(cache[2].shape)


def gru_backward_steps(dout, cache, z_path=True):
    x, h0, W_ih, W_hh, gates, hn, hs = cache
    N, T, H = hs.shape
    h0 = h0.reshape(N, H)
    dx, dW_ih, dW_hh = np.zeros_like(x), np.zeros_like(W_ih), np.zeros_like(W_hh)
    db_ih, db_hh, dh_next = np.zeros(3 * H, x.dtype), np.zeros(3 * H, x.dtype), np.zeros((N, H), x.dtype)
    for t in reversed(range(T)):
        r, z, n = (gates[:, t, k] for k in range(3))
        h_prev = hs[:, t - 1] if t else h0
        dh = dout[:, t] + dh_next
        dan = dh * (1 - z) * (1 - n ** 2)
        dar = dan * hn[:, t] * r * (1 - r)
        daz = dh * (h_prev - n) * z * (1 - z)
        d_ih, d_hh = np.concatenate([dar, daz, dan], 1), np.concatenate([dar, daz, dan * r], 1)
        dx[:, t], dh_next = d_ih @ W_ih, d_hh @ W_hh + (dh * z if z_path else 0)
        dW_ih += d_ih.T @ x[:, t]
        dW_hh += d_hh.T @ h_prev
        db_ih += d_ih.sum(0)
        db_hh += d_hh.sum(0)
    return dx, dW_ih, dW_hh, db_ih, db_hh, dh_next.reshape(cache[1].shape)


class Mutant:
    """The op's forward; ``backward`` replaced by ``wrong(op, dout, cache) -> grads``."""

    def __init__(self, base, wrong):
        self.base, self.wrong, self.name = base, wrong, base.name

    def forward(self, *inputs):
        return self.base.forward(*inputs)

    def backward(self, dout, cache):
        return self.wrong(self.base, dout, cache)


def gates_swapped(block_order, gates_at):
    """The right backward run on gates read in ``block_order`` (the student's slicing of the stacked gates)."""
    def wrong(op, dout, cache):
        cache = list(cache)
        cache[gates_at] = np.ascontiguousarray(cache[gates_at][:, :, list(block_order)])
        return op.backward(dout, tuple(cache))
    return wrong


def b_hn_outside_reset(op, dout, cache):
    grads = list(op.backward(dout, cache))
    H = grads[3].shape[0] // 3
    grads[4] = grads[4].copy()
    grads[4][2 * H:] = grads[3][2 * H:]  # d b_hn = sum of d(xn), as if n = tanh(xn + r * (W_hn h) + b_hn)
    return tuple(grads)


# name: (reference, op, wrong backward, an input whose gradient must fail)
MUTANTS = {
    "lstm gates read as CS231n's i, f, o, g": ("lstm", LSTMOp(), gates_swapped((0, 1, 3, 2), 5), "weight_hh"),
    "lstm cell-state path dropped": ("lstm", LSTMOp(), lambda op, d, c: lstm_backward_steps(d, c, cell_path=False),
                                     "c0"),
    "gru r and z swapped": ("gru", GRUOp(), gates_swapped((1, 0, 2), 4), "weight_hh"),
    "gru path through z dropped": ("gru", GRUOp(), lambda op, d, c: gru_backward_steps(d, c, z_path=False), "h0"),
    "gru b_hn outside the reset gate": ("gru", GRUOp(), b_hn_outside_reset, "bias_hh"),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_each_mutant_is_caught(name):
    like, base, wrong, bad_input = MUTANTS[name]
    report = check(Mutant(base, wrong), like=like)
    assert not report.passed, f"{name}: not caught"
    rows = {row["input"]: row for row in report.summary()}
    assert not rows[bad_input]["passed"], f"{name}: {bad_input} passed"
    assert all(not o["problems"] for o in report.output), "the forward is the reference's: its output passes"


@pytest.mark.parametrize("like, op", [("lstm", LSTMOp()), ("gru", GRUOp())])
def test_the_step_by_step_backward_is_the_sweep_and_passes(like, op):
    steps = lstm_backward_steps if like == "lstm" else gru_backward_steps
    rng = np.random.default_rng(0)
    G, n_states = (4, 2) if like == "lstm" else (3, 1)
    inputs = [rng.normal(size=(3, 6, 2)), rng.normal(scale=0.5, size=(G * 4, 2)),
              rng.normal(scale=0.5, size=(G * 4, 4)), rng.normal(size=G * 4), rng.normal(size=G * 4),
              *(rng.normal(size=(3, 4)) for _ in range(n_states))]
    out, cache = op.forward(*inputs)
    dout = rng.normal(size=out.shape)
    for a, b in zip(steps(dout, cache), op.backward(dout, cache)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert check(Mutant(op, lambda o, d, c: steps(d, c)), like=like).passed
