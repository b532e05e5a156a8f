"""What the gated recurrences (`numpy_ops.lstm`, `numpy_ops.gru`) share: argument checks and the sequence plumbing.

Both take ``forward(x, *params, *states)`` with ``params`` per layer ``weight_ih_l{l}`` (G H, D_l),
``weight_hh_l{l}`` (G H, H), ``bias_ih_l{l}``, ``bias_hh_l{l}`` (G H,): ``nn.LSTM``'s and ``nn.GRU``'s order
and layouts, with G gates stacked in row blocks of H (LSTM: G = 4, GRU: G = 3). The states (h0, and c0 for the
LSTM) come last, each (num_layers, N, H), (N, H) for one layer, or absent/None (zeros).
"""

from __future__ import annotations

import numpy as np

from .op import Op


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a) written as (1 + tanh(a/2)) / 2: one transcendental, and no exponent that overflows."""
    return 0.5 + 0.5 * np.tanh(0.5 * a)


def previous(first: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """(N, H) and (N, T, H) -> the value before each step, (N, T, H): [first, seq_0, ..., seq_{T-2}]."""
    return np.concatenate([first[:, None], seq[:, :-1]], axis=1)


class _GatedRecurrentOp(Op):
    """The shared part of `LSTMOp` and `GRUOp`; subclasses set ``name``, ``gates`` (G) and ``state_names``."""

    gates: int
    state_names: tuple[str, ...]

    def __init__(self, num_layers: int = 1, output: str = "all"):
        if isinstance(num_layers, bool) or int(num_layers) != num_layers or num_layers < 1:
            raise ValueError(f"{self.name}: num_layers must be an integer >= 1, got {num_layers!r}")
        if output not in ("all", "last"):
            raise ValueError(f"{self.name}: output must be 'all' or 'last', got {output!r}")
        self.num_layers, self.output = int(num_layers), output
        self.n_inputs = 1 + 4 * self.num_layers + len(self.state_names)

    def extra_repr(self) -> str:
        return f"num_layers={self.num_layers}, output={self.output!r}"

    def _split(self, x, args):
        """Check shapes and dtypes; return the parameters and each state as (num_layers, N, H) (zeros for None)."""
        L, G, n_params = self.num_layers, self.gates, 4 * self.num_layers
        if not n_params <= len(args) <= n_params + len(self.state_names):
            raise ValueError(f"{self.name}: expected x, {n_params} parameters ({L} layer(s) of weight_ih, weight_hh, "
                             f"bias_ih, bias_hh) and optional {', '.join(self.state_names)}; got {1 + len(args)} inputs")
        if x.ndim != 3:
            raise ValueError(f"{self.name}: input must be (batch, time, features), got shape {x.shape}")
        params = args[:n_params]
        N, H = x.shape[0], params[1].shape[-1]
        for l in range(L):
            W_ih, W_hh, b_ih, b_hh = params[4 * l:4 * l + 4]
            d_in = x.shape[2] if l == 0 else H
            if W_ih.shape != (G * H, d_in) or W_hh.shape != (G * H, H) or b_ih.shape != (G * H,) \
                    or b_hh.shape != (G * H,):
                raise ValueError(f"{self.name} layer {l}: expected weight_ih {(G * H, d_in)}, weight_hh {(G * H, H)}, "
                                 f"biases {(G * H,)} ({G} gates of {H}); got {W_ih.shape}, {W_hh.shape}, "
                                 f"{b_ih.shape}, {b_hh.shape}")
            if W_ih.dtype != x.dtype:
                raise TypeError(f"{self.name} layer {l}: input dtype {x.dtype} differs from weight dtype {W_ih.dtype}")
        given = list(args[n_params:]) + [None] * (n_params + len(self.state_names) - len(args))
        states = []
        for name, s in zip(self.state_names, given):
            if s is None:
                s = np.zeros((L, N, H), dtype=x.dtype)
            elif s.shape != (L, N, H) and not (L == 1 and s.shape == (N, H)):
                raise ValueError(f"{self.name}: {name} must be (num_layers, batch, hidden) = {(L, N, H)}"
                                 f"{' or (batch, hidden)' if L == 1 else ''}, got {s.shape}")
            states.append(s)
        return params, states

    def _top(self, hs: np.ndarray) -> np.ndarray:
        return hs if self.output == "all" else hs[:, -1]

    def _dtop(self, dout: np.ndarray, hs: np.ndarray) -> np.ndarray:
        """The upstream gradient of every top-layer state, (N, T, H): zero before h_T when only h_T was output."""
        if self.output == "all":
            return dout
        d = np.zeros_like(hs)
        d[:, -1] = dout
        return d

    @staticmethod
    def _param_grads(da_ih: np.ndarray, da_hh: np.ndarray, inp: np.ndarray, prev_h: np.ndarray,
                     W_ih: np.ndarray) -> tuple:
        """Every step at once, from the gradients (N, T, G H) of the input part of the gate pre-activations
        (``x W_ih^T + b_ih``) and of the recurrent part (``h W_hh^T + b_hh``; the same array for the LSTM, whose
        two parts simply add): ``[d weight_ih, d weight_hh, d bias_ih, d bias_hh]`` and d input (N, T, D_l)."""
        # BEGIN SOLUTION lstm_backward gru_backward
        d_ih, d_hh = da_ih.reshape(-1, da_ih.shape[-1]), da_hh.reshape(-1, da_hh.shape[-1])
        grads = [d_ih.T @ inp.reshape(-1, inp.shape[-1]), d_hh.T @ prev_h.reshape(-1, prev_h.shape[-1]),
                 d_ih.sum(axis=0), d_hh.sum(axis=0)]
        if da_hh is da_ih:
            grads[3] = grads[2].copy()
        return grads, da_ih @ W_ih
        # END SOLUTION
