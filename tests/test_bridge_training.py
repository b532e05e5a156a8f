"""A pure-NumPy training run and the same run through the bridge give the same trajectory.

Left: `numpy_ops.mlp` trained by `numpy_ops.fit` with numpy_ops' SGD / Adam. Right: the numpy-backend
`build_mlp` (NumpyLinear + NumpyActivation) and a bridged loss in a plain torch loop with
``torch.optim.SGD`` / ``torch.optim.Adam``, from the same initial weights (state dict) and over the
SAME minibatches (`numpy_ops.train.batch_order`). In float64 the per-epoch full-set losses must agree
within 1e-10 after one and after several epochs, and so must the final weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lightning_ffnn.layers import NumpyMSELoss, NumpySoftmaxCrossEntropy
from lightning_ffnn.network import build_mlp
from numpy_ops import SGD, Adam, fit, mlp, mse, softmax_cross_entropy
from numpy_ops.train import batch_order

N, D, SEED, BATCH = 50, 4, 7, 16  # 50 = 3 full batches of 16 and one of 2

OPTIMIZERS = {
    # name: (numpy_ops optimizer factory, torch.optim factory)
    "sgd": (lambda p: SGD(p, lr=0.3), lambda p: torch.optim.SGD(p, lr=0.3)),
    "sgd-momentum": (lambda p: SGD(p, lr=0.02, momentum=0.9, weight_decay=1e-3),
                     lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9, weight_decay=1e-3)),
    "adam": (lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
}

TASKS = {
    # name: (output size, numpy_ops loss, bridged loss, target maker)
    "classification": (3, softmax_cross_entropy, NumpySoftmaxCrossEntropy, lambda rng: rng.integers(0, 3, N)),
    "regression": (1, mse, NumpyMSELoss, lambda rng: rng.normal(size=(N, 1))),
}


def bridged_fit(net, loss_fn, opt, X, y, epochs, batch_size, seed) -> list[float]:
    """The same schedule as `numpy_ops.fit`, in a plain torch loop: per-epoch full-set losses."""
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    losses = []
    for epoch in range(epochs):
        order = torch.from_numpy(batch_order(len(X), epoch, True, seed))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            loss_fn(net(X[idx]), y[idx]).backward()
            opt.step()
        with torch.no_grad():
            losses.append(loss_fn(net(X), y).item())
    return losses


@pytest.mark.parametrize("epochs", [1, 4])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("task", TASKS)
def test_pure_numpy_and_bridged_training_agree(task, optimizer, epochs):
    n_out, np_loss, bridged_loss, make_target = TASKS[task]
    np_opt, torch_opt = OPTIMIZERS[optimizer]
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(N, D)), make_target(rng)
    sizes = [D, 8, 6, n_out]

    pure = mlp(sizes, "tanh", rng=np.random.default_rng(1))
    bridged = build_mlp(sizes, "tanh", backend="numpy", seed=2, dtype=torch.float64)
    bridged.load_state_dict({k: torch.from_numpy(v) for k, v in pure.state_dict().items()})

    history = fit(pure, np_loss, np_opt(pure.parameters()), X, y, epochs=epochs, batch_size=BATCH,
                  shuffle=True, seed=SEED)
    losses = bridged_fit(bridged, bridged_loss(), torch_opt(bridged.parameters()), X, y, epochs, BATCH, SEED)

    expected = history["train_loss"]
    assert len(expected) == len(losses) == epochs
    assert losses[-1] < losses[0] or epochs == 1, f"test setup: training should make progress, got {losses}"
    np.testing.assert_allclose(losses, expected, rtol=0, atol=1e-10,
                               err_msg=f"{task}/{optimizer}: per-epoch losses, bridged+torch.optim vs numpy_ops.fit")
    for k, p in bridged.state_dict().items():
        np.testing.assert_allclose(p.numpy(), pure.state_dict()[k], rtol=0, atol=1e-10,
                                   err_msg=f"{task}/{optimizer}: parameter {k} after {epochs} epochs")


def test_a_different_batch_order_is_noticed():
    """The comparison can fail: the same run with another shuffle seed ends elsewhere."""
    n_out, np_loss, bridged_loss, make_target = TASKS["classification"]
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(N, D)), make_target(rng)
    pure = mlp([D, 8, n_out], "tanh", rng=np.random.default_rng(1))
    bridged = build_mlp([D, 8, n_out], "tanh", backend="numpy", dtype=torch.float64)
    bridged.load_state_dict({k: torch.from_numpy(v) for k, v in pure.state_dict().items()})
    history = fit(pure, np_loss, SGD(pure.parameters(), lr=0.3), X, y, epochs=1, batch_size=BATCH, seed=SEED)
    losses = bridged_fit(bridged, bridged_loss(), torch.optim.SGD(bridged.parameters(), lr=0.3), X, y, 1,
                         BATCH, SEED + 1)
    assert abs(losses[0] - history["train_loss"][0]) > 1e-6
