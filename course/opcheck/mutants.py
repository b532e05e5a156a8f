"""The zoo's typical mistakes as ops, and each reference's list of them (`course.opcheck.mistakes`).

Each mutant is the reference op with one mistake, written as a change around the right op (weights permuted,
a term added back, a hook replaced) so that no formula is written twice. Every mistake's code is a
``# BEGIN HIDDEN`` region of its op's task: a mutant is nearly the answer, so a handout of that lab (or an earlier one) has these
bodies stripped; its checker compares with the mutants' recorded results instead.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from numpy_ops.attention import AttentionOp, causal_mask, softmax_last_backward
from numpy_ops.embedding import EmbeddingOp
from numpy_ops.norm import BatchNormOp, LayerNormOp

from .mistakes import Mistake

# ---- batch norm ----


class BatchNormWithoutMeanPath(BatchNormOp):
    """Training: dx without the path through the batch mean (only the variance's term subtracted)."""

    def backward(self, dout, cache):
        # BEGIN HIDDEN batch_norm
        dx, *rest = super().backward(dout, cache)
        over = (0,) if dout.ndim == 2 else (0, 2, 3)
        dxhat = dout * self._per_channel(cache[2], dout)
        return (dx + dxhat.mean(axis=over, keepdims=True) * cache[1], *rest)
        # END HIDDEN


class BatchNormBiasedRunningVariance(BatchNormOp):
    """Training: the running variance fed the biased batch variance (torch's running average takes the
    unbiased one, times m / (m - 1))."""

    def forward(self, x, weight, bias, running_mean, running_var):
        # BEGIN HIDDEN batch_norm
        kept = (1 - self.momentum) * running_var
        result = super().forward(x, weight, bias, running_mean, running_var)
        running_var -= (running_var - kept) / (x.size // x.shape[1])
        return result
        # END HIDDEN


class BatchNormBatchStatisticsInEvaluation(BatchNormOp):
    """Evaluation normalising by the batch's own statistics, as in training."""

    def forward(self, x, weight, bias, running_mean, running_var):
        # BEGIN HIDDEN batch_norm_eval
        as_training = BatchNormOp(True, self.momentum, self.eps)
        return as_training.forward(x, weight, bias, running_mean.copy(), running_var.copy())
        # END HIDDEN

    def backward(self, dout, cache):
        # BEGIN HIDDEN batch_norm_eval
        return BatchNormOp(True, self.momentum, self.eps).backward(dout, cache)
        # END HIDDEN


# ---- layer norm ----


class LayerNormWithoutMeanPath(LayerNormOp):
    """dx without the path through the example's mean (only the variance's term subtracted)."""

    def backward(self, dout, cache):
        # BEGIN HIDDEN layer_norm
        dx, *rest = super().backward(dout, cache)
        features = tuple(range(dout.ndim - self.ndim, dout.ndim))
        return (dx + (dout * cache[2]).mean(axis=features, keepdims=True) * cache[1], *rest)
        # END HIDDEN


class LayerNormWithoutVariancePath(LayerNormOp):
    """dx without the path through the example's variance (only the mean's term subtracted)."""

    def backward(self, dout, cache):
        # BEGIN HIDDEN layer_norm
        dx, *rest = super().backward(dout, cache)
        features = tuple(range(dout.ndim - self.ndim, dout.ndim))
        term = (dout * cache[2] * cache[0]).mean(axis=features, keepdims=True)
        return (dx + cache[0] * term * cache[1], *rest)
        # END HIDDEN


class LayerNormOverTheBatch(LayerNormOp):
    """The statistics taken over the examples (batch norm's axis) instead of over each example's features."""

    def forward(self, x, weight, bias):
        # BEGIN HIDDEN layer_norm
        moved = np.moveaxis(x, 0, -1)  # the batch axis last: layer norm over it is batch norm's statistics
        out, (xhat, inv_std, _) = LayerNormOp(1, self.eps).forward(moved, np.ones(len(x)), np.zeros(len(x)))
        xhat = np.moveaxis(xhat, -1, 0)
        return xhat * weight + bias, (xhat, np.moveaxis(inv_std, -1, 0), weight)
        # END HIDDEN


# ---- the gated recurrences (one layer, as the references use) ----

class _Wrapped:
    """An op around another (``self.op``), with its name and input count; its forward unless overridden."""

    def __init__(self, op):
        self.op, self.name, self.n_inputs = op, op.name, op.n_inputs

    def forward(self, *inputs):
        return self.op.forward(*inputs)


class GatesReadInOrder(_Wrapped):
    """Forward: the stacked gate blocks read in another order, block b read as the op's gate ``order[b]``. It is
    the right op on the weights' row blocks permuted so; its gradients are permuted back."""

    def __init__(self, op, order):
        super().__init__(op)
        self.perm = tuple(int(k) for k in np.argsort(order))  # the block read as the op's gate j

    def _rows(self, H: int) -> np.ndarray:
        # BEGIN HIDDEN lstm_forward gru_forward
        return np.concatenate([np.arange(k * H, (k + 1) * H) for k in self.perm])
        # END HIDDEN

    def forward(self, x, *args):
        # BEGIN HIDDEN lstm_forward gru_forward
        rows = self._rows(args[1].shape[1])
        return self.op.forward(x, *(a[rows] for a in args[:4]), *args[4:])
        # END HIDDEN

    def backward(self, dout, cache):
        # BEGIN HIDDEN lstm_forward gru_forward
        permuted = list(self.op.backward(dout, cache))
        back = np.argsort(self._rows(permuted[2].shape[1]))
        return (permuted[0], *(g[back] for g in permuted[1:5]), *permuted[5:])
        # END HIDDEN


class BackwardGatesInOrder(_Wrapped):
    """Backward: the right forward, but the backward reads the cached gate activations in another order (slot b
    read as the op's gate ``order[b]``)."""

    def __init__(self, op, order):
        super().__init__(op)
        self.perm = [int(k) for k in np.argsort(order)]

    def backward(self, dout, cache):
        # BEGIN HIDDEN lstm_backward gru_backward
        at = 5 if self.op.name == "lstm" else 4  # the layer's gates (N, T, G, H) in the op's cache
        misread = (*cache[:at], np.ascontiguousarray(cache[at][:, :, self.perm]), *cache[at + 1:])
        return self.op.backward(dout, misread)
        # END HIDDEN


class LSTMWithoutCellPath(_Wrapped):
    """Backward: the cell state's path through time dropped (dc_{t-1} gets nothing from dc_t through f_t)."""

    def backward(self, dout, cache):
        # BEGIN HIDDEN lstm_backward
        return lstm_backward_steps(dout, cache, cell_path=False)
        # END HIDDEN


class GRUWithoutUpdatePath(_Wrapped):
    """Backward: the path h_{t-1} -> h_t through z dropped (dh_{t-1} gets no dh_t * z)."""

    def backward(self, dout, cache):
        # BEGIN HIDDEN gru_backward
        return gru_backward_steps(dout, cache, z_path=False)
        # END HIDDEN


class GRUResetOutsideBias(_Wrapped):
    """b_hn outside the reset gate's product: n = tanh(x W_in^T + b_in + b_hn + r * (h W_hn^T)). In the forward
    (``in_forward``) it is the right GRU with b_hn moved into b_in; in the backward alone, d b_hn taken as
    d b_in."""

    def __init__(self, op, in_forward: bool):
        super().__init__(op)
        self.in_forward = in_forward

    def forward(self, x, W_ih, W_hh, b_ih, b_hh, *states):
        # BEGIN HIDDEN gru_forward gru_backward
        if self.in_forward:
            n = slice(2 * W_hh.shape[1], None)
            b_ih, b_hh = b_ih.copy(), b_hh.copy()
            b_ih[n] += b_hh[n]
            b_hh[n] = 0
        return self.op.forward(x, W_ih, W_hh, b_ih, b_hh, *states)
        # END HIDDEN

    def backward(self, dout, cache):
        # BEGIN HIDDEN gru_forward gru_backward
        dx, dW_ih, dW_hh, db_ih, db_hh, *dstates = self.op.backward(dout, cache)
        n = slice(2 * dW_hh.shape[1], None)
        db_hh = db_hh.copy()
        db_hh[n] = db_ih[n]
        return (dx, dW_ih, dW_hh, db_ih, db_hh, *dstates)
        # END HIDDEN


def lstm_backward_steps(dout, cache, cell_path=True):
    """One LSTM layer (output "all") backward, one time step at a time from the op's cache: the step-by-step form
    of `LSTMOp`'s sweep; ``cell_path=False`` drops what c_t sends back to c_{t-1}."""
    # BEGIN HIDDEN lstm_backward
    x, h0, c0, W_ih, W_hh, gates, cs, hs = cache
    N, T, H = hs.shape
    h_first, c_first = h0.reshape(N, H), c0.reshape(N, H)
    dx, dW_ih, dW_hh, db = np.zeros_like(x), np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(4 * H, x.dtype)
    dh_next, dc_next = np.zeros((N, H), x.dtype), np.zeros((N, H), x.dtype)
    for t in reversed(range(T)):
        gi, gf, gg, go = (gates[:, t, k] for k in range(4))
        c_prev, h_prev = (cs[:, t - 1], hs[:, t - 1]) if t else (c_first, h_first)
        tc = np.tanh(cs[:, t])
        dh = dout[:, t] + dh_next
        dc = dh * go * (1 - tc ** 2) + dc_next
        da = np.concatenate([dc * gg * gi * (1 - gi), dc * c_prev * gf * (1 - gf), dc * gi * (1 - gg ** 2),
                             dh * tc * go * (1 - go)], axis=1)
        dx[:, t], dh_next, dc_next = da @ W_ih, da @ W_hh, dc * gf * cell_path
        dW_ih += da.T @ x[:, t]
        dW_hh += da.T @ h_prev
        db += da.sum(0)
    return dx, dW_ih, dW_hh, db, db.copy(), dh_next.reshape(h0.shape), dc_next.reshape(c0.shape)
    # END HIDDEN


def gru_backward_steps(dout, cache, z_path=True):
    """One GRU layer (output "all") backward, one time step at a time: the step-by-step form of `GRUOp`'s sweep;
    ``z_path=False`` drops the direct path dh_t * z to h_{t-1}."""
    # BEGIN HIDDEN gru_backward
    x, h0, W_ih, W_hh, gates, hn, hs = cache
    N, T, H = hs.shape
    h_first = h0.reshape(N, H)
    dx, dW_ih, dW_hh = np.zeros_like(x), np.zeros_like(W_ih), np.zeros_like(W_hh)
    db_ih, db_hh, dh_next = np.zeros(3 * H, x.dtype), np.zeros(3 * H, x.dtype), np.zeros((N, H), x.dtype)
    for t in reversed(range(T)):
        gr, gz, gn = (gates[:, t, k] for k in range(3))
        h_prev = hs[:, t - 1] if t else h_first
        dh = dout[:, t] + dh_next
        dan = dh * (1 - gz) * (1 - gn ** 2)
        dar = dan * hn[:, t] * gr * (1 - gr)
        daz = dh * (h_prev - gn) * gz * (1 - gz)
        d_ih, d_hh = np.concatenate([dar, daz, dan], 1), np.concatenate([dar, daz, dan * gr], 1)
        dx[:, t], dh_next = d_ih @ W_ih, d_hh @ W_hh + (dh * gz if z_path else 0)
        dW_ih += d_ih.T @ x[:, t]
        dW_hh += d_hh.T @ h_prev
        db_ih += d_ih.sum(0)
        db_hh += d_hh.sum(0)
    return dx, dW_ih, dW_hh, db_ih, db_hh, dh_next.reshape(h0.shape)
    # END HIDDEN


# ---- the embedding and attention ----

class EmbeddingRepeatsCountedOnce(EmbeddingOp):
    """Backward: ``dW[indices] += dout``, which adds a row's gradient once however often the row was looked up."""

    def backward(self, dout, cache):
        # BEGIN HIDDEN embedding
        _, table_grad = super().backward(np.zeros_like(dout), cache)
        table_grad[cache[0].reshape(-1)] += dout.reshape(-1, dout.shape[-1])
        return None, table_grad
        # END HIDDEN


class AttentionWithoutRowSum(AttentionOp):
    """Backward: the softmax's backward without its row-sum term, ds = p * dp."""

    def softmax_backward(self, dp, p):
        # BEGIN HIDDEN attention
        return p * dp
        # END HIDDEN


class AttentionWithoutScale(AttentionOp):
    """The 1/sqrt(d) left out. In the forward (``in_forward``): the right op with W_q and b_q times sqrt(d) (its
    gradients scaled back); in the backward alone: the scores' gradient not divided by sqrt(d)."""

    def __init__(self, num_heads=1, causal=False, in_forward=True):
        super().__init__(num_heads, causal)
        self.in_forward = in_forward

    def _query_scale(self, D: int) -> np.ndarray:
        # BEGIN HIDDEN attention
        scale = np.ones(3 * D)
        scale[:D] = math.sqrt(D // self.num_heads)
        return scale
        # END HIDDEN

    def forward(self, x, w_in, b_in, w_out, b_out):
        # BEGIN HIDDEN attention
        if not self.in_forward:
            return super().forward(x, w_in, b_in, w_out, b_out)
        scale = self._query_scale(x.shape[2])
        return super().forward(x, w_in * scale[:, None], b_in * scale, w_out, b_out)
        # END HIDDEN

    def softmax_backward(self, dp, p):
        # BEGIN HIDDEN attention
        unscaled = 1.0 if self.in_forward else math.sqrt(self._head)
        return softmax_last_backward(dp, p) * unscaled
        # END HIDDEN

    def backward(self, dout, cache):
        # BEGIN HIDDEN attention
        self._head = cache[3].shape[-1]
        dx, dw_in, db_in, dw_out, db_out = super().backward(dout, cache)
        scale = self._query_scale(dout.shape[2]) if self.in_forward else np.ones(len(db_in))
        return dx, dw_in * scale[:, None], db_in * scale, dw_out, db_out
        # END HIDDEN


class AttentionMaskAfterSoftmax(AttentionOp):
    """Forward: the causal mask zeroes weights after the softmax (rows that no longer sum to 1)."""

    def _scores(self, x, w_in, b_in, key_padding_mask=None):
        # BEGIN HIDDEN causal_attention
        q, k, v, p = AttentionOp(self.num_heads)._scores(x, w_in, b_in)
        return q, k, v, np.where(causal_mask(x.shape[1]), 0.0, p)
        # END HIDDEN


class AttentionIgnoringPadding(AttentionOp):
    """Forward: the key-padding mask taken but never applied (padded keys still get weight). No answer in it: the
    mask's handling is not a task of the course kit."""

    def _scores(self, x, w_in, b_in, key_padding_mask=None):
        return super()._scores(x, w_in, b_in)


# ---- each reference's known mistakes, in the order they are tried ----

def _orders(names: str):
    """Every wrong order of the gates ``names`` ("ifgo"): (the order read, perm)."""
    for perm in itertools.permutations(range(len(names))):
        if list(perm) != sorted(perm):
            yield ", ".join(names[k] for k in perm), perm


def _gate_mistakes(names: str, label: str) -> tuple[Mistake, ...]:
    right = ", ".join(names)
    forward = tuple(Mistake("gate_order", f"the gates read in the order {order}: {label} stacks its gate "
                                          f"pre-activations in row blocks of H in the order {right} (torch's order)",
                            "forward", lambda op, perm=perm: GatesReadInOrder(op, perm))
                    for order, perm in _orders(names))
    backward = tuple(Mistake("gate_order", f"the backward reads the gates in the order {order}, the forward in "
                                           f"{right}: take each gate from the same block in both",
                             "backward", lambda op, perm=perm: BackwardGatesInOrder(op, perm))
                     for order, perm in _orders(names))
    return forward + backward


BATCH_NORM = (
    Mistake("bn_mean_path", "dx misses the path through the batch mean: every input moves the mean, so dx also "
            "gets minus the mean over the batch of dL/dxhat (times 1/sqrt(var + eps)), beside the variance's term",
            "backward", lambda op: BatchNormWithoutMeanPath(op.training, op.momentum, op.eps)),
    Mistake("bn_biased_running_var", "running_var is averaged with the biased batch variance: torch's running "
            "average takes the unbiased one, var * m / (m - 1) with m the values per channel (the normalisation "
            "itself uses the biased one)", "forward",
            lambda op: BatchNormBiasedRunningVariance(op.training, op.momentum, op.eps)),
)
BATCH_NORM_EVAL = (
    Mistake("bn_batch_stats_in_eval", "evaluation normalised by the batch's own mean and variance: in evaluation "
            "batch norm uses running_mean and running_var, and leaves them as they are", "forward",
            lambda op: BatchNormBatchStatisticsInEvaluation(op.training, op.momentum, op.eps)),
)
LAYER_NORM = (
    Mistake("ln_mean_path", "dx misses the path through the example's mean: every feature moves its example's "
            "mean, so dx also gets minus the mean over the features of dL/dxhat (times 1/sqrt(var + eps))",
            "backward", lambda op: LayerNormWithoutMeanPath(op.ndim, op.eps)),
    Mistake("ln_variance_path", "dx misses the path through the example's variance: every feature moves it, so dx "
            "also gets minus xhat times the mean over the features of dL/dxhat * xhat (times 1/sqrt(var + eps))",
            "backward", lambda op: LayerNormWithoutVariancePath(op.ndim, op.eps)),
    Mistake("ln_over_the_batch", "the mean and variance are taken over the batch (batch norm's statistics): layer "
            "norm normalises each example over its own features, the last axis", "forward",
            lambda op: LayerNormOverTheBatch(op.ndim, op.eps)),
)
LSTM = _gate_mistakes("ifgo", "nn.LSTM") + (
    Mistake("lstm_cell_path", "the cell state's path through time is dropped: c_{t-1} feeds c_t through the "
            "forget gate, so dc_{t-1} gets dc_t * f_t besides what comes through h_{t-1}", "backward",
            LSTMWithoutCellPath),
)
GRU = _gate_mistakes("rzn", "nn.GRU") + (
    Mistake("gru_b_hn_outside", "b_hn placed outside the reset gate's product: torch computes "
            "n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)), so b_hn is scaled by r", "forward",
            lambda op: GRUResetOutsideBias(op, in_forward=True)),
    Mistake("gru_b_hn_outside", "the gradient of b_hn taken as if b_hn sat outside the reset gate's product: in "
            "n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)) it is scaled by r, as W_hn h is", "backward",
            lambda op: GRUResetOutsideBias(op, in_forward=False)),
    Mistake("gru_update_path", "the direct path from h_{t-1} to h_t is dropped: h_t = (1 - z) n + z h_{t-1}, so "
            "dh_{t-1} gets dh_t * z besides what comes through the gates", "backward", GRUWithoutUpdatePath),
)
EMBEDDING = (
    Mistake("embedding_repeats", "a row looked up several times gets the gradient of only one of its uses: "
            "dW[indices] += dout does not add repeated indices up; every position's gradient must be added to its "
            "row (np.add.at)", "backward", lambda op: EmbeddingRepeatsCountedOnce()),
)
_SCALE_WORDS = "the scores are q k^T / sqrt(d) with d the size of one head (D / num_heads)"
ATTENTION = (
    Mistake("attn_scale", f"the 1/sqrt(d) is missing from the forward: {_SCALE_WORDS}", "forward",
            lambda op: AttentionWithoutScale(op.num_heads, op.causal, in_forward=True)),
    Mistake("attn_row_sum", "the softmax's backward misses its row-sum term: with p = softmax(s) over each row, "
            "ds = p * (dp - the row's sum of dp * p), not p * dp", "backward",
            lambda op: AttentionWithoutRowSum(op.num_heads, op.causal)),
    Mistake("attn_scale", f"the 1/sqrt(d) is missing from the backward: {_SCALE_WORDS}, so dq and dk carry it "
            "too", "backward", lambda op: AttentionWithoutScale(op.num_heads, op.causal, in_forward=False)),
)
CAUSAL_ATTENTION = ATTENTION + (
    Mistake("attn_mask_after_softmax", "the causal mask is applied after the softmax: set the scores of the keys "
            "a query may not see to -inf before it, so each row's weights over the visible keys sum to 1",
            "forward", lambda op: AttentionMaskAfterSoftmax(op.num_heads, op.causal)),
    Mistake("attn_no_mask", "no causal mask: query i must not see the keys after it (their scores -inf before the "
            "softmax)", "forward", lambda op: AttentionOp(op.num_heads, causal=False)),
)
PADDED_ATTENTION = (
    Mistake("attn_padding_ignored", "the key-padding mask is not applied: a key marked True in key_padding_mask is "
            "padding, and its scores must be -inf before the softmax (with the causal mask's), so no query gives it "
            "weight", "forward", lambda op: AttentionIgnoringPadding(op.num_heads, op.causal, key_padding=True)),
)
