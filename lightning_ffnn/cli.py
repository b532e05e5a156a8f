"""The LightningCLI behind ``scripts/train.py``, and `cli_main`, the one function that runs a setting.

``python scripts/train.py fit --config configs/ocr_small.yaml --model.backend numpy`` builds a
`SpecNetModule`, the datamodule named in the config, and a Trainer with the project's defaults:

* TensorBoard logs in ``runs/<name>/version_<n>/`` (figures, ``results.json``, ``config.yaml`` there too);
* checkpoints in ``runs/<name>/version_<n>/checkpoints/`` (``last.ckpt``, the newest evaluated epoch, and the
  best by ``selection_loss``: `RunCheckpoint`), written atomically; ``--ckpt_path last`` resumes the newest run of
  that config in its own directory;
* the gradient parity check on ``numpy``-backend runs (``--parity.every_n_steps``, ``--parity.tolerance``);
* torch on one intra-op thread (``--torch_threads``) and NumPy's BLAS on one (`course.threads`), set by
  `configure_runtime`, which entry points call (importing a module changes no process-wide setting);
* no sanity validation, no per-step logging, a progress bar that refreshes rarely: the data sets
  are tiny, so Lightning's per-step costs would otherwise dominate;
* ``model.dtype`` and ``model.seed`` are passed on to the datamodule (one setting, no mismatch); what the data
  decides (task, shapes, evaluation sets, target units) is linked into the model when both are built
  (`lightning_ffnn.models.data_settings`);
* several optimizer steps per Lightning call (``--speed.steps_per_call``, `lightning_ffnn.speed.StepsPerCall`), and
  the last epoch always evaluated (`EvaluateLastEpoch`);
* an integer ``--trainer.limit_train_batches`` (and the other batch counts) is a number of batches, as Lightning's
  docs say (`Trainer`);
* every error found while the classes are built is a `SettingsError` ("invalid setting" for ``scripts/train.py``).

A run as data: `Setting` (a config and the flags that override it) gives the arguments `cli_main` takes and the
command line that reruns it; `run_results` reads the record the run wrote (``results.json``).
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import lightning as L
import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import LearningRateMonitor, TQDMProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from course.datasets.errors import DataError
from .interrupt import InterruptNotice, RunInterrupted
from course.threads import limit_blas_threads

from .atomic import AtomicCheckpointIO
from .checkpointing import EvaluateLastEpoch, RunCheckpoint
from .datamodules import ArrayDataModule
from .errors import SettingsError
from .models import DATA_SETTINGS, SpecNetModule
from .parity import GradientParityCheck
from .record import RunRecorder
from .speed import StepsPerCall

RUNS_DIR = "runs"
REPO = Path(__file__).resolve().parents[1]


class Trainer(L.Trainer):
    """Lightning's Trainer, whose batch counts parse as its docs say: an integer is a number of batches.

    Lightning 2.6 annotates them ``Union[float, int]``, so LightningCLI read ``--trainer.limit_train_batches 1``
    as the fraction 1.0 (a whole epoch). Here the same arguments are annotated int first; nothing else changes."""

    def __init__(
        self,
        *,
        limit_train_batches: int | float | None = None,
        limit_val_batches: int | float | None = None,
        limit_test_batches: int | float | None = None,
        limit_predict_batches: int | float | None = None,
        overfit_batches: int | float = 0.0,
        val_check_interval: int | float | str | timedelta | dict | None = None,
        **kwargs,
    ):
        super().__init__(limit_train_batches=limit_train_batches, limit_val_batches=limit_val_batches,
                         limit_test_batches=limit_test_batches, limit_predict_batches=limit_predict_batches,
                         overfit_batches=overfit_batches, val_check_interval=val_check_interval, **kwargs)


class EpochProgressBar(TQDMProgressBar):
    """Lightning's tqdm bar without the per-epoch validation bars (each evaluation set is one batch); while the
    epoch's evaluation runs (whole sets: long on MNIST), the epoch's bar says so instead of sitting still."""

    def on_validation_start(self, trainer, pl_module) -> None:
        bar = self._train_progress_bar
        if not trainer.sanity_checking and bar is not None and not bar.disable:
            names = ", ".join(getattr(trainer.datamodule, "eval_set_names", None) or []) or "the evaluation sets"
            bar.set_description(f"Epoch {trainer.current_epoch}: evaluating on {names}", refresh=True)

    def on_validation_batch_start(self, *args, **kwargs) -> None:
        pass

    def on_validation_batch_end(self, *args, **kwargs) -> None:
        pass

    def on_validation_end(self, trainer, pl_module) -> None:
        bar = self._train_progress_bar
        if not trainer.sanity_checking and bar is not None and not bar.disable:
            bar.set_description(f"Epoch {trainer.current_epoch}", refresh=True)


#: Options of the main job (scripts/main_job.py) that a training run does not take.
_ELSEWHERE = {"--data_dir": "an option of the main job (scripts/main_job.py); "
                            "a configuration takes --data.init_args.data_dir DIR (or $LIGHTNING_FFNN_OCR_DIR)",
              "--sizes": "an option of the main job (scripts/main_job.py)",
              "--backends": "an option of the main job; a configuration takes --model.backend numpy or torch"}


class FFNNArgumentParser(LightningArgumentParser):
    """LightningCLI's parser, whose errors come first and alone: ``error: unrecognized arguments: --trainer.max_epohcs
    3``, the closest option when one is close (``did you mean --trainer.max_epochs?``) and where the full list is
    (``--help``), instead of the whole usage (about 100 lines) above the one line that matters."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error:  # a program asked for the exception
            super().error(message, ex)
        parser = getattr(ex, "subcommand_parser", None) or self
        options = [o for action in parser._actions for o in action.option_strings if o.startswith("--")]
        lines = [f"error: {message}"]
        for flag in dict.fromkeys(re.findall(r"--[\w.]+", message)):
            if flag in _ELSEWHERE:
                lines.append(f"  {flag}: {_ELSEWHERE[flag]}")
            elif flag not in options:
                close = difflib.get_close_matches(flag, options, n=1, cutoff=0.8)
                if close:
                    lines.append(f"  {flag}: did you mean {close[0]}?")
        lines.append(f"Every option: {parser.prog.replace(' [options]', '')} --help")
        sys.stderr.write("\n".join(lines) + "\n")
        self.exit(2)


class FFNNCLI(LightningCLI):
    def __init__(self, *args, interrupt_notice: InterruptNotice | None = None, **kwargs):
        kwargs.setdefault("trainer_defaults", {})
        defaults = {
            "max_epochs": 20,
            "num_sanity_val_steps": 0,
            "use_distributed_sampler": False,
            "enable_model_summary": False,
            "log_every_n_steps": 50,
            "deterministic": True,
            "logger": {"class_path": "lightning.pytorch.loggers.TensorBoardLogger",
                       "init_args": {"save_dir": RUNS_DIR, "name": "default", "default_hp_metric": False}},
        }
        kwargs["trainer_defaults"] = {**defaults, **kwargs["trainer_defaults"]}
        kwargs.setdefault("seed_everything_default", 0)
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})
        kwargs.setdefault("trainer_class", Trainer)
        kwargs.setdefault("parser_class", FFNNArgumentParser)
        self.interrupt_notice = interrupt_notice or InterruptNotice()  # where a Ctrl-C stopped the run
        super().__init__(SpecNetModule, ArrayDataModule, *args, subclass_mode_data=True, **kwargs)

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument("--torch_threads", type=int, default=1,
                            help="torch intra-op threads (0 = torch's default, one per core). These networks are "
                                 "too small to gain from more than one; with more, a busy machine stalls every step.")
        parser.add_argument("--blas_threads", type=int, default=1,
                            help="NumPy's BLAS threads (the numpy backend). One suits the MLP labs' tiny products; "
                                 "a CNN's large ones gain from more (docs/cnn.md).")
        parser.link_arguments("model.dtype", "data.init_args.dtype")
        parser.link_arguments("model.seed", "data.init_args.seed")
        for key, read in DATA_SETTINGS.items():  # what the data decides, read from the built datamodule
            parser.link_arguments("data", f"model.{key}", compute_fn=read, apply_on="instantiate")
        parser.add_lightning_class_args(StepsPerCall, "speed")
        parser.add_lightning_class_args(RunCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.monitor": "selection_loss", "checkpoint.mode": "min",
                             "checkpoint.save_last": True, "checkpoint.filename": "best-{epoch}",
                             "checkpoint.save_top_k": 1})
        parser.add_lightning_class_args(GradientParityCheck, "parity")
        parser.add_lightning_class_args(RunRecorder, "record")
        parser.add_lightning_class_args(LearningRateMonitor, "lr_monitor")
        parser.set_defaults({"lr_monitor.logging_interval": "epoch"})

    def _parse_ckpt_path(self) -> None:
        """Model settings come from the config and the command line, never silently from the checkpoint.

        LightningCLI would overwrite ``--model.*`` with the hyper-parameters saved in a checkpoint given by
        path (not with ``--ckpt_path last``, resolved later): ``--model.hidden_sizes`` would be ignored instead
        of refused (see `SpecNetModule.on_load_checkpoint`), and ``--model.backend`` could not switch backends.

        A private hook, overridden because LightningCLI 2.6 has no public switch for this step. If a Lightning
        upgrade renames it, this override stops applying: tests/test_training_cli.py
        (test_checkpoint_of_another_architecture_is_refused) and the backend-switching resume in
        tests/test_training_equivalence.py then fail."""

    def before_instantiate_classes(self) -> None:
        """Apply ``--torch_threads`` and ``--blas_threads``; make ``--ckpt_path last`` resume the newest run of this config, in that
        run's own directory."""
        config = self.config.get(self.subcommand) if self.subcommand else self.config
        if config is None:
            return
        if config.get("torch_threads"):
            torch.set_num_threads(config["torch_threads"])
        if config.get("blas_threads"):
            limit_blas_threads(config["blas_threads"])
        if config.get("ckpt_path") != "last":
            return
        logger = config["trainer"].get("logger")
        init = logger.get("init_args") if hasattr(logger, "get") else None
        if init is None:
            return
        run_root = Path(init.get("save_dir") or RUNS_DIR) / (init.get("name") or "default")
        found = sorted(run_root.glob("version_*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
        if not found:
            print(f"--ckpt_path last: no checkpoint under {run_root}/version_*/checkpoints/; starting a new run")
            config["ckpt_path"] = None
            return
        last = found[-1]
        init["version"] = last.parent.parent.name  # log into the same run directory
        config["ckpt_path"] = str(last)
        print(f"resuming from {last}")

    def instantiate_classes(self) -> None:
        """Every error found while building the model, the data, the callbacks and the Trainer is a settings error
        (a bad value in a config or a flag), named as one: `SettingsError`. Missing or unreadable data stays a
        `DataError`, also when it is found while the data's settings are linked into the model."""
        try:
            super().instantiate_classes()
        except (DataError, SettingsError):
            raise
        except (ValueError, MisconfigurationException) as exc:
            # A datamodule read while its settings are linked into the model (`DATA_SETTINGS`) raises inside
            # jsonargparse, which wraps the error in a page of its own text: say the error itself, in its one line.
            cause = exc.__cause__
            if isinstance(cause, (DataError, SettingsError)):
                raise cause from None
            raise SettingsError(str(exc)) from exc

    def instantiate_trainer(self, **kwargs):
        """The last epoch always evaluated (`EvaluateLastEpoch`); the quiet progress bar, unless the user turned the
        bar off or brought their own; crash-safe checkpoint writes, unless the user gave plugins. (LightningCLI's
        public hook: ``kwargs`` override the parsed ``trainer`` settings.)"""
        init = self.config_init[self.subcommand] if self.subcommand else self.config_init
        trainer = init.get("trainer") or {}
        given = trainer.get("callbacks")
        callbacks = [] if given is None else list(given) if isinstance(given, list) else [given]
        callbacks.append(EvaluateLastEpoch())
        if not any(isinstance(c, TQDMProgressBar) for c in callbacks) and trainer.get("enable_progress_bar") is not False:
            if sys.stdout.isatty():
                callbacks.append(EpochProgressBar(refresh_rate=50))
            else:  # a file or a pipe would get every redraw as a run of carriage-return frames
                kwargs.setdefault("enable_progress_bar", False)
        kwargs.setdefault("callbacks", [*callbacks, self.interrupt_notice])
        if not trainer.get("plugins"):
            kwargs.setdefault("plugins", [AtomicCheckpointIO()])
        return super().instantiate_trainer(**kwargs)


def cli_main(args: list[str] | Setting) -> L.Trainer:
    """Run one command as ``scripts/train.py`` does (``args``: its command line, or a `Setting`); return the Trainer.

    What the run recorded is in its run directory (`run_results`). Settings errors raise `SettingsError`, and
    LightningCLI's own parser exits with status 2 on a flag it cannot parse."""
    configure_runtime()
    if isinstance(args, Setting):
        args = args.args()
    # LightningCLI warns when it gets `args` while the process has a command line too; here `args` is the
    # command line that counts. sys.argv itself must stay as it is: DDP starts the other ranks by re-running it.
    notice = InterruptNotice()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"LightningCLI's args parameter is intended")
        notice = InterruptNotice()
        try:
            return FFNNCLI(args=args, interrupt_notice=notice).trainer
        except SystemExit:  # Lightning's exit after a Ctrl-C: say where the run stopped
            if notice.message is not None:
                raise RunInterrupted(notice.message) from None
            raise


def run_results(trainer: L.Trainer) -> dict[str, Any]:
    """The record of a fitted run (`RunRecorder`: settings, per-epoch and final metrics, data source, wall time),
    as the run wrote it to ``results.json`` in its run directory."""
    path = Path(trainer.log_dir or trainer.default_root_dir) / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the run wrote no record (nothing fitted, or --record.write_files false)")
    return json.loads(path.read_text())


@dataclass(frozen=True)
class Setting:
    """One training run as data: a config file (relative to the repository root, or absolute) and the settings that
    override it, by their flag names (``{"model.backend": "numpy", "trainer.max_epochs": 5}``).

    `args` is what `cli_main` takes; `command` is the command line that reruns the run from the repository root."""

    config: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def _flags(self) -> list[str]:
        flags = []
        for key, value in self.overrides.items():
            text = (json.dumps(value) if isinstance(value, (list, tuple, dict)) else
                    str(value).lower() if isinstance(value, bool) else "null" if value is None else str(value))
            flags += [f"--{key}", text]
        return flags

    def args(self) -> list[str]:
        return ["fit", "--config", str(REPO / self.config), *self._flags()]

    def command(self) -> str:
        return shlex.join(["python", "scripts/train.py", "fit", "--config", self.config, *self._flags()])


def exit_status(job: Callable[[], object], resume: str | None = None) -> int:
    """Run ``job`` as an entry point does and say how it went: 0 when it returns; a settings error (`SettingsError`,
    Lightning's `MisconfigurationException`, a file named by a flag that does not exist) prints ``error: invalid
    setting: ...`` and gives 2; missing or unfitting data, a diverged run, a failed gradient parity check or a full
    disk while saving print ``error: ...`` and give 1; a Ctrl-C says where the run stopped and how to resume it
    (``resume``: the command) and gives 130. Anything else is a bug: it propagates, with its traceback."""
    from .atomic import DiskFullError
    from .models import DivergenceError
    from .parity import GradientParityError

    try:
        job()
    except RunInterrupted as exc:
        print(f"\nstopped: {exc}.", file=sys.stderr)
        if resume is not None:
            print(f"Resume it with: {resume}", file=sys.stderr)
        return exc.exit_status
    except (DataError, DivergenceError, GradientParityError, DiskFullError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (SettingsError, MisconfigurationException) as exc:
        print(f"error: invalid setting: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:  # e.g. --ckpt_path naming no file
        print(f"error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    return 0


def resume_command(argv: list[str]) -> str | None:
    """The ``scripts/train.py`` command that resumes the ``fit`` run of ``argv``: the same command with
    ``--ckpt_path last`` (the newest run of the config) in place of any ``--ckpt_path``; None for other commands."""
    if not argv or argv[0] != "fit":
        return None
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--ckpt_path":
            skip = True
        elif not arg.startswith("--ckpt_path="):
            kept.append(arg)
    return shlex.join(["python", "scripts/train.py", *kept, "--ckpt_path", "last"])


def configure_runtime() -> None:
    """The process-wide settings of a training entry point (`cli_main`, scripts/train.py, the benchmark, the report):
    NumPy's BLAS on one thread (`course.threads`) and Lightning's warnings that a user cannot act on
    silenced. Idempotent. Importing the package changes none of this: a program that only imports it keeps its
    own settings."""
    limit_blas_threads()
    quiet_known_warnings()


def quiet_known_warnings() -> None:
    """Silence Lightning warnings a user cannot act on in these labs (each one narrowly, by text), and its
    start-up notices (no GPU/TPU here, advertising tips)."""
    import logging

    logging.getLogger("lightning.pytorch.utilities.rank_zero").setLevel(logging.WARNING)
    for text in (
        r".*does not have many workers.*",          # in-memory batches: workers would only add cost
        r".*The number of training batches.*",      # tiny sets have fewer batches than log_every_n_steps
        r".*GPU available but not used.*",
        r"It is recommended to use `self.log\(.*sync_dist=True",  # under DDP every rank evaluates whole sets
        r".*TPU available but not used.*",
        r".*`isinstance\(treespec, LeafSpec\)` is deprecated.*",
        r"Checkpoint directory .* exists and is not empty",  # a resumed run writes into its own directory
    ):
        warnings.filterwarnings("ignore", message=text)
