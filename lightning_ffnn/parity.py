"""The in-training gradient parity check: the project's promise made executable.

While a ``numpy``-backend model trains, every N optimizer steps `GradientParityCheck` takes the batch of that
step and computes the loss gradient of every parameter twice, with the current weights: through the model's
hand-written NumPy backward, and through a native-PyTorch twin with the same weights (autograd). It compares
the two, layer by layer.

Both sides are computed here, with `torch.autograd.grad`, never read from ``.grad``: what ``.grad`` holds
depends on Lightning's settings (accumulated over ``accumulate_grad_batches`` batches, clipped by
``gradient_clip_val``, averaged over ranks by DDP), and none of that may make a correct backward look wrong.
So the check is per batch and per process: one batch, one rank, the weights the optimizer is about to step.
"""

from __future__ import annotations

import math

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from .layers import LOSS_MODULES
from .models import SpecNetModule, per_step_flat
from .network import native_twin
from .rng import untouched_generator
from .tasks import loss_name


class GradientParityError(RuntimeError):
    """A hand-written NumPy gradient disagrees with autograd's during training."""


class GradientParityCheck(Callback):
    """Every ``every_n_steps`` optimizer steps, compare the NumPy-backed model's gradients on that step's batch
    with a native twin's.

    Logs ``parity/{param}`` (max |g_numpy - g_torch| / the largest |g_torch| of the same layer) and
    ``parity/max`` to the logger, and stops the run with `GradientParityError` when a difference passes
    ``tolerance`` (default: 1e-3 in float32, 1e-9 in float64; both far above rounding, far below a wrong
    formula: a gradient off by 1% reads 1e-2. Float32 needs the room: 1.7e-4 was seen after 10,000 correct
    steps of the sine lab, whose raw targets of +-66 make gradients that largely cancel).
    Runs with the ``torch`` backend are left alone. Cost: one extra forward/backward of the model and one of
    its twin every N steps.
    """

    def __init__(self, every_n_steps: int = 50, tolerance: float | None = None):
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be >= 1, got {every_n_steps}")
        self.every_n_steps = every_n_steps
        self.tolerance = tolerance
        self._twin: torch.nn.Sequential | None = None
        self._twin_loss: torch.nn.Module | None = None
        self._batch = None
        self.last: dict[str, float] = {}

    def _active(self, pl_module: L.LightningModule) -> bool:
        return isinstance(pl_module, SpecNetModule) and pl_module.hparams.backend == "numpy"

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if self._active(pl_module):
            self._batch = batch  # the batch the next optimizer step is computed on

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        # Called once per optimizer step, after backward and before the update: the weights are those the step's
        # gradients were computed at. Under gradient accumulation the batch is the last one accumulated.
        if trainer.global_step % self.every_n_steps or not self._active(pl_module) or self._batch is None:
            return
        x, y = self._batch
        self.last = self.compare(pl_module, x, y)
        if trainer.logger is not None:
            trainer.logger.log_metrics({f"parity/{k}": v for k, v in self.last.items()}, step=trainer.global_step)
        dtype = next(pl_module.net.parameters()).dtype  # not x's: a character model is fed integer indices
        tol = self.tolerance if self.tolerance is not None else (1e-9 if dtype == torch.float64 else 1e-3)
        bad = {k: v for k, v in self.last.items() if k != "max" and not v <= tol}
        if bad:
            worst = max(bad, key=lambda k: bad[k] if math.isfinite(bad[k]) else math.inf)
            # A user's own op (--model.activation FILE.py:NAME) gets the op checker's diagnosis: which mistake.
            from .user_ops import explain_user_ops

            why = explain_user_ops(pl_module.net)
            raise GradientParityError(
                f"gradient parity check failed at epoch {trainer.current_epoch}, global step {trainer.global_step}: "
                f"the hand-written NumPy gradient of '{worst}' differs from autograd's by {bad[worst]:.3g} "
                f"(relative), above the tolerance {tol:g}. Layers over tolerance: {sorted(bad)}. "
                + (f"A user op is wrong:\n{why}" if why else "A numpy_ops backward is wrong.")
            )

    @torch.enable_grad()
    def compare(self, pl_module: SpecNetModule, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        """Per-parameter relative difference between the gradients of the loss on ``(x, y)`` computed through
        the model's NumPy backward and through its native twin, both at the model's current weights.

        The check's forward draws its own dropout mask (the twin replays it) from torch's generator, whose state
        is then put back: a run draws the same masks, and learns the same weights, with the check on or off."""
        with untouched_generator():
            return self._compare(pl_module, x, y)

    def _compare(self, pl_module: SpecNetModule, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        net = pl_module.net
        if self._twin is None:
            self._twin = native_twin(net)
            self._twin_loss = LOSS_MODULES[loss_name(pl_module.hparams.task)][1]()
        twin = self._twin
        named = [(name, p) for name, p in net.named_parameters() if p.requires_grad]
        twin_params = dict(twin.named_parameters())
        with torch.no_grad():
            for name, p in named:
                twin_params[name].copy_(p)
        # The check's own forward must not move batch norm's running statistics (nor its step count): the run's
        # numbers stay those of a run without the check.
        buffers = {name: b.clone() for name, b in net.named_buffers()}
        mine = torch.autograd.grad(pl_module.loss_fn(*per_step_flat(net(x), y)), [p for _, p in named], allow_unused=True)
        with torch.no_grad():
            for name, b in net.named_buffers():
                b.copy_(buffers[name])
        ref = torch.autograd.grad(self._twin_loss(*per_step_flat(twin(x), y)), [twin_params[name] for name, _ in named],
                                  allow_unused=True)
        pairs = [(name, g, r) for (name, _), g, r in zip(named, mine, ref) if g is not None and r is not None]
        # The scale is the largest gradient of the layer (weight and bias together), not of each parameter:
        # a bias gradient is a batch sum that can nearly cancel (balanced classes at init: ~1e-7 from terms
        # of ~1e-3); its float32 rounding is of the size of the terms, so a per-parameter ratio failed
        # correct backwards (flower.yaml, numpy backend: 4% at step 0, in both backends against float64).
        # Entries where both sides are the same number, or both overflowed to the same inf or both are NaN, agree:
        # that is a diverging run (the loss check stops it), not a wrong backward. The scale is taken over finite
        # entries only.
        scales: dict[str, torch.Tensor] = {}
        for name, _, r in pairs:
            layer = name.rpartition(".")[0]
            finite = r.abs().where(torch.isfinite(r), r.new_zeros(()))
            scales[layer] = torch.maximum(scales.get(layer, r.new_zeros(())), finite.max())
        result = {}
        for name, g, r in pairs:
            scale = scales[name.rpartition(".")[0]].clamp_min(1e-12)
            agree = (g == r) | (g.isnan() & r.isnan())
            result[name] = float((g - r).abs().masked_fill(agree, 0).max() / scale) if g.numel() else 0.0
        result["max"] = max(result.values(), default=0.0)
        return result
