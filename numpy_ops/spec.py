"""A network described once, as data: an ordered list of layer specs.

One spec serves every builder: `numpy_ops.network.build` (the pure-NumPy network),
`lightning_ffnn.network.build_network` (bridged NumPy layers or native torch layers). A spec is plain data
(`numpy_ops.spec_base.LayerSpec`): its arguments, the shape it outputs, the parameters it starts from.
What a builder makes of it is that builder's table (`numpy_ops.network.NUMPY_LAYERS`,
`lightning_ffnn.network.MODULES`).

In a YAML config a layer is a mapping with a ``type`` and that type's arguments::

    layers:
      - {type: linear, out_features: 64}
      - {type: activation, name: sigmoid}

`mlp_spec` writes the short form the MLP labs use (``hidden_sizes`` + ``activation``) as such a list.
A new kind of layer is a dataclass with those methods, one row in `LAYER_TYPES` and one row per builder
(docs/architecture.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .activations import ACTIVATIONS, get_activation
from .init import init_weight_and_bias
from .rnn import RNNOp
from .spec_base import LayerSpec, Shape, check_positive
from .spec_cnn import AvgPool2d, Conv2d, Dropout, MaxPool2d
from .spec_gated import GRU, LSTM, recurrent_params
from .spec_transformer import Attention, BatchNorm, Embedding, LayerNorm, PositionEmbedding
from .user_op import is_op_path, load_op

__all__ = ["LayerSpec", "Shape", "Linear", "Activation", "Flatten", "UserActivation", "UserLinear", "RNN", "Conv2d", "MaxPool2d",
           "AvgPool2d", "Dropout", "LSTM", "GRU", "BatchNorm", "LayerNorm", "Embedding", "PositionEmbedding", "Attention",
           "Residual",
           "LAYER_TYPES", "parse_layer", "parse", "mlp_spec", "activation_spec", "shapes",
           "following_nonlinearity", "init_all"]


@dataclass(frozen=True)
class Linear(LayerSpec):
    """Fully connected: (..., in) -> (..., out_features). Parameters ``weight`` (out, in), ``bias`` (out,)."""

    out_features: int
    type: ClassVar[str] = "linear"

    def __post_init__(self):
        check_positive("linear", "out_features", self.out_features)

    def output_shape(self, in_shape):
        return (*in_shape[:-1], self.out_features)

    def init_params(self, in_shape, rng, scheme="torch_default", nonlinearity="linear", dtype=np.float64,
                    **init_kwargs):
        W, b = init_weight_and_bias(rng, (self.out_features, in_shape[-1]), scheme, nonlinearity, dtype,
                                    **init_kwargs)
        return {"weight": W, "bias": b}



@dataclass(frozen=True)
class Activation(LayerSpec):
    """An elementwise activation of `numpy_ops.activations`, by name, with its arguments (e.g. a slope)."""

    name: str
    kwargs: Mapping[str, float] = field(default_factory=dict)
    type: ClassVar[str] = "activation"

    def __post_init__(self):
        get_activation(self.name, **self.kwargs)  # an unknown name or argument fails here, at parse time



@dataclass(frozen=True)
class Flatten(LayerSpec):
    """(C, H, W) or any shape -> (C*H*W,) per example."""

    type: ClassVar[str] = "flatten"

    def output_shape(self, in_shape):
        return (math.prod(in_shape),)


def parse_layer(item: LayerSpec | Mapping[str, Any], where: str = "layer") -> LayerSpec:
    """A `LayerSpec` from its mapping form (``{"type": "linear", "out_features": 64}``)."""
    if isinstance(item, LayerSpec):
        return item
    if not isinstance(item, Mapping) or "type" not in item:
        raise ValueError(f"{where}: expected a mapping with a 'type' (one of {sorted(LAYER_TYPES)}), got {item!r}")
    args = dict(item)
    kind = args.pop("type")
    make = LAYER_TYPES.get(kind)
    if kind == "activation" and ("path" in args or is_op_path(str(args.get("name", "")).partition("@")[0])):
        make = UserActivation.from_args  # a user's own op from a file
    if kind == "linear" and "op" in args:
        make = UserLinear.from_args
    if make is None:
        raise ValueError(f"{where}: unknown layer type {kind!r}; expected one of {sorted(LAYER_TYPES)}")
    try:
        return make(**args)
    except TypeError as exc:
        raise ValueError(f"{where} ({kind}): {exc}") from None


def parse(items: Sequence[LayerSpec | Mapping[str, Any]]) -> list[LayerSpec]:
    """A whole network's spec from its list form; errors name the layer's position."""
    return [parse_layer(item, f"layer {i}") for i, item in enumerate(items)]


def mlp_spec(hidden_sizes: Sequence[int], activation: str, output_dim: int) -> list[LayerSpec]:
    """The MLP labs' short form: Linear, activation, ..., Linear(output_dim) (no activation after the last:
    losses take logits / raw outputs)."""
    layers: list[LayerSpec] = []
    for width in hidden_sizes:
        layers += [Linear(int(width)), activation_spec(activation)]
    return [*layers, Linear(int(output_dim))]


def shapes(spec: Sequence[LayerSpec], input_shape: Shape) -> list[Shape]:
    """The per-example shape entering each layer, and (last) the network's output shape."""
    out = [tuple(input_shape)]
    for i, layer in enumerate(spec):
        try:
            out.append(tuple(layer.output_shape(out[-1])))
        except ValueError as exc:
            raise ValueError(f"layer {i} ({layer.type}) cannot take input of shape {out[-1]}: {exc}") from None
    return out


def following_nonlinearity(spec: Sequence[LayerSpec], i: int) -> str:
    """The activation right after layer ``i`` (its init gain depends on it), else ``"linear"``."""
    nxt = spec[i + 1] if i + 1 < len(spec) else None
    return nxt.name if isinstance(nxt, Activation) else "linear"


def init_all(spec: Sequence[LayerSpec], input_shape: Shape, rng: np.random.Generator, scheme: str = "torch_default",
             dtype=np.float64, **init_kwargs) -> list[dict[str, np.ndarray]]:
    """Every layer's parameters, drawn layer by layer (weight, then bias) from one generator."""
    ins = shapes(spec, input_shape)
    return [layer.init_params(ins[i], rng, scheme, following_nonlinearity(spec, i), dtype, **init_kwargs)
            for i, layer in enumerate(spec)]


# ---- a user's own activation, loaded from a file ----

@dataclass(frozen=True)
class UserActivation(Activation):
    """An activation a user wrote in a file (``path`` is ``FILE.py:NAME``, see `numpy_ops.user_op`), standing
    in for the `numpy_ops` activation ``name`` it should equal: that one gives the init gain and the native
    twin (the gradient-parity check compares the two while training).

    YAML: ``{type: activation, name: my_ops.py:MySigmoid}`` (the reference taken from the op's ``like``
    attribute or its name), or ``{type: activation, name: my_ops.py:MySigmoid, like: sigmoid}``; the short
    form ``activation: my_ops.py:MySigmoid@sigmoid``.
    """

    path: str = ""

    def __post_init__(self):
        get_activation(self.name, **self.kwargs)  # the reference must be a numpy_ops activation
        load_op(self.path)  # the file must load

    def to_dict(self):
        return {"type": "activation", "name": self.path, "like": self.name, "kwargs": dict(self.kwargs)}

    @classmethod
    def from_args(cls, name: str, like: str | None = None, kwargs: Mapping[str, float] | None = None,
                  path: str | None = None) -> UserActivation:
        """From the YAML form (``name`` the file, ``like`` the reference) or the short ``FILE.py:NAME@like``."""
        if path is None:
            path, _, suffix = name.partition("@")
            like = like or suffix or None
        else:  # the to_dict form of an older version: name is the reference
            like = like or name
        if like is None:
            own = load_op(path)  # its `like` attribute, else the activation its name ends with (MySigmoid: sigmoid)
            key = own.like or own.name.lower()
            like = max((a for a in ACTIVATIONS if key.endswith(a)), key=len, default=None)
        if like is None:
            raise ValueError(f"activation {path}: say which numpy_ops activation it should equal, as "
                             f"{path}@sigmoid or {{type: activation, name: {path}, like: sigmoid}} "
                             f"(one of {sorted(ACTIVATIONS)})")
        return cls(like, dict(kwargs or {}), path)


@dataclass(frozen=True)
class UserLinear(Linear):
    """A fully connected layer whose forward and backward are a user's op (``path`` is ``FILE.py:NAME``, see
    `numpy_ops.user_op`), taking ``(x, W, b)`` with ``W`` stored ``(out, in)`` as `numpy_ops.layers.linear` does;
    its parameters, init and native twin are `Linear`'s, so the gradient-parity check compares the user's backward
    with autograd's while training. YAML: ``{type: linear, out_features: 64, op: my_layers.py:affine}``."""

    path: str = ""

    def __post_init__(self):
        super().__post_init__()
        op = load_op(self.path)  # the file must load
        if op.n_inputs not in (None, 3):
            raise ValueError(f"linear op {self.path}: forward takes {op.n_inputs} inputs; a linear layer's op takes "
                             "3 (x, W, b), with W stored (out, in)")

    def to_dict(self):
        return {"type": "linear", "out_features": self.out_features, "op": self.path}

    @classmethod
    def from_args(cls, out_features: int, op: str) -> UserLinear:
        return cls(out_features, op)


def activation_spec(name: str, **kwargs) -> Activation:
    """``Activation(name)``, or a `UserActivation` for ``FILE.py:NAME[@like]``."""
    if is_op_path(name.partition("@")[0]):
        return UserActivation.from_args(name, kwargs=kwargs)
    return Activation(name, kwargs)


@dataclass(frozen=True)
class RNN(LayerSpec):
    """A simple recurrent layer (`numpy_ops.rnn`): (T, D) -> every hidden state (T, H) (``output="all"``, a
    per-step output layer follows) or the last one (H,) (``"last"``, sequence classification).

    Parameters per layer ``l`` as ``torch.nn.RNN`` names them: ``weight_ih_l{l}`` (H, D_l), ``weight_hh_l{l}``
    (H, H), ``bias_ih_l{l}``, ``bias_hh_l{l}`` (H,). ``truncation``: BPTT through at most that many steps."""

    hidden_size: int
    nonlinearity: str = "tanh"
    num_layers: int = 1
    output: str = "all"
    truncation: int | None = None
    type: ClassVar[str] = "rnn"

    def __post_init__(self):
        check_positive("rnn", "hidden_size", self.hidden_size)
        RNNOp(self.nonlinearity, self.num_layers, self.output, self.truncation)  # validates the other arguments

    def output_shape(self, in_shape):
        if len(in_shape) != 2:
            raise ValueError(f"rnn takes one example as (time, features), got shape {in_shape}")
        return (in_shape[0], self.hidden_size) if self.output == "all" else (self.hidden_size,)

    def init_params(self, in_shape, rng, scheme="torch_default", nonlinearity="linear", dtype=np.float64,
                    **init_kwargs):
        """``torch_default`` is ``nn.RNN``'s own: every weight and bias U(-1/sqrt(H), 1/sqrt(H)), drawn in
        parameter order. Other schemes: each weight as named (gain of this layer's nonlinearity), biases zero."""
        return recurrent_params(in_shape[-1], self.hidden_size, 1, self.num_layers, rng, scheme, self.nonlinearity,
                                dtype, **init_kwargs)


@dataclass(frozen=True)
class Residual(LayerSpec):
    """``x + body(x)``: a skip connection around the ``layers`` it holds (a spec list of their own, which must give
    back the input's shape). Parameters ``body.{j}.{name}`` (the body's layer j), as a torch module holding the
    body as an ``nn.Sequential`` named ``body``. A pre-LN Transformer block is two of these (spec_transformer)."""

    layers: tuple = ()
    type: ClassVar[str] = "residual"

    def __post_init__(self):
        if not self.layers:
            raise ValueError("residual: 'layers' must list at least one layer (the body added to the input)")
        object.__setattr__(self, "layers", tuple(parse(self.layers)))

    def output_shape(self, in_shape):
        out = shapes(self.layers, in_shape)[-1]
        if tuple(out) != tuple(in_shape):
            raise ValueError(f"residual: its layers turn {in_shape} into {out}; they must keep the shape")
        return in_shape

    def init_params(self, in_shape, rng, scheme="torch_default", nonlinearity="linear", dtype=np.float64,
                    **init_kwargs):
        drawn = init_all(self.layers, in_shape, rng, scheme, dtype, **init_kwargs)
        return {f"body.{j}.{name}": value for j, params in enumerate(drawn) for name, value in params.items()}

    def body_params(self, params: Mapping[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
        """``init_params``' flat ``body.{j}.{name}`` dict split back into one dict per body layer."""
        own: list[dict[str, np.ndarray]] = [{} for _ in self.layers]
        for key, value in params.items():
            _, j, name = key.split(".", 2)
            own[int(j)][name] = value
        return own

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "layers": [layer.to_dict() for layer in self.layers]}


#: ``type`` name -> spec class: every layer type a config may name.
LAYER_TYPES: dict[str, type[LayerSpec]] = {
    cls.type: cls for cls in (Linear, Activation, Flatten, RNN, Conv2d, MaxPool2d, AvgPool2d, Dropout, LSTM, GRU,
                              BatchNorm, LayerNorm, Embedding, PositionEmbedding, Attention, Residual)
}
