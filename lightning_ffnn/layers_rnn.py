"""The recurrent layer and its native twin (see `lightning_ffnn.layers`): `NumpyRNN` runs
`numpy_ops.rnn.RNNOp` through the bridge; `TorchRNN` is ``nn.RNN`` returning what the spec asks for."""

from __future__ import annotations

import torch
from torch import nn

from numpy_ops.rnn import RNNOp

from .bridge import apply_op

def _rnn_window_reference(rnn: nn.RNN, x: torch.Tensor, h0: torch.Tensor, k: int) -> torch.Tensor:
    """Truncated BPTT the plain way: h_t rebuilt from ``h_{t-k}.detach()`` (every layer) over the last k
    steps, so the loss at step t reaches back at most k steps. Same values as the full forward; O(T k)."""
    with torch.no_grad():  # every layer's states, to restart windows from
        states, inp = [], x
        for l in range(rnn.num_layers):
            inp, _ = _one_layer(rnn, l, inp, h0[l])
            states.append(inp)
    outs = []
    for t in range(x.shape[1]):
        start = t - k + 1
        inp = x[:, max(start, 0):t + 1]
        for l in range(rnn.num_layers):
            h_start = h0[l] if start <= 0 else states[l][:, start - 1]
            inp, _ = _one_layer(rnn, l, inp, h_start)
        outs.append(inp[:, -1])
    return torch.stack(outs, dim=1)


def _one_layer(rnn: nn.RNN, l: int, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    f = torch.tanh if rnn.nonlinearity == "tanh" else torch.relu
    U, W = getattr(rnn, f"weight_ih_l{l}"), getattr(rnn, f"weight_hh_l{l}")
    b = getattr(rnn, f"bias_ih_l{l}") + getattr(rnn, f"bias_hh_l{l}")
    hs = []
    for t in range(x.shape[1]):
        h = f(x[:, t] @ U.T + b + h @ W.T)
        hs.append(h)
    return torch.stack(hs, dim=1), h


class TorchRNN(nn.RNN):
    """The native twin of `NumpyRNN`: ``nn.RNN(batch_first=True)`` returning what the spec asks for, all hidden
    states (N, T, H) or the last (N, H), instead of nn.RNN's (output, h_n) pair. Same parameters and names.
    With ``truncation=k`` it runs `_rnn_window_reference` (nn.RNN itself has no truncated backward)."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh", num_layers: int = 1,
                 output: str = "all", truncation: int | None = None, dtype: torch.dtype | None = None):
        super().__init__(input_size, hidden_size, num_layers=num_layers, nonlinearity=nonlinearity,
                         batch_first=True, dtype=dtype)
        self.output, self.truncation = output, truncation

    def _h0(self, x: torch.Tensor, h0: torch.Tensor | None) -> torch.Tensor:
        if h0 is None:
            return x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)
        return h0 if h0.dim() == 3 else h0.unsqueeze(0)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        if self.truncation is not None and self.truncation < x.shape[1]:
            out = _rnn_window_reference(self, x, self._h0(x, h0), self.truncation)
        else:
            out, _ = super().forward(x, self._h0(x, h0))
        return out if self.output == "all" else out[:, -1]

    def extra_repr(self) -> str:
        return super().extra_repr() + f", output={self.output!r}, truncation={self.truncation}"


class NumpyRNN(TorchRNN):
    """A `TorchRNN` (so ``nn.RNN``'s parameters, names, state dict and init) whose forward and backward run
    `numpy_ops.rnn.RNNOp`. ``h0``: (num_layers, N, H), (N, H) for one layer, or None (zeros; no gradient)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.op = RNNOp(self.nonlinearity, self.num_layers, self.output, self.truncation)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        return apply_op(self.op, x, *self._flat_weights, h0)

    def native(self) -> TorchRNN:
        w = self.weight_ih_l0
        return TorchRNN(self.input_size, self.hidden_size, self.nonlinearity, self.num_layers, self.output,
                        self.truncation, dtype=w.dtype).to(w.device)
