"""A gated recurrent unit (GRU) layer over a whole sequence, and its backward through time.

For each layer and time step, as ``torch.nn.GRU`` computes it (gates stacked r, z, n in row blocks of H)::

    [xr | xz | xn] = x_t W_ih^T + b_ih                    [hr | hz | hn] = h_{t-1} W_hh^T + b_hh
    r = sigmoid(xr + hr)     z = sigmoid(xz + hz)
    n = tanh(xn + r * hn)                                 b_hn sits inside the reset gate's product (torch's choice)
    h_t = (1 - z) * n + z * h_{t-1}

``weight_ih_l{l}`` (3H, D_l), ``weight_hh_l{l}`` (3H, H), ``bias_ih_l{l}``, ``bias_hh_l{l}`` (3H,): ``nn.GRU``'s
names and layouts, so state dicts move both ways unchanged.

Backward is one reverse sweep per layer, and with the forward known it is linear in dh_t, the gradient reaching
h_t (what the output sends plus what step t+1 sends back)::

    d(xn) = dh_t * (1 - z) * (1 - n^2)                   d(hn) = d(xn) * r
    d(xr) = d(hr) = d(xn) * hn * r (1 - r)               d(xz) = d(hz) = dh_t * (h_{t-1} - n) * z (1 - z)
    dh_{t-1} = dh_t * z + [d(hr) | d(hz) | d(hn)] W_hh

so every factor is computed for all steps before the loop, and the loop keeps only dh_t (one product of (N, H)
arrays and one matrix product per step). The input part [d(xr) | d(xz) | d(xn)] gives dW_ih, db_ih and dx; the
recurrent part gives dW_hh and db_hh: db_ih and db_hh differ only in the n block, by the factor r.
"""

from __future__ import annotations

import numpy as np

from .gated import _GatedRecurrentOp, previous, sigmoid


class GRUOp(_GatedRecurrentOp):
    """``forward(x, *params[, h0])`` -> the hidden states of the top layer.

    Shapes: ``x`` (N, T, D); ``params`` per layer ``weight_ih`` (3H, D_l), ``weight_hh`` (3H, H), ``bias_ih``,
    ``bias_hh`` (3H,) (``nn.GRU``'s order); ``h0`` (num_layers, N, H), (N, H) for one layer, or None (zeros).
    Output (N, T, H) (``output="all"``) or (N, H) (``"last"``). ``backward`` returns ``(dx, *dparams, dh0)``.
    """

    name = "gru"
    gates = 3
    state_names = ("h0",)

    def forward(self, x, *args):
        params, (h0,) = self._split(x, args)
        L, (N, T, _), H = self.num_layers, x.shape, params[1].shape[1]
        h0s = h0.reshape(L, N, H)
        inp, layers = x, []
        for l in range(L):
            W_ih, W_hh, b_ih, b_hh = params[4 * l:4 * l + 4]
            gates = np.empty((N, T, 3, H), dtype=x.dtype)  # r, z, n of every step, for the backward
            hn, hs = np.empty((N, T, H), dtype=x.dtype), np.empty((N, T, H), dtype=x.dtype)  # hn: h W_hn^T + b_hn
            h = h0s[l]
            # BEGIN SOLUTION gru_forward
            xw = inp @ W_ih.T + b_ih  # every step's input part in one product: (N, T, 3H)
            for t in range(T):
                hw = h @ W_hh.T + b_hh
                gt = gates[:, t]
                gt[:, :2] = sigmoid((xw[:, t, :2 * H] + hw[:, :2 * H]).reshape(N, 2, H))
                hn[:, t] = hw[:, 2 * H:]
                gt[:, 2] = np.tanh(xw[:, t, 2 * H:] + gt[:, 0] * hn[:, t])
                hs[:, t] = h = gt[:, 2] + gt[:, 1] * (h - gt[:, 2])  # (1 - z) n + z h
            # END SOLUTION
            layers.append((gates, hn, hs))
            inp = hs
        return self._top(hs), (x, h0, *params[0::4], *params[1::4], *(a for layer in layers for a in layer))

    def backward(self, dout, cache):
        L = self.num_layers
        x, h0 = cache[:2]
        W_ihs, W_hhs, layers = cache[2:2 + L], cache[2 + L:2 + 2 * L], cache[2 + 2 * L:]
        N, T, H = layers[-1].shape
        h0s = h0.reshape(L, N, H)
        dup = self._dtop(dout, layers[-1])
        grads, dh0 = [None] * (4 * L), np.empty_like(h0s)
        for l in reversed(range(L)):
            gates, hn, hs = layers[3 * l:3 * l + 3]
            prev = previous(h0s[l], hs)
            d_ih, d_hh, dh0[l] = self._sweep(dup, gates, hn, prev, W_hhs[l])
            inp = x if l == 0 else layers[3 * (l - 1) + 2]
            grads[4 * l:4 * l + 4], dup = self._param_grads(d_ih, d_hh, inp, prev, W_ihs[l])
        return (dup, *grads, dh0.reshape(h0.shape))

    @staticmethod
    def _sweep(dh_out, gates, hn, prev, W_hh):
        """One reverse sweep of one layer: the input and recurrent parts' gradients (N, T, 3H) and dh0 (N, H)."""
        # BEGIN SOLUTION gru_backward
        N, T, _, H = gates.shape
        r, z, n = (gates[:, :, k] for k in range(3))
        to_ih = np.empty_like(gates)  # d(x-part) = dh_t * to_ih, per gate block
        to_ih[:, :, 2] = (1 - z) * (1 - n * n)
        to_ih[:, :, 0] = to_ih[:, :, 2] * hn * r * (1 - r)
        to_ih[:, :, 1] = (prev - n) * z * (1 - z)
        to_hh = to_ih.copy()
        to_hh[:, :, 2] *= r
        dhs = np.empty_like(prev)
        dh = np.zeros((N, H), dtype=prev.dtype)
        for t in reversed(range(T)):
            dh = dh_out[:, t] + dh  # dh held what h_t sends to step t+1
            dhs[:, t] = dh
            dh = dh * z[:, t] + (dh[:, None] * to_hh[:, t]).reshape(N, 3 * H) @ W_hh
        d_ih = (dhs[:, :, None] * to_ih).reshape(N, T, 3 * H)
        d_hh = (dhs[:, :, None] * to_hh).reshape(N, T, 3 * H)
        return d_ih, d_hh, dh
        # END SOLUTION
