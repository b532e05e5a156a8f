"""CNNs trained end to end: the OCR CNN config with both backends, the float64 equality of the two backends on a
CNN, the gradient parity check on conv and dropout layers (the twin replays the NumPy mask), and the pure-NumPy
trainer on the same spec. MNIST only where its files are present."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from course.datasets.idx import mnist_dir
from helpers_training import REPO, epoch_numbers, run_fit, skip_figures

SMALL = ["--data.init_args.size", "small", "--data.init_args.val_fraction", "0.0", "--trainer.max_epochs", "1",
         "--trainer.logger.init_args.name", "run"]
# The OCR CNN, smaller, without and with dropout (both backends draw the masks nn.Dropout draws).
NO_DROPOUT = [
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": "same"}, {"type": "activation", "name": "relu"},
    {"type": "max_pool2d", "kernel_size": 2}, {"type": "conv2d", "out_channels": 6, "kernel_size": 3, "stride": 2,
                                              "padding": 1},
    {"type": "activation", "name": "tanh"}, {"type": "avg_pool2d", "kernel_size": 2}, {"type": "flatten"},
    {"type": "linear", "out_features": 16}, {"type": "activation", "name": "relu"}]
WITH_DROPOUT = [*NO_DROPOUT[:3], {"type": "dropout", "p": 0.2}, *NO_DROPOUT[3:], {"type": "dropout", "p": 0.25}]


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_ocr_cnn_config_trains_one_epoch(backend, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    result = run_fit("ocr_cnn", tmp_path, *SMALL, "--model.backend", backend, "--parity.every_n_steps", "3")
    (epoch,) = epoch_numbers(result)
    assert math.isfinite(epoch["train/loss"]) and epoch["train/loss"] < math.log(10), "one epoch should learn"
    assert 0.0 <= epoch["test/accuracy"] <= 1.0


@pytest.mark.parametrize("layers", [NO_DROPOUT, WITH_DROPOUT], ids=["no_dropout", "dropout"])
def test_backends_give_the_same_cnn_epochs_in_float64(layers, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    args = [*SMALL[:-4], "--trainer.max_epochs", "2", "--model.dtype", "float64", "--model.layers", json.dumps(layers),
            "--data.init_args.batch_size", "25"]
    runs = {b: run_fit("ocr_cnn", tmp_path / b, *args, "--model.backend", b, "--parity.every_n_steps", "1")
            for b in ("numpy", "torch")}
    a, b = epoch_numbers(runs["numpy"]), epoch_numbers(runs["torch"])
    assert len(a) == len(b) == 2
    for ea, eb in zip(a, b):
        assert ea.keys() == eb.keys()
        for key in ea:
            assert abs(ea[key] - eb[key]) <= 1e-9, f"epoch {ea['epoch']} {key}: numpy {ea[key]!r} torch {eb[key]!r}"


def test_parity_check_covers_conv_and_replays_the_dropout_mask():
    from lightning_ffnn.callbacks import GradientParityCheck
    from lightning_ffnn.models import SpecNetModule

    layers = [{"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1}, {"type": "activation", "name": "relu"},
              {"type": "max_pool2d", "kernel_size": 2}, {"type": "flatten"}, {"type": "dropout", "p": 0.5}]
    model = SpecNetModule(backend="numpy", layers=layers, dtype="float64", task="classification",
                       input_shape=[1, 16, 8], output_dim=10)
    x, y = torch.randn(8, 1, 16, 8, dtype=torch.float64), torch.randint(0, 10, (8,))
    model.loss_fn(model.net(x), y).backward()
    result = GradientParityCheck().compare(model, x, y)
    assert {"0.weight", "0.bias", "5.weight", "5.bias"} <= result.keys()
    assert result["max"] < 1e-12, result
    # a new mask in the model but not in the check's twin would differ by far more: the replay matters
    model.zero_grad()
    model.loss_fn(model.net(x), y).backward()
    assert GradientParityCheck().compare(model, x, y)["max"] < 1e-12


def test_pure_numpy_trainer_runs_the_cnn_spec():
    """`numpy_ops.train.fit` (no torch at all) on a CNN spec with max pooling, average pooling and dropout."""
    from numpy_ops import spec as S
    from numpy_ops.losses import softmax_cross_entropy
    from numpy_ops.network import build
    from numpy_ops.optim import SGD
    from numpy_ops.train import accuracy, fit

    rng = np.random.default_rng(0)
    spec = [S.Conv2d(4, 3, padding="same"), S.Activation("relu"), S.MaxPool2d(2), S.AvgPool2d(3, 1, 1), S.Flatten(),
            S.Dropout(0.2), S.Linear(3)]
    net = build(spec, (1, 6, 6), rng)
    x = rng.standard_normal((60, 1, 6, 6))
    y = (x[:, 0, :3].sum(axis=(1, 2)) > 0).astype(int) + (x[:, 0, 3:].sum(axis=(1, 2)) > 0)
    history = fit(net, softmax_cross_entropy, SGD(net.parameters(), lr=0.05, momentum=0.9), x, y, epochs=30,
                  batch_size=10, metric=accuracy)
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0], history["train_loss"]
    assert history["train_metric"][-1] > 0.8


# Where the datamodule looks: $LIGHTNING_FFNN_MNIST_DIR, else the repository's data/mnist.
MNIST_DIR = mnist_dir("mnist")


@pytest.mark.skipif(not any((MNIST_DIR / f"train-images-idx3-ubyte{ext}").exists() for ext in ("", ".gz")),
                    reason=f"MNIST IDX files not found in {MNIST_DIR} (python scripts/prepare_data.py mnist)")
def test_mnist_cnn_config_takes_a_step_on_real_images_with_parity():
    import yaml

    from lightning_ffnn.callbacks import GradientParityCheck
    from lightning_ffnn.datamodules import MNISTDataModule
    from lightning_ffnn.models import SpecNetModule

    config = yaml.safe_load((REPO / "configs" / "mnist_cnn.yaml").read_text())
    dm = MNISTDataModule(layout="image", data_dir=str(MNIST_DIR), batch_size=100, dtype="float64")
    dm.setup("fit")
    x, y = next(iter(dm.train_dataloader()))
    assert tuple(x.shape) == (100, 1, 28, 28)
    model = SpecNetModule(backend="numpy", layers=config["model"]["layers"], dtype="float64", task="classification",
                       input_shape=list(dm.input_shape), output_dim=10)
    model.loss_fn(model.net(x), y).backward()
    result = GradientParityCheck().compare(model, x, y)
    assert result["max"] < 1e-12, result


def test_report_section_pieces():
    from lightning_ffnn.labs.cnn import confusion_figure, confusion_matrix, feature_maps_figure, filters_figure

    counts = confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    assert len(confusion_figure(counts, ["a", "b", "c"], "t").axes) == 2  # the matrix and its colour bar
    assert sum(ax.images != [] for ax in filters_figure(np.ones((5, 1, 3, 3)), "t").axes) == 5
    assert sum(ax.images != [] for ax in feature_maps_figure(np.ones((4, 4)), np.ones((3, 4, 4)), "t").axes) == 4
