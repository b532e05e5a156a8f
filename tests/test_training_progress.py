"""The progress bar: drawn only on a terminal, and saying so while an epoch's evaluation runs."""

from __future__ import annotations

import io
import subprocess
import sys
from types import SimpleNamespace

from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm

from helpers_training import REPO, TRAIN_SCRIPT, subprocess_env
from lightning_ffnn.cli import EpochProgressBar


def test_no_progress_frames_in_a_pipe(tmp_path):
    args = ["fit", "--config", "configs/xor.yaml", "--trainer.logger.init_args.save_dir", str(tmp_path),
            "--trainer.max_epochs", "60"]
    done = subprocess.run([sys.executable, str(TRAIN_SCRIPT), *args], cwd=REPO, env=subprocess_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Epochs: 60 trained" in done.stdout
    assert "\r" not in done.stdout + done.stderr and "it/s" not in done.stdout + done.stderr


def test_the_bar_says_when_the_epoch_is_being_evaluated():
    bar = EpochProgressBar()
    screen = io.StringIO()
    bar._train_progress_bar = Tqdm(total=10, file=screen, desc="Epoch 3")
    trainer = SimpleNamespace(sanity_checking=False, current_epoch=3,
                              datamodule=SimpleNamespace(eval_set_names=["train", "val", "test"]))
    bar.on_validation_start(trainer, None)
    assert bar._train_progress_bar.desc.startswith("Epoch 3: evaluating on train, val, test")
    assert "evaluating on train, val, test" in screen.getvalue()  # drawn at once, whatever the refresh rate
    bar.on_validation_end(trainer, None)
    assert "evaluating" not in bar._train_progress_bar.desc and bar._train_progress_bar.desc.startswith("Epoch 3")
