# %% [markdown]
# # Lab 3.2: a feed-forward network by hand
#
# A network with two hidden layers classifies 16x8 images of letters (128 pixels) into 10 classes:
#
# $$z_1 = x W_1^T + b_1,\quad h_1 = \sigma(z_1),\quad z_2 = h_1 W_2^T + b_2,\quad h_2 = \sigma(z_2),\quad
#   z_3 = h_2 W_3^T + b_3$$
# $$L = \frac{1}{N}\sum_n -\log \mathrm{softmax}(z_{3,n})_{y_n}$$
#
# Every piece is an op with two methods: `out, cache = op.forward(*inputs)` and
# `grads = op.backward(dout, cache)`, one gradient per input. You write four of them; then the same network
# trains in PyTorch Lightning with **your** ops, its gradients compared with torch's autograd as it trains.
#
# Weights are stored `(out, in)`, as `torch.nn.Linear` stores them.

# %%
from course.kit.notebook import check, setup, show

ROOT = setup()

# %% [markdown]
# ## Task 1: the affine layer (`linear`)
#
# $\mathrm{out} = x W^T + b$ with $x$ (N, in), $W$ (out, in), $b$ (out,). With $\delta$ = `dout` (N, out):
# $\partial L/\partial x = \delta W$, $\partial L/\partial W = \delta^T x$, $\partial L/\partial b = \sum_n \delta_n$.
#
# **TODO**: write `LinearOp.forward` and `LinearOp.backward` in the file shown below.

# %%
show("linear")

# %%
check("linear")

# %% [markdown]
# ## Task 2: the sigmoid (`sigmoid`)
#
# $\sigma(z) = 1 / (1 + e^{-z})$ and $\sigma'(z) = \sigma(z)(1 - \sigma(z))$: the local gradient reads the
# *output*. Make it safe for $z = \pm 1000$ (no overflow warning).
#
# **TODO**: write `_sigmoid` and `Sigmoid.local_grad`.

# %%
show("sigmoid")

# %%
check("sigmoid")

# %% [markdown]
# ## Task 3: softmax cross-entropy (`softmax_cross_entropy`)
#
# $L = \frac{1}{N}\sum_n -\log p_{n, y_n}$ with $p_n = \mathrm{softmax}(z_n)$; its gradient is
# $\partial L / \partial z_n = (p_n - \mathrm{onehot}(y_n)) / N$, times the upstream `dout`.
# Compute $\log\mathrm{softmax}$ with the log-sum-exp shift so large logits do not overflow.
#
# **TODO**: write `log_softmax`, and the loss and gradient in `SoftmaxCrossEntropyOp`.

# %%
show("softmax_cross_entropy")

# %%
check("softmax_cross_entropy")

# %% [markdown]
# ## Task 4: the SGD step (`sgd`)
#
# $p \leftarrow p - \eta\, \partial L/\partial p$, in place (the arrays are the network's parameters).
#
# **TODO**: the plain step at the end of `SGD._update`.

# %%
show("sgd")

# %%
check("sgd")

# %% [markdown]
# ## Training on the OCR letters, in Lightning, with your ops
#
# The `numpy` backend runs your forward and backward inside `torch.autograd.Function`s; the gradient-parity
# check compares them with torch's autograd on the same batch every few steps and stops the run if they
# differ. The OCR files come from `$LIGHTNING_FFNN_OCR_DIR` (or `data/ocr/`), else a synthetic stand-in
# (the run says which). The weights start uniform in [-0.1, 0.1], the handout's setting.
# Needs `pip install -e .` in the handout (torch, Lightning).

# %%
import os

from lightning_ffnn.labs.notebook import train_and_plot

EPOCHS = int(os.environ.get("KIT_EPOCHS", "60"))
results = train_and_plot("configs/ocr_small.yaml", EPOCHS, init="uniform", results="lab32_results.json")
