"""The lab table: every lab of the kit, in the course's order, with its tasks. Data, not code.

A lab's tasks are the solution regions (`course.kit.markers`) named after them in the project's code, and the
check of each (`course.kit.tasks`). Adding a lab is one `Lab(...)` row here (or a `register` call from another
module) plus ``# BEGIN SOLUTION task`` markers around its answers and a notebook in ``course/notebooks/``; see
docs/course.md.

Order matters: a handout hides the answers of its own lab and of every later lab, and includes those of the
earlier labs (handed in and discussed by then), which the framework needs to run.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import values as v
from .tasks import OpTask, ValueTask


@dataclass(frozen=True)
class Lab:
    name: str                 # what `course.py build` takes: "lab32"
    title: str
    tasks: tuple              # OpTask / ValueTask, in the order a student does them
    notebook: str | None = None   # a jupytext percent-format source in course/notebooks/

    def task(self, name: str):
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"lab {self.name} has no task {name!r}; its tasks: {', '.join(t.name for t in self.tasks)}")


LABS: list[Lab] = [
    Lab("lab31", "Lab 3.1: the computational graph and its Jacobian, by hand", (
        ValueTask("jacobian", "LabGraph.backward: the Jacobian (2, 3) by reverse accumulation",
                  v.graph_inputs, gradients=v.graph_gradients),
    ), "lab31.py"),
    Lab("lab32", "Lab 3.2: a feed-forward network by hand (OCR letters)", (
        OpTask("linear", "the affine layer: out = x @ W.T + b, and its three gradients", "numpy_ops.layers:linear",
               "linear"),
        OpTask("sigmoid", "the sigmoid and its local gradient", "numpy_ops.activations:get_activation", "sigmoid",
               dict(name="sigmoid")),
        OpTask("softmax_cross_entropy", "softmax cross-entropy from logits, mean over the batch",
               "numpy_ops.losses:softmax_cross_entropy", "softmax_cross_entropy"),
        ValueTask("sgd", "the SGD step: p -= lr * grad", v.steps_inputs, v.sgd_run),
    ), "lab32.py"),
    Lab("lab33", "Lab 3.3: regression (MSE, tanh, ReLU; in and out of distribution)", (
        OpTask("mse", "mean squared error", "numpy_ops.losses:mse", "mse"),
        OpTask("tanh", "tanh and its local gradient", "numpy_ops.activations:get_activation", "tanh",
               dict(name="tanh")),
        OpTask("relu", "ReLU and its local gradient", "numpy_ops.activations:get_activation", "relu",
               dict(name="relu")),
    ), "lab33.py"),
    Lab("optim", "Optimizers and initialisation (SGD with momentum, Adam, Kaiming)", (
        ValueTask("sgd_momentum", "SGD with momentum (and Nesterov)", v.steps_inputs, v.sgd_momentum_run),
        ValueTask("adam", "Adam with bias correction", v.steps_inputs, v.adam_run),
        ValueTask("kaiming", "Kaiming (He) initialisation: the standard deviation gain / sqrt(fan)",
                  v.kaiming_inputs, v.kaiming_run),
    ), "optim.py"),
    Lab("cnn", "The convolutional network (conv2d as loops then im2col, max pooling, dropout)", (
        OpTask("conv2d_naive", "conv2d as loops: forward and backward", "course.kit.values:naive_conv2d", "conv2d"),
        OpTask("conv2d", "conv2d by im2col and one matrix product", "numpy_ops.conv:conv2d", "conv2d",
               dict(stride=1, padding=1)),
        OpTask("max_pool2d", "max pooling: the gradient goes to each window's arg-max", "numpy_ops.pooling:max_pool2d",
               "max_pool2d", dict(kernel_size=2)),
        ValueTask("dropout", "inverted dropout: the mask and its gradient", v.dropout_inputs, v.dropout_run,
                  v.dropout_gradients),
    ), "cnn.py"),
    Lab("rnn", "The recurrent network (the step, the reverse sweep, the course's double sum)", (
        OpTask("rnn_forward", "the RNN step h_t = tanh(x_t U^T + h_{t-1} W^T + b) over the sequence",
               "numpy_ops.rnn:RNNOp", "rnn", dict(nonlinearity="tanh"), backward=False),
        OpTask("rnn_backward", "backpropagation through time in one reverse sweep", "numpy_ops.rnn:RNNOp", "rnn",
               dict(nonlinearity="tanh"), forward=False),
        ValueTask("bptt_double_sum", "the course's double sum of delta_{t,k} for dL/dU, dL/dW, dL/db",
                  v.bptt_inputs, v.bptt_run, v.bptt_gradients),
    ), "rnn.py"),
    Lab("norm", "Normalization (batch norm in training and in evaluation, layer norm)", (
        OpTask("batch_norm", "batch norm in training: the batch's statistics, torch's running averages (momentum, "
               "the unbiased variance) and the backward", "numpy_ops.norm:BatchNormOp", "batch_norm",
               dict(training=True)),
        OpTask("batch_norm_eval", "batch norm in evaluation: normalised by the running statistics",
               "numpy_ops.norm:BatchNormOp", "batch_norm_eval", dict(training=False)),
        OpTask("layer_norm", "layer norm over the last dimension, forward and backward", "numpy_ops.norm:LayerNormOp",
               "layer_norm", {}),
    ), "norm.py"),
    Lab("gated", "Gated recurrences (the LSTM and the GRU: the step over the sequence, the reverse sweep)", (
        OpTask("lstm_forward", "the LSTM over the sequence: gates i, f, g, o, the cell state and the hidden state",
               "numpy_ops.lstm:LSTMOp", "lstm", {}, backward=False),
        OpTask("lstm_backward", "the LSTM's reverse sweep: dh and dc carried back in time, then the weights' sums",
               "numpy_ops.lstm:LSTMOp", "lstm", {}, forward=False),
        OpTask("gru_forward", "the GRU over the sequence: gates r, z, n with b_hn inside the reset gate's product",
               "numpy_ops.gru:GRUOp", "gru", {}, backward=False),
        OpTask("gru_backward", "the GRU's reverse sweep, and the input and recurrent parts' gradients",
               "numpy_ops.gru:GRUOp", "gru", {}, forward=False),
    ), "gated.py"),
    Lab("attention", "Attention (the embedding, scaled dot-product multi-head attention, the causal mask)", (
        OpTask("embedding", "the embedding: rows looked up by index, their gradients added back (np.add.at)",
               "numpy_ops.embedding:embedding", "embedding"),
        OpTask("attention", "multi-head self-attention: projections, softmax(q k^T / sqrt(d)) v, and the backward",
               "numpy_ops.attention:AttentionOp", "attention", dict(num_heads=2)),
        OpTask("causal_attention", "the causal mask: query i sees keys 0..i only", "numpy_ops.attention:AttentionOp",
               "causal_attention", dict(num_heads=2, causal=True)),
    ), "attention.py"),
]


def register(lab: Lab) -> Lab:
    """Add a lab at the end of the course (the zoo's labs: normalization, LSTM, attention...)."""
    if any(lab.name == old.name for old in LABS):
        raise ValueError(f"a lab named {lab.name!r} exists already")
    LABS.append(lab)
    return lab


def get_lab(name: str) -> Lab:
    for lab in LABS:
        if lab.name == name:
            return lab
    raise KeyError(f"no lab {name!r}; the labs: {', '.join(lab.name for lab in LABS)}")


def owner_of(task: str) -> Lab | None:
    """The lab whose task this is."""
    return next((lab for lab in LABS if any(t.name == task for t in lab.tasks)), None)
