"""Backpropagation through time exactly as the course derives it: the double sum, for teaching.

One sequence (no batch axis), time steps t = 1..T (index 0..T-1 here)::

    s_t = W h_{t-1} + U x_t + b          h_t = f(s_t)          z_t = V h_t
    y_hat_t = softmax(z_t)               L = sum_t L_t,   L_t = -log y_hat_t[y_t]

delta_{t,k} = dL_t / ds_k, for k <= t (zero for k > t: s_k comes after L_t)::

    delta_{t,t} = f'(s_t) * (V^T (y_hat_t - y_t))
    delta_{t,k} = f'(s_k) * (W^T delta_{t,k+1})              k < t

    dL/dU = sum_t sum_{k<=t} delta_{t,k} x_k^T               dL/dW = sum_t sum_{k<=t} delta_{t,k} h_{k-1}^T

This costs O(T^2) matrix-vector products and keeps the whole table, which is the point: every entry can be
printed and checked. `numpy_ops.rnn.RNNOp.backward` computes the same sums in one reverse sweep (it adds
up the column sum_t delta_{t,k} = dL/ds_k as it goes); tests/test_numpy_ops_rnn.py shows they agree.
With ``truncation=K`` the inner sum keeps only k > t - K (BPTT through at most K steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rnn import _df_from_h, _f


@dataclass
class BPTTTable:
    """What `bptt_double_sum` computes. Shapes with T steps, D inputs, H hidden, C classes."""

    h: np.ndarray        # (T, H)      hidden states h_1..h_T
    y_hat: np.ndarray    # (T, C)      softmax outputs
    loss: float          # sum_t L_t
    delta: np.ndarray    # (T, T, H)   delta[t, k] = dL_t/ds_k (zero for k > t or outside the window)
    dU: np.ndarray       # (H, D)
    dW: np.ndarray       # (H, H)
    db: np.ndarray       # (H,)
    dV: np.ndarray       # (C, H)


def bptt_double_sum(x: np.ndarray, y: np.ndarray, U: np.ndarray, W: np.ndarray, V: np.ndarray,
                    b: np.ndarray | None = None, h0: np.ndarray | None = None, nonlinearity: str = "tanh",
                    truncation: int | None = None) -> BPTTTable:
    """The course's formulas, literally. ``x`` (T, D), ``y`` (T,) class indices, ``U`` (H, D), ``W`` (H, H),
    ``V`` (C, H), ``b`` (H,) or None, ``h0`` (H,) or None (zeros)."""
    T, H = len(x), W.shape[0]
    b = np.zeros(H, x.dtype) if b is None else b
    h_prev = np.zeros(H, x.dtype) if h0 is None else h0
    hs, y_hats = [], []
    for t in range(T):                                  # forward
        h_prev = _f(W @ h_prev + U @ x[t] + b, nonlinearity)
        hs.append(h_prev)
        z = V @ h_prev
        e = np.exp(z - z.max())
        y_hats.append(e / e.sum())
    h, y_hat = np.array(hs), np.array(y_hats)
    loss = float(-np.log(y_hat[np.arange(T), y]).sum())
    # BEGIN SOLUTION bptt_double_sum
    fprime = _df_from_h(h, nonlinearity)                # f'(s_k), read from h_k
    onehot = np.eye(V.shape[0], dtype=x.dtype)[y]
    h_before = np.vstack([np.zeros(H, x.dtype) if h0 is None else h0, h[:-1]])  # h_{k-1}
    delta = np.zeros((T, T, H), x.dtype)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(H, x.dtype)
    for t in range(T):
        delta[t, t] = fprime[t] * (V.T @ (y_hat[t] - onehot[t]))
        first = 0 if truncation is None else max(0, t - truncation + 1)
        for k in range(t - 1, first - 1, -1):
            delta[t, k] = fprime[k] * (W.T @ delta[t, k + 1])
        for k in range(first, t + 1):
            dU += np.outer(delta[t, k], x[k])
            dW += np.outer(delta[t, k], h_before[k])
            db += delta[t, k]
    dV = (y_hat - onehot).T @ h
    # END SOLUTION
    return BPTTTable(h, y_hat, loss, delta, dU, dW, db, dV)
