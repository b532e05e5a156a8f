"""The LSTM the training paths run: `numpy_ops.lstm.LSTMOp`'s formulas, time-major, with each time step's work done
in arrays made once per layer instead of new ones. The forward does the textbook's float operations in its order (the
same output, bit for bit in float64); the backward writes a few products differently (s - s^2 for s (1 - s), dW_hh's
first step apart), so its gradients agree to rounding (tests/test_numpy_ops_lstm_fast.py checks both; docs/speed.md
says what it saves).

What differs from the textbook form:

* The sigmoid gates' rows of the weights and biases are halved once, before the loop (exact: a power of two), so
  the pre-activations come out already halved for those gates, and one ``tanh`` over all 4H columns of a step
  gives tanh(a/2) for i, f, o and tanh(a) for g; ``0.5 + 0.5 * tanh(a/2)`` is `numpy_ops.gated.sigmoid`.
* Arrays are time-major, (T, N, ...), so that each step's slices are contiguous (an elementwise NumPy operation on
  a strided (N, H) slice of an (N, T, H) array took twice as long here); every step writes into its slice of arrays
  made once per layer (gates, cell states, their tanh, hidden states) with ``out=``; the forward keeps tanh(c_t) for
  the backward instead of computing it again.
* The backward's local factors are computed in place over all steps at once, its loop updates dh and dc in place
  and overwrites the factors with da, and dW_hh is one product over steps 1..T-1 plus step 0's with h0 (no
  concatenated copy of the states).

Classes keep the names of the ones they speed up, so a network prints the same.
"""

from __future__ import annotations

import numpy as np

from . import lstm as textbook

_HALF = 0.5


def _halved_gate_rows(a: np.ndarray, H: int) -> np.ndarray:
    """A copy of ``a`` (4H, ...) with the rows of the sigmoid gates (i, f, o) times one half."""
    a = a.copy()
    a[:2 * H] *= _HALF
    a[3 * H:] *= _HALF
    return a


class LSTMOp(textbook.LSTMOp):
    # In a handout, forward and backward run the student's textbook form (its cache is its own).
    def forward(self, x, *args):
        # BEGIN HIDDEN lstm_forward lstm_backward
        return self._forward_time_major(x, *args)
        # HANDOUT
        # return super().forward(x, *args)
        # END HIDDEN

    def backward(self, dout, cache):
        # BEGIN HIDDEN lstm_forward lstm_backward
        return self._backward_time_major(dout, cache)
        # HANDOUT
        # return super().backward(dout, cache)
        # END HIDDEN

    def _forward_time_major(self, x, *args):
        params, (h0, c0) = self._split(x, args)
        L, (N, T, _), H = self.num_layers, x.shape, params[1].shape[1]
        h0s, c0s = h0.reshape(L, N, H), c0.reshape(L, N, H)
        inp, layers = x.transpose(1, 0, 2), []  # time-major (T, N, D): each step's slice is contiguous
        step = np.empty((N, 4 * H), dtype=x.dtype)  # one step's recurrent product
        ig = np.empty((N, H), dtype=x.dtype)
        for l in range(L):
            W_ih, W_hh, b_ih, b_hh = params[4 * l:4 * l + 4]
            h, c = h0s[l], c0s[l]
            inp = inp.reshape(T * N, -1)  # a copy for the input x, none for a lower layer's states
            cs, tcs, hs = (np.empty((T, N, H), dtype=x.dtype) for _ in range(3))
            # BEGIN HIDDEN lstm_forward lstm_backward
            W_hh_half = _halved_gate_rows(W_hh, H).T
            # every step's input part in one product; each step then adds its recurrent part in place
            gates = inp @ _halved_gate_rows(W_ih, H).T
            gates += _halved_gate_rows(b_ih + b_hh, H)
            gates = gates.reshape(T, N, 4 * H)
            for t in range(T):
                a = gates[t]
                np.matmul(h, W_hh_half, out=step)
                a += step
                np.tanh(a, out=a)  # tanh(a/2) for i, f, o; tanh(a) for g
                for s in (a[:, :2 * H], a[:, 3 * H:]):
                    s *= _HALF
                    s += _HALF
                i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
                c = np.multiply(f, c, out=cs[t])
                c += np.multiply(i, g, out=ig)
                h = np.multiply(o, np.tanh(c, out=tcs[t]), out=hs[t])
            # END HIDDEN
            layers.append((inp, gates, cs, tcs, hs))
            inp = hs
        out = hs.transpose(1, 0, 2) if self.output == "all" else hs[-1]
        # Cache: the states as given, the weights, and per layer, all time-major, its input (T N, D_l), the gate
        # activations (T, N, 4H), the cell states, their tanh and the hidden states (T, N, H).
        return out, (h0, c0, *params[0::4], *params[1::4], *(a for layer in layers for a in layer))

    def _backward_time_major(self, dout, cache):
        L = self.num_layers
        h0, c0 = cache[:2]
        W_ihs, W_hhs, layers = cache[2:2 + L], cache[2 + L:2 + 2 * L], cache[2 + 2 * L:]
        T, N, H = layers[-1].shape
        h0s, c0s = h0.reshape(L, N, H), c0.reshape(L, N, H)
        dup = dout.transpose(1, 0, 2) if self.output == "all" else dout  # "last": only h_T gets a gradient from above
        grads, dh0, dc0 = [None] * (4 * L), np.empty_like(h0s), np.empty_like(c0s)
        for l in reversed(range(L)):
            inp, gates, cs, tcs, hs = layers[5 * l:5 * l + 5]
            # BEGIN HIDDEN lstm_forward lstm_backward
            da, dh0[l], dc0[l] = self._sweep_fast(dup, gates, cs, tcs, c0s[l], W_hhs[l])
            da2 = da.reshape(T * N, 4 * H)
            # dW_hh = sum_t da_t^T h_{t-1}: the first step's h_{t-1} is h0, the others' are the states before
            dW_hh = da2[N:].T @ hs[:-1].reshape(-1, H)
            dW_hh += da[0].T @ h0s[l]
            db = da2.sum(axis=0)
            grads[4 * l:4 * l + 4] = [da2.T @ inp, dW_hh, db, db.copy()]
            dup = (da2 @ W_ihs[l]).reshape(T, N, -1)
            # END HIDDEN
        return (dup.transpose(1, 0, 2), *grads, dh0.reshape(h0.shape), dc0.reshape(c0.shape))

    @staticmethod
    def _sweep_fast(dh_out, gates, cs, tc, c0, W_hh):
        """`numpy_ops.lstm.LSTMOp._sweep`, time-major and in place: da (T, N, 4H), dh0 and dc0 (N, H). ``dh_out``:
        the gradient from above of every h_t (T, N, H), or of h_T alone (N, H)."""
        # BEGIN HIDDEN lstm_forward lstm_backward
        T, N, H = cs.shape
        i, f, g, o = (gates[:, :, k * H:(k + 1) * H] for k in range(4))
        factor = np.empty((T, N, 4 * H), dtype=gates.dtype)
        fi, ff, fg, fo = (factor[:, :, k * H:(k + 1) * H] for k in range(4))
        # the textbook's factors, each written in its slice without a temporary array: s (1 - s) as s - s^2 for
        # the sigmoid gates, times g, c_{t-1}, tanh(c); and i (1 - g^2)
        for out, s in ((fi, i), (ff, f), (fo, o)):
            np.multiply(s, s, out=out)
            np.subtract(s, out, out=out)
        fi *= g
        ff[0] *= c0
        ff[1:] *= cs[:-1]
        fo *= tc
        np.multiply(g, g, out=fg)
        np.subtract(1, fg, out=fg)
        fg *= i
        dc_from_h = np.multiply(tc, tc)
        np.subtract(1, dc_from_h, out=dc_from_h)
        dc_from_h *= o
        da = factor  # overwritten step by step, from the last: step t's factors are read before they are replaced
        dh, dc = np.zeros((N, H), dtype=gates.dtype), np.zeros((N, H), dtype=gates.dtype)
        dh_next, tmp_h = np.empty_like(dh), np.empty_like(dh)
        if dh_out.ndim == 2:
            dh += dh_out
        for t in reversed(range(T)):
            if dh_out.ndim == 3:
                dh += dh_out[t]  # dh held da_{t+1} W_hh: what h_t sends to step t+1
            dc += np.multiply(dh, dc_from_h[t], out=tmp_h)  # dc held dc_{t+1} f_{t+1}
            d = da[t].reshape(N, 4, H)
            d[:, :3] *= dc[:, None]
            d[:, 3] *= dh
            dh, dh_next = np.matmul(da[t], W_hh, out=dh_next), dh
            dc *= f[t]
        return da, dh, dc
        # END HIDDEN
