"""The checker catches the typical mistakes in batch norm and attention (and passes the right ops).

Each mutant (`course.opcheck.mutants`, where the checker also names them) is the reference op with one mistake
students make, in its forward or its backward: the mean's path missing from batch norm's dx, the biased variance in
the running average, batch statistics in evaluation; the softmax backward without its row-sum term, the 1/sqrt(d)
missing, the causal mask applied after the softmax.
"""

from __future__ import annotations

import numpy as np
import pytest

from course.opcheck import REFERENCES, check
from course.opcheck.mutants import (AttentionIgnoringPadding, AttentionMaskAfterSoftmax, AttentionWithoutRowSum,
                                    AttentionWithoutScale, BatchNormBatchStatisticsInEvaluation,
                                    BatchNormBiasedRunningVariance, BatchNormWithoutMeanPath)
from numpy_ops.norm import BatchNormOp

# name: (reference, the mutant, what must be reported: an input's name, or "output")
MUTANTS = {
    "batch norm dx without the mean's term": ("batch_norm", BatchNormWithoutMeanPath(), "x"),
    "batch norm running variance biased": ("batch_norm", BatchNormBiasedRunningVariance(), "output"),
    "batch norm batch statistics in evaluation": ("batch_norm_eval", BatchNormBatchStatisticsInEvaluation(False),
                                                  "output"),
    "attention softmax backward without the row sum": ("attention", AttentionWithoutRowSum(2), "x"),
    "causal attention softmax backward without the row sum": ("causal_attention", AttentionWithoutRowSum(2, True),
                                                              "in_proj_weight"),
    "attention without 1/sqrt(d)": ("attention", AttentionWithoutScale(2), "output"),
    "causal attention mask after the softmax": ("causal_attention", AttentionMaskAfterSoftmax(2, True), "output"),
    "padded attention with the padding mask ignored": ("padded_attention", AttentionIgnoringPadding(2, True, True),
                                                       "output"),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_each_mutant_is_caught(name):
    like, mutant, where = MUTANTS[name]
    report = check(mutant, like=like)
    assert not report.passed, f"{name}: not caught"
    if where == "output":
        assert any(o["problems"] for o in report.output), f"{name}: no problem reported with the output"
    else:
        rows = {row["input"]: row for row in report.summary()}
        assert not rows[where]["passed"], f"{name}: {where} passed"


def test_the_running_statistics_are_compared_not_called_a_mistake():
    report = check(BatchNormOp(True), like="batch_norm")
    assert report.passed, report.output
    assert {row["input"] for row in report.summary()} == {"x", "weight", "bias"}  # no gradient for the state
    wrong = check(BatchNormBiasedRunningVariance(), like="batch_norm")
    assert any("running_var after forward differs" in p for o in wrong.output for p in o["problems"])
    assert not any("running_mean" in p for o in wrong.output for p in o["problems"])


def test_the_references_of_this_half_are_registered():
    assert {"batch_norm", "batch_norm_eval", "layer_norm", "embedding", "attention", "causal_attention",
            "padded_attention"} <= set(
        REFERENCES)
