"""The report's sections that train with Lightning (labs 3.2 and 3.3, the toy configs) and lab 3.1's Jacobian.

`fit_config` runs ``scripts/train.py fit --config configs/<name>.yaml`` in-process (`lightning_ffnn.cli.cli_main`); a
section function ``f(s: Section, opts: Options)`` writes its Markdown into ``s``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from course.tables import markdown_table
from course.labs.document import LabFailed, Options, Section, data_label, skipped_in_quick

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
OCR_SIZES = ("small", "medium", "large")
BACKENDS = ("torch", "numpy")
#: Epochs of the LightningCLI runs in --quick mode (default 2; the full report uses each config's own).
#: OCR small (5 steps an epoch) gets more: they cost well under a second, and then the curves show learning.
QUICK_EPOCHS = {"ocr_small": 15, "regression": 3}
#: What each figure of a training run (`RunRecorder`) shows.
FIGURE_WHAT = {"loss_curves": "loss and metric per epoch", "predictions": "test examples and predictions",
               "fit": "fitted curve", "decision_boundary": "decision boundary"}




# ---- Lightning runs ----

def fit_config(opts: Options, config: str, name: str, backend: str | None = None, epochs: int | None = None,
               overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train ``configs/<config>.yaml`` (one `cli_main` call) logging into ``<out_dir>/runs/<name>``, with
    ``overrides`` (settings by flag name) on top.

    Returns the run's `RunRecorder` results, plus ``command`` (how to rerun it from the repository root).
    """
    from ..cli import Setting, cli_main, run_results

    given: dict[str, Any] = {"trainer.logger.init_args.save_dir": str(opts.out_dir / "runs"),
                             "trainer.logger.init_args.name": name, "trainer.enable_progress_bar": False}
    if backend:
        given["model.backend"] = backend
    if epochs:  # evaluate every epoch: a config's check_val_every_n_epoch may exceed the shorter budget
        given.update({"trainer.max_epochs": epochs, "trainer.check_val_every_n_epoch": 1})
    setting = Setting(f"configs/{config}.yaml", {**given, **(overrides or {})})
    return {**run_results(cli_main(setting)), "command": setting.command()}


def _epochs(opts: Options, config: str) -> int | None:
    return QUICK_EPOCHS.get(config, 2) if opts.quick else None


def _run_kind(results: dict[str, Any]) -> str:
    return "synthetic" if results["is_synthetic"] else "real"


def _run_settings_table(runs: dict[str, dict[str, Any]]) -> str:
    rows = []
    for label, r in runs.items():
        m, d = r["settings"]["model"], r["settings"]["data"]
        sizes = "-".join(str(s) for s in [math.prod(m["input_shape"]), *m["hidden_sizes"], m["output_dim"]])
        opt = f"{m['optimizer']} lr {m['lr']:g}" + (f", momentum {m['momentum']:g}" if m.get("momentum") else "")
        rows.append([label, m["backend"], f"{sizes} {m['activation']}", m["init"], opt, d["batch_size"],
                     r["settings"]["trainer"]["max_epochs"], m["dtype"], m["seed"]])
    return markdown_table(["run", "backend", "network", "init", "optimiser", "batch", "max epochs", "dtype", "seed"], rows, align_numbers=True)


def _commands(runs: dict[str, dict[str, Any]], section: Section) -> None:
    section.add("To rerun (each run's full settings are in `config.yaml` in its run directory):")
    section.code("\n".join(r["command"] for r in runs.values()))


def _metric(final: dict[str, float], key: str, percent: bool = False) -> str:
    v = final.get(key)
    return "" if v is None else f"{100 * v:.2f}%" if percent else f"{v:.4f}"


# ---- 1. Lab 3.1 ----

def lab31_jacobian(s: Section, opts: Options) -> None:
    from . import jacobian

    rows = jacobian.compare_lab_jacobians()
    s.add("The lab's function y = (y1, y2) of x = (x1, x2, x3) is built once (`numpy_ops.graph_examples.lab_function`) and "
          "differentiated twice: by the hand-written graph engine (one backward pass per output) and by "
          "`torch.autograd.functional.jacobian`.")
    s.settings({"points": [list(x) for x in jacobian.LAB_POINTS], "dtype": "float64"})
    s.add("Data: none -- an analytic function at the lab's three points.")
    s.table(markdown_table(["X", "y1", "y2", "max abs(J_numpy - J_torch)"],
                      [[r["x"].tolist(), f"{r['y'][0]:.8f}", f"{r['y'][1]:.8f}", f"{r['max_diff']:.1e}"]
                       for r in rows], align_numbers=True), "Values and the agreement of the two Jacobians.")
    s.table("", "The Jacobians, as `python scripts/jacobian.py` prints them.")
    s.code(jacobian.format_jacobian_table(rows))
    s.table("", "Every node of the lab's graph: value and gradient of each output.")
    s.code("\n\n".join(jacobian.format_lab_nodes(x) for x in jacobian.LAB_POINTS))
    s.table("", "The lecture's worked graphs: local derivatives and backpropagated gradients, checked against "
                "autograd.")
    s.code(jacobian.lecture_report())


# ---- 2. Lab 3.2 ----

def lab32_ocr(s: Section, opts: Options) -> None:
    from ..datamodules import OCRDataModule
    from .lab32 import lab32_table, run_lab32

    sizes = ("small",) if opts.quick else OCR_SIZES
    lab_runs = run_lab32(sizes, BACKENDS, "selected", data_dir=opts.data_dir, max_epochs=_epochs(opts, "ocr_small"),
                         save_dir=opts.out_dir / "runs", overrides={"trainer.enable_progress_bar": False},
                         log=lambda text: None)
    runs = {r.label: {**r.results, "command": r.command} for r in lab_runs}
    s.add("The main job (`python scripts/main_job.py`): a two-hidden-layer network per set, with the settings chosen "
          "on a validation split of each training file (docs/main_job.md), trained with the native PyTorch layers "
          "(`torch`) and with the hand-written NumPy layers and loss (`numpy`, gradients checked against autograd "
          "during training). The test set is the handout's Validation file."
          + (" Only the small set in --quick mode." if opts.quick else ""))
    for size in sizes:
        r = runs[f"{size}, torch"]
        s.data(_run_kind(r), f"{size}: {r['data_source']}")
    s.table(_run_settings_table(runs), "Settings of each run.")
    s.table(lab32_table(lab_runs), "Accuracy and cross-entropy after the last epoch.")
    for size in sizes:
        dm = OCRDataModule(size=size, data_dir=opts.data_dir)
        s.figure(dm.sample_figure(), f"{size}_samples", f"Ten training samples of the {size} set "
                 f"({data_label(_run_kind(runs[f'{size}, torch']))}).")
        for backend in BACKENDS:
            r = runs[f"{size}, {backend}"]
            for png in r["figures"]:
                what = FIGURE_WHAT.get(Path(png).stem, Path(png).stem)
                s.figure(Path(r["run_dir"]) / png, f"{size}_{backend}_{Path(png).stem}",
                         f"OCR {size}, {backend} backend: {what}.")
    _commands(runs, s)


# ---- 3. Lab 3.3 ----

def lab33_regression(s: Section, opts: Options) -> None:
    from ..datamodules import RegressionDataModule

    data = {"data.init_args.data_dir": opts.regression_dir} if opts.regression_dir else {}
    runs = {backend: fit_config(opts, "regression", f"lab33/{backend}", backend, _epochs(opts, "regression"), data)
            for backend in BACKENDS}
    r0 = runs["torch"]
    s.add("A 1-64-64-1 tanh network fitted to 1-D data; x and y are standardised with the training set's statistics "
          "and the RMSE is reported in y's units, on a test set from the training range (test_id) and one outside "
          "it (test_ood).")
    s.data(_run_kind(r0), r0["data_source"])
    s.table(_run_settings_table(runs), "Settings of each run.")
    s.table(markdown_table(["backend", "epochs", "train RMSE", "test_id RMSE", "test_ood RMSE", "wall s", "data"],
                      [[b, len(r["epochs"]), _metric(r["final"], "train/rmse"), _metric(r["final"], "test_id/rmse"),
                        _metric(r["final"], "test_ood/rmse"), f"{r['wall_time_s']:.1f}", data_label(_run_kind(r))]
                       for b, r in runs.items()], align_numbers=True), "RMSE after the last epoch.")
    s.figure(RegressionDataModule(data_dir=opts.regression_dir).sample_figure(), "data",
             f"The three sets ({data_label(_run_kind(r0))}).")
    for backend, r in runs.items():
        for png in r["figures"]:
            what = FIGURE_WHAT.get(Path(png).stem, Path(png).stem)
            s.figure(Path(r["run_dir"]) / png, f"{backend}_{Path(png).stem}", f"Regression, {backend} backend: {what}.")
    _commands(runs, s)


# ---- 6. the toy experiments with Lightning ----

TOY_CONFIGS = ("sine_sgd", "sine_adam", "xor", "flower")


def lightning_toys(s: Section, opts: Options) -> None:
    if skipped_in_quick(s, opts, "toys", "it trains 4 Lightning runs, about 2-3 s of setup each"):
        return
    s.add("The configs `configs/{sine_sgd,sine_adam,xor,flower}.yaml`: the networks of section 4 trained by "
          "Lightning with the hand-written NumPy layers (`--model.backend numpy`)"
          + (", 2 epochs each in --quick mode." if opts.quick else ", each config's own budget.")
          + " Data: " + data_label("generated") + " (each run's source below).")
    runs, failed = {}, {}
    for config in TOY_CONFIGS:
        try:
            runs[config] = fit_config(opts, config, f"toys/{config}", "numpy", _epochs(opts, config))
        except Exception as exc:  # one broken config should not hide the others
            failed[config] = f"{type(exc).__name__}: {exc}"
    s.add("\n".join(f"- {config}: {r['data_source']}" for config, r in runs.items()))
    if runs:
        s.table(_run_settings_table(runs), "Settings of each run.")
        metrics = list(dict.fromkeys(k for r in runs.values() for k in r["final"]))
        s.table(markdown_table(["config", "epochs", *metrics, "wall s"],
                          [[c, len(r["epochs"]), *(_metric(r["final"], k) for k in metrics), f"{r['wall_time_s']:.1f}"]
                           for c, r in runs.items()], align_numbers=True), "Metrics after the last epoch (RMSE in y's units).")
        for config, r in runs.items():
            for png in r["figures"]:
                stem = Path(png).stem
                s.figure(Path(r["run_dir"]) / png, f"{config}_{stem}", f"{config}: {FIGURE_WHAT.get(stem, stem)}.")
        _commands(runs, s)
    for config, error in failed.items():
        s.add(f"**FAILED** `configs/{config}.yaml`: {error}")
    if failed:
        raise LabFailed("; ".join(f"configs/{c}.yaml: {e}" for c, e in failed.items()))


