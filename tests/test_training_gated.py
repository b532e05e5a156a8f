"""The configs with LSTM and GRU layers, trained by Lightning with both backends: the same per-epoch numbers in float64.

Tiny settings (a few units, two epochs; MNIST from a fake IDX set of 80 images), the gradient-parity check at every
step. The losses must also go down, so the runs are not equal by standing still.
"""

from __future__ import annotations

import pytest

from helpers_training import assert_backends_agree, skip_figures
from test_datamodules import _fake_mnist

F64 = ["--model.dtype", "float64", "--trainer.logger.init_args.name", "run", "--trainer.max_epochs", "2"]


def tiny(config: str, tmp_path) -> list[str]:
    cell = config.split("_")[1]
    if config.startswith("char"):
        return ["--data.init_args.source", "zen", "--data.init_args.seq_len", "8", "--data.init_args.stride", "8",
                "--model.layers", f"[{{type: {cell}, hidden_size: 8}}]"]
    data = tmp_path / "mnist"
    data.mkdir()
    _fake_mnist(data)
    return ["--data.init_args.data_dir", str(data), "--data.init_args.batch_size", "20",
            "--model.layers", f"[{{type: {cell}, hidden_size: 6, num_layers: 2, output: last}}]"]


@pytest.mark.parametrize("config", ["char_lstm", "char_gru", "mnist_lstm"])
def test_both_backends_give_the_same_epochs_in_float64(config, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    assert_backends_agree(config, tmp_path, *F64, *tiny(config, tmp_path))
