"""What every layer spec is (see `numpy_ops.spec`): plain data about one layer, shared by every builder.

A spec says nothing about how a framework runs the layer; it knows only

* ``output_shape(in_shape)``: the shape of one example after the layer (no batch axis);
* ``init_params(in_shape, rng, ...)``: its parameters, by name, in the order its op takes them, drawn from
  a NumPy generator (so every builder starts from the same numbers);
* ``to_dict()``: its YAML / JSON form.

The builders map each spec class to what they make of it: `numpy_ops.network.NUMPY_LAYERS` (a layer of the
pure-NumPy network) and `lightning_ffnn.network.MODULES` (a bridged torch module and its native twin).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, ClassVar

import numpy as np

Shape = tuple[int, ...]


class LayerSpec:
    """Base of every layer spec (see the module docstring)."""

    type: ClassVar[str]

    def output_shape(self, in_shape: Shape) -> Shape:
        return in_shape

    def init_params(self, in_shape: Shape, rng: np.random.Generator, scheme: str = "torch_default",
                    nonlinearity: str = "linear", dtype=np.float64, **init_kwargs) -> dict[str, np.ndarray]:
        """Parameter-free by default."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """The YAML / JSON form: ``{"type": ..., **arguments}``."""
        return {"type": self.type, **{f.name: getattr(self, f.name) for f in fields(self)}}


def check_positive(layer: str, name: str, value: Any) -> None:
    """Raise unless ``value`` is an integer >= 1, naming the layer type and the argument."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be an integer >= 1, got {value!r}")
