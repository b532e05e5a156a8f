"""The checker catches deliberately wrong backward passes of the project's own ops, and names each mistake.

Each mutant keeps the op's forward and breaks its backward the way students do. A mutant must fail, and a
mutant built for a named mistake must get that mistake's hint. Every reference op, unmodified, must pass
at every shape, on a non-contiguous input and with float32 inputs.
"""

import numpy as np
import pytest

from course.opcheck import REFERENCES, check
from numpy_ops import activations, linear, losses


class Mutant:
    """The reference op's forward; ``backward`` replaced by ``wrong(dout, cache) -> grads``."""

    def __init__(self, base, wrong):
        self.base, self.wrong = base, wrong
        self.name = base.name

    def forward(self, *inputs):
        return self.base.forward(*inputs)

    def backward(self, dout, cache):
        return self.wrong(dout, cache)


def _sig(x):
    return activations.get_activation("sigmoid").fn(x)


def relu_in_place(dout, cache):
    x, _ = cache
    dout[x <= 0] = 0  # writes into the caller's upstream gradient
    return (dout,)


def softmax(logp):
    return np.exp(logp)


# name: (reference, base op, wrong backward, the input that is wrong, the hint key expected, or None: only caught)
MUTANTS = {
    "sigmoid, minus sign": ("sigmoid", activations.get_activation("sigmoid"),
                            lambda d, c: (-d * c[1] * (1 - c[1]),), "x", "sign"),
    "sigmoid'(x) written with x": ("sigmoid", activations.get_activation("sigmoid"),
                                   lambda d, c: (d * c[0] * (1 - c[0]),), "x", "output_for_input"),
    "sigmoid'(y), the derivative at the output": ("sigmoid", activations.get_activation("sigmoid"),
                                                  lambda d, c: (d * _sig(c[1]) * (1 - _sig(c[1])),), "x",
                                                  "output_for_input"),
    "tanh without dout": ("tanh", activations.get_activation("tanh"), lambda d, c: (1 - c[1] ** 2,), "x", "upstream"),
    "tanh, twice": ("tanh", activations.get_activation("tanh"), lambda d, c: (2 * d * (1 - c[1] ** 2),), "x", "factor"),
    "tanh'(x) written with x": ("tanh", activations.get_activation("tanh"), lambda d, c: (d * (1 - c[0] ** 2),), "x",
                                "output_for_input"),
    "relu writes into dout": ("relu", activations.get_activation("relu"), relu_in_place, "x", None),
    "relu returns float32": ("relu", activations.get_activation("relu"),
                             lambda d, c: ((d * (c[0] > 0)).astype(np.float32),), "x", None),
    "linear dW transposed": ("linear", linear, lambda d, c: (d @ c[1], c[0].T @ d, d.sum(0)), "W", "transposed"),
    "linear db not summed": ("linear", linear, lambda d, c: (d @ c[1], d.T @ c[0], d), "b", "not_summed"),
    "linear db from the first row": ("linear", linear, lambda d, c: (d @ c[1], d.T @ c[0], d[0]), "b", "first_row"),
    "linear dW from the last example only": ("linear", linear,
                                             lambda d, c: (d @ c[1], np.outer(d[-1], c[0][-1]), d.sum(0)), "W", "batch"),
    "linear gradients in the wrong order": ("linear", linear, lambda d, c: (d.T @ c[0], d @ c[1], d.sum(0)), "x",
                                            "order"),
    "linear dx divided by N": ("linear", linear, lambda d, c: (d @ c[1] / len(d), d.T @ c[0], d.sum(0)), "x",
                               "factor"),
    "softmax cross-entropy without 1/N": ("softmax_cross_entropy", losses.softmax_cross_entropy,
                                          lambda d, c: ((softmax(c[0]) - c[1]) * d, None), "logits", "factor"),
    "softmax cross-entropy without dout": ("softmax_cross_entropy", losses.softmax_cross_entropy,
                                           lambda d, c: ((softmax(c[0]) - c[1]) / len(c[0]), None), "logits",
                                           "upstream"),
    "softmax cross-entropy, softmax without the one-hot": ("softmax_cross_entropy", losses.softmax_cross_entropy,
                                                           lambda d, c: (softmax(c[0]) * d / len(c[0]), None),
                                                           "logits", None),
    "mse without the 2": ("mse", losses.mse, lambda d, c: (c[0] * d / c[0].size, -c[0] * d / c[0].size), "pred",
                          "factor"),
    "mse target gradient with the wrong sign": ("mse", losses.mse,
                                                lambda d, c: (2 * c[0] * d / c[0].size, 2 * c[0] * d / c[0].size),
                                                "target", "sign"),
    "bce without the mean": ("bce_with_logits", losses.bce_with_logits,
                             lambda d, c: ((_sig(c[0]) - c[1]) * d, -c[0] * d), "logits", "factor"),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_each_mutant_is_caught_and_named(name):
    like, base, wrong, bad_input, key = MUTANTS[name]
    report = check(Mutant(base, wrong), like=like)
    assert not report.passed, f"{name}: not caught"
    rows = {row["input"]: row for row in report.summary()}
    assert not rows[bad_input]["passed"], f"{name}: {bad_input} passed"
    if key is not None:
        assert rows[bad_input]["hint_key"] == key, f"{name}: hint {rows[bad_input]['hint']!r}"


def test_at_least_twelve_named_mistakes_and_every_hint_used():
    named = {m[4] for m in MUTANTS.values() if m[4]}
    assert len(MUTANTS) >= 12
    assert named >= {"sign", "factor", "transposed", "not_summed", "batch", "first_row", "output_for_input",
                     "upstream", "order"}


def test_in_place_and_dtype_mistakes_are_reported_as_such():
    report = check(Mutant(activations.get_activation("relu"), relu_in_place), like="relu")
    assert any("changed dout in place" in p for row in report.summary() for p in row["problems"])
    wrong = MUTANTS["relu returns float32"]
    report = check(Mutant(wrong[1], wrong[2]), like="relu")
    assert any("dtype float32" in p for row in report.summary() for p in row["problems"])


@pytest.mark.parametrize("like", sorted(REFERENCES))
def test_every_reference_op_passes_itself_at_every_shape(like):
    report = check(REFERENCES[like].make_op(), like=like)
    assert report.passed, [(r.case, r.name, r.problems) for r in report.results if not r.passed]
    cases = {r.case for r in report.results}
    assert any("non-contiguous" in c for c in cases) and any("float32" in c for c in cases)
    assert any(c.startswith("batch 1") for c in cases)
    assert report.worst_rel_error() < 1e-6


def _transform(base, i, f):
    """The base op's backward with gradient ``i`` replaced by ``f(gradient)``."""
    def wrong(dout, cache):
        grads = list(base.backward(dout, cache))
        grads[i] = f(grads[i])
        return tuple(grads)
    return wrong


# Convolution, pooling and recurrence.
IMAGE_AND_SEQUENCE_MUTANTS = {
    "conv2d db times N": ("conv2d", 2, lambda g: g * 3, "b", "factor"),         # the odd-sizes case has N = 3
    "conv2d dW with the wrong sign": ("conv2d", 1, lambda g: -g, "W", "sign"),
    "max_pool2d halved": ("max_pool2d", 0, lambda g: g / 2, "x", "factor"),
    "rnn weight_hh transposed": ("rnn", 2, lambda g: g.T, "weight_hh", "transposed"),
}


@pytest.mark.parametrize("name", list(IMAGE_AND_SEQUENCE_MUTANTS))
def test_mutants_of_image_and_sequence_ops(name):
    like, i, f, bad_input, key = IMAGE_AND_SEQUENCE_MUTANTS[name]
    base = REFERENCES[like].make_op()
    report = check(Mutant(base, _transform(base, i, f)), like=like)
    rows = {row["input"]: row for row in report.summary()}
    assert not report.passed and not rows[bad_input]["passed"]
    assert rows[bad_input]["hint_key"] == key, rows[bad_input]["hint"]
