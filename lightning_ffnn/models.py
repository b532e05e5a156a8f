"""The LightningModule ("system") that trains every lab's feed-forward network.

One module for all labs, with a task switch: the network is a plain ``nn.Sequential`` built from a
network spec (`numpy_ops.spec`) by `lightning_ffnn.network.build_network`; this module owns the loss, the metrics, the logging and the
optimizer. Settings are type-hinted so LightningCLI validates them as ``--model.*`` flags.

Per-epoch metrics are computed after each training epoch with that epoch's final weights, over
whole sets: the datamodule's validation loaders yield each evaluation set ("train", "test", ...)
as one batch, so one forward pass per set gives its exact mean loss and accuracy / RMSE.
Nothing is logged per training step, which keeps Lightning's per-step cost low.
"""

from __future__ import annotations

from typing import Literal

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch import nn

from numpy_ops import spec as S
from numpy_ops.activations import ACTIVATIONS
from numpy_ops.init import INIT_SCHEMES

from .layers import LOSS_MODULES
from .network import build_network
from .tasks import DTYPES, DType, Task, loss_name

# The CLI's choices come from numpy_ops' registries, so a name added there is a valid --model.* value here.
ActivationName = Literal[tuple(ACTIVATIONS)]
InitName = Literal[tuple(INIT_SCHEMES)]


def per_step_flat(out: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-time-step classification (a character model): logits (N, T, C) and targets (N, T) become (N*T, C) and
    (N*T,), so the mean loss is sum_t L_t / (N T). Other shapes pass unchanged."""
    if out.dim() == 3 and y.dim() == 2:
        return out.reshape(-1, out.shape[-1]), y.reshape(-1)
    return out, y


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss."""


class FFNNModule(L.LightningModule):
    """A feed-forward network trained on one of the labs' data sets.

    Args:
        backend: ``"torch"`` for native layers, ``"numpy"`` for the hand-written NumPy layers and loss.
            Both have the same parameters, so a checkpoint of one loads into the other.
        hidden_sizes: widths of the hidden layers (the labs use two); ``[]`` is a linear model.
        activation: the hidden layers' activation (any of numpy_ops'), or a user's own op from a file,
            ``FILE.py:NAME@sigmoid`` (`numpy_ops.spec.UserActivation`).
        layers: instead of ``hidden_sizes`` and ``activation``, the network's layers as a spec list
            (`numpy_ops.spec`, e.g. ``[{type: linear, out_features: 64}, {type: activation, name: relu}]``);
            the output layer (linear, ``output_dim`` units) is appended to it.
        init: weight init; every scheme but ``torch_default`` sets biases to zero.
        init_bounds: the (a, b) of the ``uniform`` init.
        optimizer, lr, momentum, nesterov, weight_decay, betas: SGD or Adam, as in torch.optim.
        dtype: the parameters' dtype (the datamodule serves the same, linked by the CLI).
        seed: seeds the initial weights (and, through the CLI, the batch order).
        task, input_dim, input_shape, output_dim, class_names: taken from the datamodule when left unset
            (input_shape is one example's shape as served, e.g. [1, 16, 8] for a CNN; it is saved with the
            hyper-parameters so a checkpoint rebuilds the same network without the data).
        steps_per_call: optimizer steps per Lightning training call. With more than 1 the training loader
            serves groups of that many batches (`batches_per_call`) and `training_step` makes one step per
            batch: the same batches in the same order give the same weights as 1, and Lightning's per-call
            cost is paid once per group (it dominates tiny steps, batch size 1). Single-process only; it
            excludes Lightning's automatic gradient accumulation and clipping (manual optimization).
        eval_batch_size: evaluate each whole set in chunks of this many examples (the same numbers, less memory:
            a CNN's activations for 60 000 images at once would need many GB); None = one forward pass a set.
    """

    def __init__(
        self,
        backend: Literal["torch", "numpy"] = "torch",
        hidden_sizes: list[int] = (64, 64),
        activation: ActivationName | str = "sigmoid",
        layers: list[dict] | None = None,
        init: InitName = "torch_default",
        init_bounds: tuple[float, float] = (-0.1, 0.1),
        optimizer: Literal["sgd", "adam"] = "sgd",
        lr: float = 0.1,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        dtype: DType = "float32",
        seed: int = 0,
        task: Task | None = None,
        input_dim: int | None = None,
        input_shape: list[int] | None = None,
        output_dim: int | None = None,
        class_names: list[str] | None = None,
        steps_per_call: int = 1,
        eval_batch_size: int | None = None,
    ):
        super().__init__()
        hidden_sizes = list(hidden_sizes)
        if any(int(h) < 1 for h in hidden_sizes):
            raise ValueError(f"model.hidden_sizes: every hidden layer needs at least 1 unit, got {hidden_sizes}")
        if not lr > 0:
            raise ValueError(f"model.lr: the learning rate must be > 0, got {lr}")
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"model.momentum and model.weight_decay must be >= 0, got {momentum}, {weight_decay}")
        if eval_batch_size is not None and eval_batch_size < 1:
            raise ValueError(f"model.eval_batch_size must be >= 1 or null, got {eval_batch_size}")
        if steps_per_call < 1:
            raise ValueError(f"model.steps_per_call must be >= 1, got {steps_per_call}")
        if init_bounds[0] >= init_bounds[1]:
            raise ValueError(f"model.init_bounds: need a < b, got {tuple(init_bounds)}")
        self.spec_body = S.parse(layers) if layers is not None else None  # fails early on a bad layer list
        if layers is None:
            try:  # a name or a user's FILE.py:NAME@like (so any string passes the parser): check it here
                S.activation_spec(activation)
            except ValueError as exc:
                raise ValueError(f"model.activation: {exc}") from None
        self.save_hyperparameters()
        self.hparams.hidden_sizes = hidden_sizes
        self.net: nn.Sequential | None = None
        self.loss_fn: nn.Module | None = None
        self.batches_per_call = steps_per_call  # what the training loader serves a call (1 under DDP, see setup)
        self.automatic_optimization = steps_per_call == 1
        self.eval_set_names: list[str] = ["train"]
        self.epoch_metrics: dict[str, float] = {}  # "{set}/{loss|accuracy|rmse}" of the last evaluation
        self._evaluation_interval: int | None = None  # the Trainer's, while the last epoch forces an evaluation
        if task is not None and input_dim is not None and output_dim is not None:
            self._build()

    # -- construction -----------------------------------------------------------------------------
    def _build(self) -> None:
        hp = self.hparams
        self.net = build_network(self.network_spec(), hp.input_shape or hp.input_dim, hp.backend, hp.init,
                                 hp.seed, DTYPES[hp.dtype], tuple(hp.init_bounds))
        numpy_loss, torch_loss = LOSS_MODULES[loss_name(hp.task)]
        self.loss_fn = numpy_loss() if hp.backend == "numpy" else torch_loss()

    def network_spec(self) -> list[S.LayerSpec]:
        """The whole network as layer specs: the ``layers`` list or the ``hidden_sizes`` short form, then the
        output layer."""
        hp = self.hparams
        if self.spec_body is not None:
            return [*self.spec_body, S.Linear(int(hp.output_dim))]
        return S.mlp_spec(hp.hidden_sizes, hp.activation, hp.output_dim)

    def setup(self, stage: str) -> None:
        """Take the task and the shapes from the datamodule (set up before this hook runs)."""
        dm = self.trainer.datamodule if self._trainer is not None else None
        if dm is not None:
            self.eval_set_names = list(dm.eval_set_names)
            found = {"task": dm.task, "input_dim": dm.input_dim, "input_shape": list(dm.input_shape),
                     "output_dim": dm.output_dim,
                     "class_names": dm.class_names}
            for key, value in found.items():
                if self.hparams[key] is None:
                    self.hparams[key] = value
                elif self.hparams[key] != value:
                    raise ValueError(f"model.{key} is {self.hparams[key]!r} but the data set has {value!r}")
            if dm.dtype != self.hparams.dtype:
                raise ValueError(f"model.dtype {self.hparams.dtype} differs from data.dtype {dm.dtype}")
        if self.batches_per_call > 1 and self._trainer is not None and self.trainer.world_size > 1:
            # Several backward passes per call cannot be synchronised by DDP (one backward per forward):
            # fall back to one step per call, which gives the same batches and updates.
            rank_zero_info("model.steps_per_call > 1 is single-process only: using 1 step per call under "
                           f"{type(self.trainer.strategy).__name__}")
            self.batches_per_call = 1
            self.automatic_optimization = True
        if self.net is None:
            if self.hparams.task is None:
                raise ValueError("the model needs a task and input/output sizes: train it with a datamodule")
            self._build()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Refuse a checkpoint of a differently shaped network in one line that names the settings
        (torch's own error is a page of "size mismatch for net.0.weight" from deep inside load_state_dict).
        The backend may differ: both have the same parameters."""
        saved = checkpoint.get("state_dict")
        if saved is None or self.net is None:
            return
        mine = self.state_dict()
        if {k: tuple(v.shape) for k, v in saved.items()} == {k: tuple(v.shape) for k, v in mine.items()}:
            return
        old = checkpoint.get("hyper_parameters") or {}
        keys = ("hidden_sizes", "input_dim", "output_dim")
        here = {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in self.hparams.items() if k in keys}
        there = {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in old.items() if k in keys}
        what = "; ".join(f"model.{k} is {here[k]} here but {there[k]} in the checkpoint"
                         for k in keys if k in there and there[k] != here.get(k))
        raise ValueError(f"the checkpoint holds a different network ({what or 'other layer shapes'}): resume with "
                         "the checkpoint's settings, or start a new run without --ckpt_path")

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "adam":
            return torch.optim.Adam(self.parameters(), lr=hp.lr, betas=tuple(hp.betas), weight_decay=hp.weight_decay)
        return torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=hp.momentum, nesterov=hp.nesterov,
                               weight_decay=hp.weight_decay)

    # -- steps ----------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx: int) -> torch.Tensor | None:
        if self.automatic_optimization:  # the default: one batch, Lightning steps the optimizer
            return self.batch_loss(batch, batch_idx)
        # steps_per_call > 1: `batch` is a list of up to that many batches, one optimizer step each.
        opt = self.optimizers()
        for i, one in enumerate(batch):
            opt.zero_grad()
            self.manual_backward(self.batch_loss(one, batch_idx * self.batches_per_call + i))
            opt.step()
        return None

    def batch_loss(self, batch: tuple[torch.Tensor, torch.Tensor], step_in_epoch: int | None = None) -> torch.Tensor:
        """The training loss of one batch; a non-finite loss stops the run with `DivergenceError`."""
        x, y = batch
        loss = self.loss_fn(*per_step_flat(self.net(x), y))
        if not torch.isfinite(loss):
            raise DivergenceError(
                f"the training loss became {loss.item()} at epoch {self.current_epoch}, step {step_in_epoch} "
                f"(global step {self.global_step}): training diverged. Try a smaller learning rate "
                f"(model.lr is {self.hparams.lr}). The last good checkpoint is kept in the run directory."
            )
        return loss

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Loss and task metric of a whole set, in the parameters' dtype (RMSE in the data's original units)."""
        chunk = self.hparams.get("eval_batch_size")
        out = self.net(x) if chunk is None else torch.cat([self.net(part) for part in x.split(chunk)])
        out, y = per_step_flat(out, y)
        metrics = {"loss": self.loss_fn(out, y)}
        task = self.hparams.task
        if task == "classification":
            metrics["accuracy"] = (out.argmax(1) == y).to(out.dtype).mean()
        elif task == "binary":
            metrics["accuracy"] = ((out >= 0) == (y > 0.5)).to(out.dtype).mean()  # logit >= 0 <=> P >= 0.5
        else:
            dm = self.trainer.datamodule if self._trainer is not None else None
            to_units = dm.to_original_units if dm is not None else (lambda t: t)
            metrics["rmse"] = torch.sqrt(torch.mean((to_units(out) - to_units(y)) ** 2))
        return metrics

    def on_train_epoch_start(self) -> None:
        # The last epoch is always evaluated (so recorded, and checkpointed as last.ckpt), whatever
        # trainer.check_val_every_n_epoch says: otherwise a run of 3001 epochs evaluated every 50 would end on
        # the metrics and checkpoint of epoch 2999. Lightning reads this public attribute at each epoch's end.
        trainer = self.trainer
        if (trainer.max_epochs is not None and trainer.current_epoch == trainer.max_epochs - 1
                and trainer.check_val_every_n_epoch not in (None, 1)):
            self._evaluation_interval = trainer.check_val_every_n_epoch
            trainer.check_val_every_n_epoch = 1

    def on_fit_end(self) -> None:
        if self._evaluation_interval is not None:  # leave the Trainer as it was given, for a later fit
            self.trainer.check_val_every_n_epoch, self._evaluation_interval = self._evaluation_interval, None

    def on_validation_epoch_start(self) -> None:
        self.epoch_metrics = {}

    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        # Each evaluation set is one whole batch, so these are exact per-set values, not running means.
        # They go to the logger in one call per epoch (on_validation_epoch_end) rather than through
        # self.log, whose bookkeeping cost ~0.2-0.5 ms a key, per epoch, for values that need no reduction.
        name = self.eval_set_names[dataloader_idx]
        for key, value in self.evaluate(*batch).items():
            self.epoch_metrics[f"{name}/{key}"] = value.item()  # a Python float of the tensor's own dtype
            if name == ("val" if "val" in self.eval_set_names else "train") and key == "loss":
                # The checkpoint callback keeps the best model by this key: the held-out "val" split when
                # the datamodule has one, else the training loss (the test set never selects a model).
                # Not to the logger: it is one of the curves already, and logging it would add it and an
                # "epoch" chart to the top of TensorBoard's Scalars tab, above the curves.
                self.log("selection_loss", value, on_epoch=True, add_dataloader_idx=False, logger=False)

    def on_validation_epoch_end(self) -> None:
        if self.logger is not None and not self.trainer.sanity_checking:
            self.logger.log_metrics(self.epoch_metrics, step=self.global_step)

    def test_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        name = self.eval_set_names[dataloader_idx]
        for key, value in self.evaluate(*batch).items():
            self.log(f"final/{name}/{key}", value, add_dataloader_idx=False, batch_size=len(batch[0]))
