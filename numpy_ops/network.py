"""A small pure-NumPy network built from a spec (`numpy_ops.spec`): layers, a sequential container.

The container mirrors ``torch.nn.Sequential``: layers are numbered from 0, and a layer at index ``i``
owns the parameters ``"{i}.{name}"`` under the names its torch twin uses (``weight`` (out, in) and
``bias`` for a linear layer). So ``Sequential.state_dict()`` has the same keys and array layouts as the
``state_dict()`` of the equivalent ``nn.Sequential``, and weights move both ways unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from . import spec as S
from .activations_fast import get_fast_activation
from .conv import Conv2dOp
from .attention_fast import AttentionOp
from .dropout import check_p, dropout, dropout_mask
from .embedding import embedding, position_embedding
from .layers import linear
from .norm import BatchNormOp, LayerNormOp
from .op import Cache, Op
from .pooling_fast import AvgPool2dOp, MaxPool2dOp
from .reshape import flatten
from .residual import add
from .rnn import RNNOp
from .lstm_fast import LSTMOp
from .gru import GRUOp
from .user_op import load_op


class Layer:
    """One stage of a `Sequential`: the op of one layer spec and that layer's parameters.

    ``forward(x)`` runs ``op.forward(x, *params)`` and keeps the cache; ``backward(dout)`` runs
    ``op.backward``, adds the parameter gradients into ``grads`` and returns dL/dx. ``training`` is
    what layers that behave differently in evaluation (dropout, batch norm) read. ``buffers``: state that
    is not learned but travels in the state dict (batch norm's running statistics), by name.
    """

    def __init__(self, op: Op, params: Mapping[str, np.ndarray] | None = None):
        self.op = op
        self.params = dict(params or {})
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True
        self._cache: Cache | None = None

    def train(self, mode: bool = True) -> None:
        self.training = mode

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = self.op.forward(x, *self.params.values())
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, *dparams = self.op.backward(dout, self._cache)
        for g, d in zip(self.grads.values(), dparams):
            g += d
        return dx

    def __repr__(self):
        shapes = ", ".join(f"{k}={tuple(v.shape)}" for k, v in self.params.items())
        return f"{self.op!r}" + (f" [{shapes}]" if shapes else "")


class DropoutLayer(Layer):
    """Dropout's layer: draws a mask from ``rng`` at each training forward (kept in ``mask``) and passes its
    input through unchanged in evaluation mode (``training`` False)."""

    def __init__(self, p: float, rng: np.random.Generator):
        super().__init__(dropout)
        self.p, self.rng = check_p(p), rng
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self._cache = None
            return x
        self.mask = dropout_mask(self.rng, x.shape, self.p, x.dtype)
        out, self._cache = self.op.forward(x, self.mask)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout if self._cache is None else self.op.backward(dout, self._cache)[0]

    def __repr__(self):
        return f"Dropout(p={self.p})"


class BatchNormLayer(Layer):
    """Batch norm's layer: parameters ``weight``, ``bias``; buffers ``running_mean``, ``running_var``,
    ``num_batches_tracked`` (``nn.BatchNorm``'s state dict). In training it normalises by the batch and its op
    updates the running statistics; in evaluation it normalises by them."""

    def __init__(self, params, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__(BatchNormOp(True, momentum, eps), params)
        self.eval_op = BatchNormOp(False, momentum, eps)
        C, dtype = params["weight"].shape[0], params["weight"].dtype
        self.buffers = {"running_mean": np.zeros(C, dtype), "running_var": np.ones(C, dtype),
                        "num_batches_tracked": np.zeros((), np.int64)}
        self._cache_op = self.op

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._cache_op = self.op if self.training else self.eval_op
        if self.training:
            self.buffers["num_batches_tracked"] += 1
        out, self._cache = self._cache_op.forward(x, self.params["weight"], self.params["bias"],
                                                  self.buffers["running_mean"], self.buffers["running_var"])
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dweight, dbias, _, _ = self._cache_op.backward(dout, self._cache)
        self.grads["weight"] += dweight
        self.grads["bias"] += dbias
        return dx


class ResidualLayer(Layer):
    """``x + body(x)``, the body a `Sequential` of its own. ``params``, ``grads`` and ``buffers`` are the body's,
    by ``body.{j}.{name}`` (the same arrays, so optimizers and state dicts reach them)."""

    def __init__(self, body: Sequential):
        super().__init__(add)
        self.body = body
        self.params = {f"body.{k}": p for k, p in body.named_parameters()}
        self.grads = dict(zip(self.params, body.gradients()))
        self.buffers = {f"body.{k}": b for k, b in body.named_buffers()}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.op.forward(x, self.body.forward(x))[0]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        d_skip, d_body = self.op.backward(dout, ())
        return d_skip + self.body.backward(d_body)

    def train(self, mode: bool = True) -> None:
        self.training = mode
        self.body.train(mode)

    def __repr__(self):
        inner = "\n".join(f"    ({j}): {layer!r}" for j, layer in enumerate(self.body.layers))
        return f"Residual(\n{inner}\n  )"


class Sequential:
    """Layers applied in order; ``backward`` runs them in reverse (reverse-mode accumulation)."""

    def __init__(self, *layers: Layer):
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Backpropagate ``dout`` (dL/d output); accumulate parameter gradients; return dL/d input."""
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def train(self, mode: bool = True) -> Sequential:
        """Training mode (dropout active) or, with ``mode=False``, evaluation mode; as ``nn.Module.train``."""
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self) -> Sequential:
        return self.train(False)

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer.params.items():
                yield f"{i}.{name}", p

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        for i, layer in enumerate(self.layers):
            for name, b in layer.buffers.items():
                yield f"{i}.{name}", b

    def parameters(self) -> list[np.ndarray]:
        return [p for _, p in self.named_parameters()]

    def gradients(self) -> list[np.ndarray]:
        """Gradients in the order of `parameters`."""
        return [layer.grads[name] for layer in self.layers for name in layer.params]

    def zero_grad(self) -> None:
        for g in self.gradients():
            g.fill(0)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters and buffers, keyed like ``nn.Sequential(...).state_dict()``."""
        return {k: p.copy() for k, p in (*self.named_parameters(), *self.named_buffers())}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy parameters and buffers in (in place, so optimizers holding them keep working).

        Accepts anything ``np.asarray`` takes, e.g. a CPU torch state dict; keys and shapes must match
        exactly, and nothing is changed unless all of them do."""
        own = dict((*self.named_parameters(), *self.named_buffers()))
        missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or unexpected:
            raise KeyError(f"state dict mismatch: missing keys {missing}, unexpected keys {unexpected}")
        arrays = {k: np.asarray(state[k]) for k in own}
        for k, p in own.items():
            if arrays[k].shape != p.shape:
                raise ValueError(f"state dict entry {k!r} has shape {arrays[k].shape}, the network expects {p.shape}")
        for k, p in own.items():
            p[...] = arrays[k]

    @property
    def dtype(self) -> np.dtype:
        return self.parameters()[0].dtype

    def __repr__(self):
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


#: Layer spec class -> its layer here, made from (spec, parameters, generator). The generator is the one the
#: parameters were drawn from; only dropout draws from it (its mask generator is split off it).
NUMPY_LAYERS: dict[type[S.LayerSpec], Callable[..., Layer]] = {
    S.Linear: lambda s, params, rng: Layer(linear, params),
    S.Activation: lambda s, params, rng: Layer(get_fast_activation(s.name, **s.kwargs)),
    S.UserActivation: lambda s, params, rng: Layer(load_op(s.path)),
    S.UserLinear: lambda s, params, rng: Layer(load_op(s.path), params),
    S.Flatten: lambda s, params, rng: Layer(flatten),
    S.RNN: lambda s, params, rng: Layer(RNNOp(s.nonlinearity, s.num_layers, s.output, s.truncation), params),
    S.Conv2d: lambda s, params, rng: Layer(Conv2dOp(s.stride, s.padding), params),
    S.MaxPool2d: lambda s, params, rng: Layer(MaxPool2dOp(s.kernel_size, s.stride, s.padding)),
    S.AvgPool2d: lambda s, params, rng: Layer(AvgPool2dOp(s.kernel_size, s.stride, s.padding)),
    S.Dropout: lambda s, params, rng: DropoutLayer(s.p, np.random.default_rng(rng.integers(2 ** 63))),
    S.LSTM: lambda s, params, rng: Layer(LSTMOp(s.num_layers, s.output), params),
    S.GRU: lambda s, params, rng: Layer(GRUOp(s.num_layers, s.output), params),
    S.BatchNorm: lambda s, params, rng: BatchNormLayer(params, s.momentum, s.eps),
    S.LayerNorm: lambda s, params, rng: Layer(LayerNormOp(s.ndim, s.eps), params),
    S.Embedding: lambda s, params, rng: Layer(embedding, params),
    S.PositionEmbedding: lambda s, params, rng: Layer(position_embedding, params),
    S.Attention: lambda s, params, rng: Layer(AttentionOp(s.num_heads, s.causal), params),
    S.Residual: lambda s, params, rng: ResidualLayer(Sequential(*(
        numpy_layer(layer, p, rng) for layer, p in zip(s.layers, s.body_params(params))))),
}


def numpy_layer(spec: S.LayerSpec, params: dict[str, np.ndarray], rng: np.random.Generator) -> Layer:
    """The layer of one spec (`NUMPY_LAYERS`), with its parameters."""
    make = NUMPY_LAYERS.get(type(spec))
    if make is None:
        raise ValueError(f"the NumPy network has no layer for layer type {spec.type!r} ({type(spec).__name__}); "
                         "add a row to numpy_ops.network.NUMPY_LAYERS")
    return make(spec, params, rng)


def build(
    layers: Sequence[S.LayerSpec | Mapping],
    input_shape: int | Sequence[int],
    rng: np.random.Generator | None = None,
    init: str = "torch_default",
    dtype=np.float64,
    **init_kwargs,
) -> Sequential:
    """The network a spec describes, for examples of shape ``input_shape`` (no batch axis).

    Parameters are drawn from ``rng`` layer by layer, weight then bias (`numpy_ops.spec.init_all`), the
    same draws every builder makes, so the same seed gives the same network everywhere."""
    layers = S.parse(layers)
    input_shape = (input_shape,) if isinstance(input_shape, (int, np.integer)) else tuple(input_shape)
    rng = np.random.default_rng() if rng is None else rng
    params = S.init_all(layers, input_shape, rng, init, dtype, **init_kwargs)
    return Sequential(*(numpy_layer(spec, p, rng) for spec, p in zip(layers, params)))


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    rng: np.random.Generator | None = None,
    init: str = "torch_default",
    output_activation: str | None = None,
    dtype=np.float64,
    **init_kwargs,
) -> Sequential:
    """A multi-layer perceptron ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` (`numpy_ops.spec.mlp_spec`).

    Hidden layers are followed by ``activation``; the last layer by ``output_activation`` if given
    (usually None: losses take logits). Layer indices match ``nn.Sequential`` built the same way."""
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"mlp sizes must be at least [in, out] with every size >= 1, got {list(sizes)}")
    layers = S.mlp_spec(sizes[1:-1], activation, sizes[-1])
    if output_activation is not None:
        layers.append(S.Activation(output_activation))
    return build(layers, sizes[0], rng, init, dtype, **init_kwargs)
