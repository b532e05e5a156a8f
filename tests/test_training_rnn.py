"""RNN configs trained by Lightning with both backends: the same per-epoch numbers in float64; the text data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers_training import epoch_numbers, run_fit, skip_figures
from lightning_ffnn.datamodules.text import CharTextDataModule, sample_text, zen_of_python
from lightning_ffnn.models import per_step_flat
from lightning_ffnn.network import build_network

F64 = ["--model.dtype", "float64", "--trainer.logger.init_args.name", "run"]
TINY_TEXT = ["--data.init_args.source", "zen", "--data.init_args.seq_len", "8", "--data.init_args.stride", "8",
             "--model.layers", "[{type: rnn, hidden_size: 8}]"]


@pytest.mark.parametrize("config, extra", [
    ("ocr_rnn", ["--trainer.max_epochs", "2", "--model.layers", "[{type: rnn, hidden_size: 16, output: last}]"]),
    ("char_rnn", ["--trainer.max_epochs", "2", *TINY_TEXT]),
])
def test_both_backends_give_the_same_epochs_in_float64(config, extra, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    runs = {b: run_fit(config, tmp_path / b, *F64, *extra, "--model.backend", b, "--parity.every_n_steps", "1")
            for b in ("numpy", "torch")}
    a, b = epoch_numbers(runs["numpy"]), epoch_numbers(runs["torch"])
    assert len(a) == 2 and a[0].keys() == b[0].keys()
    for ea, eb in zip(a, b):
        for key in ea:
            assert abs(ea[key] - eb[key]) <= 1e-9, f"epoch {ea['epoch']} {key}: numpy {ea[key]!r}, torch {eb[key]!r}"
    assert a[-1]["train/loss"] < a[0]["train/loss"]  # it trains: the runs are not equal by standing still


def test_zen_text_and_windows():
    text = zen_of_python()
    assert text.startswith("The Zen of Python, by Tim Peters") and "Namespaces are one honking great idea" in text
    dm = CharTextDataModule(source="zen", seq_len=10, stride=3, batch_size=4, dtype="float64")
    dm.setup()
    X, y = dm.eval_sets()["train"]
    assert X.shape[1:] == (10, len(dm.vocab)) and y.shape == (len(X), 10)
    ids = X.argmax(-1)
    assert torch.equal(ids[:, 1:], y[:, :-1])  # the target is the input shifted by one character
    assert dm.decode(torch.cat([ids[0], y[0, -1:]])) == text[:11]
    assert torch.equal(ids[1, :7], ids[0, 3:])  # windows start every `stride` characters


def test_per_step_flat_and_sampling():
    out, y = torch.randn(3, 5, 7), torch.randint(0, 7, (3, 5))
    flat_out, flat_y = per_step_flat(out, y)
    assert flat_out.shape == (15, 7) and torch.equal(flat_out[6], out[1, 1]) and flat_y[6] == y[1, 1]
    same = torch.randn(4, 2), torch.arange(4)
    assert per_step_flat(*same)[0] is same[0]
    dm = CharTextDataModule(source="zen", seq_len=6, batch_size=2)
    net = build_network([{"type": "rnn", "hidden_size": 5}, {"type": "linear", "out_features": len(dm.vocab)}],
                        dm.input_shape, "numpy", seed=0)
    text = sample_text(net, dm, "The ", 20, seed=1)
    assert text.startswith("The ") and len(text) == 24 and text == sample_text(net, dm, "The ", 20, seed=1)


def test_unknown_source_is_named():
    with pytest.raises(FileNotFoundError, match="nosuchfile"):
        CharTextDataModule(source="nosuchfile.txt")


def test_a_checkpoint_rebuilds_its_sequence_network_without_the_data(tmp_path, monkeypatch):
    """The example shape is saved with the hyper-parameters, so load_from_checkpoint builds the RNN as trained."""
    from pathlib import Path

    from lightning_ffnn.models import SpecNetModule

    skip_figures(monkeypatch)
    results = run_fit("ocr_rnn", tmp_path, *F64, "--trainer.max_epochs", "1",
                      "--model.layers", "[{type: rnn, hidden_size: 8, output: last}]")
    model = SpecNetModule.load_from_checkpoint(Path(results["run_dir"]) / "checkpoints" / "last.ckpt")
    assert model.hparams.input_shape == [16, 8]
    x = torch.rand(3, 16, 8, dtype=torch.float64)
    assert model(x).shape == (3, 10)
