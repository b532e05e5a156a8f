"""Layer specs of the gated recurrences: `LSTM` and `GRU`, and the parameters every recurrent spec draws
(`recurrent_params`, the simple `RNN`'s too). `numpy_ops.spec` lists them in `LAYER_TYPES` and re-exports them.

YAML: ``{type: lstm, hidden_size: 128, num_layers: 1, output: last, gate_bias: 0.0}`` (``gru`` alike).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .gru import GRUOp
from .init import init_weight_and_bias
from .lstm import LSTMOp
from .spec_base import LayerSpec, check_positive


def recurrent_params(d_in: int, H: int, gates: int, num_layers: int, rng: np.random.Generator, scheme: str,
                     nonlinearity: str, dtype, **init_kwargs) -> dict[str, np.ndarray]:
    """The parameters of ``nn.RNN`` (gates = 1), ``nn.GRU`` (3) or ``nn.LSTM`` (4), by their names: per layer ``l``
    ``weight_ih_l{l}`` (G H, D_l), ``weight_hh_l{l}`` (G H, H), ``bias_ih_l{l}``, ``bias_hh_l{l}`` (G H,).
    ``torch_default`` is torch's own init for all three: every weight and bias U(-1/sqrt(H), 1/sqrt(H)), drawn
    in parameter order. Other schemes: each weight as named (gain of ``nonlinearity``), biases zero."""
    G, params = gates, {}
    for l in range(num_layers):
        shapes = {f"weight_ih_l{l}": (G * H, d_in if l == 0 else H), f"weight_hh_l{l}": (G * H, H),
                  f"bias_ih_l{l}": (G * H,), f"bias_hh_l{l}": (G * H,)}
        if scheme == "torch_default":
            bound = 1.0 / math.sqrt(H)
            params.update({k: rng.uniform(-bound, bound, s).astype(dtype) for k, s in shapes.items()})
            continue
        for name in (f"weight_ih_l{l}", f"weight_hh_l{l}"):
            params[name] = init_weight_and_bias(rng, shapes[name], scheme, nonlinearity, dtype, **init_kwargs)[0]
        params[f"bias_ih_l{l}"], params[f"bias_hh_l{l}"] = np.zeros(G * H, dtype), np.zeros(G * H, dtype)
    return params


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

    op_class: ClassVar[type]

    def __post_init__(self):
        check_positive(self.type, "hidden_size", self.hidden_size)
        self.op_class(self.num_layers, self.output)  # validates num_layers and output
        if isinstance(self.gate_bias, bool) or not isinstance(self.gate_bias, (int, float)) \
                or not math.isfinite(self.gate_bias):
            raise ValueError(f"{self.type}: gate_bias must be a finite number, got {self.gate_bias!r}")

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
    op_class: ClassVar[type] = LSTMOp


@dataclass(frozen=True)
class GRU(_GatedRecurrent):
    """A gated recurrent unit layer (`numpy_ops.gru`), ``nn.GRU``'s parameters."""

    type: ClassVar[str] = "gru"
    gates: ClassVar[int] = 3
    biased_gate: ClassVar[int] = 1  # z, the update gate
    op_class: ClassVar[type] = GRUOp
