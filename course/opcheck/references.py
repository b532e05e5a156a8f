"""The reference ops a user's op may be checked against (``--like NAME``), with the inputs to try.

A `Reference` says how to build the `numpy_ops` op, the names of its inputs, and how to draw inputs for
each `Case` (batch 1, odd sizes, a larger batch, ...). Inputs are float64 and kept away from kinks
(ReLU's 0), where central differences are meaningless. One input of one case is made non-contiguous by
the checker itself (`course.opcheck.checks`), whatever the op.

A new op is one `register` call. An op with state it updates (batch norm's running statistics) names those
inputs in ``state``; an op with typical mistakes the checker should name lists them in ``mistakes``
(`course.opcheck.mistakes`, the zoo's in `course.opcheck.mutants`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from numpy_ops import activations, conv, gru, layers, losses, lstm, norm, pooling, rnn
from numpy_ops.attention import AttentionOp
from numpy_ops.embedding import embedding as embedding_op

from . import mutants

#: Draws one case's inputs: ``make(rng, **sizes) -> tuple of arrays``.
InputMaker = Callable[..., tuple[np.ndarray, ...]]


@dataclass(frozen=True)
class Case:
    """One set of sizes to try, by name (``"batch 1"``). ``batch`` is the N of the case (hints use it)."""

    name: str
    batch: int
    sizes: dict


@dataclass(frozen=True)
class Reference:
    name: str
    make_op: Callable[[], object]
    input_names: tuple[str, ...]
    make_inputs: InputMaker
    cases: tuple[Case, ...]
    #: Inputs the op updates in place and does not differentiate (batch norm's running statistics): the checker
    #: compares them after forward with the reference's, instead of calling the change a mistake.
    state: tuple[str, ...] = ()
    #: Its typical mistakes (`course.opcheck.mistakes.Mistake`), named when a user's op reproduces one.
    mistakes: tuple = ()

    def inputs(self, case: Case, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        return self.make_inputs(rng, **case.sizes)


REFERENCES: dict[str, Reference] = {}


def register(ref: Reference) -> Reference:
    REFERENCES[ref.name] = ref
    return ref


def get_reference(name: str) -> Reference:
    if name not in REFERENCES:
        raise KeyError(f"--like {name!r}: no such reference; expected one of {', '.join(sorted(REFERENCES))}")
    return REFERENCES[name]


def away_from_zero(rng: np.random.Generator, shape, low: float = 0.1, high: float = 2.0) -> np.ndarray:
    """Values with |v| in [low, high] and a random sign: no kink at 0 for ReLU and its kind."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


# ---- elementwise activations: one input x of any shape ----

def _activation_inputs(rng, n, d):
    return (away_from_zero(rng, (n, d)),)


_ACTIVATION_CASES = (Case("batch 1", 1, dict(n=1, d=4)), Case("odd sizes", 5, dict(n=5, d=7)),
                     Case("batch 8", 8, dict(n=8, d=3)))

for _name in activations.ACTIVATIONS:
    register(Reference(_name, lambda n=_name: activations.get_activation(n), ("x",), _activation_inputs,
                       _ACTIVATION_CASES))


# ---- the affine layer: x (N, in), W (out, in), b (out,) ----

def _linear_inputs(rng, n, d_in, d_out):
    return rng.standard_normal((n, d_in)), rng.standard_normal((d_out, d_in)), rng.standard_normal(d_out)


register(Reference("linear", lambda: layers.linear, ("x", "W", "b"), _linear_inputs,
                   (Case("batch 1", 1, dict(n=1, d_in=3, d_out=2)), Case("odd sizes", 5, dict(n=5, d_in=7, d_out=3)),
                    Case("batch 4, square W", 4, dict(n=4, d_in=3, d_out=3)))))


# ---- losses: (prediction, target) -> scalar ----

def _ce_inputs(rng, n, c):
    return rng.standard_normal((n, c)), rng.integers(0, c, n)


def _ce_soft_inputs(rng, n, c):
    t = rng.uniform(0.1, 1.0, (n, c))
    return rng.standard_normal((n, c)), t / t.sum(axis=1, keepdims=True)


def _regression_inputs(rng, n, d):
    return rng.standard_normal((n, d)), rng.standard_normal((n, d))


def _bce_inputs(rng, n, d):
    return rng.standard_normal((n, d)), rng.uniform(0.05, 0.95, (n, d))


_LOSS_CASES = (Case("batch 1", 1, dict(n=1, c=4)), Case("odd sizes", 5, dict(n=5, c=3)),
               Case("batch 8", 8, dict(n=8, c=6)))
_ELEMENTWISE_LOSS_CASES = tuple(Case(c.name, c.batch, dict(n=c.sizes["n"], d=c.sizes["c"])) for c in _LOSS_CASES)

register(Reference("softmax_cross_entropy", lambda: losses.softmax_cross_entropy, ("logits", "labels"),
                   _ce_inputs, _LOSS_CASES))
register(Reference("softmax_cross_entropy_soft", lambda: losses.softmax_cross_entropy, ("logits", "target"),
                   _ce_soft_inputs, _LOSS_CASES))
register(Reference("mse", lambda: losses.mse, ("pred", "target"), _regression_inputs, _ELEMENTWISE_LOSS_CASES))
register(Reference("bce_with_logits", lambda: losses.bce_with_logits, ("logits", "target"), _bce_inputs,
                   _ELEMENTWISE_LOSS_CASES))


# ---- normalization, embeddings, attention (numpy_ops.norm, embedding, attention) ----

def _batch_norm_inputs(rng, n, c, hw=None):
    """x (N, C) or (N, C, H, W), weight, bias, running_mean, running_var (C,): F.batch_norm's order."""
    shape = (n, c) if hw is None else (n, c, *hw)
    return (rng.standard_normal(shape), rng.standard_normal(c), rng.standard_normal(c), rng.standard_normal(c),
            rng.uniform(0.5, 2.0, c))


def _layer_norm_inputs(rng, n, d):
    return rng.standard_normal((n, d)), rng.standard_normal(d), rng.standard_normal(d)


def _embedding_inputs(rng, n, t, v, d):
    return rng.integers(0, v, (n, t)), rng.standard_normal((v, d))


def _attention_inputs(rng, n, t, d):
    """x (N, T, D), in_proj_weight (3D, D), in_proj_bias (3D,), out_proj.weight (D, D), out_proj.bias (D,)."""
    return (rng.standard_normal((n, t, d)), rng.standard_normal((3 * d, d)) * 0.5, rng.standard_normal(3 * d) * 0.5,
            rng.standard_normal((d, d)) * 0.5, rng.standard_normal(d))


def _padded_attention_inputs(rng, n, t, d):
    """`_attention_inputs` and a key-padding mask (N, T), True at padding: sequence 0 padded at its end, sequence 1
    (when there is one) at its start, so that under the causal mask its first query may see no key at all."""
    mask = np.zeros((n, t), dtype=bool)
    mask[0, t - 1:] = True
    if n > 1:
        mask[1, :2] = True
    return (*_attention_inputs(rng, n, t, d), mask)


_BATCH_NORM_CASES = (Case("batch 1, images", 1, dict(n=1, c=3, hw=(3, 5))), Case("odd sizes", 7, dict(n=7, c=5)),
                     Case("batch 3", 3, dict(n=3, c=2)))
_BATCH_NORM_NAMES = ("x", "weight", "bias", "running_mean", "running_var")
_ATTENTION_CASES = (Case("batch 1", 1, dict(n=1, t=3, d=4)), Case("odd sizes", 3, dict(n=3, t=5, d=6)))
_ATTENTION_NAMES = ("x", "in_proj_weight", "in_proj_bias", "out_proj_weight", "out_proj_bias")

register(Reference("batch_norm", lambda: norm.BatchNormOp(training=True), _BATCH_NORM_NAMES, _batch_norm_inputs,
                   _BATCH_NORM_CASES, state=("running_mean", "running_var"), mistakes=mutants.BATCH_NORM))
register(Reference("batch_norm_eval", lambda: norm.BatchNormOp(training=False), _BATCH_NORM_NAMES,
                   _batch_norm_inputs, _BATCH_NORM_CASES, state=("running_mean", "running_var"),
                   mistakes=mutants.BATCH_NORM_EVAL))
register(Reference("layer_norm", lambda: norm.LayerNormOp(), ("x", "weight", "bias"), _layer_norm_inputs,
                   (Case("batch 1", 1, dict(n=1, d=4)), Case("odd sizes", 5, dict(n=5, d=7))),
                   mistakes=mutants.LAYER_NORM))
register(Reference("embedding", lambda: embedding_op, ("indices", "weight"), _embedding_inputs,
                   (Case("batch 1", 1, dict(n=1, t=4, v=3, d=2)), Case("odd sizes", 3, dict(n=3, t=5, v=7, d=3))),
                   mistakes=mutants.EMBEDDING))
register(Reference("attention", lambda: AttentionOp(num_heads=2), _ATTENTION_NAMES, _attention_inputs,
                   _ATTENTION_CASES, mistakes=mutants.ATTENTION))
register(Reference("causal_attention", lambda: AttentionOp(num_heads=2, causal=True), _ATTENTION_NAMES,
                   _attention_inputs, _ATTENTION_CASES, mistakes=mutants.CAUSAL_ATTENTION))
register(Reference("padded_attention", lambda: AttentionOp(num_heads=2, causal=True, key_padding=True),
                   (*_ATTENTION_NAMES, "key_padding_mask"), _padded_attention_inputs, _ATTENTION_CASES,
                   mistakes=mutants.PADDED_ATTENTION))


# ---- convolution, pooling, recurrence ----

def _conv_inputs(rng, n, c, h, w, f, k):
    return (rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, k, k)), rng.standard_normal(f))


def _pool_inputs(rng, n, c, h, w):
    # distinct values a good distance apart: the arg-max of every window is unambiguous (no kink)
    x = rng.permutation(n * c * h * w).reshape(n, c, h, w) * 0.1
    return (x + rng.uniform(-0.01, 0.01, x.shape),)


def _rnn_inputs(rng, n, t, d, hidden):
    """x (N, T, D), weight_ih (H, D), weight_hh (H, H), bias_ih (H,), bias_hh (H,), h0 (N, H): nn.RNN's order."""
    return (rng.standard_normal((n, t, d)), rng.standard_normal((hidden, d)) * 0.5,
            rng.standard_normal((hidden, hidden)) * 0.5, rng.standard_normal(hidden) * 0.5,
            rng.standard_normal(hidden) * 0.5, rng.standard_normal((n, hidden)) * 0.5)


_POOL_CASES = (Case("batch 1", 1, dict(n=1, c=2, h=4, w=4)), Case("odd sizes", 3, dict(n=3, c=3, h=6, w=4)))
register(Reference("conv2d", lambda: conv.conv2d(stride=1, padding=1), ("x", "W", "b"), _conv_inputs,
                   (Case("batch 1", 1, dict(n=1, c=2, h=5, w=5, f=3, k=3)),
                    Case("odd sizes", 3, dict(n=3, c=1, h=7, w=6, f=2, k=3)))))
register(Reference("max_pool2d", lambda: pooling.max_pool2d(kernel_size=2), ("x",), _pool_inputs, _POOL_CASES))
_RECURRENT_CASES = (Case("batch 1", 1, dict(n=1, t=3, d=4, hidden=5)),
                    Case("odd sizes", 3, dict(n=3, t=5, d=3, hidden=2)))
register(Reference("rnn", lambda: rnn.RNNOp(nonlinearity="tanh"),
                   ("x", "weight_ih", "weight_hh", "bias_ih", "bias_hh", "h0"), _rnn_inputs, _RECURRENT_CASES))


def _gated_inputs(gates, n_states):
    """x (N, T, D), weight_ih (G H, D), weight_hh (G H, H), bias_ih, bias_hh (G H,), then the states (N, H): the
    order of nn.LSTM (G = 4, states h0 and c0) and nn.GRU (G = 3, h0)."""
    def make(rng, n, t, d, hidden):
        G = gates
        return (rng.standard_normal((n, t, d)), rng.standard_normal((G * hidden, d)) * 0.5,
                rng.standard_normal((G * hidden, hidden)) * 0.5, rng.standard_normal(G * hidden) * 0.5,
                rng.standard_normal(G * hidden) * 0.5, *(rng.standard_normal((n, hidden)) for _ in range(n_states)))
    return make


register(Reference("lstm", lambda: lstm.LSTMOp(), ("x", "weight_ih", "weight_hh", "bias_ih", "bias_hh", "h0", "c0"),
                   _gated_inputs(4, 2), _RECURRENT_CASES, mistakes=mutants.LSTM))
register(Reference("gru", lambda: gru.GRUOp(), ("x", "weight_ih", "weight_hh", "bias_ih", "bias_hh", "h0"),
                   _gated_inputs(3, 1), _RECURRENT_CASES, mistakes=mutants.GRU))
