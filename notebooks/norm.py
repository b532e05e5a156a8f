# %% [markdown]
# # Normalization: batch norm and layer norm
#
# Both normalise a group of numbers, then scale and shift it by learned `weight` ($\gamma$) and `bias` ($\beta$):
# $\mu = \mathrm{mean}(x)$, $\sigma^2 = \mathrm{mean}((x - \mu)^2)$, $\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}$,
# $\mathrm{out} = \gamma \hat x + \beta$. Batch norm's group is one feature (or channel) over the batch; layer
# norm's is one example's last dimension.
#
# 1. `batch_norm`: training. Normalise by the batch's mean and *biased* variance; update the running arrays in
#    place as torch does, $r \leftarrow (1 - m) r + m \cdot s$ with momentum $m = 0.1$, the running variance fed
#    the *unbiased* batch variance (times $n / (n - 1)$, $n$ the values per channel). Backward, with
#    $g = \partial L/\partial \hat x$: $dx = (g - \mathrm{mean}(g) - \hat x\, \mathrm{mean}(g \hat x)) / \sqrt{\sigma^2 + \epsilon}$:
#    the first mean is the path through $\mu$, the second the path through $\sigma^2$.
# 2. `batch_norm_eval`: evaluation. Normalise by `running_mean` and `running_var` (and leave them alone): the op
#    is then affine in $x$.
# 3. `layer_norm`: the same formulas over each example's last dimension.

# %%
from course.kit.notebook import check, setup, show

ROOT = setup()

# %% [markdown]
# ## Task 1: `batch_norm` -- **TODO**: the training branch of `BatchNormOp.forward`, its backward, and
# `_normalize_backward`

# %%
show("batch_norm")
check("batch_norm")

# %% [markdown]
# ## Task 2: `batch_norm_eval` -- **TODO**: the evaluation branch

# %%
show("batch_norm_eval")
check("batch_norm_eval")

# %% [markdown]
# ## Task 3: `layer_norm` -- **TODO**: `LayerNormOp.forward` and `LayerNormOp.backward`

# %%
show("layer_norm")
check("layer_norm")

# %% [markdown]
# ## A deep sigmoid network with batch norm, in Lightning, with your ops
#
# Eight sigmoid layers of 64 on the small OCR set, batch norm between each linear layer and its sigmoid
# (`configs/ocr_deep_batchnorm.yaml`; without it, `configs/ocr_deep_sigmoid.yaml` barely moves). The gradient-parity
# check compares your gradients with torch's as it trains. Needs `pip install -e .` in the handout.

# %%
import os

from lightning_ffnn.labs.notebook import train_and_plot

EPOCHS = int(os.environ.get("KIT_EPOCHS", "30"))
results = train_and_plot("configs/ocr_deep_batchnorm.yaml", EPOCHS, init="torch_default",
                         extra=("--data.init_args.size", "small"))
