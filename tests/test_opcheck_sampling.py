"""With a reference, central differences are a second opinion taken at a sample of entries: a large case costs a
bounded number of forwards, and a wrong entry outside the sample is still caught by the reference."""

import numpy as np

from course.opcheck.checks import SAMPLED, check
from course.opcheck.references import REFERENCES, Case, Reference
from numpy_ops.layers import linear


class Counted:
    """The project's linear op, counting its forwards; ``wrong_at`` spoils one entry of dW."""

    name, n_inputs = "linear", 3

    def __init__(self, wrong_at=None):
        self.forwards, self.wrong_at = 0, wrong_at

    def forward(self, x, W, b):
        self.forwards += 1
        return linear.forward(x, W, b)

    def backward(self, dout, cache):
        dx, dW, db = linear.backward(dout, cache)
        if self.wrong_at is not None:
            dW = dW.copy()
            dW[self.wrong_at] += 1e-3 * np.abs(dW).max()
        return dx, dW, db


def large_linear() -> Reference:
    ref = REFERENCES["linear"]
    # x 600 entries, W 200: far more than SAMPLED
    return Reference(ref.name, ref.make_op, ref.input_names, ref.make_inputs,
                     (Case("large", 30, dict(n=30, d_in=20, d_out=10)),))


def test_a_large_case_costs_sampled_forwards_not_one_pair_per_entry():
    ref = large_linear()
    op = Counted()
    report = check(op, like=ref)
    assert report.passed, report.hints()
    entries = sum(a.size for a in ref.inputs(ref.cases[0], np.random.default_rng(0)))
    # two cases (the case and its non-contiguous copy), three inputs, two forwards per sampled entry, plus the
    # cases' own forwards and the float32 one
    assert op.forwards <= 2 * 3 * 2 * SAMPLED + 10 < entries


def test_a_wrong_entry_outside_the_sample_is_caught_by_the_reference():
    report = check(Counted(wrong_at=(7, 13)), like=large_linear())
    assert not report.passed
    (row,) = [r for r in report.summary() if r["input"] == "W"]
    assert not row["passed"] and row["rel_reference"] > 1e-7
