# %% [markdown]
# # Lab 3.3: regression, in and out of distribution
#
# A 1-64-64-1 network fits a 1-D function with the mean squared error
# $L = \frac{1}{n}\sum_i (\hat y_i - t_i)^2$, $\partial L / \partial \hat y_i = 2(\hat y_i - t_i)/n$ (times `dout`;
# $n$ counts every element). Hidden activations: $\tanh$, with $\tanh'(s) = 1 - \tanh^2(s)$ (it reads the
# output), and ReLU, $\max(s, 0)$, with derivative 1 for $s > 0$ and 0 otherwise (0 at the kink, as torch).
# The test sets: inside the training range (in distribution) and outside it (out of distribution).

# %%
from course.kit.notebook import check, setup, show

ROOT = setup()

# %% [markdown]
# ## Task 1: `mse` -- **TODO**: `MSEOp.forward` and `MSEOp.backward`

# %%
show("mse")
check("mse")

# %% [markdown]
# ## Task 2: `tanh` -- **TODO**: `Tanh.fn` and `Tanh.local_grad`

# %%
show("tanh")
check("tanh")

# %% [markdown]
# ## Task 3: `relu` -- **TODO**: `ReLU.fn` and `ReLU.local_grad`

# %%
show("relu")
check("relu")

# %% [markdown]
# ## Training in Lightning with your ops (numpy backend, gradient parity against torch on)
#
# Weights start Xavier-uniform (Kaiming's initialiser is a later lab's task). Compare the in-distribution
# and out-of-distribution errors: the network interpolates, it does not extrapolate.

# %%
import os

from lightning_ffnn.labs.notebook import train_and_plot

EPOCHS = int(os.environ.get("KIT_EPOCHS", "60"))
results = train_and_plot("configs/regression.yaml", EPOCHS, init="xavier_uniform", log_scale=True)
