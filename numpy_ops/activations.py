"""Activation functions, each with its hand-written derivative right beside it.

Every activation is an `Op` with one input. Subclasses define two things:

* ``fn(x)``: the function, written so that inputs of +-1000 neither overflow nor warn;
* ``local_grad(x, y)``: dy/dx elementwise, given the input ``x`` and the output ``y = fn(x)``
  (whichever is cheaper to use: sigmoid uses ``y``, ReLU uses ``x``).

``forward`` caches ``(x, y)`` and ``backward`` returns ``dout * local_grad(x, y)``.
Shapes: any; the output and the gradient have the shape and dtype of ``x``.

The functions are written as the textbook writes them, case by case. The training paths use
`numpy_ops.activations_fast`, the same numbers by branch-free expressions (`get_fast_activation`).
"""

from __future__ import annotations

import math

import numpy as np

from .op import Cache, Op


class Activation(Op):
    """Elementwise activation: ``y = fn(x)``, ``dx = dout * local_grad(x, y)``."""

    n_inputs = 1

    def fn(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def local_grad(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, x: np.ndarray) -> np.ndarray:
        """dy/dx at ``x`` (for plots and tests)."""
        return self.local_grad(x, self.fn(x))

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Cache]:
        y = self.fn(x)
        return y, (x, y)

    def backward(self, dout, cache):
        x, y = cache
        return (dout * self.local_grad(x, y),)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) where x >= 0 and e^x / (1 + e^x) elsewhere: the same function, written so that no
    exponent is ever positive (no overflow at x = -1000)."""
    # BEGIN SOLUTION sigmoid
    x = np.asarray(x)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1 + e)
    return out
    # END SOLUTION


class Identity(Activation):
    name = "identity"

    def fn(self, x):
        return x

    def local_grad(self, x, y):
        return np.ones_like(x)

    def backward(self, dout, cache):
        return (dout,)


class Sigmoid(Activation):
    name = "sigmoid"

    def fn(self, x):
        return _sigmoid(x)

    def local_grad(self, x, y):
        # BEGIN SOLUTION sigmoid
        return y * (1 - y)
        # END SOLUTION


class Tanh(Activation):
    name = "tanh"

    def fn(self, x):
        # BEGIN SOLUTION tanh
        return np.tanh(x)
        # END SOLUTION

    def local_grad(self, x, y):
        # BEGIN SOLUTION tanh
        return 1 - y * y
        # END SOLUTION


class ReLU(Activation):
    name = "relu"

    def fn(self, x):
        # BEGIN SOLUTION relu
        return np.maximum(x, 0)
        # END SOLUTION

    def local_grad(self, x, y):
        # BEGIN SOLUTION relu
        # The derivative at exactly 0 is taken as 0, as torch does.
        return (x > 0).astype(x.dtype)
        # END SOLUTION


class LeakyReLU(Activation):
    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = float(negative_slope)

    def fn(self, x):
        return np.where(x > 0, x, self.negative_slope * x)

    def local_grad(self, x, y):
        return np.where(x > 0, 1, self.negative_slope).astype(x.dtype)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Activation):
    name = "elu"

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def fn(self, x):
        # np.where computes both cases everywhere: e^min(x, 0) so the case not taken cannot overflow.
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def local_grad(self, x, y):
        return np.where(x > 0, 1, self.alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softplus(Activation):
    name = "softplus"

    def fn(self, x):
        # log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    def local_grad(self, x, y):
        return _sigmoid(x)


class Swish(Activation):
    """``x * sigmoid(beta * x)`` (SiLU when beta = 1)."""

    name = "swish"

    def __init__(self, beta: float = 1.0):
        self.beta = float(beta)

    def fn(self, x):
        return x * _sigmoid(self.beta * x)

    def local_grad(self, x, y):
        s = _sigmoid(self.beta * x)
        return s + self.beta * x * s * (1 - s)

    def extra_repr(self):
        return f"beta={self.beta}"


_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_K = math.sqrt(2.0 / math.pi)


class GELU(Activation):
    """Gaussian error linear unit: ``x * Phi(x)`` (``approximate="none"``, the erf form) or the
    tanh approximation ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` (``approximate="tanh"``),
    matching ``torch.nn.GELU(approximate=...)``."""

    name = "gelu"

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def fn(self, x):
        if self.approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_TANH_K * (x + 0.044715 * x**3)))
        return x * _phi_cdf(x)

    def local_grad(self, x, y):
        if self.approximate == "tanh":
            t = np.tanh(_TANH_K * (x + 0.044715 * x**3))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _TANH_K * (1 + 3 * 0.044715 * x * x)
        # d/dx [x Phi(x)] = Phi(x) + x phi(x); exp(-x^2/2) underflows to 0 harmlessly.
        return _phi_cdf(x) + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


def _phi_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF. NumPy has no erf, so scipy's is used (imported only when needed)."""
    from scipy.special import erf

    return (0.5 * (1 + erf(x / _SQRT_2))).astype(x.dtype, copy=False)


#: Name -> class, for settings and CLIs. The names are those of `Literal` choices in the models.
ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Identity, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Softplus, Swish, GELU)
}
ACTIVATIONS["gelu_tanh"] = GELU  # built with approximate="tanh" by `get_activation`


def get_activation(name: str, **kwargs) -> Activation:
    """Build an activation by name (``"gelu_tanh"`` is GELU's tanh approximation)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    if name == "gelu_tanh":
        kwargs.setdefault("approximate", "tanh")
    return ACTIVATIONS[name](**kwargs)
