"""The LightningModule ("system") that trains a network described by layer specs, on any lab's data.

The network is a plain ``nn.Sequential`` built from a network spec (`numpy_ops.spec`) by
`lightning_ffnn.network.build_network`; this module owns the loss, the metrics, the logging and the optimizer, as
Lightning's own examples do, with one `_common_step` for training, validation and test. Settings are type-hinted so
LightningCLI validates them as ``--model.*`` flags. What the data decides (the task, one example's shape, the
number of outputs, the evaluation sets' names, the targets' units) is given to ``__init__``: the CLI links it from
the datamodule when it builds both (`lightning_ffnn.cli`), and code that builds the module by hand passes
`data_settings(dm)`. The module never looks at the Trainer's datamodule and changes no Trainer setting.

Per-epoch metrics are computed after each training epoch with that epoch's final weights, over whole sets: the
datamodule's validation loaders yield each evaluation set ("train", "test", ...) as one batch, so one forward pass
per set gives its exact mean loss and accuracy / RMSE. Nothing is logged per training step, which keeps Lightning's
per-step cost low.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
from torch import nn

from numpy_ops import spec as S
from numpy_ops.activations import ACTIVATIONS
from numpy_ops.init import INIT_SCHEMES

from .errors import SettingsError
from .generator_state import GeneratorState
from .layers import LOSS_MODULES
from .network import build_network
from .network_check import check_output_shape, check_size, eval_chunk_size
from .schedules import ScheduleName, build_schedule, check_schedule, has_schedule
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


def data_settings(dm: Any) -> dict[str, Any]:
    """What a datamodule decides about the model, as `SpecNetModule` keyword arguments: the task, one example's
    shape as served, the number of outputs, one example's target shape, the evaluation sets' names and the targets'
    units. LightningCLI links
    each of them (`lightning_ffnn.cli.DATA_LINKS` uses these same keys); code that builds the module by hand writes
    ``SpecNetModule(..., **data_settings(dm))``."""
    return {key: get(dm) for key, get in DATA_SETTINGS.items()}


#: model argument -> how it is read from a datamodule (at instantiation, before any data is set up)
DATA_SETTINGS = {
    "task": lambda dm: dm.task,
    "input_shape": lambda dm: list(dm.input_shape),
    "output_dim": lambda dm: int(dm.output_dim),
    "target_shape": lambda dm: list(dm.target_shape),
    "eval_set_names": lambda dm: list(dm.eval_set_names),
    "target_units": lambda dm: dm.target_units(),
}


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss."""


class SpecNetModule(L.LightningModule):
    """A network given as layer specs, trained for classification, regression or binary classification.

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
        optimizer, lr, momentum, nesterov, weight_decay, betas: SGD, Adam or AdamW, as in torch.optim (Adam adds
            ``weight_decay`` times the weights to the gradient; AdamW shrinks the weights apart from it).
        lr_schedule, lr_warmup_fraction, lr_final: the learning rate over the run, counted in optimizer steps
            (`lightning_ffnn.schedules`): that fraction of the run's steps of linear warm-up to ``lr``, then
            ``constant`` (the default; with no warm-up the rate never changes), or a ``cosine`` or ``linear`` decay
            to ``lr_final`` at the end of the run (``trainer.max_epochs`` or ``trainer.max_steps``). Its state
            travels in checkpoints.
        dtype: the parameters' dtype (the datamodule serves the same, linked by the CLI).
        seed: seeds the initial weights (and, through the CLI, the batch order).
        task, input_shape, output_dim, target_shape, eval_set_names, target_units: what the data decides
            (`data_settings`): the task (`lightning_ffnn.tasks.TASKS`), one example's shape as served (e.g. [128],
            or [1, 16, 8] for a CNN), the number of outputs, one example's target shape ([] for a class label,
            [T] for a label per time step, [1] for a regression target; the network's output is checked against
            it when it is built, None skips the check), the names of the evaluation sets in the order of the validation
            loaders ("train" first), and for standardised regression targets the (mean, std) that map them back
            to the data's units (RMSE is reported in them). Saved with the hyper-parameters, so a checkpoint
            rebuilds the same network without the data.
        eval_batch_size: evaluate each whole set in chunks of this many examples (the same numbers, less memory);
            ``"auto"`` (the default) sizes the chunks from the network so that one takes at most
            `lightning_ffnn.network_check.EVAL_MEMORY_BUDGET` (1 GiB: a CNN's activations for 60 000 images at
            once would need ~40 GiB); ``"whole"``: one forward pass a set, when asked.
    """

    def __init__(
        self,
        backend: Literal["torch", "numpy"] = "torch",
        hidden_sizes: list[int] = (64, 64),
        activation: ActivationName | str = "sigmoid",
        layers: list[dict] | None = None,
        init: InitName = "torch_default",
        init_bounds: tuple[float, float] = (-0.1, 0.1),
        optimizer: Literal["sgd", "adam", "adamw"] = "sgd",
        lr: float = 0.1,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        lr_schedule: ScheduleName = "constant",
        lr_warmup_fraction: float = 0.0,
        lr_final: float = 0.0,
        dtype: DType = "float32",
        seed: int = 0,
        task: Task | None = None,
        input_shape: list[int] | None = None,
        output_dim: int | None = None,
        target_shape: list[int] | None = None,
        eval_set_names: list[str] = ("train",),
        target_units: tuple[float, float] | None = None,
        eval_batch_size: int | Literal["auto", "whole"] = "auto",
    ):
        super().__init__()
        hidden_sizes = list(hidden_sizes)
        if any(int(h) < 1 for h in hidden_sizes):
            raise SettingsError(f"model.hidden_sizes: every hidden layer needs at least 1 unit, got {hidden_sizes}")
        if not lr > 0:
            raise SettingsError(f"model.lr: the learning rate must be > 0, got {lr}")
        if momentum < 0 or weight_decay < 0:
            raise SettingsError(f"model.momentum and model.weight_decay must be >= 0, got {momentum}, {weight_decay}")
        check_schedule(lr_schedule, lr, lr_warmup_fraction, lr_final)
        if eval_batch_size not in ("auto", "whole", None) and (isinstance(eval_batch_size, bool) or not isinstance(
                eval_batch_size, int) or eval_batch_size < 1):
            raise SettingsError(f"model.eval_batch_size must be an integer >= 1, 'auto' or 'whole', "
                                f"got {eval_batch_size!r}")
        if init_bounds[0] >= init_bounds[1]:
            raise SettingsError(f"model.init_bounds: need a < b, got {tuple(init_bounds)}")
        self.spec_body = S.parse(layers) if layers is not None else None  # fails early on a bad layer list
        if layers is None:
            try:  # a name or a user's FILE.py:NAME@like (so any string passes the parser): check it here
                S.activation_spec(activation)
            except ValueError as exc:
                raise SettingsError(f"model.activation: {exc}") from None
        self.save_hyperparameters()
        self.hparams.hidden_sizes = hidden_sizes
        self.hparams.eval_set_names = list(eval_set_names)
        self.epoch_metrics: dict[str, float] = {}  # "{set}/{loss|accuracy|rmse}" of the last evaluation
        self.net: nn.Sequential | None = None
        self.loss_fn: nn.Module | None = None
        if None not in (task, input_shape, output_dim):
            self._build()

    # -- construction -----------------------------------------------------------------------------
    def _build(self) -> None:
        hp = self.hparams
        # Before any weight is drawn: a network too large for this machine, or whose output is not what the task
        # needs, is refused in one line while the CLI builds the classes, so before the logger makes a run directory.
        check_size(self.network_spec(), tuple(hp.input_shape), DTYPES[hp.dtype])
        if hp.get("target_shape") is not None:
            check_output_shape(self.network_spec(), tuple(hp.input_shape), hp.task, int(hp.output_dim),
                               tuple(hp.target_shape))
        self.net = build_network(self.network_spec(), list(hp.input_shape), hp.backend, hp.init, hp.seed,
                                 DTYPES[hp.dtype], tuple(hp.init_bounds))
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
        if self.net is None:
            raise SettingsError("the model needs model.task, model.input_shape and model.output_dim: the CLI links "
                                "them from the datamodule; a model built by hand takes them from "
                                "lightning_ffnn.models.data_settings(datamodule)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Read checkpoints written before issue 18 (their shapes were ``input_dim``; ``steps_per_call`` and
        ``class_names``, gone since, are dropped by Lightning's loader), and refuse a checkpoint of a differently
        shaped network in one line that names the settings (torch's own error is a page of "size mismatch for
        net.0.weight" from deep inside load_state_dict). The backend may differ: both have the same parameters."""
        saved = checkpoint.get("state_dict")
        old = checkpoint.get("hyper_parameters") or {}
        if self.net is None and old.get("input_shape") is None and old.get("input_dim") is not None:
            self.hparams.input_shape = [int(old["input_dim"])]  # a flat network, the only kind that had no shape
            self._build()
        if saved is None or self.net is None:
            return
        mine = self.state_dict()
        if {k: tuple(v.shape) for k, v in saved.items()} == {k: tuple(v.shape) for k, v in mine.items()}:
            return
        keys = ("hidden_sizes", "input_shape", "output_dim")
        here = {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in self.hparams.items() if k in keys}
        there = {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in old.items() if k in keys}
        what = "; ".join(f"model.{k} is {here[k]} here but {there[k]} in the checkpoint"
                         for k in keys if k in there and there[k] != here.get(k))
        raise SettingsError(f"the checkpoint holds a different network ({what or 'other layer shapes'}): resume with "
                            "the checkpoint's settings, or start a new run without --ckpt_path")

    def configure_callbacks(self):
        # Dropout draws from torch's generator: its state travels in the checkpoint so a resume draws the same masks.
        return [GeneratorState()]

    @property
    def has_lr_schedule(self) -> bool:
        """Whether the learning rate changes during training (a scheduler stepped after every optimizer step)."""
        return has_schedule(self.hparams.get("lr_schedule", "constant"), self.hparams.get("lr_warmup_fraction", 0.0))

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer in ("adam", "adamw"):
            adam = torch.optim.Adam if hp.optimizer == "adam" else torch.optim.AdamW
            optimizer = adam(self.parameters(), lr=hp.lr, betas=tuple(hp.betas), weight_decay=hp.weight_decay)
        else:
            optimizer = torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=hp.momentum, nesterov=hp.nesterov,
                                        weight_decay=hp.weight_decay)
        if not self.has_lr_schedule:
            return optimizer
        # The Trainer's count of optimizer steps (max_epochs x batches, or max_steps); `StepsPerCall`, whose calls
        # are not steps, steps aside for a schedule, so here a batch is a step.
        scheduler = build_schedule(optimizer, hp.lr_schedule, hp.lr_warmup_fraction, hp.get("lr_final", 0.0),
                                   self.trainer.estimated_stepping_batches)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # -- the one step ----------------------------------------------------------------------------
    def _common_step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> dict[str, torch.Tensor]:
        """The loss of one batch, and outside training the task's metric, in the parameters' dtype (RMSE in the
        data's units). Evaluation batches are whole sets, cut in chunks of ``eval_batch_size`` when it is set."""
        x, y = batch
        chunk = self.eval_chunk_size() if stage != "train" else None
        whole = chunk is None or chunk >= len(x)
        out = self.net(x) if whole else torch.cat([self.net(part) for part in x.split(chunk)])
        out, y = per_step_flat(out, y)
        metrics = {"loss": self.loss_fn(out, y)}
        if stage == "train":
            return metrics
        task = self.hparams.task
        if task == "classification":
            metrics["accuracy"] = (out.argmax(1) == y).to(out.dtype).mean()
        elif task == "binary":
            metrics["accuracy"] = ((out >= 0) == (y > 0.5)).to(out.dtype).mean()  # logit >= 0 <=> P >= 0.5
        else:
            metrics["rmse"] = torch.sqrt(torch.mean((self._to_units(out) - self._to_units(y)) ** 2))
        return metrics

    def eval_chunk_size(self) -> int | None:
        """Examples per evaluation forward pass (`eval_batch_size`); None: the whole set at once."""
        setting = self.hparams.get("eval_batch_size", "auto")
        if setting == "whole":
            return None
        if setting in ("auto", None):  # None, in checkpoints of before "auto", meant whole sets: the same numbers
            return eval_chunk_size(self.network_spec(), tuple(self.hparams.input_shape), DTYPES[self.hparams.dtype])
        return int(setting)

    def _to_units(self, values: torch.Tensor) -> torch.Tensor:
        units = self.hparams.get("target_units")
        if units is None:
            return values
        mean, std = units
        return values * std + mean  # as the datamodule's Standardiser.inverse, operation for operation

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Loss and task metric of a whole set (what validation and test compute for each set)."""
        return self._common_step((x, y), "test")

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        """The training loss of one batch; a non-finite loss stops the run with `DivergenceError`."""
        loss = self._common_step(batch, "train")["loss"]
        if not torch.isfinite(loss):
            raise DivergenceError(
                f"the training loss became {loss.item()} at epoch {self.current_epoch}, step {batch_idx} "
                f"(global step {self.global_step}): training diverged. Try a smaller learning rate "
                f"(model.lr is {self.hparams.lr}). {self._kept_checkpoint()}"
            )
        return loss

    def _kept_checkpoint(self) -> str:
        """What a diverged run leaves to resume from: the newest checkpoint written, if any was."""
        ckpt = self.trainer.checkpoint_callback if self._trainer is not None else None
        saved = [p for p in (getattr(ckpt, "last_model_path", ""), getattr(ckpt, "best_model_path", "")) if p]
        if saved and Path(saved[0]).is_file():
            return f"The last good checkpoint is kept: {saved[0]}"
        return "No checkpoint was written: it diverged before its first evaluated epoch"

    def on_validation_epoch_start(self) -> None:
        self.epoch_metrics = {}

    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        # Each evaluation set is one whole batch, so these are exact per-set values, not running means.
        # They go to the logger in one call per epoch (on_validation_epoch_end) rather than through
        # self.log, whose bookkeeping cost ~0.2-0.5 ms a key, per epoch, for values that need no reduction.
        names = self.hparams.eval_set_names
        name = names[dataloader_idx]
        for key, value in self._common_step(batch, "val").items():
            self.epoch_metrics[f"{name}/{key}"] = value.item()  # a Python float of the tensor's own dtype
            if name == ("val" if "val" in names else "train") and key == "loss":
                # The checkpoint callback keeps the best model by this key: the held-out "val" split when
                # the datamodule has one, else the training loss (the test set never selects a model).
                # Not to the logger: it is one of the curves already, and logging it would add it and an
                # "epoch" chart to the top of TensorBoard's Scalars tab, above the curves.
                self.log("selection_loss", value, on_epoch=True, add_dataloader_idx=False, logger=False)

    def on_validation_epoch_end(self) -> None:
        if self.logger is not None and not self.trainer.sanity_checking:
            self.logger.log_metrics(self.epoch_metrics, step=self.global_step)

    def test_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        name = self.hparams.eval_set_names[dataloader_idx]
        for key, value in self._common_step(batch, "test").items():
            self.log(f"final/{name}/{key}", value, add_dataloader_idx=False, batch_size=len(batch[0]))


#: The name this module had before issue 18, kept so that code and checkpoints written with it still load.
FFNNModule = SpecNetModule
