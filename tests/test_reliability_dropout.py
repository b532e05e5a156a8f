"""Dropout, the one random layer, never makes a run depend on anything but its seed: both backends draw the masks
``nn.Dropout`` draws (same numbers in float64: tests/test_training_cnn.py), a resume from a checkpoint draws the masks the uninterrupted run
drew (bit for bit), the gradient parity check and the run's figures leave torch's generator as they found it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from helpers_training import checkpoint_weights, run_dir, run_fit, skip_figures

# A small OCR CNN with dropout in the middle and at the end (the shape of configs/ocr_cnn.yaml, fewer channels).
DROPOUT_CNN = json.dumps([
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": "same"}, {"type": "activation", "name": "relu"},
    {"type": "max_pool2d", "kernel_size": 2}, {"type": "dropout", "p": 0.2}, {"type": "flatten"},
    {"type": "linear", "out_features": 16}, {"type": "activation", "name": "relu"}, {"type": "dropout", "p": 0.25}])
SMALL = ["--data.init_args.size", "small", "--data.init_args.val_fraction", "0.0", "--data.init_args.batch_size",
         "25", "--model.layers", DROPOUT_CNN, "--trainer.logger.init_args.name", "run"]


@pytest.mark.parametrize("p", [0.25, 0.5, 1.0, 0.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_numpy_dropout_draws_the_mask_nn_dropout_draws(p, dtype):
    from lightning_ffnn.layers_cnn import NumpyDropout

    x = torch.randn(6, 3, 5, dtype=dtype)
    results = []
    for layer in (nn.Dropout(p), NumpyDropout(p)):
        torch.manual_seed(7)
        out = layer(x.clone().requires_grad_())
        out.backward(torch.ones_like(out))
        results.append((out.detach(), torch.get_rng_state()))
    (native, native_state), (mine, my_state) = results
    torch.testing.assert_close(mine, native, rtol=0, atol=0)
    assert torch.equal(my_state, native_state), "the NumPy layer must draw from the generator exactly as nn.Dropout"


def test_numpy_dropout_on_an_empty_batch_draws_nothing():
    from lightning_ffnn.layers_cnn import NumpyDropout

    before = torch.get_rng_state()
    assert NumpyDropout(0.5)(torch.ones(0, 4)).shape == (0, 4)
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_resume_with_dropout_equals_the_uninterrupted_run(backend, tmp_path, monkeypatch):
    """Two epochs, then a resume from ``last.ckpt`` for a third (a new CLI: seeded afresh, as a new process is),
    against three epochs in one go: the same metrics and weights, bit for bit."""
    skip_figures(monkeypatch)
    args = [*SMALL, "--model.backend", backend]
    reference = run_fit("ocr_cnn", tmp_path / "reference", *args, "--trainer.max_epochs", "3")
    run_fit("ocr_cnn", tmp_path / "stopped", *args, "--trainer.max_epochs", "2")
    resumed = run_fit("ocr_cnn", tmp_path / "stopped", *args, "--trainer.max_epochs", "3", "--ckpt_path", "last")
    assert resumed["epochs"] == reference["epochs"]
    got = checkpoint_weights(run_dir(tmp_path / "stopped", "run") / "checkpoints" / "last.ckpt")
    want = checkpoint_weights(run_dir(tmp_path / "reference", "run") / "checkpoints" / "last.ckpt")
    assert got.keys() == want.keys()
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=f"{backend} backend: final weight {key}")


def test_parity_check_changes_no_weight(tmp_path, monkeypatch):
    """The check at every step against the check at step 0 only: the same final weights, bit for bit."""
    skip_figures(monkeypatch)
    args = [*SMALL, "--model.backend", "numpy", "--trainer.max_epochs", "1"]
    for every in ("1", "1000000"):
        run_fit("ocr_cnn", tmp_path / every, *args, "--parity.every_n_steps", every)
    often, once = (checkpoint_weights(run_dir(tmp_path / every, "run") / "checkpoints" / "last.ckpt")
                   for every in ("1", "1000000"))
    for key in once:
        np.testing.assert_array_equal(often[key], once[key], err_msg=f"weight {key}")


def test_predictions_figure_is_drawn_in_eval_mode_without_drawing_masks():
    from lightning_ffnn.callbacks import RunRecorder
    from lightning_ffnn.models import SpecNetModule

    layers = [{"type": "flatten"}, {"type": "linear", "out_features": 8}, {"type": "dropout", "p": 0.9}]
    model = SpecNetModule(layers=layers, task="classification", input_shape=[1, 3, 4], output_dim=3)
    seen = []

    class Data:
        is_synthetic = True

        def result_figures(self, predict, label, n_examples, seed):
            x = torch.randn(5, 1, 3, 4)
            before = torch.get_rng_state()
            seen.append((predict(x), predict(x), model.net.training))
            assert torch.equal(torch.get_rng_state(), before), "drawing the figure moved torch's generator"
            return {}

    recorder = RunRecorder()
    recorder.history = [{"epoch": 0, "step": 1, "train/loss": 1.0, "train/accuracy": 0.5}]
    model.train()
    recorder._figures(model, Data())
    (first, second, training_inside), = seen
    torch.testing.assert_close(first, second, rtol=0, atol=0)  # p = 0.9 in training would differ
    assert model.net.training, "the network goes back to training mode after the figure"
