"""The checker catches the typical mistakes in batch norm and attention (and passes the right ops).

Each mutant is the reference op with one mistake students make, in its forward or its backward: the mean's path
missing from batch norm's dx, the biased variance in the running average, batch statistics in evaluation; the
softmax backward without its row-sum term, the 1/sqrt(d) missing, the causal mask applied after the softmax.
"""

from __future__ import annotations

import numpy as np
import pytest

from course.opcheck import REFERENCES, check
from numpy_ops.attention import AttentionOp, causal_mask, softmax_last
from numpy_ops.norm import BatchNormOp


class BatchNormWithoutMeanPath(BatchNormOp):
    """dx = (g - xhat mean(g xhat)) / std: the gradient through the batch mean forgotten."""

    def backward(self, dout, cache):
        xhat, inv_std, weight = cache
        axes = (0,) if xhat.ndim == 2 else (0, 2, 3)
        g = dout * self._per_channel(weight, xhat)
        dx = (g - xhat * (g * xhat).mean(axis=axes, keepdims=True)) * inv_std
        return dx, (dout * xhat).sum(axis=axes), dout.sum(axis=axes), None, None


class BatchNormBiasedRunningVariance(BatchNormOp):
    """The running variance fed the biased batch variance (torch keeps the unbiased one)."""

    def forward(self, x, weight, bias, running_mean, running_var):
        m = x.size // x.shape[1]
        before = running_var.copy()
        out, cache = super().forward(x, weight, bias, running_mean, running_var)
        batch_unbiased = (running_var - (1 - self.momentum) * before) / self.momentum
        running_var[...] = (1 - self.momentum) * before + self.momentum * batch_unbiased * (m - 1) / m
        return out, cache


class BatchNormBatchStatisticsInEvaluation(BatchNormOp):
    """Evaluation normalising by the batch (as in training) instead of the running statistics."""

    def forward(self, x, weight, bias, running_mean, running_var):
        return BatchNormOp(True, self.momentum, self.eps).forward(x, weight, bias, running_mean.copy(),
                                                                   running_var.copy())

    def backward(self, dout, cache):
        return BatchNormOp(True, self.momentum, self.eps).backward(dout, cache)


class AttentionWithoutRowSum(AttentionOp):
    """ds = p * dp: the softmax's backward without its normalisation term."""

    @staticmethod
    def softmax_backward(dp, p):
        return p * dp


class AttentionWithoutScale(AttentionOp):
    """Scores q k^T without the 1 / sqrt(d)."""

    def _scores(self, x, w_in, b_in, key_padding_mask=None):
        q, k, v, _ = super()._scores(x, w_in, b_in)
        s = q @ k.transpose(0, 1, 3, 2)
        if self.causal:
            s = np.where(causal_mask(x.shape[1]), -np.inf, s)
        return q, k, v, softmax_last(s)


class AttentionMaskAfterSoftmax(AttentionOp):
    """The causal mask zeroes weights after the softmax (rows no longer sum to 1)."""

    def _scores(self, x, w_in, b_in, key_padding_mask=None):
        q, k, v, _ = AttentionOp(self.num_heads, False)._scores(x, w_in, b_in)
        p = softmax_last(q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1]))
        return q, k, v, np.where(causal_mask(x.shape[1]), 0.0, p)


class AttentionIgnoringPadding(AttentionOp):
    """The key-padding mask taken but never applied: padded keys still get weight."""

    def _scores(self, x, w_in, b_in, key_padding_mask=None):
        return super()._scores(x, w_in, b_in)


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
