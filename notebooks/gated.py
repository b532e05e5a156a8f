# %% [markdown]
# # Gated recurrences: the LSTM and the GRU
#
# Both are written as `torch.nn.LSTM` / `torch.nn.GRU` compute them, with their weights' names, layouts and gate
# order: the gates' pre-activations are stacked in row blocks of $H$.
#
# **LSTM** (gates $i, f, g, o$): $a_t = x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh}$,
# $i = \sigma(a_i)$, $f = \sigma(a_f)$, $g = \tanh(a_g)$, $o = \sigma(a_o)$, $c_t = f \odot c_{t-1} + i \odot g$,
# $h_t = o \odot \tanh(c_t)$. Backward carries two gradients back in time: $dh$ and $dc$; the cell state's path
# $dc_{t-1} \mathrel{+}= dc_t \odot f_t$ is what lets the gradient survive long delays.
#
# **GRU** (gates $r, z, n$): $r = \sigma(x W_{ir}^T + b_{ir} + h W_{hr}^T + b_{hr})$, $z$ likewise,
# $n = \tanh(x W_{in}^T + b_{in} + r \odot (h W_{hn}^T + b_{hn}))$ -- $b_{hn}$ inside the reset gate's product --
# and $h_t = (1 - z) \odot n + z \odot h_{t-1}$.
#
# 1. `lstm_forward`, 2. `lstm_backward` (the reverse sweep `LSTMOp._sweep`, then the weights' gradients as sums
#    over every step in `_param_grads`), 3. `gru_forward`, 4. `gru_backward` (`GRUOp._sweep`, and `_param_grads`).

# %%
from course.kit.notebook import check, setup, show

ROOT = setup()

# %% [markdown]
# ## Task 1: `lstm_forward` -- **TODO**: the time loop of `LSTMOp.forward`

# %%
show("lstm_forward")
check("lstm_forward")

# %% [markdown]
# ## Task 2: `lstm_backward` -- **TODO**: `LSTMOp._sweep` and `_GatedRecurrentOp._param_grads`

# %%
show("lstm_backward")
check("lstm_backward")

# %% [markdown]
# ## Task 3: `gru_forward` -- **TODO**: the time loop of `GRUOp.forward`

# %%
show("gru_forward")
check("gru_forward")

# %% [markdown]
# ## Task 4: `gru_backward` -- **TODO**: `GRUOp._sweep` (and `_param_grads`, shared with the LSTM)

# %%
show("gru_backward")
check("gru_backward")

# %% [markdown]
# When every task passes, train the character model with each cell (a few minutes each), from the handout's
# folder after `pip install -e .`:
# `python scripts/train.py fit --config configs/char_lstm.yaml --model.backend numpy` (and `char_gru.yaml`;
# `char_rnn.yaml` is the simple RNN to compare with). `configs/mnist_lstm.yaml` reads MNIST row by row.
