# %% [markdown]
# # Attention: the embedding, multi-head self-attention, the causal mask
#
# 1. `embedding`: $\mathrm{out} = W[\mathrm{indices}]$; each row's gradient is the sum of the upstream gradients of
#    every position that looked it up (`np.add.at`: `dW[indices] += dout` counts a repeated index once).
# 2. `attention`: with $H$ heads of size $d = D / H$: $q, k, v$ from $x W_{in}^T + b_{in}$,
#    $s = q k^T / \sqrt{d}$, $p = \mathrm{softmax}(s)$ over the keys, $a = p v$, $\mathrm{out} = a W_{out}^T + b_{out}$.
#    Backward in reverse; the softmax's: $ds = p \odot (dp - \sum_j dp \odot p)$ row by row (the sum is the
#    normalisation's path).
# 3. `causal_attention`: query $i$ sees keys $0..i$ only: the scores of later keys are $-\infty$ *before* the
#    softmax, so their weights are exactly 0 and each row still sums to 1.

# %%
from course.kit.notebook import check, setup, show

ROOT = setup()

# %% [markdown]
# ## Task 1: `embedding` -- **TODO**: `EmbeddingOp.forward` and `EmbeddingOp.backward`

# %%
show("embedding")
check("embedding")

# %% [markdown]
# ## Task 2: `attention` -- **TODO**: `softmax_last`, `softmax_last_backward`, `AttentionOp._scores`,
# `AttentionOp.forward` and `AttentionOp.backward`

# %%
show("attention")
check("attention")

# %% [markdown]
# ## Task 3: `causal_attention` -- **TODO**: `causal_mask` and its use in `_scores`

# %%
show("causal_attention")
check("causal_attention")

# %% [markdown]
# When every task passes, train the small GPT-style character model with your ops (token and position
# embeddings, pre-LayerNorm blocks of causal attention; it needs the `norm` lab's layer norm too), from the
# handout's folder after `pip install -e .`:
# `python scripts/train.py fit --config configs/char_gpt.yaml --model.backend numpy`.
