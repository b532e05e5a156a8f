"""The checker catches the typical mistakes of a hand-written LSTM or GRU backward.

Each mutant keeps the op's forward (so the output check passes) and breaks the backward as students do: the gates
read in another order (CS231n stacks the LSTM's i, f, o, g; torch i, f, g, o), the LSTM's cell-state path through
time dropped (dc_{t-1} = 0: only the hidden path carries the gradient back), the GRU's path h_{t-1} -> h_t through
z dropped, and the GRU's b_hn treated as if it sat outside the reset gate. The step-by-step backward written here
from the formulas (`course.opcheck.mutants.lstm_backward_steps`, `gru_backward_steps`) is itself checked against
the ops' sweeps.
"""

from __future__ import annotations

import numpy as np
import pytest

from course.opcheck import check
from course.opcheck.mutants import (BackwardGatesInOrder, GRUResetOutsideBias, GRUWithoutUpdatePath,
                                    LSTMWithoutCellPath, gru_backward_steps, lstm_backward_steps)
from numpy_ops.gru import GRUOp
from numpy_ops.lstm import LSTMOp


class Mutant:
    """The op's forward; ``backward`` replaced by ``wrong(op, dout, cache) -> grads``."""

    def __init__(self, base, wrong):
        self.base, self.wrong, self.name = base, wrong, base.name

    def forward(self, *inputs):
        return self.base.forward(*inputs)

    def backward(self, dout, cache):
        return self.wrong(self.base, dout, cache)


# name: (reference, the mutant: the op's forward and a wrong backward, an input whose gradient must fail)
MUTANTS = {
    "lstm gates read as CS231n's i, f, o, g": ("lstm", BackwardGatesInOrder(LSTMOp(), (0, 1, 3, 2)), "weight_hh"),
    "lstm cell-state path dropped": ("lstm", LSTMWithoutCellPath(LSTMOp()), "c0"),
    "gru r and z swapped": ("gru", BackwardGatesInOrder(GRUOp(), (1, 0, 2)), "weight_hh"),
    "gru path through z dropped": ("gru", GRUWithoutUpdatePath(GRUOp()), "h0"),
    "gru b_hn outside the reset gate": ("gru", GRUResetOutsideBias(GRUOp(), in_forward=False), "bias_hh"),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_each_mutant_is_caught(name):
    like, mutant, bad_input = MUTANTS[name]
    report = check(mutant, like=like)
    assert not report.passed, f"{name}: not caught"
    rows = {row["input"]: row for row in report.summary()}
    assert not rows[bad_input]["passed"], f"{name}: {bad_input} passed"
    assert all(not o["problems"] for o in report.output), "the forward is the reference's: its output passes"


@pytest.mark.parametrize("like, op", [("lstm", LSTMOp()), ("gru", GRUOp())])
def test_the_step_by_step_backward_is_the_sweep_and_passes(like, op):
    steps = lstm_backward_steps if like == "lstm" else gru_backward_steps
    rng = np.random.default_rng(0)
    G, n_states = (4, 2) if like == "lstm" else (3, 1)
    inputs = [rng.normal(size=(3, 6, 2)), rng.normal(scale=0.5, size=(G * 4, 2)),
              rng.normal(scale=0.5, size=(G * 4, 4)), rng.normal(size=G * 4), rng.normal(size=G * 4),
              *(rng.normal(size=(3, 4)) for _ in range(n_states))]
    out, cache = op.forward(*inputs)
    dout = rng.normal(size=out.shape)
    for a, b in zip(steps(dout, cache), op.backward(dout, cache)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert check(Mutant(op, lambda o, d, c: steps(d, c)), like=like).passed
