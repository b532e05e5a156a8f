"""Lightning callbacks: the in-place gradient parity check, and the run's record (figures, results).

`GradientParityCheck` is the project's promise made executable: while a ``numpy``-backend model
trains, every N steps the same batch goes through a native-PyTorch twin with the current weights,
and each layer's hand-written gradients are compared with autograd's.

`RunRecorder` keeps the per-epoch metrics (in checkpoints too, so a resumed run continues its
record), logs data samples and figures to TensorBoard, and at the end of fitting writes the PNG
figures, ``results.json`` and a Markdown table.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback

from . import plots
from .atomic import atomic_write_text
from .layers import LOSS_MODULES
from .models import DTYPES, LOSS_FOR_TASK, FFNNModule, per_step_flat
from .network import native_twin


class GradientParityError(RuntimeError):
    """The hand-written backward disagreed with autograd during training."""


class GradientParityCheck(Callback):
    """Every ``every_n_steps`` optimizer steps of a ``numpy``-backend run, recompute the batch's
    gradients with a native twin holding the current weights and compare them layer by layer.

    Logs ``parity/{param}`` (max |g_numpy - g_torch| / the largest |g_torch| of the same layer) and
    ``parity/max`` to the logger,
    and stops the run with `GradientParityError` when a difference passes ``tolerance`` (default:
    1e-3 in float32, 1e-9 in float64; both far above rounding, far below a wrong formula: a gradient off by
    1% reads 1e-2. Float32 needs the room: 1.7e-4 was seen after 10,000 correct steps of the sine lab, whose
    raw targets of +-66 make gradients that largely cancel).
    Runs with the ``torch`` backend are left alone. Cost: one extra forward/backward of a small
    network every N steps.
    """

    def __init__(self, every_n_steps: int = 50, tolerance: float | None = None):
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be >= 1, got {every_n_steps}")
        self.every_n_steps = every_n_steps
        self.tolerance = tolerance
        self._twin: torch.nn.Sequential | None = None
        self._twin_loss: torch.nn.Module | None = None
        self.last: dict[str, float] = {}

    def _active(self, pl_module: L.LightningModule) -> bool:
        return isinstance(pl_module, FFNNModule) and pl_module.hparams.backend == "numpy"

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        # Called once per optimizer step (also with several steps per training call); the model keeps the
        # batch its gradients come from in `current_batch`.
        if trainer.global_step % self.every_n_steps or not self._active(pl_module):
            return
        x, y = pl_module.current_batch
        self.last = self.compare(pl_module, x, y)
        if trainer.logger is not None:
            trainer.logger.log_metrics({f"parity/{k}": v for k, v in self.last.items()}, step=trainer.global_step)
        tol = self.tolerance if self.tolerance is not None else (1e-9 if x.dtype == torch.float64 else 1e-3)
        bad = {k: v for k, v in self.last.items() if k != "max" and not v <= tol}
        if bad:
            worst = max(bad, key=lambda k: bad[k] if math.isfinite(bad[k]) else math.inf)
            raise GradientParityError(
                f"gradient parity check failed at epoch {trainer.current_epoch}, global step {trainer.global_step}: "
                f"the hand-written NumPy gradient of '{worst}' differs from autograd's by {bad[worst]:.3g} "
                f"(relative), above the tolerance {tol:g}. Layers over tolerance: {sorted(bad)}. "
                f"A numpy_ops backward is wrong."
            )

    @torch.enable_grad()
    def compare(self, pl_module: FFNNModule, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        """Per-parameter relative gradient difference between the model (already backpropagated on
        this batch) and its native twin."""
        net = pl_module.net
        if self._twin is None:
            self._twin = native_twin(net)
            self._twin_loss = LOSS_MODULES[LOSS_FOR_TASK[pl_module.hparams.task]][1]()
        twin = self._twin
        with torch.no_grad():
            for p_twin, p in zip(twin.parameters(), net.parameters()):
                p_twin.copy_(p)
        twin.zero_grad(set_to_none=True)
        self._twin_loss(*per_step_flat(twin(x), y)).backward()
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            # Under DDP the model's gradients are already averaged over the ranks' batches: average the twin's
            # the same way (every rank checks at the same step, so this collective call is matched).
            for p_twin in twin.parameters():
                if p_twin.grad is not None:
                    dist.all_reduce(p_twin.grad)
                    p_twin.grad /= dist.get_world_size()
        pairs = [(name, p.grad, p_twin.grad) for (name, p), p_twin in zip(net.named_parameters(), twin.parameters())
                 if p.grad is not None]
        # The scale is the largest gradient of the layer (weight and bias together), not of each parameter:
        # a bias gradient is a batch sum that can nearly cancel (balanced classes at init: ~1e-7 from terms
        # of ~1e-3); its float32 rounding is of the size of the terms, so a per-parameter ratio failed
        # correct backwards (flower.yaml, numpy backend: 4% at step 0, in both backends against float64).
        scales: dict[str, torch.Tensor] = {}
        for name, _, ref in pairs:
            layer = name.rpartition(".")[0]
            scales[layer] = torch.maximum(scales.get(layer, ref.new_zeros(())), ref.abs().max())
        result = {}
        for name, grad, ref in pairs:
            scale = scales[name.rpartition(".")[0]].clamp_min(1e-12)
            result[name] = float((grad - ref).abs().max() / scale)
        result["max"] = max(result.values(), default=0.0)
        return result


class RunRecorder(Callback):
    """Per-epoch metrics, TensorBoard images and figures, PNGs, ``results.json`` and a Markdown table."""

    def __init__(self, n_samples: int = 10, n_predictions: int = 5, seed: int = 0, write_files: bool = True,
                 print_summary: bool = True):
        self.n_samples, self.n_predictions, self.seed = n_samples, n_predictions, seed
        self.write_files, self.print_summary = write_files, print_summary
        self.history: list[dict[str, float]] = []
        self.elapsed = 0.0
        self._t0: float | None = None
        self.results: dict[str, Any] | None = None

    # -- state survives checkpoints, so a resumed run keeps its earlier epochs -----------------------
    def state_dict(self) -> dict[str, Any]:
        # One JSON string, not thousands of small floats: pickling the history object by object made each
        # checkpoint cost grow with the epoch count (most of a full-batch epoch after a few hundred epochs).
        return {"history": json.dumps(self.history), "elapsed": self.elapsed + self._running()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        history = state["history"]
        self.history = json.loads(history) if isinstance(history, str) else list(history)
        self.elapsed = float(state["elapsed"])

    def _running(self) -> float:
        return time.perf_counter() - self._t0 if self._t0 is not None else 0.0

    # -- hooks ---------------------------------------------------------------------------------
    def on_fit_start(self, trainer, pl_module) -> None:
        dm = trainer.datamodule
        if trainer.is_global_zero and dm is not None:
            self._add_figure(trainer, "data/samples", dm.sample_figure())
            if pl_module.hparams.task == "classification" and dm.input_dim == 128:
                x, y = dm.eval_sets()["train"]
                pick = np.random.default_rng(self.seed).choice(len(x), size=min(self.n_samples, len(x)),
                                                               replace=False)
                self._add_images(trainer, "data/train_samples", x[torch.as_tensor(pick)].reshape(-1, 1, 16, 8))
        self._t0 = time.perf_counter()  # wall time counts training, not the figures above

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        record = {"epoch": trainer.current_epoch, "step": trainer.global_step}
        record.update(pl_module.epoch_metrics)
        record["lr"] = float(trainer.optimizers[0].param_groups[0]["lr"]) if trainer.optimizers else float("nan")
        if self.history and self.history[-1]["epoch"] == record["epoch"]:
            self.history[-1] = record
        else:
            self.history.append(record)

    def on_fit_end(self, trainer, pl_module) -> None:
        self.elapsed += self._running()
        self._t0 = None
        # Under DDP trainer.log_dir broadcasts rank 0's directory: every rank must ask, or rank 0 waits for a
        # rank that has already returned, and the run dies at its very end.
        run_dir = Path(trainer.log_dir or trainer.default_root_dir)
        if not trainer.is_global_zero or not self.history:
            return
        dm = trainer.datamodule
        figures = self._figures(pl_module, dm)
        for name, fig in figures.items():
            self._add_figure(trainer, f"figures/{name}", fig)
            if self.write_files:
                fig.savefig(run_dir / f"{name}.png", dpi=110)
        final = {k: v for k, v in self.history[-1].items() if "/" in k}
        ckpt = trainer.checkpoint_callback
        self.results = {
            "run_dir": str(run_dir),
            "settings": {"model": _plain(dict(pl_module.hparams)),
                         "data": _plain(dict(getattr(dm, "hparams", {}))),
                         "trainer": {"max_epochs": trainer.max_epochs, "strategy": type(trainer.strategy).__name__,
                                     "devices": trainer.num_devices}},
            "data_source": getattr(dm, "data_source", "unknown"),
            "is_synthetic": bool(getattr(dm, "is_synthetic", False)),
            "epochs": self.history,
            "final": final,
            "best_checkpoint": getattr(ckpt, "best_model_path", None) or None,
            "wall_time_s": round(self.elapsed, 3),
            "figures": [f"{name}.png" for name in figures],
        }
        if self.write_files:
            atomic_write_text(run_dir / "results.json", json.dumps(self.results, indent=2, allow_nan=True))
        if trainer.logger is not None:
            # The HParams table's metrics under their own tags: Lightning logs them as scalars at step 0, which
            # under the metrics' own names put a spurious final-value point at the start of every curve.
            trainer.logger.log_hyperparams(_flat_hparams(pl_module.hparams, dm),
                                           metrics={f"hp/{k}": v for k, v in final.items()})
        if self.print_summary:
            print(markdown_summary(self.results))

    # -- helpers -------------------------------------------------------------------------------
    def _figures(self, pl_module: FFNNModule, dm) -> dict[str, Any]:
        hp = pl_module.hparams
        synthetic = bool(getattr(dm, "is_synthetic", False))
        label = f"{hp.backend} backend, {dm.__class__.__name__.removesuffix('DataModule')}"
        metric = {"classification": "accuracy", "binary": "accuracy"}.get(hp.task, "rmse")
        figs = {"loss_curves": plots.loss_curves_figure(self.history, pl_module.eval_set_names, metric,
                                                         title=f"Loss per epoch ({label})", synthetic=synthetic)}
        sets = dm.eval_sets()
        predict = _predictor(pl_module)
        if hp.task == "classification" and dm.input_dim == 128 and "test" in sets:
            x, y = sets["test"]
            pick = np.random.default_rng(self.seed).choice(len(x), size=min(self.n_predictions, len(x)), replace=False)
            xs = x[torch.as_tensor(pick)]
            pred = predict(xs).argmax(1)
            figs["predictions"] = plots.predictions_figure(xs.numpy(), y[pick].numpy(), pred, hp.class_names,
                                                           title=f"Test examples ({label})", synthetic=synthetic)
        elif hp.task == "regression" and dm.input_dim == 1:
            # Sets a datamodule standardised are shown in original units; raw sets have no inverse_* at all.
            inv_x, inv_y = (getattr(dm, name, lambda t: t) for name in ("inverse_x", "inverse_y"))
            x_mean, x_std = getattr(dm, "x_mean", 0.0), getattr(dm, "x_std", 1.0)
            orig = {k: (np.asarray(inv_x(x.numpy())), np.asarray(inv_y(y.numpy()))) for k, (x, y) in sets.items()}
            dtype = DTYPES[pl_module.hparams.dtype]

            def curve(grid: np.ndarray) -> np.ndarray:
                xs = (torch.as_tensor(grid, dtype=dtype).reshape(-1, 1) - x_mean) / x_std
                return np.asarray(inv_y(predict(xs)))

            figs["fit"] = plots.fit_curve_figure(orig, curve, title=f"Fitted curve ({label})", synthetic=synthetic)
        elif hp.task == "binary" and dm.input_dim == 2:
            x, y = sets["train"]
            dtype = DTYPES[pl_module.hparams.dtype]

            def proba(points: np.ndarray) -> np.ndarray:
                return 1 / (1 + np.exp(-predict(torch.as_tensor(points, dtype=dtype))))

            figs["decision_boundary"] = plots.decision_boundary_figure(
                x.numpy(), y.numpy(), proba, title=f"Decision boundary ({label})", synthetic=synthetic)
        return figs

    @staticmethod
    def _add_figure(trainer, tag: str, fig) -> None:
        writer = _tb_writer(trainer)
        if writer is not None:
            writer.add_figure(tag, fig, global_step=trainer.global_step, close=False)

    @staticmethod
    def _add_images(trainer, tag: str, images: torch.Tensor) -> None:
        writer = _tb_writer(trainer)
        if writer is not None:
            writer.add_images(tag, 1.0 - images.float(), global_step=trainer.global_step, dataformats="NCHW")


def _predictor(pl_module: FFNNModule):
    def predict(x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return pl_module.net(x.to(DTYPES[pl_module.hparams.dtype])).double().numpy()

    return predict


def _tb_writer(trainer):
    logger = trainer.logger
    experiment = getattr(logger, "experiment", None) if logger is not None else None
    return experiment if hasattr(experiment, "add_figure") else None


def _plain(value):
    """JSON-friendly copy of hyper-parameters (tuples to lists, dtypes to strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _flat_hparams(hparams, dm) -> dict[str, Any]:
    flat = {f"model/{k}": (str(v) if isinstance(v, (list, tuple)) else v) for k, v in dict(hparams).items()
            if k != "class_names"}
    flat["data/name"] = type(dm).__name__ if dm is not None else "none"
    flat["data/synthetic"] = bool(getattr(dm, "is_synthetic", False))
    return flat


def markdown_summary(results: dict[str, Any]) -> str:
    """A short Markdown table of a run's final metrics, with its data source."""
    final = results["final"]
    sets = list(dict.fromkeys(k.split("/")[0] for k in final))
    metrics = list(dict.fromkeys(k.split("/")[1] for k in final))
    lines = [f"Run: {results['run_dir']}",
             f"Data: {results['data_source']}" + ("  **(SYNTHETIC)**" if results["is_synthetic"] else ""),
             f"Epochs: {len(results['epochs'])}; wall time {results['wall_time_s']:.1f} s", "",
             "| set | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for s in sets:
        lines.append(f"| {s} | " + " | ".join(_fmt(final.get(f"{s}/{m}")) for m in metrics) + " |")
    return "\n".join(lines)


def _fmt(v) -> str:
    return "" if v is None else f"{v:.4f}"
