"""numpy_ops: the hand-written math of lightning-ffnn. NumPy only; it never imports torch.

Every differentiable piece follows one contract (see `numpy_ops.op`)::

    out, cache = op.forward(*inputs)
    grads      = op.backward(dout, cache, needs)   # one gradient per input

Modules, in the order data flows through a network:

* `layers`      -- the affine layer (weights stored (out, in), like ``nn.Linear``)
* `activations` -- sigmoid, tanh, relu, leaky_relu, elu, softplus, swish, gelu, identity
* `losses`      -- softmax cross-entropy, MSE, binary cross-entropy from logits
* `init`        -- initialisers with ``torch.nn.init``'s conventions
* `optim`       -- SGD (momentum, Nesterov, weight decay) and Adam, step-for-step like torch.optim
* `network`     -- a small sequential container and an MLP builder
* `train`       -- a minimal training loop
* `gradcheck`   -- central-difference gradient checks
* `graph`       -- a scalar/array computational-graph engine (lab 3.1's Jacobian)
* `perceptron`, `polyfit` -- the perceptron rule; polynomial least squares and ridge
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .gradcheck import check_op, numerical_gradient, rel_error
from .init import INIT_SCHEMES, init_linear
from .layers import LinearOp, linear
from .losses import LOSSES, bce_with_logits, mse, softmax_cross_entropy
from .network import ActivationLayer, Linear, Sequential, mlp
from .op import Op
from .optim import OPTIMIZERS, SGD, Adam, Optimizer
from .train import History, accuracy, fit
from . import graph
from .graph import Node, backward, jacobian, topological_order
from .perceptron import PerceptronResult, fit_perceptron
from .polyfit import design_matrix, fit_polynomial, rms_error

__all__ = [
    "ACTIVATIONS", "Activation", "get_activation",
    "check_op", "numerical_gradient", "rel_error",
    "INIT_SCHEMES", "init_linear",
    "LinearOp", "linear",
    "LOSSES", "bce_with_logits", "mse", "softmax_cross_entropy",
    "ActivationLayer", "Linear", "Sequential", "mlp",
    "Op",
    "OPTIMIZERS", "SGD", "Adam", "Optimizer",
    "History", "accuracy", "fit",
    "graph", "Node", "backward", "jacobian", "topological_order",
    "PerceptronResult", "fit_perceptron",
    "design_matrix", "fit_polynomial", "rms_error",
]
