"""A long short-term memory (LSTM) layer over a whole sequence, and its backward through time.

For each layer and time step, as ``torch.nn.LSTM`` computes it (gates stacked i, f, g, o in row blocks of H)::

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh          (N, 4H) = [a_i | a_f | a_g | a_o]
    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c_t = f * c_{t-1} + i * g                                the cell state: an additive path through time
    h_t = o * tanh(c_t)

``weight_ih_l{l}`` (4H, D_l), ``weight_hh_l{l}`` (4H, H), ``bias_ih_l{l}``, ``bias_hh_l{l}`` (4H,): ``nn.LSTM``'s
names and layouts, so state dicts move both ways unchanged. Layer l > 0 reads the hidden states of layer l - 1.

Backward is one reverse sweep per layer. Two gradients travel back in time: dh (what the output sends plus
da_{t+1} W_hh) and dc (what c_{t+1} sends through its forget gate, dc_{t+1} * f_{t+1})::

    dc_t  = dc_from_t+1 + dh_t * o * (1 - tanh(c_t)^2)
    da_i  = dc_t * g * i (1 - i)          da_f = dc_t * c_{t-1} * f (1 - f)
    da_g  = dc_t * i * (1 - g^2)          da_o = dh_t * tanh(c_t) * o (1 - o)
    dh_{t-1} gets da_t W_hh              dc_{t-1} gets dc_t * f

The factors multiplying dc_t and dh_t depend on the forward only, so they are computed for every step before
the loop; the loop itself does a few products of (N, H) arrays and one matrix product per step. The weight
gradients are then one matrix product over all steps: dW_ih = sum_t da_t^T x_t, dW_hh = sum_t da_t^T h_{t-1}.
"""

from __future__ import annotations

import numpy as np

from .gated import _GatedRecurrentOp, previous, sigmoid


class LSTMOp(_GatedRecurrentOp):
    """``forward(x, *params[, h0, c0])`` -> the hidden states of the top layer.

    Shapes: ``x`` (N, T, D); ``params`` per layer ``weight_ih`` (4H, D_l), ``weight_hh`` (4H, H), ``bias_ih``,
    ``bias_hh`` (4H,) (``nn.LSTM``'s ``_flat_weights`` order); ``h0``, ``c0`` (num_layers, N, H) as ``nn.LSTM``'s
    ``(h_0, c_0)``, or (N, H) for one layer, or None (zeros). Output (N, T, H) (``output="all"``) or the last
    hidden state (N, H) (``"last"``). ``backward`` returns ``(dx, *dparams, dh0, dc0)``, dh0 and dc0 in the shape
    the states were given in ((num_layers, N, H) for None); a caller that gave no states drops them.
    """

    name = "lstm"
    gates = 4
    state_names = ("h0", "c0")

    def forward(self, x, *args):
        params, (h0, c0) = self._split(x, args)
        L, (N, T, _), H = self.num_layers, x.shape, params[1].shape[1]
        h0s, c0s = h0.reshape(L, N, H), c0.reshape(L, N, H)
        inp, layers = x, []
        for l in range(L):
            W_ih, W_hh, b_ih, b_hh = params[4 * l:4 * l + 4]
            gates = np.empty((N, T, 4, H), dtype=x.dtype)  # i, f, g, o of every step, for the backward
            cs, hs = np.empty((N, T, H), dtype=x.dtype), np.empty((N, T, H), dtype=x.dtype)
            h, c = h0s[l], c0s[l]
            # BEGIN SOLUTION lstm_forward
            xw = inp @ W_ih.T + (b_ih + b_hh)  # every step's input part in one product: (N, T, 4H)
            for t in range(T):
                a = (xw[:, t] + h @ W_hh.T).reshape(N, 4, H)
                gt = gates[:, t]
                gt[:] = sigmoid(a)
                gt[:, 2] = np.tanh(a[:, 2])
                c = gt[:, 1] * c + gt[:, 0] * gt[:, 2]
                h = gt[:, 3] * np.tanh(c)
                cs[:, t], hs[:, t] = c, h
            # END SOLUTION
            layers.append((gates, cs, hs))
            inp = hs
        # Cache: x, the states as given, the weights (the bridge recognises them as inputs), each layer's
        # gate activations (N, T, 4, H), cell states and hidden states.
        return self._top(hs), (x, h0, c0, *params[0::4], *params[1::4], *(a for layer in layers for a in layer))

    def backward(self, dout, cache):
        L = self.num_layers
        x, h0, c0 = cache[:3]
        W_ihs, W_hhs, layers = cache[3:3 + L], cache[3 + L:3 + 2 * L], cache[3 + 2 * L:]
        N, T, H = layers[-1].shape
        h0s, c0s = h0.reshape(L, N, H), c0.reshape(L, N, H)
        dup = self._dtop(dout, layers[-1])
        grads, dh0, dc0 = [None] * (4 * L), np.empty_like(h0s), np.empty_like(c0s)
        for l in reversed(range(L)):
            gates, cs, hs = layers[3 * l:3 * l + 3]
            da, dh0[l], dc0[l] = self._sweep(dup, gates, cs, c0s[l], W_hhs[l])
            inp = x if l == 0 else layers[3 * (l - 1) + 2]
            grads[4 * l:4 * l + 4], dup = self._param_grads(da, da, inp, previous(h0s[l], hs), W_ihs[l])
        return (dup, *grads, dh0.reshape(h0.shape), dc0.reshape(c0.shape))

    @staticmethod
    def _sweep(dh_out, gates, cs, c0, W_hh):
        """One reverse sweep of one layer: da (N, T, 4H), dh0 and dc0 (N, H)."""
        # BEGIN SOLUTION lstm_backward
        N, T, _, H = gates.shape
        i, f, g, o = (gates[:, :, k] for k in range(4))
        tc = np.tanh(cs)
        # local factors: da_i, da_f, da_g = dc * factor[:, :, 0:3]; da_o = dh * factor[:, :, 3]
        factor = np.empty_like(gates)
        factor[:, :, 0] = g * i * (1 - i)
        factor[:, :, 1] = previous(c0, cs) * f * (1 - f)
        factor[:, :, 2] = i * (1 - g * g)
        factor[:, :, 3] = tc * o * (1 - o)
        dc_from_h = o * (1 - tc * tc)
        da = np.empty_like(gates)
        dh, dc = np.zeros((N, H), dtype=gates.dtype), np.zeros((N, H), dtype=gates.dtype)
        for t in reversed(range(T)):
            dh = dh_out[:, t] + dh  # dh held da_{t+1} W_hh: what h_t sends to step t+1
            dc = dc + dh * dc_from_h[:, t]  # dc held dc_{t+1} f_{t+1}: what c_t sends to step t+1
            da[:, t, :3] = dc[:, None] * factor[:, t, :3]
            da[:, t, 3] = dh * factor[:, t, 3]
            dh = da[:, t].reshape(N, 4 * H) @ W_hh
            dc = dc * f[:, t]
        return da.reshape(N, T, 4 * H), dh, dc
        # END SOLUTION
