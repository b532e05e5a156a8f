# %% [markdown]
# # Optimizers and initialisation
#
# One interface: `opt = SGD(params, lr=...)`, then `opt.step(grads)` updates the arrays in place, step for
# step as `torch.optim` does.
#
# * SGD with momentum: $b \leftarrow \mu b + g$ ($b = g$ on the first step), then $p \leftarrow p - \eta b$;
#   Nesterov uses $g + \mu b$ instead of $b$.
# * Adam: $t \leftarrow t + 1$, $m \leftarrow \beta_1 m + (1-\beta_1) g$, $v \leftarrow \beta_2 v + (1-\beta_2) g^2$,
#   $\hat m = m / (1 - \beta_1^t)$, $\hat v = v / (1 - \beta_2^t)$, $p \leftarrow p - \eta \hat m / (\sqrt{\hat v} + \epsilon)$
#   (the bias correction undoes the start at zero; $\epsilon$ after the square root, as torch).
# * Kaiming (He) initialisation: standard deviation $\mathrm{gain}/\sqrt{\mathrm{fan}}$, with
#   $\mathrm{gain} = \sqrt{2/(1 + a^2)}$ for a leaky ReLU of slope $a$ (ReLU: $a = 0$); the uniform version
#   draws from $U(-\sqrt{3}\,\mathrm{std}, \sqrt{3}\,\mathrm{std})$. For a weight (out, in, ...), fan_in = in x the
#   kernel's size.

# %%
from course.kit.notebook import check, setup, show

ROOT = setup()

# %% [markdown]
# ## Task 1: `sgd_momentum` -- **TODO**: the momentum buffer in `SGD._update`

# %%
show("sgd_momentum")
check("sgd_momentum")

# %% [markdown]
# ## Task 2: `adam` -- **TODO**: `Adam._update`

# %%
show("adam")
check("adam")

# %% [markdown]
# ## Task 3: `kaiming` -- **TODO**: `_kaiming_std` and the bound of `kaiming_uniform`

# %%
show("kaiming")
check("kaiming")
