"""The gated recurrences as torch modules: `NumpyLSTM` / `NumpyGRU` and their native twins `TorchLSTM` / `TorchGRU`.

Each twin *is* ``nn.LSTM`` / ``nn.GRU`` (``batch_first=True``) returning what the spec asks for: every hidden state
(N, T, H) (``output="all"``) or the last (N, H) (``"last"``), instead of torch's (output, states) pair. The NumPy-backed
module subclasses its twin, so parameters, names, state dict and init are torch's, and its forward and backward run
`numpy_ops.lstm_fast.LSTMOp` (the fast form of `numpy_ops.lstm`'s) / `numpy_ops.gru.GRUOp` through the bridge. Their rows: `lightning_ffnn.network.MODULES`.
"""

from __future__ import annotations

import torch
from torch import nn

from numpy_ops.gru import GRUOp
from numpy_ops.lstm_fast import LSTMOp

from .bridge import apply_op


class _SequenceOutput:
    """What both twins add to torch's module: states of shape (N, H) for one layer, and the ``output`` choice."""

    output: str

    def _state(self, x: torch.Tensor, s: torch.Tensor | None) -> torch.Tensor:
        if s is None:
            return x.new_zeros(self.num_layers, x.shape[0], self.hidden_size)
        return s if s.dim() == 3 else s.unsqueeze(0)

    def _pick(self, out: torch.Tensor) -> torch.Tensor:
        return out if self.output == "all" else out[:, -1]

    def extra_repr(self) -> str:
        return super().extra_repr() + f", output={self.output!r}"


class TorchLSTM(_SequenceOutput, nn.LSTM):
    """``nn.LSTM(batch_first=True)``; ``forward(x, h0=None, c0=None)`` -> (N, T, H) or (N, H)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, output: str = "all",
                 dtype: torch.dtype | None = None):
        super().__init__(input_size, hidden_size, num_layers=num_layers, batch_first=True, dtype=dtype)
        self.output = output

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None, c0: torch.Tensor | None = None):
        out, _ = super().forward(x, (self._state(x, h0), self._state(x, c0)))
        return self._pick(out)


class NumpyLSTM(TorchLSTM):
    """A `TorchLSTM` whose forward and backward run `numpy_ops.lstm_fast.LSTMOp`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.op = LSTMOp(self.num_layers, self.output)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None, c0: torch.Tensor | None = None):
        return apply_op(self.op, x, *self._flat_weights, h0, c0)

    def native(self) -> TorchLSTM:
        w = self.weight_ih_l0
        return TorchLSTM(self.input_size, self.hidden_size, self.num_layers, self.output, dtype=w.dtype).to(w.device)


class TorchGRU(_SequenceOutput, nn.GRU):
    """``nn.GRU(batch_first=True)``; ``forward(x, h0=None)`` -> (N, T, H) or (N, H)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, output: str = "all",
                 dtype: torch.dtype | None = None):
        super().__init__(input_size, hidden_size, num_layers=num_layers, batch_first=True, dtype=dtype)
        self.output = output

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        out, _ = super().forward(x, self._state(x, h0))
        return self._pick(out)


class NumpyGRU(TorchGRU):
    """A `TorchGRU` whose forward and backward run `numpy_ops.gru.GRUOp`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.op = GRUOp(self.num_layers, self.output)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        return apply_op(self.op, x, *self._flat_weights, h0)

    def native(self) -> TorchGRU:
        w = self.weight_ih_l0
        return TorchGRU(self.input_size, self.hidden_size, self.num_layers, self.output, dtype=w.dtype).to(w.device)

