# %% [markdown]
# # The recurrent network
#
# $s_t = U x_t + W h_{t-1} + b$, $h_t = \tanh(s_t)$, over a sequence of $T$ steps (`torch.nn.RNN`'s names:
# `weight_ih` is $U$, `weight_hh` is $W$).
#
# 1. `rnn_forward`: the step, run over the whole sequence.
# 2. `rnn_backward`: backpropagation through time in one reverse sweep: $\partial L/\partial s_t =
#    (\partial L/\partial h_t + \partial L/\partial s_{t+1} W) \odot \tanh'(s_t)$, then the weights' gradients
#    as sums over time.
# 3. `bptt_double_sum`: the course's form, with $\delta_{t,k} = \partial L_t / \partial s_k$:
#    $\delta_{t,t} = f'(s_t) \odot V^T(\hat y_t - y_t)$, $\delta_{t,k} = f'(s_k) \odot W^T \delta_{t,k+1}$ for $k < t$,
#    and $\partial L/\partial U = \sum_t \sum_{k \le t} \delta_{t,k} x_k^T$.

# %%
from course.kit.notebook import check, setup, show

ROOT = setup()

# %% [markdown]
# ## Task 1: `rnn_forward` -- **TODO**: the time loop of `RNNOp.forward`

# %%
show("rnn_forward")
check("rnn_forward")

# %% [markdown]
# ## Task 2: `rnn_backward` -- **TODO**: the sweep and the weights' gradients in `RNNOp`

# %%
show("rnn_backward")
check("rnn_backward")

# %% [markdown]
# ## Task 3: `bptt_double_sum` -- **TODO**: the table of $\delta_{t,k}$ and the double sums

# %%
show("bptt_double_sum")
check("bptt_double_sum")
