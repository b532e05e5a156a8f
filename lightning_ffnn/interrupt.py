"""What a run says when it is stopped with Ctrl-C: where it stopped, what its ``last.ckpt`` holds, how to resume.

Lightning catches the ``KeyboardInterrupt`` itself, tears the run down and calls ``sys.exit(1)``, with a notice
that only its info logging shows. `InterruptNotice`, a callback, stops the run at a batch's end and notes where it was when Lightning passed it
the exception (``on_exception``); `lightning_ffnn.cli.cli_main` turns Lightning's exit into `RunInterrupted`, whose
message the entry point prints before exiting with status 130 (128 + SIGINT, as a shell reports a Ctrl-C).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from lightning.pytorch.callbacks import Callback


class RunInterrupted(Exception):
    """A run stopped by Ctrl-C; the message says where, and what ``last.ckpt`` holds."""

    exit_status = 130


class InterruptNotice(Callback):
    """Stops a run at the next batch's end on Ctrl-C, and notes where it was (`message`; None while it was not).

    Python raises ``KeyboardInterrupt`` wherever the main thread happens to be; inside TensorBoard's event
    writer (whose queue lock it can leave held) Lightning's shutdown then hangs while it closes the logger. So
    while fitting, a first Ctrl-C only asks to stop, and the interrupt is raised at the end of the running batch
    (or evaluation); a second Ctrl-C interrupts at once, as Python would."""

    def __init__(self):
        self.message: str | None = None
        self._asked = False
        self._previous = None

    def on_fit_start(self, trainer, pl_module) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._ask)

    def _ask(self, signum, frame) -> None:
        if self._asked:
            raise KeyboardInterrupt
        self._asked = True

    def _stop_if_asked(self) -> None:
        if self._asked:
            self._restore()
            raise KeyboardInterrupt

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._stop_if_asked()

    def on_validation_end(self, trainer, pl_module) -> None:
        self._stop_if_asked()

    def on_fit_end(self, trainer, pl_module) -> None:
        self._restore()

    def _restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        self._restore()
        if not isinstance(exception, KeyboardInterrupt):
            return
        where = f"interrupted in epoch {trainer.current_epoch + 1} (global step {trainer.global_step})"
        ckpt = Path(trainer.log_dir or trainer.default_root_dir) / "checkpoints" / "last.ckpt"
        saved = next((c for c in trainer.callbacks if hasattr(c, "history")), None)
        history = getattr(saved, "history", None)
        if ckpt.is_file() and history:
            kept = f"{ckpt} holds epoch {history[-1]['epoch'] + 1}, the last one evaluated"
        elif ckpt.is_file():
            kept = f"{ckpt} holds the last evaluated epoch"
        else:
            kept = "no epoch was evaluated yet, so no checkpoint was written: a rerun starts from the beginning"
        self.message = f"{where}; {kept}"
