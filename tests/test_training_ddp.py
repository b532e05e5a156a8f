"""The numpy backend under DDP: two CPU processes (gloo), each on its share of every epoch's batches; the
hand-written gradients are averaged like native ones, the parity check holds, and the loss goes down."""

from __future__ import annotations

import math

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers_training import fit_args, read_results, run_dir, start_train


@pytest.mark.slow  # ~15 s: two training processes start, and set up gloo
def test_numpy_backend_trains_under_ddp_on_two_cpu_processes(tmp_path):
    args = fit_args("ocr_small", tmp_path, "--model.backend", "numpy", "--speed.steps_per_call", "1",
                    "--trainer.strategy", "ddp", "--trainer.accelerator", "cpu", "--trainer.devices", "2",
                    "--trainer.max_epochs", "3", "--data.init_args.batch_size", "5", "--parity.every_n_steps", "10",
                    "--trainer.logger.init_args.name", "ddp")
    log = tmp_path / "ddp.log"
    proc = start_train(args, tmp_path, log)
    try:
        proc.wait(timeout=240)
    finally:
        proc.kill()
    output = log.read_text()
    assert proc.returncode == 0, output[-3000:]
    assert "=== lab 3.2" not in output, "a rank ran the default job instead of the command line"

    results = read_results(run_dir(tmp_path, "ddp"))
    assert results["settings"]["trainer"] == {"max_epochs": 3, "strategy": "DDPStrategy", "devices": 2}
    losses = [e["train/loss"] for e in results["epochs"]]
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses), losses
    assert losses[0] > losses[1] > losses[2], f"the training loss should go down every epoch: {losses}"
    # 500 examples, 250 a rank in batches of 5: 50 steps an epoch, not 100 (each rank saw its own half).
    assert [e["step"] for e in results["epochs"]] == [50, 100, 150]

    acc = EventAccumulator(str(run_dir(tmp_path, "ddp")), size_guidance={"scalars": 0})
    acc.Reload()
    parity = [e.value for e in acc.Scalars("parity/max")]
    assert len(parity) == 15 and max(parity) < 1e-4, parity
