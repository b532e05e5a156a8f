"""Several optimizer steps per Lightning training call: what makes tiny steps fast, in one class.

Lightning pays a fixed cost per training call (its loop, hooks, progress tracking: about 0.35 ms and more per call
on these networks, measured in docs/speed.md), which dominates a step of a 128-64-64-10 network on a batch of 1.
`StepsPerCall` pays it once for ``steps_per_call`` batches: the training loader hands Lightning a list of that many
consecutive batches a call, and the call makes one optimizer step per batch, in order. The batches and the updates
are those of one batch a call, so every number is the same (tests/test_training_speed_paths.py).

Nothing else in the project knows about it: the model has one ordinary ``training_step``, the datamodule one
ordinary training loader, and callbacks see each batch before its optimizer step in ``on_train_batch_start`` (so the
gradient parity check checks each step on its own batch). It works through public hooks: at ``setup`` it wraps the
datamodule's ``train_dataloader`` and the module's ``training_step`` on those instances, and switches the module to
manual optimization; ``teardown`` puts all three back.

It applies only where it cannot change what Lightning's settings mean. Lightning counts a call as one batch, so the
grouping steps aside, with a one-line notice, and every call takes one batch, when a setting counts batches or steps
inside an epoch (``limit_train_batches`` other than a whole epoch, ``max_steps``, ``val_check_interval`` other than a
whole epoch, ``check_val_every_n_epoch: null``), needs Lightning's automatic optimization
(``accumulate_grad_batches``, ``gradient_clip_val``, a learning-rate schedule: ``model.lr_schedule``), or runs
several processes (DDP: one backward per forward).
A run resumed from a checkpoint must take as many batches a call as the run that wrote it (Lightning's loop counts
calls, and would take a finished epoch for a part-done one); otherwise it stops with a `SettingsError` that says
which setting to give.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from lightning.pytorch.callbacks import Callback
from lightning.pytorch.utilities import rank_zero_info

from .errors import SettingsError


class StepsPerCall(Callback):
    """Make ``steps_per_call`` optimizer steps per Lightning training call (1 = Lightning's own one a call)."""

    def __init__(self, steps_per_call: int = 10):
        if isinstance(steps_per_call, bool) or not isinstance(steps_per_call, int) or steps_per_call < 1:
            raise ValueError(f"steps_per_call must be an integer >= 1, got {steps_per_call!r}")
        self.steps_per_call = steps_per_call
        self.active = False  # whether this fit groups its batches (decided at setup)
        self._per_call = 1  # batches per Lightning call in this fit
        self._why: str | None = None  # why it does not group, when it does not
        self._resumed_per_call: int | None = None  # of the checkpoint this fit resumes, if any
        self._restore: list = []

    @staticmethod
    def why_not(trainer) -> str | None:
        """The setting that rules grouping out for this Trainer, or None."""
        limit = trainer.limit_train_batches
        checks = [
            (trainer.world_size > 1, f"{type(trainer.strategy).__name__} runs several processes"),
            (not (isinstance(limit, float) and limit == 1.0), f"trainer.limit_train_batches is {limit!r}"),
            (trainer.max_steps != -1, f"trainer.max_steps is {trainer.max_steps}"),
            (trainer.accumulate_grad_batches != 1,
             f"trainer.accumulate_grad_batches is {trainer.accumulate_grad_batches}"),
            (bool(trainer.gradient_clip_val), f"trainer.gradient_clip_val is {trainer.gradient_clip_val}"),
            (trainer.check_val_every_n_epoch is None, "trainer.check_val_every_n_epoch is null"),
            (not (isinstance(trainer.val_check_interval, float) and trainer.val_check_interval == 1.0),
             f"trainer.val_check_interval is {trainer.val_check_interval!r}"),
        ]
        return next((why for ruled_out, why in checks if ruled_out), None)

    @staticmethod
    def schedule_why_not(pl_module) -> str | None:
        """A learning-rate schedule rules grouping out: Lightning steps no scheduler in manual optimization, and a
        schedule's length is counted in the Trainer's batches a call, which grouping would make fewer than steps.
        Where a step takes milliseconds (the configs with a schedule), one call a step costs a few per cent."""
        if not getattr(pl_module, "has_lr_schedule", False):
            return None
        hp = pl_module.hparams
        return (f"model.lr_schedule is {hp.get('lr_schedule')}, model.lr_warmup_fraction "
                f"{hp.get('lr_warmup_fraction')}: a schedule is stepped per optimizer step")

    # -- hooks ---------------------------------------------------------------------------------------------------
    def setup(self, trainer, pl_module, stage: str) -> None:
        self._per_call, self._why = 1, None
        if stage != "fit" or self.steps_per_call == 1:
            return
        why = (self.why_not(trainer) or (None if trainer.datamodule is not None else "the data is not a datamodule")
               or self.schedule_why_not(pl_module))
        if why is not None:
            self._why = why
            rank_zero_info(f"speed.steps_per_call {self.steps_per_call} steps aside ({why}): one batch per call")
            return
        dm, group = trainer.datamodule, self.steps_per_call
        make_loader = dm.train_dataloader
        step = pl_module.training_step
        self._restore = [(dm, "train_dataloader", dm.__dict__.get("train_dataloader")),
                         (pl_module, "training_step", pl_module.__dict__.get("training_step"))]
        self._automatic = pl_module.automatic_optimization

        def grouped_loader():
            return BatchGroups(make_loader(), group)

        def grouped_step(batches: list, batch_idx: int) -> None:  # Lightning passes batch_idx by this name
            optimizer = pl_module.optimizers()
            for i, batch in enumerate(batches):
                index = batch_idx * group + i  # every call but an epoch's last holds `group` batches
                for callback in trainer.callbacks:
                    if callback is not self:
                        callback.on_train_batch_start(trainer, pl_module, batch, index)
                optimizer.zero_grad()
                pl_module.manual_backward(step(batch, index))
                optimizer.step()

        dm.train_dataloader = grouped_loader
        pl_module.training_step = grouped_step
        pl_module.automatic_optimization = False
        self.active, self._per_call = True, group

    # -- a resumed run must group its batches as the run it resumes did -----------------------------------------
    def state_dict(self) -> dict:
        return {"batches_per_call": self._per_call}

    def load_state_dict(self, state: dict) -> None:
        self._resumed_per_call = state.get("batches_per_call")

    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        if self._resumed_per_call is None:  # written before issue 18: the model's own steps_per_call grouped them
            self._resumed_per_call = (checkpoint.get("hyper_parameters") or {}).get("steps_per_call")

    def on_train_start(self, trainer, pl_module) -> None:
        """Lightning's loop counts calls: resumed with another number of batches a call, it would take a finished
        epoch for a part-done one and train its rest again. Refuse that, saying which setting to give."""
        resumed, now = self._resumed_per_call, self._per_call
        if resumed is not None and resumed != now:
            why = f" ({self._why})" if self._why else ""
            raise SettingsError(
                f"the checkpoint was trained with {resumed} batch(es) per Lightning call and this run takes {now}{why}: "
                f"resume with --speed.steps_per_call {resumed} and without trainer settings that count batches "
                "(limit_train_batches, max_steps, val_check_interval), or start a new run")

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if not self.active:
            return
        _carry_step_count(trainer)  # trainer.global_step reads the automatic count again from here on
        for owner, name, before in self._restore:
            if before is None:
                owner.__dict__.pop(name, None)
            else:
                setattr(owner, name, before)
        pl_module.automatic_optimization = self._automatic
        self._restore, self.active = [], False


def _carry_step_count(trainer) -> None:
    """Give Lightning's two optimizer-step counts the larger of the two.

    Lightning 2.6 counts optimizer steps once per optimization mode (automatic, manual) and ``trainer.global_step``
    reads the count of the module's mode at that moment; grouping runs in manual mode, so after the fit, back in
    automatic mode, the Trainer would read 0. These counters are the loop's own (``trainer.fit_loop.epoch_loop``);
    tests/test_training_system.py checks ``global_step`` after a grouped fit, so an upgrade that moves them fails
    there."""
    loop = trainer.fit_loop.epoch_loop
    trackers = (loop.automatic_optimization.optim_progress.optimizer.step.total,
                loop.manual_optimization.optim_step_progress.total)
    steps = max(t.completed for t in trackers)
    for tracker in trackers:
        tracker.ready = tracker.completed = steps


class BatchGroups:
    """The items of ``loader`` in lists of ``group`` consecutive ones (the last list may be shorter).

    Lightning sets the epoch of ``loader``'s sampler through the ``sampler`` attribute, as on the loader itself."""

    def __init__(self, loader: Iterable, group: int):
        self.loader, self.group = loader, group
        self.sampler = getattr(loader, "sampler", None)

    def __iter__(self) -> Iterator[list]:
        chunk = []
        for item in self.loader:
            chunk.append(item)
            if len(chunk) == self.group:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def __len__(self) -> int:
        return math.ceil(len(self.loader) / self.group)
