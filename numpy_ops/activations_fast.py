"""The activations the training paths run: the textbook forms of `numpy_ops.activations`, rewritten without
branches where that is faster, giving the very same numbers (tests/test_numpy_ops_activations.py checks that,
bit for bit; docs/speed.md says what it saves).

A case split (``np.where``, or a boolean mask) costs a pass over the array per case and a temporary per case;
each form here is one expression whose pieces vanish in the case they do not belong to:

* sigmoid: ``e^min(x, 0) / (1 + e^-|x|)`` is ``1 / (1 + e^-x)`` for x >= 0 and ``e^x / (1 + e^x)`` for x < 0;
* leaky ReLU: ``max(x, 0) + slope * min(x, 0)``;
* ELU: ``max(x, 0) + alpha * (e^min(x, 0) - 1)``, and its derivative ``[x > 0] + [x <= 0] * alpha * e^min(x, 0)``.

GELU (the erf form) is fast another way: its forward keeps Phi(x) in the cache, so the backward does not compute
the error function again (scipy's erf costs tens of times NumPy's exp per element).

Classes keep the names of the ones they speed up, so a network prints the same.
"""

from __future__ import annotations

import numpy as np

from . import activations as textbook


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, branch-free, never overflowing."""
    # BEGIN HIDDEN sigmoid
    return np.exp(np.minimum(x, 0)) / (1 + np.exp(-np.abs(x)))
    # HANDOUT
    # return textbook._sigmoid(x)  # in a handout, training runs the student's sigmoid
    # END HIDDEN


class Sigmoid(textbook.Sigmoid):
    def fn(self, x):
        return sigmoid(x)


class LeakyReLU(textbook.LeakyReLU):
    def fn(self, x):
        return np.maximum(x, 0) + self.negative_slope * np.minimum(x, 0)

    def local_grad(self, x, y):
        pos = (x > 0).astype(x.dtype)
        return pos + self.negative_slope * (1 - pos)


class ELU(textbook.ELU):
    def fn(self, x):
        return np.maximum(x, 0) + self.alpha * np.expm1(np.minimum(x, 0))

    def local_grad(self, x, y):
        pos = (x > 0).astype(x.dtype)
        return pos + (1 - pos) * (self.alpha * np.exp(np.minimum(x, 0)))


class Softplus(textbook.Softplus):
    def local_grad(self, x, y):
        return sigmoid(x)


class Swish(textbook.Swish):
    def fn(self, x):
        return x * sigmoid(self.beta * x)

    def local_grad(self, x, y):
        s = sigmoid(self.beta * x)
        return s + self.beta * x * s * (1 - s)


class GELU(textbook.GELU):
    def forward(self, x):
        if self.approximate == "tanh":
            return super().forward(x)
        phi = textbook._phi_cdf(x)
        return x * phi, (x, phi)

    def backward(self, dout, cache):
        if self.approximate == "tanh":
            return super().backward(dout, cache)
        x, phi = cache
        return (dout * (phi + x * textbook._INV_SQRT_2PI * np.exp(-0.5 * x * x)),)


#: Textbook class -> its fast form (the others are fast as written).
FAST = {cls.__mro__[1]: cls for cls in (Sigmoid, LeakyReLU, ELU, Softplus, Swish, GELU)}


def get_fast_activation(name: str, **kwargs) -> textbook.Activation:
    """`numpy_ops.activations.get_activation`, in its fast form where it has one."""
    op = textbook.get_activation(name, **kwargs)  # checks the name and the arguments
    fast = FAST.get(type(op))
    if fast is None:
        return op
    fast_op = fast.__new__(fast)
    fast_op.__dict__.update(vars(op))  # the settings as the textbook class checked and set them (gelu_tanh's)
    return fast_op
