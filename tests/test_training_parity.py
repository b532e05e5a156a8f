"""The in-training gradient parity check catches a wrong hand-written backward, and says so plainly."""

from __future__ import annotations

import pytest
import torch

from numpy_ops.layers import LinearOp

from helpers_training import fit_args, run_fit, run_main, skip_figures


@pytest.fixture
def wrong_linear_backward(monkeypatch):
    """``LinearOp.backward`` with dW scaled by 1.01: a 1% error, far above float32 rounding."""
    right = LinearOp.backward

    def wrong(self, dout, cache):
        dx, dW, db = right(self, dout, cache)
        return dx, (None if dW is None else dW * 1.01), db

    monkeypatch.setattr(LinearOp, "backward", wrong)


def test_wrong_backward_stops_the_run_with_a_clear_message(wrong_linear_backward, tmp_path, capsys, monkeypatch):
    skip_figures(monkeypatch)
    code, out, err = run_main(fit_args("ocr_small", tmp_path, "--model.backend", "numpy",
                                       "--trainer.max_epochs", "1"), capsys)
    assert code == 1, err
    message = err.strip().splitlines()[-1]
    assert message.startswith("error: gradient parity check failed at epoch 0, global step 0: the hand-written "
                              "NumPy gradient of '"), message
    assert "weight' differs from autograd's by 0.01 (relative), above the tolerance 0.001" in message, message
    assert "Layers over tolerance: ['0.weight', '2.weight', '4.weight']" in message, message
    assert message.endswith("A numpy_ops backward is wrong."), message
    assert "Traceback (most recent call last)" not in err


def test_wrong_backward_is_caught_in_float64_too(wrong_linear_backward, tmp_path, monkeypatch):
    from lightning_ffnn.callbacks import GradientParityError

    skip_figures(monkeypatch)
    with pytest.raises(GradientParityError, match=r"above the tolerance 1e-09"):
        run_fit("regression", tmp_path, "--model.backend", "numpy", "--model.dtype", "float64",
                "--trainer.max_epochs", "1", "--parity.every_n_steps", "7")


def test_torch_backend_is_not_checked(wrong_linear_backward, tmp_path, monkeypatch):
    """The native backend never runs numpy_ops, so the broken op cannot show there (and no check runs)."""
    from lightning_ffnn.callbacks import GradientParityCheck

    skip_figures(monkeypatch)
    seen = []
    compare = GradientParityCheck.compare
    monkeypatch.setattr(GradientParityCheck, "compare", lambda self, *a: seen.append(compare(self, *a)) or seen[-1])
    results = run_fit("ocr_small", tmp_path, "--model.backend", "torch", "--trainer.max_epochs", "1",
                      "--parity.every_n_steps", "1")
    assert len(results["epochs"]) == 1
    assert seen == [], "the parity check ran on the torch backend"


def test_right_backward_passes_every_step(tmp_path, monkeypatch):
    from lightning_ffnn.callbacks import GradientParityCheck

    skip_figures(monkeypatch)
    seen = []
    compare = GradientParityCheck.compare

    def spy(self, pl_module, x, y):
        seen.append(compare(self, pl_module, x, y))
        return seen[-1]

    monkeypatch.setattr(GradientParityCheck, "compare", spy)
    run_fit("ocr_small", tmp_path, "--model.backend", "numpy", "--trainer.max_epochs", "1",
            "--parity.every_n_steps", "1")
    assert len(seen) == 5  # 500 examples in batches of 100
    assert max(s["max"] for s in seen) < 1e-5, seen


@pytest.mark.parametrize("setting", [["--trainer.accumulate_grad_batches", "2"],
                                     ["--trainer.gradient_clip_val", "1e-4"]], ids=["accumulation", "clipping"])
def test_settings_that_change_grad_do_not_fail_a_right_backward(setting, tmp_path, monkeypatch):
    """Issue 15: with gradient accumulation the check compared .grad (two batches' sum) with the twin's gradient of
    one batch and stopped a correct run at step 0 ("'4.bias' differs by 0.49"); clipping rescales .grad likewise.
    Both sides are now computed by the check itself, on the step's batch. (Lightning 2.6 clips after the hook the
    check runs in, so clipping never showed; this keeps it so.)"""
    from lightning_ffnn.callbacks import GradientParityCheck

    skip_figures(monkeypatch)
    seen = []
    compare = GradientParityCheck.compare
    monkeypatch.setattr(GradientParityCheck, "compare",
                        lambda self, pl_module, x, y: seen.append(compare(self, pl_module, x, y)) or seen[-1])
    run_fit("ocr_small", tmp_path, "--model.backend", "numpy", "--model.steps_per_call", "1",
            "--trainer.max_epochs", "1", "--parity.every_n_steps", "1", *setting)
    assert len(seen) == (3 if "2" in setting else 5)  # 5 batches of 100: 3 optimizer steps when accumulating 2
    assert max(s["max"] for s in seen) < 1e-5, seen


def test_wrong_backward_is_still_caught_under_accumulation(wrong_linear_backward, tmp_path, monkeypatch):
    from lightning_ffnn.callbacks import GradientParityError

    skip_figures(monkeypatch)
    with pytest.raises(GradientParityError, match=r"global step 0: .*differs from autograd's by 0.01 \(relative\)"):
        run_fit("ocr_small", tmp_path, "--model.backend", "numpy", "--model.steps_per_call", "1",
                "--trainer.accumulate_grad_batches", "2", "--trainer.max_epochs", "1")


def test_each_step_of_a_grouped_call_is_checked_on_its_own_batch(tmp_path, monkeypatch):
    """steps_per_call 4: the check at global step 3 gets the 4th batch of the first call, the one stepped on."""
    from lightning_ffnn.callbacks import GradientParityCheck
    from lightning_ffnn.datamodules import OCRDataModule

    skip_figures(monkeypatch)
    got = {}
    compare = GradientParityCheck.compare

    def spy(self, pl_module, x, y):
        got[pl_module.trainer.global_step] = x.clone()
        return compare(self, pl_module, x, y)

    monkeypatch.setattr(GradientParityCheck, "compare", spy)
    run_fit("ocr_small", tmp_path, "--model.backend", "numpy", "--trainer.max_epochs", "1",
            "--data.init_args.batch_size", "50", "--model.steps_per_call", "4", "--parity.every_n_steps", "3")
    assert sorted(got) == [0, 3, 6, 9]
    dm = OCRDataModule(size="small", batch_size=50)
    dm.setup()
    loader = dm.train_dataloader()  # no trainer: one batch an item, the same order
    loader.sampler.set_epoch(0)
    batches = [x for x, _ in loader]
    for step, x in got.items():
        assert torch.equal(x, batches[step]), f"step {step} was checked on another batch"
