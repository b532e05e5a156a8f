# %% [markdown]
# # The convolutional network
#
# $\mathrm{out}[n, f, i, j] = b_f + \sum_{c,u,v} x_{\mathrm{pad}}[n, c, i s + u, j s + v]\, W[f, c, u, v]$.
#
# 1. `conv2d_naive`: the formula as loops, forward and backward (each output number sends
#    $\delta \cdot W_f$ back to its receptive field and $\delta \cdot$ field to $W_f$).
# 2. `conv2d`: the same by im2col: every receptive field becomes a row, and the convolution one matrix
#    product; `col2im`, its adjoint, adds the rows' gradients back where the fields overlap.
# 3. `max_pool2d`: the maximum of each window; backward sends the gradient to each window's arg-max only.
# 4. `dropout`: inverted dropout, $\mathrm{out} = x \cdot m$ with $m = \mathbb{1}[u > p] / (1 - p)$.

# %%
from course.kit.notebook import check, setup, show

ROOT = setup()

# %% [markdown]
# ## Task 1: `conv2d_naive` -- **TODO**: `conv2d_naive_forward` and `conv2d_naive_backward`

# %%
show("conv2d_naive")
check("conv2d_naive")

# %% [markdown]
# ## Task 2: `conv2d` -- **TODO**: `im2col`, `col2im`, `Conv2dOp.forward` and `Conv2dOp.backward`

# %%
show("conv2d")
check("conv2d")

# %% [markdown]
# ## Task 3: `max_pool2d` -- **TODO**: `MaxPool2dOp.forward` and `MaxPool2dOp.backward`

# %%
show("max_pool2d")
check("max_pool2d")

# %% [markdown]
# ## Task 4: `dropout` -- **TODO**: `DropoutOp.forward` and `DropoutOp.backward`

# %%
show("dropout")
check("dropout")

# %% [markdown]
# When every task passes, train the CNN on the OCR letters with your ops (a few minutes):
# `python scripts/train.py fit --config configs/ocr_cnn.yaml --model.backend numpy` from the handout's folder
# after `pip install -e .`.
