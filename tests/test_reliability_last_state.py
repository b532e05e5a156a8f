"""What a run ends on is what it keeps and reports (issue 15): ``last.ckpt`` holds the last epoch trained even when
the monitored loss stopped improving, the last epoch is evaluated whatever ``check_val_every_n_epoch`` says, and
``results.json``'s final metrics are those of the weights in ``last.ckpt`` (float64 runs in float64)."""

from __future__ import annotations

import math

import pytest
import torch

from helpers_training import read_results, run_dir, run_fit, skip_figures
from lightning_ffnn.datamodules import OCRDataModule
from lightning_ffnn.models import SpecNetModule

# mode "max" with a falling loss (Adam, lr 0.01: it falls every epoch): the best-k checkpoint is epoch 0's, and no
# later epoch "improves". Lightning 2.6 then refreshed last.ckpt only with a best-k save, so it stayed at epoch 0.
NOT_IMPROVING = ["--checkpoint.mode", "max", "--model.optimizer", "adam", "--model.lr", "0.01",
                 "--trainer.logger.init_args.name", "run"]


def _checkpoint(save_dir, name: str = "last.ckpt") -> dict:
    return torch.load(run_dir(save_dir, "run") / "checkpoints" / name, weights_only=False)


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_last_checkpoint_is_the_final_epoch_when_the_loss_stops_improving(backend, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    results = run_fit("ocr_small", tmp_path, *NOT_IMPROVING, "--model.backend", backend, "--trainer.max_epochs", "4",
                      "--model.dtype", "float64")
    assert [e["epoch"] for e in results["epochs"]] == [0, 1, 2, 3]
    assert results["best_checkpoint"].endswith("best-epoch=0.ckpt"), results["best_checkpoint"]  # the premise
    last = _checkpoint(tmp_path)
    assert last["epoch"] == 3 and last["global_step"] == results["epochs"][-1]["step"]
    assert read_results(results["run_dir"])["final"] == results["final"]

    # results.json's final metrics are those of last.ckpt's weights, exactly (the same float64 forward pass).
    model = SpecNetModule.load_from_checkpoint(run_dir(tmp_path, "run") / "checkpoints" / "last.ckpt")
    dm = OCRDataModule(size="small", batch_size=100, dtype="float64")
    with torch.no_grad():
        for name, (x, y) in dm.eval_sets().items():
            metrics = {k: v.item() for k, v in model.evaluate(x, y).items()}
            assert metrics == {k.split("/")[1]: v for k, v in results["final"].items() if k.startswith(f"{name}/")}


def test_resume_from_last_continues_after_the_final_epoch_not_the_best(tmp_path, monkeypatch):
    """``--ckpt_path last`` of a 3-epoch run, to 4 epochs, equals a straight 4-epoch run: it went on from epoch 2,
    not from the best epoch 0 (before the fix it restarted after epoch 0 and recorded epochs 1-3 again)."""
    skip_figures(monkeypatch)
    monkeypatch.chdir(tmp_path)
    first = ["--model.backend", "numpy", *NOT_IMPROVING]
    run_fit("ocr_small", tmp_path / "a", *first, "--trainer.max_epochs", "3")
    started = []
    epoch_start = SpecNetModule.on_train_epoch_start
    monkeypatch.setattr(SpecNetModule, "on_train_epoch_start",
                        lambda self: (started.append(self.current_epoch), epoch_start(self))[1])
    resumed = run_fit("ocr_small", tmp_path / "b", *first, "--trainer.max_epochs", "4", "--ckpt_path",
                      str(run_dir(tmp_path / "a", "run") / "checkpoints" / "last.ckpt"))
    assert started == [3], f"the resumed run trained epochs {started}, not only the fourth"
    straight = run_fit("ocr_small", tmp_path / "c", *first, "--trainer.max_epochs", "4")
    assert [e["epoch"] for e in resumed["epochs"]] == [0, 1, 2, 3]
    assert resumed["epochs"] == straight["epochs"]


def test_the_last_epoch_is_evaluated_recorded_and_saved(tmp_path, monkeypatch):
    """XOR evaluates every 50 epochs: a run of 101 recorded epochs 49 and 99 and kept last.ckpt at 49."""
    skip_figures(monkeypatch)
    results = run_fit("xor", tmp_path, "--trainer.max_epochs", "101", "--trainer.check_val_every_n_epoch", "50",
                      "--trainer.logger.init_args.name", "run")
    assert [e["epoch"] for e in results["epochs"]] == [49, 99, 100]
    assert _checkpoint(tmp_path)["epoch"] == 100
    assert results["final"] == {k: v for k, v in results["epochs"][-1].items() if "/" in k}


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_float64_runs_record_accuracy_in_float64(backend, tmp_path, monkeypatch):
    """0.77 was recorded as 0.7699999958276749 (torchmetrics' float32 accuracy): now k / n exactly."""
    skip_figures(monkeypatch)
    results = run_fit("ocr_small", tmp_path, "--model.backend", backend, "--model.dtype", "float64",
                      "--trainer.max_epochs", "2")
    sizes = {"train": 500, "test": 100}
    for epoch in results["epochs"]:
        for name, n in sizes.items():
            acc = epoch[f"{name}/accuracy"]
            assert acc == round(acc * n) / n, f"epoch {epoch['epoch']} {name}/accuracy {acc!r} is not k/{n}"
    assert all(math.isfinite(v) for v in results["final"].values())
