"""Shared helpers of the training and reliability tests: run ``scripts/train.py`` in this process or as a
subprocess, with tiny budgets, writing every run under a test's ``tmp_path``.

The OCR data: the datamodules read ``$LIGHTNING_FFNN_OCR_DIR`` themselves (CI points it at the handout files);
without it they fall back to the synthetic stand-in, so nothing here needs to know which one is in use.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import lightning.pytorch  # noqa: F401  (imported at collection: its log handler must not bind a test's capsys stream)
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
TRAIN_SCRIPT = REPO / "scripts" / "train.py"
MAIN_JOB_SCRIPT = REPO / "scripts" / "main_job.py"
QUIET = ["--trainer.enable_progress_bar", "false"]


@cache
def script(path: Path = TRAIN_SCRIPT):
    """A script of scripts/ as a module (scripts/ is not a package): its ``main(argv)``."""
    spec = importlib.util.spec_from_file_location(f"lightning_ffnn_script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fit_args(config: str, save_dir: Path, *extra: str) -> list[str]:
    """``fit --config configs/<config>.yaml`` logging under ``save_dir``, without a progress bar."""
    return ["fit", "--config", str(CONFIGS / f"{config}.yaml"),
            "--trainer.logger.init_args.save_dir", str(save_dir), *QUIET, *extra]


def run_fit(config: str, save_dir: Path, *extra: str) -> dict[str, Any]:
    """Train in this process, as ``scripts/train.py`` does; return the run's results dict (what results.json holds)."""
    from lightning_ffnn.cli import cli_main, run_results

    return run_results(cli_main(fit_args(config, save_dir, *extra)))


def run_main(argv: list[str], capsys, path: Path = TRAIN_SCRIPT) -> tuple[int, str, str]:
    """``scripts/train.py``'s (or another script's) ``main(argv)`` in this process: (exit code, stdout, stderr).

    jsonargparse reports a bad flag with ``SystemExit(2)``; that becomes the exit code here too."""
    capsys.readouterr()
    try:
        code = script(path).main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def skip_figures(monkeypatch) -> None:
    """Skip drawing the run's figures (about 2 s a run, matplotlib layout); the tests of artifacts keep them."""
    from lightning_ffnn.callbacks import RunRecorder

    monkeypatch.setattr(RunRecorder, "_figures", lambda self, pl_module, dm: {})
    monkeypatch.setattr(RunRecorder, "_add_figure", staticmethod(lambda trainer, tag, fig: None))


def subprocess_env() -> dict[str, str]:
    """The environment of a training subprocess: this one, with Python's warnings silenced (they are not tested)."""
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = "ignore"
    return env


def start_train(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    """Start ``python scripts/train.py <args>`` in ``cwd``, stdout and stderr to ``log``."""
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, str(TRAIN_SCRIPT), *args], cwd=cwd, env=subprocess_env(),
                                stdout=out, stderr=subprocess.STDOUT)


def run_dir(save_dir: Path, name: str, version: int = 0) -> Path:
    return Path(save_dir) / name / f"version_{version}"


def read_results(directory: Path) -> dict[str, Any]:
    return json.loads((Path(directory) / "results.json").read_text())


def checkpoint_weights(path: Path) -> dict[str, np.ndarray]:
    """The model's parameters in a checkpoint, as NumPy arrays."""
    state = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
    return {k: v.numpy() for k, v in state.items()}


def epoch_numbers(results: dict[str, Any]) -> list[dict[str, float]]:
    """The per-epoch metrics of a run, without the learning rate monitor's entry."""
    return [{k: v for k, v in e.items() if k != "lr"} for e in results["epochs"]]
