"""A simple (Elman) recurrent network over a whole sequence, and backpropagation through time.

For each layer ``l`` and time step ``t`` (as ``torch.nn.RNN`` computes it)::

    s_t = x_t U^T + b_ih + h_{t-1} W^T + b_hh        (N, H)
    h_t = f(s_t)                                     f = tanh or relu

with ``U = weight_ih_l{l}`` (H, D), ``W = weight_hh_l{l}`` (H, H), ``b_ih = bias_ih_l{l}`` (H,),
``b_hh = bias_hh_l{l}`` (H,): the names and layouts of ``nn.RNN``'s parameters, so state dicts move
both ways unchanged. Layer ``l > 0`` reads the hidden states of layer ``l - 1`` as its input.

Backward is one reverse sweep over time per layer (the fast form of the double sum in
`numpy_ops.bptt`): the gradient reaching ``h_t`` is what the output sends plus ``ds_{t+1} W``;
``ds_t = dh_t * f'(s_t)``; then every parameter gradient is one matrix product over all steps::

    dU = sum_t ds_t^T x_t     dW = sum_t ds_t^T h_{t-1}     db_ih = db_hh = sum_t ds_t
    dx_t = ds_t U             dh_0 = ds_1 W                (0-based below: h_{-1} is the initial state)

f'(s) is read from the output alone: ``1 - h^2`` for tanh, ``h > 0`` for relu, so the cache keeps
only the hidden states.

Truncated BPTT (``truncation=k``): the loss at step t sends its gradient back only through the last
k steps s_t, ..., s_{t-k+1} (and into h_{t-k} when that is the initial state); it is what a torch
loop that rebuilds h_t from ``h_{t-k}.detach()`` computes. The sweep then carries one delta per
origin t still in its window, a (N, k, H) buffer, instead of their sum.
"""

from __future__ import annotations

import numpy as np

from .op import Op

NONLINEARITIES = ("tanh", "relu")


def _f(s: np.ndarray, nonlinearity: str) -> np.ndarray:
    return np.tanh(s) if nonlinearity == "tanh" else np.maximum(s, 0)


def _df_from_h(h: np.ndarray, nonlinearity: str) -> np.ndarray:
    """f'(s) written with h = f(s): 1 - h^2 (tanh), 1 where h > 0 (relu; 0 at the kink s = 0)."""
    # BEGIN SOLUTION rnn_backward
    return 1 - h * h if nonlinearity == "tanh" else (h > 0).astype(h.dtype)
    # END SOLUTION


class RNNOp(Op):
    """``forward(x, *params, h0=None)`` -> the hidden states of the top layer.

    Shapes: ``x`` (N, T, D); ``params`` per layer ``weight_ih`` (H, D_l), ``weight_hh`` (H, H),
    ``bias_ih`` (H,), ``bias_hh`` (H,) with D_0 = D and D_l = H above (``nn.RNN``'s order of
    ``_flat_weights``); ``h0`` (num_layers, N, H) as ``nn.RNN``'s ``h_0``, or (N, H) for one layer, or
    None (zeros). Output ``(N, T, H)`` (``output="all"``) or ``(N, H)`` (``output="last"``: h_T).

    The initial state comes last so a layer holding only the parameters can call
    ``forward(x, *params)``. ``backward`` returns ``(dx, *dparams, dh0)``: dh0 (the shape h0 was given
    in, (num_layers, N, H) when it was None) is the gradient with respect to the initial state, zero or not;
    a caller that gave no h0 drops it. Cache: ``(x, h0, Us, Ws, states)``, the weights ``weight_ih`` and
    ``weight_hh`` and the hidden states (N, T, H) of every layer, as tuples indexed by layer.
    """

    name = "rnn"

    def __init__(self, nonlinearity: str = "tanh", num_layers: int = 1, output: str = "all",
                 truncation: int | None = None):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"rnn: nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
        if int(num_layers) < 1:
            raise ValueError(f"rnn: num_layers must be >= 1, got {num_layers!r}")
        if output not in ("all", "last"):
            raise ValueError(f"rnn: output must be 'all' or 'last', got {output!r}")
        if truncation is not None and int(truncation) < 1:
            raise ValueError(f"rnn: truncation must be None or a number of steps >= 1, got {truncation!r}")
        self.nonlinearity, self.num_layers, self.output = nonlinearity, int(num_layers), output
        self.truncation = None if truncation is None else int(truncation)
        self.n_inputs = 1 + 4 * self.num_layers + 1

    def extra_repr(self) -> str:
        trunc = "" if self.truncation is None else f", truncation={self.truncation}"
        return f"{self.nonlinearity}, num_layers={self.num_layers}, output={self.output!r}{trunc}"

    # -- helpers ---------------------------------------------------------------------------------------
    def _split(self, x, args):
        if len(args) not in (4 * self.num_layers, 4 * self.num_layers + 1):
            raise ValueError(f"rnn: expected x, {4 * self.num_layers} parameters ({self.num_layers} layer(s) of "
                             f"weight_ih, weight_hh, bias_ih, bias_hh) and an optional h0; got {1 + len(args)} inputs")
        params, h0 = args[:4 * self.num_layers], (args[4 * self.num_layers] if len(args) > 4 * self.num_layers
                                                  else None)
        if x.ndim != 3:
            raise ValueError(f"rnn: input must be (batch, time, features), got shape {x.shape}")
        N, H = x.shape[0], params[1].shape[0]
        for l in range(self.num_layers):
            U, W, b1, b2 = params[4 * l:4 * l + 4]
            d_in = x.shape[2] if l == 0 else H
            if U.shape != (H, d_in) or W.shape != (H, H) or b1.shape != (H,) or b2.shape != (H,):
                raise ValueError(f"rnn layer {l}: expected weight_ih {(H, d_in)}, weight_hh {(H, H)}, biases {(H,)}; "
                                 f"got {U.shape}, {W.shape}, {b1.shape}, {b2.shape}")
            if U.dtype != x.dtype:
                raise TypeError(f"rnn layer {l}: input dtype {x.dtype} differs from weight dtype {U.dtype}")
        if h0 is None:
            h0 = np.zeros((self.num_layers, N, H), dtype=x.dtype)
        elif h0.shape != (self.num_layers, N, H) and not (self.num_layers == 1 and h0.shape == (N, H)):
            raise ValueError(f"rnn: h0 must be (num_layers, batch, hidden) = {(self.num_layers, N, H)}"
                             f"{' or (batch, hidden)' if self.num_layers == 1 else ''}, got {h0.shape}")
        return params, h0

    # -- forward ---------------------------------------------------------------------------------------
    def forward(self, x, *args):
        params, h0 = self._split(x, args)
        h0_layers = h0.reshape(self.num_layers, *h0.shape[-2:])
        inp, states = x, []
        for l in range(self.num_layers):
            U, W, b_ih, b_hh = params[4 * l:4 * l + 4]
            # BEGIN SOLUTION rnn_forward
            xu = inp @ U.T + (b_ih + b_hh)  # every step's input term in one product: (N, T, H)
            hs = np.empty_like(xu)
            h = h0_layers[l]
            for t in range(x.shape[1]):
                h = _f(xu[:, t] + h @ W.T, self.nonlinearity)
                hs[:, t] = h
            # END SOLUTION
            states.append(hs)
            inp = hs
        out = states[-1] if self.output == "all" else states[-1][:, -1]
        return out, (x, h0, params[0::4], params[1::4], tuple(states))

    # -- backward --------------------------------------------------------------------------------------
    def backward(self, dout, cache):
        L = self.num_layers
        x, h0, Us, Ws, states = cache
        N, T, H = states[-1].shape
        dtop = dout
        if self.output == "last":
            dtop = np.zeros_like(states[-1])
            dtop[:, -1] = dout
        h0_layers = h0.reshape(L, N, H)
        k = self.truncation
        windowed = k is not None and k < T
        # Upstream gradient of the layer being swept: (N, T, H), or per origin (N, T, k, H) when windowed.
        if windowed:
            dup = np.zeros((N, T, k, H), dtype=dout.dtype)
            dup[:, :, 0] = dtop
        else:
            dup = dtop
        grads, dh0 = [None] * (4 * L), np.empty_like(h0_layers)
        for l in reversed(range(L)):
            hs, U, W = states[l], Us[l], Ws[l]
            inp = x if l == 0 else states[l - 1]
            sweep = self._sweep_window if windowed else self._sweep_full
            ds, dh0[l], dinp = sweep(dup, hs, U, W, h0_layers[l])
            # BEGIN SOLUTION rnn_backward
            prev = np.concatenate([h0_layers[l][:, None], hs[:, :-1]], axis=1)  # h_{t-1} for every t
            ds2, db = ds.reshape(-1, H), ds.sum(axis=(0, 1))
            grads[4 * l:4 * l + 4] = [ds2.T @ inp.reshape(-1, inp.shape[2]), ds2.T @ prev.reshape(-1, H),
                                      db, db.copy()]
            # END SOLUTION
            dup = dinp
        dx = dup.sum(axis=2) if windowed else dup
        return (dx, *grads, dh0.reshape(h0.shape))

    def _sweep_full(self, dh_out, hs, U, W, h0):
        """One reverse sweep: ds (N, T, H), dh0 (N, H), d input (N, T, D)."""
        # BEGIN SOLUTION rnn_backward
        dfs = _df_from_h(hs, self.nonlinearity)
        ds = np.empty_like(hs)
        carry = np.zeros_like(h0)  # dL/dh_t arriving from step t+1: ds_{t+1} W
        for t in reversed(range(hs.shape[1])):
            ds[:, t] = (dh_out[:, t] + carry) * dfs[:, t]
            carry = ds[:, t] @ W
        return ds, carry, ds @ U
        # END SOLUTION

    def _sweep_window(self, dh_out, hs, U, W, h0):
        """The truncated sweep. ``dh_out[:, j, m]`` is the gradient that the loss at origin t = j + m sends
        to h_j (N, T, k, H). ``buf[:, m]`` holds delta_{j+m, j} = dL_{j+m}/ds_j for the k origins whose
        window still contains step j. Returns ds = sum over origins (N, T, H), dh0, and d input per origin."""
        # BEGIN SOLUTION rnn_backward
        N, T, k, H = dh_out.shape
        dfs = _df_from_h(hs, self.nonlinearity)
        ds = np.empty_like(hs)
        dinp = np.empty((N, T, k, U.shape[1]), dtype=hs.dtype)
        buf = np.zeros((N, k, H), dtype=hs.dtype)
        for j in reversed(range(T)):
            carried = np.zeros_like(buf)
            carried[:, 1:] = buf[:, :-1] @ W  # origin j+m reached step j+1 at slot m-1; slot k-1 drops out
            buf = (dh_out[:, j] + carried) * dfs[:, j, None]
            ds[:, j] = buf.sum(axis=1)
            dinp[:, j] = buf @ U
        return ds, buf.sum(axis=1) @ W, dinp
        # END SOLUTION

