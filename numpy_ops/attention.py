"""Multi-head scaled dot-product self-attention, its projections included (``nn.MultiheadAttention``'s maths).

For a sequence x (N, T, D), with H heads of size d = D / H::

    q, k, v = split(x W_in^T + b_in)             each (N, H, T, d)   W_in (3D, D): W_q, W_k, W_v stacked
    s = q k^T / sqrt(d)                          (N, H, T, T)        scores; causal: s[i, j] = -inf for j > i
    p = softmax(s) over the last axis            (N, H, T, T)        each query's weights over the keys
    a = p v                                      (N, H, T, d)        then the heads side by side (N, T, D)
    out = a W_out^T + b_out                      (N, T, D)

The parameters are ``nn.MultiheadAttention``'s: ``in_proj_weight`` (3D, D), ``in_proj_bias`` (3D,),
``out_proj.weight`` (D, D), ``out_proj.bias`` (D,).

Backward, in reverse::

    da = dout_a W_out                 dp = da v^T           dv = p^T da
    ds = p * (dp - sum_j(dp * p))     (the softmax's Jacobian: its row-sum term is the normalisation's path)
    dq = ds k / sqrt(d)               dk = ds^T q / sqrt(d)

A masked score is -inf, so its weight p is exactly 0 and so is its ds: the mask needs no backward of its
own. It must act *before* the softmax (a weight zeroed after it leaves rows that no longer sum to 1).

Two masks, combined (a key is hidden from a query if either hides it): the causal one (key j > query i) and an
optional key-padding mask (N, T), True where key j of sequence n is padding, as ``nn.MultiheadAttention``'s
``key_padding_mask``. A query that may see no key at all (left padding under the causal mask: a padded first
step) gets all-zero weights, so its attention output is 0 and its row sends no gradient back; this is what
``nn.MultiheadAttention`` gives in training in torch 2.13 (its inference fast path gives NaN there instead).
"""

from __future__ import annotations

import math

import numpy as np

from .op import Op


def softmax_last(s: np.ndarray) -> np.ndarray:
    """softmax over the last axis, shifted by the row maximum (no overflow; -inf entries give 0)."""
    # BEGIN SOLUTION attention
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
    # END SOLUTION


def softmax_last_backward(dp: np.ndarray, p: np.ndarray) -> np.ndarray:
    """dL/ds for p = softmax(s) over the last axis, from dL/dp."""
    # BEGIN SOLUTION attention
    return p * (dp - (dp * p).sum(axis=-1, keepdims=True))
    # END SOLUTION


def causal_mask(T: int) -> np.ndarray:
    """(T, T) booleans, True where query i may not see key j (j > i)."""
    # BEGIN SOLUTION causal_attention
    return np.triu(np.ones((T, T), dtype=bool), k=1)
    # END SOLUTION


def padded_softmax_last(s: np.ndarray, key_padding_mask: np.ndarray) -> np.ndarray:
    """`softmax_last` of scores s (N, H, T, T) with the padded keys (``key_padding_mask`` (N, T), True at padding)
    hidden too; a query that then sees no key at all gets all-zero weights instead of 0 / 0."""
    s = np.where(key_padding_mask[:, None, None, :], -np.inf, s)
    empty = np.isneginf(s).all(axis=-1, keepdims=True)
    if not empty.any():
        return softmax_last(s)
    return np.where(empty, 0, softmax_last(np.where(empty, 0, s)))  # an empty row's softmax is never 0 / 0


class AttentionOp(Op):
    """``forward(x, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias[, key_padding_mask])`` -> out
    (N, T, D).

    Shapes as in the module docstring; ``num_heads`` must divide D. ``causal=True`` lets step i attend only
    to steps 0..i (a language model). ``key_padding=True``: forward takes a sixth input, ``key_padding_mask``,
    booleans (N, T), True where a key is padding. ``backward`` returns ``(dx, dW_in, db_in, dW_out, db_out)``,
    and None for the mask with ``key_padding``. `weights` gives the attention maps p (N, H, T, T) of an input, for
    drawing them.
    """

    name = "attention"
    softmax_backward = staticmethod(softmax_last_backward)

    def __init__(self, num_heads: int = 1, causal: bool = False, key_padding: bool = False):
        if isinstance(num_heads, bool) or not isinstance(num_heads, (int, np.integer)) or num_heads < 1:
            raise ValueError(f"attention: num_heads must be an integer >= 1, got {num_heads!r}")
        self.num_heads, self.causal, self.key_padding = int(num_heads), bool(causal), bool(key_padding)
        self.n_inputs = 6 if self.key_padding else 5

    def extra_repr(self) -> str:
        return f"num_heads={self.num_heads}, causal={self.causal}" + (", key_padding=True" if self.key_padding else "")

    def _check(self, x, w_in, b_in, w_out, b_out, key_padding_mask=None) -> None:
        if x.ndim != 3:
            raise ValueError(f"attention: input must be (batch, time, features), got shape {x.shape}")
        D = x.shape[2]
        if D % self.num_heads:
            raise ValueError(f"attention: {self.num_heads} heads do not divide the {D} features")
        expected = ((3 * D, D), (3 * D,), (D, D), (D,))
        got = tuple(a.shape for a in (w_in, b_in, w_out, b_out))
        if got != expected:
            raise ValueError(f"attention: for {D} features expected in_proj_weight, in_proj_bias, out_proj.weight, "
                             f"out_proj.bias of shapes {expected}, got {got}")
        if x.dtype != w_in.dtype:
            raise TypeError(f"attention: input dtype {x.dtype} differs from weight dtype {w_in.dtype}")
        if (key_padding_mask is not None) != self.key_padding:
            raise ValueError("attention: a key_padding_mask is the sixth input of an AttentionOp(key_padding=True), "
                             f"and only of one; this op has key_padding={self.key_padding} and got "
                             f"{'a' if key_padding_mask is not None else 'no'} mask")
        if key_padding_mask is not None:
            if key_padding_mask.dtype != bool:
                raise TypeError(f"attention: key_padding_mask must be booleans (True where a key is padding), "
                                f"got dtype {key_padding_mask.dtype}")
            if key_padding_mask.shape != x.shape[:2]:
                raise ValueError(f"attention: key_padding_mask must be (batch, time) = {x.shape[:2]}, "
                                 f"got shape {key_padding_mask.shape}")

    def _heads(self, a: np.ndarray) -> np.ndarray:
        """(N, T, D) -> (N, H, T, d)."""
        N, T, D = a.shape
        return a.reshape(N, T, self.num_heads, D // self.num_heads).transpose(0, 2, 1, 3)

    def _scores(self, x, w_in, b_in, key_padding_mask=None):
        """q, k, v (N, H, T, d) and the attention weights p (N, H, T, T)."""
        # BEGIN SOLUTION attention
        qkv = x @ w_in.T + b_in
        q, k, v = (self._heads(part) for part in np.split(qkv, 3, axis=-1))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1])
        # END SOLUTION
        if self.causal:
            # BEGIN SOLUTION causal_attention
            s = np.where(causal_mask(x.shape[1]), -np.inf, s)
            # END SOLUTION
        if key_padding_mask is not None:
            return q, k, v, padded_softmax_last(s, key_padding_mask)
        # BEGIN SOLUTION attention
        return q, k, v, softmax_last(s)
        # END SOLUTION

    def weights(self, x, w_in, b_in, w_out=None, b_out=None, key_padding_mask=None) -> np.ndarray:
        """The attention maps p (N, H, T, T) of input x: row i is query i's weights over the keys."""
        return self._scores(x, w_in, b_in, key_padding_mask)[3]

    def forward(self, x, w_in, b_in, w_out, b_out, key_padding_mask=None):
        self._check(x, w_in, b_in, w_out, b_out, key_padding_mask)
        q, k, v, p = self._scores(x, w_in, b_in, key_padding_mask)
        N, T, D = x.shape
        # BEGIN SOLUTION attention
        a = (p @ v).transpose(0, 2, 1, 3).reshape(N, T, D)
        return a @ w_out.T + b_out, (x, w_in, w_out, q, k, v, p, a)
        # END SOLUTION

    def backward(self, dout, cache):
        x, w_in, w_out, q, k, v, p, a = cache
        N, T, D = x.shape
        # BEGIN SOLUTION attention
        dout2 = dout.reshape(-1, D)
        dw_out, db_out = dout2.T @ a.reshape(-1, D), dout2.sum(axis=0)
        da = self._heads(dout @ w_out)
        dp = da @ v.transpose(0, 1, 3, 2)
        dv = p.transpose(0, 1, 3, 2) @ da
        ds = self.softmax_backward(dp, p) / math.sqrt(q.shape[-1])
        dq, dk = ds @ k, ds.transpose(0, 1, 3, 2) @ q
        dqkv = np.concatenate([h.transpose(0, 2, 1, 3).reshape(N, T, D) for h in (dq, dk, dv)], axis=-1)
        dqkv2 = dqkv.reshape(-1, 3 * D)
        dx = (dqkv2 @ w_in).reshape(x.shape)
        grads = (dx, dqkv2.T @ x.reshape(-1, D), dqkv2.sum(axis=0), dw_out, db_out)
        # END SOLUTION
        return (*grads, None) if self.key_padding else grads  # the mask has no gradient
