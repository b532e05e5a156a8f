"""The LSTM the training paths run (`numpy_ops.lstm_fast`) against the textbook one (`numpy_ops.lstm`): the same
output and gradients (float64, to rounding: the fast form sums dW_hh's first step apart), dtypes kept, and
central differences of its own."""

from __future__ import annotations

import numpy as np
import pytest

from numpy_ops import lstm, lstm_fast
from numpy_ops.gradcheck import check_op

from test_numpy_ops_gated import make


def both(layers, output, inputs, dout_rng):
    results = []
    for op in (lstm.LSTMOp(layers, output), lstm_fast.LSTMOp(layers, output)):
        out, cache = op.forward(*inputs)
        results.append((out, cache, op))
    dout = dout_rng.normal(size=results[0][0].shape).astype(inputs[0].dtype)
    return [(out, op.backward(dout, cache)) for out, cache, op in results]


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("output", ["all", "last"])
@pytest.mark.parametrize("with_states", [True, False])
def test_fast_form_gives_the_textbook_output_and_every_gradient(layers, output, with_states):
    inputs = make(np.random.default_rng(5), "lstm", N=3, T=6, D=5, H=4, L=layers, with_states=with_states)
    (out1, g1), (out2, g2) = both(layers, output, inputs, np.random.default_rng(6))
    np.testing.assert_array_equal(out1, out2)  # the forward does the same float operations in the same order
    names = ["dx"] + [f"d{n}_l{l}" for l in range(layers) for n in ("W_ih", "W_hh", "b_ih", "b_hh")] + ["dh0", "dc0"]
    for name, a, b in zip(names, g1, g2):
        assert a.shape == b.shape, name
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-13, err_msg=name)


def test_float32_stays_float32_and_agrees_to_its_rounding():
    inputs = [a.astype(np.float32) for a in make(np.random.default_rng(7), "lstm", N=4, T=9, D=3, H=8)]
    (out1, g1), (out2, g2) = both(1, "all", inputs, np.random.default_rng(8))
    assert out2.dtype == np.float32 and all(g.dtype == np.float32 for g in g2)
    np.testing.assert_allclose(out2, out1, rtol=1e-5, atol=1e-6)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("sizes", [dict(N=1, T=1, D=1, H=1), dict(N=1, T=7, D=5, H=3), dict(N=3, T=2, D=7, H=5)])
def test_fast_form_matches_central_differences(sizes):
    inputs = make(np.random.default_rng(4), "lstm", **sizes)
    inputs[0] = np.asfortranarray(inputs[0])  # a non-contiguous input, as a strided tensor gives
    errors = check_op(lstm_fast.LSTMOp(), inputs)
    assert max(errors) < 1e-6, (sizes, errors)


def test_two_layer_fast_form_matches_central_differences():
    errors = check_op(lstm_fast.LSTMOp(2, "last"), make(np.random.default_rng(9), "lstm", L=2))
    assert max(errors) < 1e-6, errors
