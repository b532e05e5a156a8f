"""Learning-rate schedules of `SpecNetModule` (``--model.lr_schedule``), built from torch's own schedulers.

Every schedule is counted in optimizer steps and stepped once per optimizer step (Lightning's ``interval: step``).
With a peak rate ``lr``, ``S`` optimizer steps in the whole run and ``W = round(lr_warmup_fraction * S)`` of them
warming up, optimizer step ``s`` (0 for the first) uses

    s < W (linear warm-up):     lr * (s + 1) / (W + 1)                       (torch's LinearLR)
    s >= W, k = s - W, D = S - W:
      constant:                 lr
      cosine:                   lr_final + (lr - lr_final) * (1 + cos(pi k / D)) / 2      (CosineAnnealingLR)
      linear:                   lr + (lr_final - lr) * k / D                             (LinearLR)

so the warm-up ends exactly at ``lr`` and a decay reaches ``lr_final`` one step after the last one. The warm-up is a
fraction of the run, so that a config keeps its shape under ``--trainer.max_epochs`` or ``fast_dev_run``. Several
parts are chained with torch's SequentialLR. ``constant`` without warm-up builds no scheduler at all: the optimizer
alone, as before schedules existed, so every number of a run without one is what it was.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch.optim.lr_scheduler import ConstantLR, CosineAnnealingLR, LinearLR, LRScheduler, SequentialLR

from .errors import SettingsError

ScheduleName = Literal["constant", "cosine", "linear"]


def check_schedule(kind: str, lr: float, warmup_fraction: float, final_lr: float) -> None:
    """Refuse a schedule's settings that cannot describe one, naming the ``--model.*`` flag."""
    if not 0 <= warmup_fraction < 1:
        raise SettingsError(f"model.lr_warmup_fraction is the part of the run's optimizer steps spent warming up: "
                            f"it must be >= 0 and < 1, got {warmup_fraction}")
    if kind == "constant" and final_lr != 0:
        raise SettingsError(f"model.lr_final ({final_lr}) is the end of a decay: it needs model.lr_schedule cosine "
                            "or linear, not constant")
    if not 0 <= final_lr <= lr:
        raise SettingsError(f"model.lr_final must be between 0 and model.lr ({lr}), got {final_lr}")


def has_schedule(kind: str, warmup_fraction: float) -> bool:
    """Whether these settings change the learning rate during training."""
    return kind != "constant" or warmup_fraction > 0


def warmup_steps(warmup_fraction: float, total_steps: int) -> int:
    """W: the optimizer steps of the warm-up, always fewer than ``total_steps`` (a decay gets at least one)."""
    return max(0, min(round(warmup_fraction * total_steps), total_steps - 1))


def build_schedule(optimizer: torch.optim.Optimizer, kind: str, warmup_fraction: float, final_lr: float,
                   total_steps: float) -> LRScheduler | None:
    """The scheduler of ``kind`` over ``total_steps`` optimizer steps for ``optimizer`` (whose ``lr`` is the peak),
    or None when the rate never changes. ``total_steps`` is the Trainer's ``estimated_stepping_batches``."""
    if not has_schedule(kind, warmup_fraction):
        return None
    if not math.isfinite(total_steps):
        raise SettingsError(f"model.lr_schedule {kind} needs a known number of optimizer steps: set "
                            "trainer.max_epochs or trainer.max_steps")
    total_steps = int(total_steps)
    warmup = warmup_steps(warmup_fraction, total_steps)
    lr = optimizer.param_groups[0]["lr"]
    decay_steps = total_steps - warmup
    parts: list[LRScheduler] = []
    if warmup:
        parts.append(LinearLR(optimizer, start_factor=1 / (warmup + 1), end_factor=1.0, total_iters=warmup))
    if kind == "cosine":
        parts.append(CosineAnnealingLR(optimizer, T_max=decay_steps, eta_min=final_lr))
    elif kind == "linear":
        parts.append(LinearLR(optimizer, start_factor=1.0, end_factor=final_lr / lr, total_iters=decay_steps))
    elif warmup:  # constant after a warm-up: SequentialLR wants a scheduler for the rest of the run
        parts.append(ConstantLR(optimizer, factor=1.0, total_iters=0))
    if not parts:  # a warm-up fraction too small to make one step of this run: the rate stays lr
        return ConstantLR(optimizer, factor=1.0, total_iters=0)
    if len(parts) == 1:
        return parts[0]
    return SequentialLR(optimizer, parts, milestones=[warmup])

