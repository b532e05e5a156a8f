"""The record of a run: per-epoch metrics, TensorBoard images and figures, PNGs, ``results.json``, a summary table.

`RunRecorder` keeps the per-epoch metrics (in checkpoints too, so a resumed run continues its record), logs data
samples and figures to TensorBoard, and at the end of fitting writes the PNG figures, ``results.json`` and a
Markdown table. What the figures show is the data's business (`ArrayDataModule.result_figures`); the loss curves
are drawn here, for every run.

``results.json``'s ``final`` metrics are those of the last recorded epoch, which is the last epoch trained (it is
always evaluated: `lightning_ffnn.checkpointing.EvaluateLastEpoch`) and the state ``last.ckpt`` holds
(`lightning_ffnn.checkpointing.RunCheckpoint`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.callbacks import Callback

from course import plots
from .atomic import atomic_write_text
from .models import SpecNetModule
from .rng import untouched_generator
from course.tables import markdown_table
from .tasks import DTYPES, metric_name


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
        self._trained_now = False  # whether this fit trained an epoch (a finished run resumed trains none)

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
            images = dm.sample_images(self.n_samples, seed=self.seed)
            if images is not None:
                self._add_images(trainer, "data/train_samples", images)
        self._t0 = time.perf_counter()  # wall time counts training, not the figures above
        self._trained_now = False

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._trained_now = True

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
            hparams = _flat_hparams(pl_module.hparams, dm)
            trainer.logger.log_hyperparams(hparams)  # hparams.yaml
            _add_hparams_table(trainer, hparams, final)
        if self.print_summary:
            if not self._trained_now and trainer.ckpt_path:
                print(f"Nothing left to train: {trainer.ckpt_path} already holds epoch {self.history[-1]['epoch'] + 1} "
                      f"of max_epochs {trainer.max_epochs}; give a larger --trainer.max_epochs to train on. "
                      "The run's record, unchanged:")
            print(markdown_summary(self.results))

    # -- helpers -------------------------------------------------------------------------------
    def _figures(self, pl_module: SpecNetModule, dm) -> dict[str, Any]:
        """The loss curves, then the data's own figures of the trained network (`result_figures`)."""
        hp = pl_module.hparams
        synthetic = bool(getattr(dm, "is_synthetic", False))
        label = f"{hp.backend} backend, {dm.__class__.__name__.removesuffix('DataModule')}"
        figs = {"loss_curves": plots.loss_curves_figure(self.history, hp.eval_set_names, metric_name(hp.task),
                                                         title=f"Loss per epoch ({label})", synthetic=synthetic)}
        dtype = DTYPES[hp.dtype]

        def predict(x: torch.Tensor) -> torch.Tensor:
            # The trained network as it predicts: evaluation mode (no dropout, no draw from torch's generator).
            was_training = pl_module.net.training
            pl_module.net.eval()
            try:
                with torch.no_grad(), untouched_generator():
                    return pl_module.net(x.to(dtype)).double()
            finally:
                pl_module.net.train(was_training)

        figs.update(dm.result_figures(predict, label, n_examples=self.n_predictions, seed=self.seed))
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
            grid = plots.image_grid(images.float().reshape(len(images), *images.shape[-2:]).numpy())
            writer.add_image(tag, grid[None], global_step=trainer.global_step, dataformats="CHW")


def _add_hparams_table(trainer, hparams: dict[str, Any], final: dict[str, float]) -> None:
    """TensorBoard's HParams table: the settings, and as metrics the curves' own tags (``test/accuracy``), whose
    last points are the final values. Lightning's ``log_hyperparams(params, metrics)`` would also log each metric
    as a one-point chart (under the curves' names a spurious point at step 0, under other names a group of
    one-dot charts at the top of the Scalars tab), so the HParams summaries are written here without them."""
    from torch.utils.tensorboard import SummaryWriter
    from torch.utils.tensorboard.summary import hparams as hparams_summaries

    writer = _tb_writer(trainer)
    if not isinstance(writer, SummaryWriter):  # no logger, or fast_dev_run's stand-in that records nothing
        return
    plain = {k: v if isinstance(v, (bool, int, float, str)) else str(v) for k, v in hparams.items()}
    for summary in hparams_summaries(plain, dict(final)):
        # as Lightning writes them: SummaryWriter.add_hparams would put them in a new run, away from the curves
        writer._get_file_writer().add_summary(summary)


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
             f"Epochs: {results['epochs'][-1]['epoch'] + 1} trained ({len(results['epochs'])} evaluated); "
             f"wall time {results['wall_time_s']:.1f} s", ""]
    rows = [[s, *(_fmt(final.get(f"{s}/{m}")) for m in metrics)] for s in sets]
    return "\n".join([*lines, markdown_table(["set", *metrics], rows)])


def _fmt(v) -> str:
    return "" if v is None else f"{v:.4f}"
