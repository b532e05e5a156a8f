"""Read this first: lab 3.2's network, forward and backward, written out on one page.

A 2-hidden-layer network classifies 16x8 letters (128 pixels) into 10 classes::

    z1 = x W1^T + b1      h1 = sigmoid(z1)          (N, 64)
    z2 = h1 W2^T + b2     h2 = sigmoid(z2)          (N, 64)
    z3 = h2 W3^T + b3                               (N, 10)  logits
    L  = mean_n -log softmax(z3)_n[y_n]             softmax cross-entropy

Backward applies the chain rule from the loss down, one line per forward line, using the local
derivatives sigmoid'(z) = h (1 - h) and d L / d z3 = (softmax(z3) - onehot(y)) / N. Weights are stored
(out, in), as ``torch.nn.Linear`` stores them.

The rest of `numpy_ops` computes exactly this, one op per line (`numpy_ops.layers.linear`,
`numpy_ops.activations`, `numpy_ops.losses`): ``python -m numpy_ops.walkthrough`` checks these
gradients against central differences and against the library.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    # BEGIN HIDDEN sigmoid
    # The textbook form. It overflows (harmlessly, to 0) for z below about -700 in float64; the library's
    # `numpy_ops.activations.Sigmoid` is the same function written so that it never does.
    return 1 / (1 + np.exp(-z))
    # END HIDDEN


def forward_backward(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray):
    """Loss and gradients of the lab 3.2 network.

    Shapes: ``x`` (N, 128); ``y`` (N,) integer labels; ``params`` W1 (64, 128), b1 (64,), W2 (64, 64),
    b2 (64,), W3 (10, 64), b3 (10,). Returns ``(loss, grads)`` with ``grads[k]`` shaped as ``params[k]``.
    """
    W1, b1, W2, b2, W3, b3 = (params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    # BEGIN HIDDEN linear sigmoid softmax_cross_entropy
    n = x.shape[0]
    # forward
    z1 = x @ W1.T + b1
    h1 = sigmoid(z1)
    z2 = h1 @ W2.T + b2
    h2 = sigmoid(z2)
    z3 = h2 @ W3.T + b3
    p = np.exp(z3 - z3.max(axis=1, keepdims=True))     # softmax, shifted so exp cannot overflow
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    # backward
    dz3 = p.copy()
    dz3[np.arange(n), y] -= 1                            # softmax - onehot
    dz3 /= n                                             # the mean over the batch
    grads = {"W3": dz3.T @ h2, "b3": dz3.sum(axis=0)}
    dh2 = dz3 @ W3
    dz2 = dh2 * h2 * (1 - h2)                            # sigmoid'(z2) = h2 (1 - h2)
    grads.update(W2=dz2.T @ h1, b2=dz2.sum(axis=0))
    dh1 = dz2 @ W2
    dz1 = dh1 * h1 * (1 - h1)
    grads.update(W1=dz1.T @ x, b1=dz1.sum(axis=0))
    return loss, grads
    # END HIDDEN


def init_params(rng: np.random.Generator, sizes=(128, 64, 64, 10)) -> dict[str, np.ndarray]:
    """Weights U(-1/sqrt(in), 1/sqrt(in)) and biases likewise (``nn.Linear``'s default range)."""
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        bound = 1 / np.sqrt(n_in)
        params[f"W{i}"] = rng.uniform(-bound, bound, (n_out, n_in))
        params[f"b{i}"] = rng.uniform(-bound, bound, n_out)
    return params


#: The walkthrough's names for the parameters -> the keys `numpy_ops.mlp` (and ``nn.Sequential``) give them.
KEYS = {"W1": "0.weight", "b1": "0.bias", "W2": "2.weight", "b2": "2.bias", "W3": "4.weight", "b3": "4.bias"}


def library_loss_and_grads(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray):
    """The same network built from `numpy_ops`' layers: the result the walkthrough must equal."""
    from .losses import softmax_cross_entropy
    from .network import mlp

    net = mlp([x.shape[1], 64, 64, 10], "sigmoid", dtype=x.dtype)
    net.load_state_dict({KEYS[k]: v for k, v in params.items()})
    loss, cache = softmax_cross_entropy.forward(net.forward(x), y)
    net.backward(softmax_cross_entropy.backward(np.ones((), x.dtype), cache)[0])
    grads = dict(zip((k for k, _ in net.named_parameters()), net.gradients()))
    return float(loss), {k: grads[KEYS[k]] for k in KEYS}


def main() -> None:
    from .gradcheck import numerical_gradient, scaled_error

    rng = np.random.default_rng(0)
    x, y = rng.random((5, 128)), rng.integers(0, 10, 5)  # pixel intensities in [0, 1), five examples
    params = init_params(rng)
    loss, grads = forward_backward(params, x, y)
    lib_loss, lib_grads = library_loss_and_grads(params, x, y)
    print(f"loss {loss:.6f} (numpy_ops: {lib_loss:.6f})")
    print("param  shape       error vs central differences   vs numpy_ops")
    for k in KEYS:
        numeric = numerical_gradient(lambda: forward_backward(params, x, y)[0], params[k])
        print(f"{k:5}  {str(params[k].shape):10}  {scaled_error(grads[k], numeric):28.1e}   "
              f"{scaled_error(grads[k], lib_grads[k]):.1e}")
    print("error = max |difference| / max |gradient|; a correct backward shows 1e-7 or less against central "
          "differences (their own rounding) and ~1e-15 against the library.")


if __name__ == "__main__":
    main()
