"""The attention the training paths run: `numpy_ops.attention.AttentionOp`'s formulas with the work done in place,
giving the same numbers to rounding (float64: within 1e-12; tests/test_numpy_ops_attention_fast.py; docs/speed.md
says what it saves).

What differs from the textbook form:

* the heads are views of the projections laid out (N, T, 3, H, d): the batched products read them where they are,
  and write q's, k's and v's gradients straight into one (N, T, 3D) array, where the textbook concatenates
  transposed copies;
* the mask, the softmax and its backward overwrite the scores in place (no ``np.where`` copy, no temporaries the
  size of the scores but one), with the textbook's operations in its order.

Classes keep the names of the ones they speed up, so a network prints the same.
"""

from __future__ import annotations

import math

import numpy as np

from . import attention as textbook


class AttentionOp(textbook.AttentionOp):
    def _views(self, qkv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N, T, 3D) -> q, k, v, each (N, H, T, d), views."""
        # BEGIN HIDDEN attention causal_attention
        N, T, D3 = qkv.shape
        heads = qkv.reshape(N, T, 3, self.num_heads, D3 // (3 * self.num_heads)).transpose(2, 0, 3, 1, 4)
        return heads[0], heads[1], heads[2]
        # END HIDDEN

    # In a handout, forward and backward run the student's textbook form (its cache is its own).
    def forward(self, x, w_in, b_in, w_out, b_out, key_padding_mask=None):
        # BEGIN HIDDEN attention causal_attention
        return self._forward_in_place(x, w_in, b_in, w_out, b_out, key_padding_mask)
        # HANDOUT
        # return super().forward(x, w_in, b_in, w_out, b_out, key_padding_mask)
        # END HIDDEN

    def backward(self, dout, cache):
        # BEGIN HIDDEN attention causal_attention
        return self._backward_in_place(dout, cache)
        # HANDOUT
        # return super().backward(dout, cache)
        # END HIDDEN

    def _hidden_keys(self, N: int, T: int, key_padding_mask) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(where a query may not see a key, broadcast to the scores (N, H, T, T), or None; the queries that see
        no key at all (N, H, T, 1), or None). Such a query's row is left whole for the softmax and zeroed after it
        (the textbook's result, without 0 / 0)."""
        hidden = textbook.causal_mask(T) if self.causal else None
        if key_padding_mask is None:
            return hidden, None
        padding = key_padding_mask[:, None, None, :]
        hidden = np.broadcast_to(padding if hidden is None else hidden | padding, (N, self.num_heads, T, T))
        empty = hidden.all(axis=-1, keepdims=True)
        return hidden & ~empty, empty

    def _forward_in_place(self, x, w_in, b_in, w_out, b_out, key_padding_mask):
        self._check(x, w_in, b_in, w_out, b_out, key_padding_mask)
        N, T, D = x.shape
        hidden, empty = self._hidden_keys(N, T, key_padding_mask)
        # BEGIN HIDDEN attention causal_attention
        qkv = x.reshape(N * T, D) @ w_in.T
        qkv += b_in
        q, k, v = self._views(qkv.reshape(N, T, 3 * D))
        p = q @ k.transpose(0, 1, 3, 2)  # the scores, turned into the weights in place
        p /= math.sqrt(q.shape[-1])
        if hidden is not None:
            np.copyto(p, -np.inf, where=np.broadcast_to(hidden, p.shape))
        p -= p.max(axis=-1, keepdims=True)
        np.exp(p, out=p)
        p /= p.sum(axis=-1, keepdims=True)
        if empty is not None and empty.any():
            np.copyto(p, 0, where=empty)
        a = np.empty((N, T, self.num_heads, D // self.num_heads), dtype=x.dtype)  # the heads side by side
        np.matmul(p, v, out=a.transpose(0, 2, 1, 3))
        a = a.reshape(N * T, D)
        out = a @ w_out.T
        out += b_out
        # END HIDDEN
        return out.reshape(N, T, D), (x, w_in, w_out, qkv, p, a)

    def _backward_in_place(self, dout, cache):
        x, w_in, w_out, qkv, p, a = cache
        N, T, D = x.shape
        # BEGIN HIDDEN attention causal_attention
        d = D // self.num_heads
        q, k, v = self._views(qkv.reshape(N, T, 3 * D))
        dout2 = dout.reshape(N * T, D)
        dw_out, db_out = dout2.T @ a, dout2.sum(axis=0)
        da = (dout2 @ w_out).reshape(N, T, self.num_heads, d).transpose(0, 2, 1, 3)
        dqkv = np.empty((N, T, 3 * D), dtype=x.dtype)
        dq, dk, dv = self._views(dqkv)
        np.matmul(p.transpose(0, 1, 3, 2), da, out=dv)
        ds = da @ v.transpose(0, 1, 3, 2)  # dp, turned into ds in place: p * (dp - sum_j(dp * p))
        row = np.multiply(ds, p).sum(axis=-1, keepdims=True)
        ds -= row
        ds *= p
        ds /= math.sqrt(d)
        np.matmul(ds, k, out=dq)
        np.matmul(ds.transpose(0, 1, 3, 2), q, out=dk)
        dqkv2 = dqkv.reshape(N * T, 3 * D)
        dx = (dqkv2 @ w_in).reshape(x.shape)
        grads = (dx, dqkv2.T @ x.reshape(N * T, D), dqkv2.sum(axis=0), dw_out, db_out)
        # END HIDDEN
        return (*grads, None) if self.key_padding else grads  # the mask has no gradient
