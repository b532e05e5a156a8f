"""numpy_ops: the hand-written math of lightning-ffnn. NumPy only; it never imports torch.

Read `numpy_ops.walkthrough` first: lab 3.2's network, forward and backward, in one page.

Every differentiable piece follows one contract (see `numpy_ops.op`)::

    out, cache = op.forward(*inputs)
    grads      = op.backward(dout, cache)   # one gradient per input

Ops are lower-case objects (``linear``, ``mse``, ``get_activation("relu")``); the network's layers
and container are capitalised (``Layer``, ``Sequential``). Modules, in the order data flows:

* `layers`      -- the affine op (weights stored (out, in), like ``nn.Linear``)
* `activations` -- sigmoid, tanh, relu, leaky_relu, elu, softplus, swish, gelu, identity
  (`activations_fast`: the same numbers, branch-free, for the training paths)
* `reshape`     -- flatten
* `conv`        -- 2-D convolution: im2col + one matrix product, and the naive loops it is checked against
* `pooling`     -- max and average pooling (`pooling_fast`: laid out as the input, for the training paths)
* `dropout`     -- inverted dropout with a mask drawn from a NumPy generator
* `norm`        -- batch norm (running statistics as torch's) and layer norm
* `embedding`   -- a lookup table by integer index; learned position vectors
* `attention`   -- multi-head scaled dot-product self-attention (causal and key-padding masks optional),
  projections included (`attention_fast`: the same numbers to rounding, in place, for the training paths)
* `residual`    -- ``x + body(x)``: the skip connection of a Transformer block
* `losses`      -- softmax cross-entropy, MSE, binary cross-entropy from logits
* `init`        -- initialisers with ``torch.nn.init``'s conventions
* `spec`        -- a network described once, as a list of layer specs (`spec_base`: what a spec is;
  `spec_cnn`: the convolutional ones)
* `network`     -- the pure-NumPy network a spec builds (`build`, `mlp`; its table `NUMPY_LAYERS`)
* `optim`       -- SGD (momentum, Nesterov, weight decay) and Adam, step-for-step like torch.optim
* `train`       -- a minimal training loop
* `gradcheck`   -- central-difference gradient checks
* `graph`       -- a computational-graph engine (lab 3.1's Jacobian): ``numpy_ops.graph.backward``
* `graph_examples` -- lab 3.1's function and the lecture's worked graphs, built with `graph`
* `perceptron`, `polyfit` -- the perceptron rule; polynomial least squares and ridge
* `rnn`         -- a recurrent layer over a whole sequence, BPTT in one reverse sweep (``nn.RNN``'s names)
* `bptt`        -- the course's BPTT double sum (the delta_{t,k} table), for teaching
* `lstm`, `gru` -- the gated recurrences over a whole sequence (``nn.LSTM``'s and ``nn.GRU``'s names and gate order;
  `lstm_fast`: the LSTM time-major and in place, for the training paths)
"""

from . import graph, graph_examples, spec
from .activations import ACTIVATIONS, Activation, get_activation
from .gradcheck import check_op, numerical_gradient, rel_error, scaled_error
from .init import INIT_SCHEMES, init_linear, init_weight_and_bias
from .layers import LinearOp, linear
from .losses import LOSSES, bce_with_logits, mse, softmax_cross_entropy
from .network import DropoutLayer, Layer, Sequential, build, mlp
from .op import Op
from .optim import OPTIMIZERS, SGD, Adam, Optimizer
from .perceptron import PerceptronResult, fit_perceptron
from .polyfit import design_matrix, fit_polynomial, rms_error
from .reshape import flatten
from .conv import Conv2dOp, conv2d
from .pooling import AvgPool2dOp, MaxPool2dOp, avg_pool2d, max_pool2d
from .dropout import DropoutOp, dropout, dropout_mask
from .rnn import RNNOp
from .norm import BatchNormOp, LayerNormOp, layer_norm
from .embedding import EmbeddingOp, PositionEmbeddingOp, embedding, position_embedding
from .attention import AttentionOp
from .residual import AddOp, add
from .bptt import BPTTTable, bptt_double_sum
from .lstm import LSTMOp
from .gru import GRUOp
from .train import History, accuracy, fit

__all__ = [
    "graph", "graph_examples", "spec",
    "ACTIVATIONS", "Activation", "get_activation",
    "check_op", "numerical_gradient", "rel_error", "scaled_error",
    "INIT_SCHEMES", "init_linear", "init_weight_and_bias",
    "LinearOp", "linear",
    "LOSSES", "bce_with_logits", "mse", "softmax_cross_entropy",
    "Layer", "Sequential", "build", "mlp",
    "Op",
    "OPTIMIZERS", "SGD", "Adam", "Optimizer",
    "PerceptronResult", "fit_perceptron",
    "design_matrix", "fit_polynomial", "rms_error",
    "flatten",
    "Conv2dOp", "conv2d", "AvgPool2dOp", "MaxPool2dOp", "avg_pool2d", "max_pool2d",
    "DropoutLayer", "DropoutOp", "dropout", "dropout_mask",
    "RNNOp", "BPTTTable", "bptt_double_sum", "LSTMOp", "GRUOp",
    "BatchNormOp", "LayerNormOp", "layer_norm",
    "EmbeddingOp", "PositionEmbeddingOp", "embedding", "position_embedding",
    "AttentionOp", "AddOp", "add",
    "History", "accuracy", "fit",
]
