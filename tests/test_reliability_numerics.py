"""Numerical edges in training: divergence stops the run cleanly; zero-initialised networks stay symmetric."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers_training import checkpoint_weights, fit_args, run_dir, run_fit, run_main, skip_figures

# A linear model on the standardised regression set (E[x^2] = 1, so the MSE's curvature is 2): SGD is stable
# for lr < 1. At lr 1.3 the error grows ~1.6x a step, and the float32 loss overflows in epoch 1, step 34,
# after epoch 0 has been completed and checkpointed.
DIVERGING = ["--model.hidden_sizes", "[]", "--model.optimizer", "sgd", "--model.lr", "1.3",
             "--trainer.max_epochs", "4", "--trainer.logger.init_args.name", "diverge"]


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_divergence_stops_at_the_first_non_finite_loss(backend, tmp_path, capsys, monkeypatch):
    skip_figures(monkeypatch)
    code, out, err = run_main(fit_args("regression", tmp_path, *DIVERGING, "--model.backend", backend), capsys)
    assert code == 1, f"exit code {code}; stderr:\n{err}"
    message = err.strip().splitlines()[-1]
    assert message.startswith("error: the training loss became inf at epoch 1, step 34 (global step 91)"), message
    assert "smaller learning rate" in message and "model.lr is 1.3" in message, message
    assert "Traceback (most recent call last)" not in err, err

    run = run_dir(tmp_path, "diverge")
    ckpt = run / "checkpoints" / "last.ckpt"
    assert torch.load(ckpt, weights_only=False)["epoch"] == 0, "the last good checkpoint is the end of epoch 0"
    for name, value in checkpoint_weights(ckpt).items():
        assert np.isfinite(value).all(), f"{name} in the kept checkpoint is not finite"
    assert not (run / "results.json").exists(), "a diverged run must not write a results.json of a finished run"


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_zero_initialised_network_trains_and_stays_symmetric(backend, tmp_path, monkeypatch):
    """All weights zero: every hidden unit of a layer computes the same value and gets the same gradient, so
    after training each hidden layer's rows (weights and bias) are identical, and so are the columns of the
    layer after it. Sigmoid, not tanh: tanh(0) = 0 would leave every gradient but the output bias at zero.
    Regression: the zero network predicts 0, the mean of the standardised targets, so its loss starts at 1."""
    skip_figures(monkeypatch)
    results = run_fit("regression", tmp_path, "--model.init", "zeros", "--model.activation", "sigmoid",
                      "--model.backend", backend, "--model.dtype", "float64", "--model.hidden_sizes", "[8, 6]",
                      "--trainer.max_epochs", "2", "--trainer.logger.init_args.name", "zeros")
    losses = [e["train/loss"] for e in results["epochs"]]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < 0.999, f"no learning: {losses}"

    w = checkpoint_weights(run_dir(tmp_path, "zeros") / "checkpoints" / "last.ckpt")
    for layer in ("net.0", "net.2", "net.4"):
        assert np.abs(w[f"{layer}.weight"]).max() > 0, f"{layer}: the weights did not move from zero"
    for layer in ("net.0", "net.2"):  # the two hidden layers: identical units (rows of W, entries of b)
        W, b = w[f"{layer}.weight"], w[f"{layer}.bias"]
        np.testing.assert_allclose(W, np.broadcast_to(W[:1], W.shape), rtol=1e-12, atol=1e-15,
                                   err_msg=f"{layer}: hidden units differ")
        np.testing.assert_allclose(b, np.full_like(b, b[0]), rtol=1e-12, atol=1e-15,
                                   err_msg=f"{layer}: hidden biases differ")
    for layer in ("net.2", "net.4"):  # the layers after them: identical inputs get identical weights (columns)
        W = w[f"{layer}.weight"]
        np.testing.assert_allclose(W, np.broadcast_to(W[:, :1], W.shape), rtol=1e-12, atol=1e-15,
                                   err_msg=f"{layer}: weights from identical hidden units differ")
