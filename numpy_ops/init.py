"""Weight initialisers with the conventions of ``torch.nn.init``.

Every function takes a ``numpy.random.Generator`` (so a run is reproducible from its seed), a shape
and a dtype, and returns a new array. For a weight of shape ``(out, in)`` (the `nn.Linear` layout),
``fan_in = in = shape[1]`` and ``fan_out = out = shape[0]``, as in torch.
"""

from __future__ import annotations

import math

import numpy as np

Shape = tuple[int, ...]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (same table as ``torch.nn.init.calculate_gain``)."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"no gain defined for nonlinearity {nonlinearity!r} (torch.nn.init.calculate_gain has none "
                     "either): use init torch_default, uniform or normal, or an activation with a gain "
                     "(linear, sigmoid, tanh, relu, leaky_relu, selu)")


def fans(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in)."""
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def zeros(rng: np.random.Generator, shape: Shape, dtype=np.float64) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def uniform(rng: np.random.Generator, shape: Shape, a: float = 0.0, b: float = 1.0, dtype=np.float64) -> np.ndarray:
    """U(a, b)."""
    if not a < b:
        raise ValueError(f"uniform init needs a < b, got a={a}, b={b}")
    return rng.uniform(a, b, size=shape).astype(dtype)


def normal(rng: np.random.Generator, shape: Shape, mean: float = 0.0, std: float = 1.0, dtype=np.float64) -> np.ndarray:
    """N(mean, std^2)."""
    return rng.normal(mean, std, size=shape).astype(dtype)


def xavier_uniform(rng, shape: Shape, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    """U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010)."""
    fan_in, fan_out = fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(rng, shape, -a, a, dtype)


def xavier_normal(rng, shape: Shape, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    """N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fans(shape)
    return normal(rng, shape, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), dtype)


def _kaiming_std(shape, a, mode, nonlinearity) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming mode must be 'fan_in' or 'fan_out', got {mode!r}")
    # BEGIN SOLUTION kaiming
    fan_in, fan_out = fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)
    # END SOLUTION


def kaiming_uniform(rng, shape: Shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    dtype=np.float64) -> np.ndarray:
    """U(-bound, bound) with ``bound = gain * sqrt(3 / fan)`` (He et al., 2015); torch's defaults."""
    # BEGIN SOLUTION kaiming
    bound = math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity)
    return uniform(rng, shape, -bound, bound, dtype)
    # END SOLUTION


def kaiming_normal(rng, shape: Shape, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                   dtype=np.float64) -> np.ndarray:
    """N(0, std^2) with ``std = gain / sqrt(fan)``; torch's defaults."""
    return normal(rng, shape, 0.0, _kaiming_std(shape, a, mode, nonlinearity), dtype)


def torch_default(rng, shape: Shape, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """``torch.nn.Linear``'s and ``nn.Conv2d``'s own init: weight ``kaiming_uniform(a=sqrt(5))``, which is
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    W = kaiming_uniform(rng, shape, a=math.sqrt(5), dtype=dtype)
    fan_in = fans(shape)[0]
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    b = uniform(rng, (shape[0],), -bound, bound, dtype) if bound > 0 else np.zeros(shape[0], dtype)
    return W, b


#: Names accepted by `init_weight_and_bias`; the models' ``init`` setting uses the same names.
INIT_SCHEMES = (
    "torch_default", "zeros", "uniform", "normal",
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
)


def init_weight_and_bias(
    rng: np.random.Generator,
    shape: Shape,
    scheme: str = "torch_default",
    nonlinearity: str = "relu",
    dtype=np.float64,
    uniform_bounds: tuple[float, float] = (-0.1, 0.1),
    normal_std: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """A (weight, bias (shape[0],)) pair for one layer; ``shape`` is (out, in) or (out, in, kh, kw).

    ``torch_default`` is torch's own layer init (bias included). Every other scheme initialises the
    weight as named and the bias to zero, as the labs do (e.g. the handout's ``uniform`` in
    [-0.1, 0.1] with zero bias, or all-zero weights). ``nonlinearity`` picks the gain for the
    xavier and kaiming schemes: the activation that follows the layer; one with no gain in
    ``torch.nn.init.calculate_gain`` raises there.
    """
    shape = tuple(shape)
    if scheme == "torch_default":
        return torch_default(rng, shape, dtype)
    if scheme == "zeros":
        W = zeros(rng, shape, dtype)
    elif scheme == "uniform":
        W = uniform(rng, shape, *uniform_bounds, dtype=dtype)
    elif scheme == "normal":
        W = normal(rng, shape, 0.0, normal_std, dtype)
    elif scheme == "xavier_uniform":
        W = xavier_uniform(rng, shape, calculate_gain(nonlinearity), dtype)
    elif scheme == "xavier_normal":
        W = xavier_normal(rng, shape, calculate_gain(nonlinearity), dtype)
    elif scheme == "kaiming_uniform":
        W = kaiming_uniform(rng, shape, nonlinearity=nonlinearity, dtype=dtype)
    elif scheme == "kaiming_normal":
        W = kaiming_normal(rng, shape, nonlinearity=nonlinearity, dtype=dtype)
    else:
        raise ValueError(f"unknown init scheme {scheme!r}; expected one of {INIT_SCHEMES}")
    return W, np.zeros(shape[0], dtype=dtype)


def init_linear(rng: np.random.Generator, out_features: int, in_features: int, scheme: str = "torch_default",
                nonlinearity: str = "relu", dtype=np.float64, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """`init_weight_and_bias` for a weight of shape (out_features, in_features)."""
    return init_weight_and_bias(rng, (out_features, in_features), scheme, nonlinearity, dtype, **kwargs)
