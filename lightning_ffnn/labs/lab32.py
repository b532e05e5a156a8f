"""Lab 3.2, the main job: a two-hidden-layer network on the small, medium and large OCR sets, each trained with the
native PyTorch layers (backend ``torch``) and the hand-written NumPy layers (backend ``numpy``).

The one driver of the lab: the main job, ``python scripts/main_job.py`` (``make run``), prints `lab32_markdown` of
`run_lab32`; the report calls the same function. Each run is a `lightning_ffnn.cli.Setting` (a config and the
settings that override it) run by `lightning_ffnn.cli.cli_main`, so each row can be rerun alone by the command it
carries (`Setting.command`).

Two sets of settings (`SETTINGS`):

* ``selected`` (the default, ``configs/ocr_{size}_selected.yaml``): chosen on a validation split of each training
  file (`lightning_ffnn.labs.lab32_search`, docs/main_job.md), then trained on the whole training file for the chosen
  number of epochs: 128-256-256-10 ReLU with Adam lr 1e-3 on medium and large; on small the handout's network and
  SGD won on the split, so only its epoch count changes;
* ``handout`` (``configs/ocr_{size}.yaml``): the handout's 128-64-64-10 sigmoid network, SGD lr 0.1, momentum 0.9.

The accuracies in the table are those of the LAST epoch (`RunRecorder`'s ``final``), on the handout's
{size}Validation.csv, which this project calls the test set; it selects nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.tables import markdown_table

from ..cli import Setting, cli_main, run_results

SIZES = ("small", "medium", "large")
BACKENDS = ("torch", "numpy")
#: settings name -> config file stem, by set size
SETTINGS = {"selected": "ocr_{size}_selected", "handout": "ocr_{size}"}


@dataclass
class Lab32Run:
    """One training run of the lab: which set, backend and config; how to rerun it; what `RunRecorder` recorded."""

    size: str
    backend: str
    config: str  # path relative to the repository root, e.g. configs/ocr_large_selected.yaml
    command: str  # the command line that reruns it from the repository root
    results: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.size}, {self.backend}"


def config_path(size: str, settings: str = "selected") -> str:
    """``configs/<stem>.yaml`` of a set size under one of `SETTINGS`, relative to the repository root."""
    if settings not in SETTINGS:
        raise ValueError(f"settings must be one of {', '.join(map(repr, SETTINGS))}; got {settings!r}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(map(repr, SIZES))}; got {size!r}")
    return f"configs/{SETTINGS[settings].format(size=size)}.yaml"


def run_lab32(
    sizes: Sequence[str] = SIZES,
    backends: Sequence[str] = BACKENDS,
    settings: str = "selected",
    data_dir: str | None = None,
    max_epochs: int | None = None,
    save_dir: str | Path | None = None,
    name: str = "lab32",
    overrides: Mapping[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> list[Lab32Run]:
    """Train every (size, backend) pair with the configs of ``settings`` (one `cli_main` call each); return the runs
    in that order.

    Args:
        data_dir: directory of the handout's CSV files (default: $LIGHTNING_FFNN_OCR_DIR, then data/ocr/).
        max_epochs: override the configs' epochs (and evaluate every epoch), e.g. 1 for a smoke test.
        save_dir, name: runs log to ``<save_dir>/<name>/<size>_<backend>/version_<n>/`` (save_dir default: runs).
        overrides: more settings for every run, by flag name, e.g. ``{"trainer.enable_progress_bar": False}``.
    """
    out = []
    for size in sizes:
        config = config_path(size, settings)
        for backend in backends:
            given = {"model.backend": backend, "trainer.logger.init_args.name": f"{name}/{size}_{backend}"}
            if save_dir is not None:
                given["trainer.logger.init_args.save_dir"] = str(save_dir)
            if data_dir:
                given["data.init_args.data_dir"] = str(data_dir)
            if max_epochs:
                given.update({"trainer.max_epochs": max_epochs, "trainer.check_val_every_n_epoch": 1})
            setting = Setting(config, {**given, **(overrides or {})})
            log(f"\n=== lab 3.2: OCR {size}, {backend} backend ({config}) ===")
            out.append(Lab32Run(size, backend, config, setting.command(), run_results(cli_main(setting))))
    return out


def _network(results: dict[str, Any]) -> str:
    m = results["settings"]["model"]
    widths = "-".join(str(s) for s in [math.prod(m["input_shape"]), *m["hidden_sizes"], m["output_dim"]])
    return f"{widths} {m['activation']}"


def _optimiser(results: dict[str, Any]) -> str:
    m = results["settings"]["model"]
    text = f"{m['optimizer']} lr {m['lr']:g}"
    if m["optimizer"] == "sgd" and m.get("momentum"):
        text += f", momentum {m['momentum']:g}"
    if m.get("weight_decay"):
        text += f", weight decay {m['weight_decay']:g}"
    return text


def lab32_table(runs: Sequence[Lab32Run]) -> str:
    """One row a run: its settings, its last epoch's loss and accuracy on the training and test sets, and whether
    the data were the handout's (REAL) or the synthetic stand-in."""
    rows = []
    for r in runs:
        f = r.results["final"]
        rows.append([r.size, r.backend, _network(r.results), _optimiser(r.results),
                     r.results["settings"]["data"]["batch_size"], len(r.results["epochs"]),
                     f"{f['train/accuracy']:.4f}", f"{f['test/accuracy']:.4f}", f"{f['train/loss']:.4f}",
                     f"{f['test/loss']:.4f}", f"{r.results['wall_time_s']:.1f}",
                     "**SYNTHETIC**" if r.results["is_synthetic"] else "**REAL**"])
    return markdown_table(["set", "backend", "network", "optimiser", "batch", "epochs", "train acc", "test acc",
                           "train loss", "test loss", "wall s", "data"], rows)


def backend_gaps(runs: Sequence[Lab32Run]) -> dict[str, float]:
    """Per set size with both backends: |test accuracy (torch) - test accuracy (numpy)|."""
    acc = {(r.size, r.backend): r.results["final"]["test/accuracy"] for r in runs}
    return {size: abs(acc[(size, "torch")] - acc[(size, "numpy")])
            for size in dict.fromkeys(r.size for r in runs) if (size, "torch") in acc and (size, "numpy") in acc}


def lab32_markdown(runs: Sequence[Lab32Run]) -> str:
    """The lab's result as `scripts/train.py` prints it: the data each set came from, the table, the backends' gap."""
    lines = ["## Lab 3.2: OCR letters, two hidden layers (test = the handout's Validation file, last epoch)", ""]
    sources = dict.fromkeys(f"{r.size}: {r.results['data_source']}" + (" (SYNTHETIC)" if r.results["is_synthetic"]
                                                                      else "") for r in runs)
    lines += [f"Data: {s}" for s in sources] + ["", lab32_table(runs), ""]
    gaps = backend_gaps(runs)
    if gaps:
        lines.append("torch vs numpy backend, |test accuracy difference|: "
                     + ", ".join(f"{size} {gap:.4f}" for size, gap in gaps.items()))
    return "\n".join(lines)
