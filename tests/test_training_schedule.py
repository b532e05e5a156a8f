"""The learning-rate schedule (``--model.lr_schedule``, `lightning_ffnn.schedules`) in real Lightning runs: every
optimizer step uses the rate the formula gives, several steps per call change nothing, a resumed run ends where an
unbroken one ends, and a run without a schedule is the run it was before schedules existed. And the optimizers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from helpers_training import checkpoint_weights, fit_args, run_dir, run_fit, skip_figures
from lightning_ffnn.cli import cli_main, run_results
from lightning_ffnn.models import SpecNetModule
from lightning_ffnn.speed import StepsPerCall

# ocr_small at batch 100: 5 optimizer steps an epoch (500 examples), float64 so that equal means equal
SMALL = ["--model.dtype", "float64", "--data.init_args.batch_size", "100", "--trainer.max_epochs", "4"]


def formula_lr(step: int, kind: str, lr: float, warmup: int, final: float, total: int) -> float:
    """The rate of optimizer step ``step`` (0 first), written from the formula of lightning_ffnn/schedules.py."""
    if step < warmup:
        return lr * (step + 1) / (warmup + 1)
    k, d = step - warmup, total - warmup
    if kind == "cosine":
        return final + (lr - final) * (1 + math.cos(math.pi * k / d)) / 2
    if kind == "linear":
        return lr + (final - lr) * k / d
    return lr


class StepRates(Callback):
    """Records the rate each optimizer step is about to use (callbacks see every batch, grouped or not)."""

    def __init__(self):
        self.rates: list[float] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.rates.append(trainer.optimizers[0].param_groups[0]["lr"])


class FailMidEpoch(Callback):
    """Fails the run at batch 2 of epoch ``epoch`` (1), as a crash would: the newest checkpoint is the epoch
    before's."""

    def __init__(self, epoch: int = 1):
        self.epoch = epoch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == 2:
            raise RuntimeError("simulated crash")


def fit_with(config: str, save_dir, *extra: str, callback: str = "test_training_schedule.StepRates"):
    """Train with one extra callback of this file; return the Trainer and that callback."""
    trainer = cli_main(fit_args(config, save_dir, *extra, "--trainer.callbacks+", callback))
    (spy,) = [c for c in trainer.callbacks if type(c).__name__ == callback.rsplit(".", 1)[1]]
    return trainer, spy


@pytest.mark.parametrize("kind, warmup_fraction, final", [
    ("cosine", 0.2, 0.01), ("linear", 0.25, 0.02), ("constant", 0.3, 0.0), ("cosine", 0.0, 0.0)])
def test_each_step_uses_the_rate_of_the_formula(kind, warmup_fraction, final, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    trainer, spy = fit_with("ocr_small", tmp_path, *SMALL, "--model.lr_schedule", kind,
                            "--model.lr_warmup_fraction", str(warmup_fraction), "--model.lr_final", str(final))
    total, warmup = 20, round(warmup_fraction * 20)
    want = [formula_lr(s, kind, 0.1, warmup, final, total) for s in range(total)]
    assert len(spy.rates) == total
    np.testing.assert_allclose(spy.rates, want, rtol=1e-12, atol=1e-15)
    if kind != "constant":  # one step after the last, the decay has arrived
        assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(final, abs=1e-15)
    # the record's per-epoch lr is the rate after the epoch's last step
    assert [e["lr"] for e in run_results(trainer)["epochs"]] == pytest.approx(
        [formula_lr(5 * (e + 1), kind, 0.1, warmup, final, total) for e in range(3)]
        + [trainer.optimizers[0].param_groups[0]["lr"]], abs=1e-15)


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_several_steps_per_call_give_the_same_scheduled_run(backend, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    common = [*SMALL, "--model.backend", backend, "--model.lr_schedule", "cosine", "--model.lr_warmup_fraction",
              "0.1"]
    _, one = fit_with("ocr_small", tmp_path / "one", *common, "--speed.steps_per_call", "1")
    many, many_rates = fit_with("ocr_small", tmp_path / "many", *common, "--speed.steps_per_call", "7")
    (grouping,) = [c for c in many.callbacks if isinstance(c, StepsPerCall)]
    assert "model.lr_schedule is cosine" in grouping._why  # it stepped aside, saying why
    assert many_rates.rates == one.rates and len(one.rates) == 20
    a = run_results(many)["epochs"]
    b = run_fit("ocr_small", tmp_path / "plain", *common, "--speed.steps_per_call", "1")["epochs"]
    assert a == b
    last = "ocr_small/version_0/checkpoints/last.ckpt"
    for key, value in checkpoint_weights(tmp_path / "plain" / last).items():
        np.testing.assert_array_equal(value, checkpoint_weights(tmp_path / "many" / last)[key], err_msg=key)


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_resumed_scheduled_run_equals_the_unbroken_run(backend, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    common = [*SMALL, "--model.backend", backend, "--model.lr_schedule", "cosine", "--model.lr_warmup_fraction",
              "0.2", "--model.lr_final", "0.001", "--speed.steps_per_call", "1",
              "--trainer.logger.init_args.name", "sched"]
    broken = tmp_path / "broken"
    with pytest.raises(RuntimeError, match="simulated crash"):
        fit_with("ocr_small", broken, *common, callback="test_training_schedule.FailMidEpoch")
    saved = torch.load(run_dir(broken, "sched") / "checkpoints" / "last.ckpt", weights_only=False)
    assert saved["epoch"] == 0 and saved["lr_schedulers"], "the crash should leave epoch 0's checkpoint, schedule in it"
    monkeypatch.chdir(tmp_path)
    resumed = run_fit("ocr_small", broken, *common, "--ckpt_path", "last")
    unbroken = run_fit("ocr_small", tmp_path / "unbroken", *common)
    assert [e["epoch"] for e in resumed["epochs"]] == [0, 1, 2, 3]
    assert resumed["epochs"] == unbroken["epochs"]  # lr included: exactly the same numbers
    got = checkpoint_weights(run_dir(broken, "sched") / "checkpoints" / "last.ckpt")
    want = checkpoint_weights(run_dir(tmp_path / "unbroken", "sched") / "checkpoints" / "last.ckpt")
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def test_without_a_schedule_the_optimizer_is_alone(tmp_path):
    """The default builds no scheduler: the optimizer, stepped as before schedules existed (same numbers)."""
    module = SpecNetModule(task="classification", input_shape=[4], output_dim=3)
    assert isinstance(module.configure_optimizers(), torch.optim.SGD)
    assert not module.has_lr_schedule


@pytest.mark.parametrize("name, cls", [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)])
def test_adam_and_adamw_are_torchs_with_the_settings(name, cls):
    module = SpecNetModule(task="classification", input_shape=[4], output_dim=3, optimizer=name, lr=0.01,
                           weight_decay=0.5, betas=(0.8, 0.9))
    optimizer = module.configure_optimizers()
    assert type(optimizer) is cls
    group = optimizer.param_groups[0]
    assert (group["lr"], group["weight_decay"], group["betas"]) == (0.01, 0.5, (0.8, 0.9))

