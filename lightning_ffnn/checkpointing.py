"""What a run ends on: its last epoch is evaluated (`EvaluateLastEpoch`), and ``last.ckpt`` is always the newest
evaluated state, beside the best by ``monitor`` (`RunCheckpoint`)."""

from __future__ import annotations

from lightning.pytorch.callbacks import Callback, ModelCheckpoint


class EvaluateLastEpoch(Callback):
    """Evaluate the last epoch of a fit, whatever ``trainer.check_val_every_n_epoch`` says.

    Otherwise a run of 3001 epochs evaluated every 50 would end on the metrics and checkpoint of epoch 2999. When the
    Trainer's own schedule skips the last epoch, this runs the fit loop's validation loop at that epoch's end, as
    the loop itself does on an evaluated epoch, before the checkpoint callbacks' end-of-epoch hooks (Lightning calls
    those last), so the record and ``last.ckpt`` follow. It changes no Trainer setting.

    ``trainer.fit_loop.epoch_loop.val_loop`` is the loop Lightning 2.6 runs between epochs; no public method runs it
    inside a fit. tests/test_reliability_last_state.py pins the behaviour, so an upgrade that moves it fails there.
    """

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        every = trainer.check_val_every_n_epoch
        epoch = trainer.current_epoch
        if (trainer.max_epochs is None or epoch != trainer.max_epochs - 1 or every in (None, 1)
                or (epoch + 1) % every == 0 or not trainer.enable_validation or trainer.sanity_checking):
            return
        trainer.validating = True
        trainer.fit_loop.epoch_loop.val_loop.run()
        trainer.training = True


class RunCheckpoint(ModelCheckpoint):
    """Lightning's `ModelCheckpoint` (same arguments), whose ``last.ckpt`` follows every evaluated epoch.

    Lightning 2.6 with ``monitor`` set writes ``last.ckpt`` only in a step where it also wrote a best-k
    checkpoint ("Only save last checkpoint if a checkpoint was actually saved in this step", in its
    ``on_train_epoch_end`` / ``on_validation_end``). A run whose monitored loss stopped improving then kept the
    ``last.ckpt`` of its best epoch: its final weights were saved nowhere, ``results.json`` described another
    state, and ``--ckpt_path last`` went back in time. Here, at the end of every epoch that was evaluated (the
    last one always is: `EvaluateLastEpoch`), ``last.ckpt`` is written unless Lightning just did.

    The three underscore methods used are ModelCheckpoint's own machinery for exactly this write (file
    naming, skipping sanity checks / ``fast_dev_run`` / a step already saved); no public method writes
    ``last.ckpt``. ``tests/test_reliability_resume.py`` pins the behaviour, so a Lightning upgrade that changes
    them fails there, not silently.
    """

    _evaluated_epoch: int | None = None  # the epoch of the latest evaluation while fitting

    def on_validation_end(self, trainer, pl_module) -> None:
        super().on_validation_end(trainer, pl_module)
        if not trainer.sanity_checking:
            self._evaluated_epoch = trainer.current_epoch

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if (self.save_last and self._evaluated_epoch == trainer.current_epoch
                and not self._should_skip_saving_checkpoint(trainer)):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
