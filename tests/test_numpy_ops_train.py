"""The trainer `numpy_ops.train.fit`: minibatching and seeded shuffling, a torch twin trained on the
same batches, history, divergence, float32, and symmetry of zero-initialised networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from numpy_ops import SGD, Adam, accuracy, bce_with_logits, fit, mlp, mse, softmax_cross_entropy
from numpy_ops.train import batch_order

N = 30


def blobs(n=N, seed=0, dtype=np.float64):
    """Three well separated Gaussian blobs in 2-D, labels 0..2 (an easy problem)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    return (centres[y] + 0.3 * rng.standard_normal((n, 2))).astype(dtype), y


def new_net(seed=0, init="torch_default", activation="tanh", dtype=np.float64, sizes=(2, 8, 3)):
    return mlp(list(sizes), activation, rng=np.random.default_rng(seed), init=init, dtype=dtype)


def test_loss_decreases_and_accuracy_rises_on_an_easy_problem():
    X, y = blobs()
    net = new_net()
    h = fit(net, softmax_cross_entropy, SGD(net.parameters(), lr=0.3), X, y, epochs=20, batch_size=5,
            metric=accuracy)
    losses = h["train_loss"]
    assert len(losses) == 20 and h["epoch"] == list(range(20))
    assert losses[-1] < 0.2 * losses[0], f"loss did not fall enough: {losses[0]:.3f} -> {losses[-1]:.3f}"
    assert h["train_metric"][-1] == 1.0, f"accuracy {h['train_metric'][-1]} on separable blobs"


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [1, 7, N])
@pytest.mark.parametrize("optim", ["sgd", "adam"])
def test_matches_torch_twin_on_the_same_batches(batch_size, shuffle, optim):
    """The whole loop, golden: torch trained on the same batches (file order when shuffle is off; the
    documented seeded order otherwise) ends with the same parameters. batch_size = N is full-batch GD."""
    X, y = blobs()
    net = new_net(1)
    twin = nn.Sequential(nn.Linear(2, 8, dtype=torch.float64), nn.Tanh(), nn.Linear(8, 3, dtype=torch.float64))
    twin.load_state_dict({k: torch.tensor(v) for k, v in net.state_dict().items()})
    if optim == "sgd":
        opt, topt = SGD(net.parameters(), lr=0.1, momentum=0.9), torch.optim.SGD(twin.parameters(), 0.1, 0.9)
    else:
        opt, topt = Adam(net.parameters(), lr=0.01), torch.optim.Adam(twin.parameters(), lr=0.01)
    h = fit(net, softmax_cross_entropy, opt, X, y, epochs=3, batch_size=batch_size, shuffle=shuffle, seed=7)

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for epoch in range(3):
        order = batch_order(N, epoch, True, 7) if shuffle else np.arange(N)
        for start in range(0, N, batch_size):
            idx = torch.from_numpy(order[start:start + batch_size])
            topt.zero_grad()
            F.cross_entropy(twin(Xt[idx]), yt[idx]).backward()
            topt.step()
        with torch.no_grad():
            ref_loss = F.cross_entropy(twin(Xt), yt).item()
        assert h["train_loss"][epoch] == pytest.approx(ref_loss, rel=1e-10), f"epoch {epoch} loss vs torch"
    for k, p in twin.state_dict().items():
        np.testing.assert_allclose(net.state_dict()[k], p.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{k} after 3 epochs (batch {batch_size}, shuffle={shuffle})")


def test_batch_order():
    np.testing.assert_array_equal(batch_order(10, 3, False, 5), np.arange(10))
    a = batch_order(10, 0, True, 5)
    assert sorted(a) == list(range(10)) and not np.array_equal(a, np.arange(10))
    np.testing.assert_array_equal(a, batch_order(10, 0, True, 5))
    assert not np.array_equal(a, batch_order(10, 1, True, 5)), "each epoch should get its own order"
    assert not np.array_equal(a, batch_order(10, 0, True, 6)), "another seed should give another order"


def run(seed, shuffle=True, epochs=4):
    X, y = blobs()
    net = new_net(0)
    h = fit(net, softmax_cross_entropy, SGD(net.parameters(), lr=0.2), X, y, epochs=epochs, batch_size=4,
            shuffle=shuffle, seed=seed)
    return h, net.state_dict()


def test_same_seed_identical_different_seed_different():
    h1, s1 = run(seed=11)
    h2, s2 = run(seed=11)
    h3, _ = run(seed=12)
    assert h1.records == h2.records, "same seed, different history"
    for k in s1:
        np.testing.assert_array_equal(s1[k], s2[k], err_msg=f"same seed, different {k}")
    assert h1["train_loss"] != h3["train_loss"], "different seeds gave the identical history"
    # With shuffling off the seed plays no part: file order every epoch.
    assert run(seed=11, shuffle=False)[0].records == run(seed=12, shuffle=False)[0].records
    assert run(seed=11, shuffle=False)[0]["train_loss"] != h1["train_loss"]


def test_history_eval_sets_and_eval_every():
    X, y = blobs()
    Xv, yv = blobs(12, seed=1)
    net = new_net()
    seen = []
    h = fit(net, softmax_cross_entropy, SGD(net.parameters(), lr=0.1), X, y, epochs=5, batch_size=8,
            metric=accuracy, eval_sets={"val": (Xv, yv)}, eval_every=2, callback=lambda e, hist: seen.append(e))
    assert h["epoch"] == [1, 3, 4] and seen == [1, 3, 4]
    assert set(h.records) == {"epoch", "train_loss", "train_metric", "val_loss", "val_metric"}
    assert all(len(v) == 3 for v in h.records.values())
    assert h.last()["epoch"] == 4
    # The recorded loss is over the whole set with the epoch's final weights.
    assert h["val_loss"][-1] == pytest.approx(float(softmax_cross_entropy(net(Xv), yv)), rel=1e-12)


@pytest.mark.parametrize("bad", [0, N + 1])
def test_batch_size_must_fit_the_data(bad):
    X, y = blobs()
    net = new_net()
    with pytest.raises(ValueError, match=rf"batch_size must be between 1 and the number of examples \({N}\)"):
        fit(net, softmax_cross_entropy, SGD(net.parameters(), lr=0.1), X, y, epochs=1, batch_size=bad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_divergence_raises_naming_epoch_and_suggesting_smaller_lr(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3)).astype(dtype)
    y = (X @ np.array([[1.0], [-2.0], [0.5]]) * 100).astype(dtype)
    net = mlp([3, 1], rng=rng, dtype=dtype)
    with pytest.raises(FloatingPointError, match=r"epoch \d+.*smaller learning rate"):
        fit(net, mse, SGD(net.parameters(), lr=1e3), X, y, epochs=50, batch_size=20)


def test_float32_fit_keeps_float32():
    X, y = blobs(dtype=np.float32)
    net = new_net(dtype=np.float32)
    params = net.parameters()
    h = fit(net, softmax_cross_entropy, Adam(net.parameters(), lr=0.05), X, y, epochs=5, batch_size=6)
    assert all(p.dtype == np.float32 for p in net.parameters()), [p.dtype for p in net.parameters()]
    assert all(a is b for a, b in zip(params, net.parameters())), "parameters were replaced, not updated"
    assert all(g.dtype == np.float32 for g in net.gradients())
    assert np.isfinite(h["train_loss"]).all() and h["train_loss"][-1] < h["train_loss"][0]


@pytest.mark.parametrize("loss_name", ["softmax_cross_entropy", "bce_with_logits"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_zero_init_keeps_hidden_units_symmetric(activation, loss_name):
    X, y = blobs()
    if loss_name == "bce_with_logits":
        loss, y, out = bce_with_logits, (y == 0).astype(np.float64)[:, None], 1
    else:
        loss, out = softmax_cross_entropy, 3
    net = new_net(init="zeros", activation=activation, sizes=(2, 5, 4, out))
    fit(net, loss, SGD(net.parameters(), lr=0.5, momentum=0.9), X, y, epochs=10, batch_size=5)
    sd = net.state_dict()
    for k in ("0.weight", "0.bias", "2.weight", "2.bias"):
        rows = sd[k].reshape(sd[k].shape[0], -1)
        spread = np.max(np.abs(rows - rows[0]))
        assert spread <= 1e-12 * max(1.0, np.abs(rows).max()), f"{activation}: hidden {k} rows differ by {spread}"
    if activation == "sigmoid":  # sigmoid(0) = 0.5 != 0, so the hidden weights do move (symmetrically)
        assert np.abs(sd["0.weight"]).max() > 1e-3, "zero-initialised hidden weights never moved"


def test_random_init_breaks_symmetry():
    # The contrast that proves the symmetry test above can fail.
    X, y = blobs()
    net = new_net(init="xavier_uniform", activation="sigmoid", sizes=(2, 5, 4, 3))
    fit(net, softmax_cross_entropy, SGD(net.parameters(), lr=0.5), X, y, epochs=2, batch_size=5)
    W = net.state_dict()["0.weight"]
    assert np.max(np.abs(W - W[0])) > 1e-3
