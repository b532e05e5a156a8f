"""A small pure-NumPy network: layers with parameters, a sequential container, an MLP builder.

The container mirrors ``torch.nn.Sequential``: layers are numbered from 0, a linear layer at
index ``i`` owns the parameters ``"{i}.weight"`` (out, in) and ``"{i}.bias"`` (out,), and activation
layers own none. So ``Sequential.state_dict()`` has the same keys and array layouts as the
``state_dict()`` of the equivalent ``nn.Sequential`` of ``nn.Linear`` layers, and weights move both
ways unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from .activations import Activation, get_activation
from .init import init_linear
from .layers import linear
from .op import Cache


class Layer:
    """One stage of a `Sequential`: ``forward(x) -> y`` caches what ``backward(dy) -> dx`` needs and
    accumulates parameter gradients into ``self.grads``."""

    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        raise NotImplementedError


class Linear(Layer):
    """Affine layer holding ``weight`` (out, in) and ``bias`` (out,)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray):
        if weight.ndim != 2 or bias.shape != (weight.shape[0],):
            raise ValueError(f"Linear: weight must be (out, in) and bias (out,), got {weight.shape} and {bias.shape}")
        self.params = {"weight": weight, "bias": bias}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._cache: Cache | None = None

    @property
    def in_features(self) -> int:
        return self.params["weight"].shape[1]

    @property
    def out_features(self) -> int:
        return self.params["weight"].shape[0]

    def forward(self, x):
        out, self._cache = linear.forward(x, self.params["weight"], self.params["bias"])
        return out

    def backward(self, dout, need_dx=True):
        dx, dW, db = linear.backward(dout, self._cache, (need_dx, True, True))
        self.grads["weight"] += dW
        self.grads["bias"] += db
        return dx

    def __repr__(self):
        return f"Linear(in_features={self.in_features}, out_features={self.out_features})"


class ActivationLayer(Layer):
    """A parameter-free layer wrapping an `Activation` op."""

    def __init__(self, act: Activation):
        self.act = act
        self.params, self.grads = {}, {}
        self._cache: Cache | None = None

    def forward(self, x):
        out, self._cache = self.act.forward(x)
        return out

    def backward(self, dout, need_dx=True):
        return self.act.backward(dout, self._cache)[0]

    def __repr__(self):
        return repr(self.act)


class Sequential:
    """Layers applied in order; ``backward`` runs them in reverse (reverse-mode accumulation)."""

    def __init__(self, *layers: Layer):
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Backpropagate ``dout`` (dL/d output); accumulate parameter gradients; return dL/d input.

        The input gradient of the first layer is skipped (returns None) unless
        ``need_input_grad`` is set, which saves a matrix product per step."""
        for i in range(len(self.layers) - 1, -1, -1):
            dout = self.layers[i].backward(dout, need_dx=i > 0 or self.need_input_grad)
        return dout

    need_input_grad = False

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer.params.items():
                yield f"{i}.{name}", p

    def parameters(self) -> list[np.ndarray]:
        return [p for _, p in self.named_parameters()]

    def gradients(self) -> list[np.ndarray]:
        """Gradients in the order of `parameters`."""
        return [layer.grads[name] for layer in self.layers for name in layer.params]

    def zero_grad(self) -> None:
        for g in self.gradients():
            g.fill(0)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters, keyed like ``nn.Sequential(...).state_dict()``."""
        return {k: p.copy() for k, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy parameters in (in place, so optimizers holding them keep working).

        Accepts anything ``np.asarray`` takes, e.g. a CPU torch state dict; keys and shapes must match
        exactly, and nothing is changed unless all of them do."""
        own = dict(self.named_parameters())
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


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    rng: np.random.Generator | None = None,
    init: str = "torch_default",
    output_activation: str | None = None,
    dtype=np.float64,
    **init_kwargs,
) -> Sequential:
    """A multi-layer perceptron ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Hidden layers are followed by ``activation``; the last layer by ``output_activation`` if given
    (usually None: losses take logits). Layer indices match ``nn.Sequential`` built the same way.
    Initialisation draws from ``rng`` layer by layer, weight then bias.
    """
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"mlp sizes must be at least [in, out] with every size >= 1, got {list(sizes)}")
    rng = np.random.default_rng() if rng is None else rng
    layers: list[Layer] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        act_name = output_activation if last else activation
        W, b = init_linear(rng, fan_out, fan_in, init, nonlinearity=act_name or "linear", dtype=dtype, **init_kwargs)
        layers.append(Linear(W, b))
        if act_name is not None:
            layers.append(ActivationLayer(get_activation(act_name)))
    return Sequential(*layers)
