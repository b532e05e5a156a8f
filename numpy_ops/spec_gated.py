"""Layer specs of the gated recurrences: `LSTM` and `GRU` (see `numpy_ops.spec`; the simple `RNN` lives there).

Imported by `numpy_ops.spec`, which re-exports them (``spec.LSTM``) after registering them in `LAYER_TYPES`.
YAML: ``{type: lstm, hidden_size: 128, num_layers: 1, output: last, gate_bias: 0.0}`` (``gru`` alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .spec import LayerSpec, _positive, recurrent_params, register


@dataclass(frozen=True)
class _GatedRecurrent(LayerSpec):
    """(T, D) -> every hidden state (T, H) (``output="all"``) or the last one (H,) (``"last"``). Parameters per
    layer ``l`` as torch names them: ``weight_ih_l{l}`` (G H, D_l), ``weight_hh_l{l}`` (G H, H), ``bias_ih_l{l}``,
    ``bias_hh_l{l}`` (G H,), with G = 4 gates (LSTM: i, f, g, o) or 3 (GRU: r, z, n)."""

    hidden_size: int
    num_layers: int = 1
    output: str = "all"
    gate_bias: float = 0.0
    gates: ClassVar[int]
    #: the gate whose ``bias_ih`` block `gate_bias` is added to (LSTM: the forget gate f; GRU: the update gate z)
    biased_gate: ClassVar[int]

    def __post_init__(self):
        _positive(self.type, "hidden_size", self.hidden_size)
        self.op()  # validates num_layers and output

    def output_shape(self, in_shape):
        if len(in_shape) != 2:
            raise ValueError(f"{self.type} takes one example as (time, features), got shape {in_shape}")
        return (in_shape[0], self.hidden_size) if self.output == "all" else (self.hidden_size,)

    def init_params(self, in_shape, rng, scheme="torch_default", nonlinearity="linear", dtype=np.float64,
                    **init_kwargs):
        """``torch_default`` is torch's own (every weight and bias U(-1/sqrt(H), 1/sqrt(H)), in parameter order);
        other schemes draw each weight with tanh's gain and zero biases. Then ``gate_bias`` is added to every layer's
        ``bias_ih`` block of the gate that keeps the old state (LSTM f, GRU z): a positive value starts the cell
        remembering (f or z near 1) instead of halving its state every step (0, torch's init)."""
        params = recurrent_params(in_shape[-1], self.hidden_size, self.gates, self.num_layers, rng, scheme, "tanh",
                                  dtype, **init_kwargs)
        H, k = self.hidden_size, self.biased_gate
        for l in range(self.num_layers):
            params[f"bias_ih_l{l}"][k * H:(k + 1) * H] += self.gate_bias
        return params


@dataclass(frozen=True)
class LSTM(_GatedRecurrent):
    """A long short-term memory layer (`numpy_ops.lstm`), ``nn.LSTM``'s parameters."""

    type: ClassVar[str] = "lstm"
    gates: ClassVar[int] = 4
    biased_gate: ClassVar[int] = 1  # f, the forget gate

    def op(self):
        from .lstm import LSTMOp

        return LSTMOp(self.num_layers, self.output)


@dataclass(frozen=True)
class GRU(_GatedRecurrent):
    """A gated recurrent unit layer (`numpy_ops.gru`), ``nn.GRU``'s parameters."""

    type: ClassVar[str] = "gru"
    gates: ClassVar[int] = 3
    biased_gate: ClassVar[int] = 1  # z, the update gate

    def op(self):
        from .gru import GRUOp

        return GRUOp(self.num_layers, self.output)


for _cls in (LSTM, GRU):
    register(_cls)
