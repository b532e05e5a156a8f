"""The two backends are one model: in float64 with the same seed they train to the same numbers, and a checkpoint
of one resumes in the other. And a run is reproducible: the same seed gives bit-identical metrics."""

from __future__ import annotations

import numpy as np
import pytest

from helpers_training import checkpoint_weights, epoch_numbers, run_dir, run_fit, skip_figures

F64 = ["--model.dtype", "float64", "--trainer.max_epochs", "3", "--trainer.logger.init_args.name", "run"]


def _assert_epochs_close(a, b, atol=1e-9):
    assert [e["epoch"] for e in a] == [e["epoch"] for e in b]
    for ea, eb in zip(epoch_numbers({"epochs": a}), epoch_numbers({"epochs": b})):
        assert ea.keys() == eb.keys()
        for key in ea:
            assert abs(ea[key] - eb[key]) <= atol, f"epoch {ea['epoch']} {key}: numpy {ea[key]!r} vs torch {eb[key]!r}"


@pytest.mark.parametrize("config", ["ocr_small", "regression"])
def test_numpy_and_torch_backends_give_the_same_epochs_in_float64(config, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    numpy_run = run_fit(config, tmp_path / "numpy", *F64, "--model.backend", "numpy")
    torch_run = run_fit(config, tmp_path / "torch", *F64, "--model.backend", "torch")
    _assert_epochs_close(numpy_run["epochs"], torch_run["epochs"])
    got = checkpoint_weights(run_dir(tmp_path / "numpy", "run") / "checkpoints" / "last.ckpt")
    want = checkpoint_weights(run_dir(tmp_path / "torch", "run") / "checkpoints" / "last.ckpt")
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-9, err_msg=key)


@pytest.mark.parametrize("first, second", [("torch", "numpy"), ("numpy", "torch")])
def test_checkpoint_of_one_backend_resumes_in_the_other(first, second, tmp_path, monkeypatch):
    """2 epochs in one backend, then --ckpt_path <its last.ckpt> to epoch 3 in the other, equals 3 epochs of either."""
    skip_figures(monkeypatch)
    two = [a if a != "3" else "2" for a in F64]
    run_fit("ocr_small", tmp_path / "a", *two, "--model.backend", first)
    ckpt = run_dir(tmp_path / "a", "run") / "checkpoints" / "last.ckpt"
    resumed = run_fit("ocr_small", tmp_path / "b", *F64, "--model.backend", second, "--ckpt_path", str(ckpt))
    assert resumed["settings"]["model"]["backend"] == second
    straight = run_fit("ocr_small", tmp_path / "c", *F64, "--model.backend", first)
    _assert_epochs_close(resumed["epochs"], straight["epochs"])


def test_same_seed_gives_bit_identical_metrics(tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    args = ["--model.backend", "numpy", "--trainer.max_epochs", "2"]
    a = run_fit("ocr_small", tmp_path / "a", *args, "--model.seed", "3")
    b = run_fit("ocr_small", tmp_path / "b", *args, "--model.seed", "3")
    assert a["epochs"] == b["epochs"]  # exactly equal floats, not approximately
    other = run_fit("ocr_small", tmp_path / "c", *args, "--model.seed", "4")
    assert other["epochs"] != a["epochs"], "the seed should matter"
