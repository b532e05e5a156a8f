"""Multilayer perceptrons on MNIST / Fashion-MNIST in NumPy only: two report networks and the [784, 28, 10] exercise.

The 784-256-256-10 ReLU network is `configs/mnist.yaml`'s (`RunConfig.from_yaml`); its training settings are the
report's (SGD lr 0.1, batch 64, 4 epochs), not the config's.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from numpy_ops import accuracy

from ..datasets.errors import DataError
from ..datasets.idx import load_mnist
from ..tables import markdown_table
from .runs import LabResult, RunConfig, RunResult, settings, train
from .xor_flower import curves

#: Test accuracy reported elsewhere for the two report MLPs on MNIST.
MNIST_REPORTED = {"784-16-16-16-16-10 ReLU, Adam": 0.9413, "784-256-256-10 ReLU, SGD": 0.926}
_CE = dict(loss="softmax_cross_entropy", dtype="float32")
MNIST_REPORT_RUNS = (
    RunConfig("784-16-16-16-16-10 ReLU, Adam", 784, 10, hidden_sizes=(16, 16, 16, 16), activation="relu",
              optimizer="adam", lr=1e-3, batch_size=64, epochs=30, **_CE),
    RunConfig.from_yaml("mnist", "784-256-256-10 ReLU, SGD", 784, 10, optimizer="sgd", lr=0.1, batch_size=64,
                        epochs=4, **_CE),
)
#: The exercise: [784, 28, 10] with three activations and three optimisers. GD is full batch, so one epoch is one
#: step: its 100 steps are 100 passes over the data (far more compute than the 3 mini-batch epochs of SGD and
#: Adam) but only 100 updates against their ~5600.
MNIST_EXERCISE_OPTIMISERS = {
    "GD": dict(optimizer="sgd", lr=0.5, batch_size=0, epochs=100),
    "SGD": dict(optimizer="sgd", lr=0.1, batch_size=32, epochs=3),
    "Adam": dict(optimizer="adam", lr=1e-3, batch_size=32, epochs=3),
}
MNIST_EXERCISE_ACTIVATIONS = ("sigmoid", "tanh", "relu")


def exercise_label(activation: str, optimiser: str) -> str:
    return f"784-28-10 {activation}, {optimiser}"


def mnist_exercise_runs() -> tuple[RunConfig, ...]:
    return tuple(RunConfig(exercise_label(act, name), 784, 10, hidden_sizes=(28,), activation=act, **_CE, **opt)
                 for act in MNIST_EXERCISE_ACTIVATIONS for name, opt in MNIST_EXERCISE_OPTIMISERS.items())


def run_mnist_lab(out_dir: str | Path | None = None, quick: bool = False, kind: str = "mnist",
                  data_dir: str | Path | None = None, seed: int = 0) -> LabResult:
    """The report MLPs and the [784, 28, 10] exercise on MNIST (``kind="mnist"``) or Fashion-MNIST (``"fashion"``).

    Pixels are scaled to [0, 1] and flattened; float32 throughout. ``quick`` trains on the first 5000 training
    images for 2 epochs (GD: 10 steps) and tests on the first 1000 test images. Without the data files the result
    has ``skipped = "skipped: <how to get them>"`` and nothing is trained.
    Metrics ``train_accuracy`` and ``test_accuracy``; tables ``"report"`` and ``"exercise"``.
    """
    try:
        data = load_mnist(kind, data_dir)
    except DataError as err:
        return LabResult(skipped=f"skipped: {err}")
    (X, y), (X_test, y_test) = [(im.reshape(len(im), -1).astype(np.float32) / 255, lab)
                                for im, lab in (data["train"], data["test"])]
    runs = MNIST_REPORT_RUNS + mnist_exercise_runs()
    if quick:
        X, y, X_test, y_test = X[:5000], y[:5000], X_test[:1000], y_test[:1000]
        runs = tuple(replace(r, epochs=10 if r.batch_size == 0 else 2) for r in runs)
    results = []
    for config in runs:
        every = max(1, config.epochs // 20) if config.batch_size == 0 else 1
        _, history, took = train(config, X, y, seed, metric=accuracy, eval_sets={"test": (X_test, y_test)},
                                 eval_every=every)
        results.append(RunResult(config.label, seed, took, {"train_accuracy": history["train_metric"][-1],
                                                            "test_accuracy": history["test_metric"][-1]},
                                 curves(history)))
    by_label = {r.label: r for r in results}
    report_rows = [[c.label, f"{c.optimizer} lr {c.lr:g}, batch {c.batch_size}", c.epochs,
                    f"{100 * by_label[c.label].metrics['train_accuracy']:.2f}%",
                    f"{100 * by_label[c.label].metrics['test_accuracy']:.2f}%",
                    f"{100 * MNIST_REPORTED[c.label]:.2f}%" if kind == "mnist" else "-",
                    f"{by_label[c.label].seconds:.0f}"]
                   for c in runs[:len(MNIST_REPORT_RUNS)]]
    exercise = {c.label: c for c in runs[len(MNIST_REPORT_RUNS):]}
    exercise_rows = [[act] + [f"{100 * by_label[exercise_label(act, name)].metrics['test_accuracy']:.2f}%"
                              for name in MNIST_EXERCISE_OPTIMISERS]
                     for act in MNIST_EXERCISE_ACTIVATIONS]
    budgets = ", ".join(f"{name}: {exercise[exercise_label('relu', name)].epochs} "
                        f"{'steps' if opt['batch_size'] == 0 else 'epochs'} lr {opt['lr']:g}"
                        for name, opt in MNIST_EXERCISE_OPTIMISERS.items())
    tables = {
        "report": markdown_table(["network", "optimiser", "epochs", "train accuracy", "test accuracy",
                                  "reported test accuracy", "seconds"], report_rows, align_numbers=True),
        "exercise": markdown_table([f"784-28-10 test accuracy ({budgets})", *MNIST_EXERCISE_OPTIMISERS],
                                   exercise_rows, align_numbers=True),
    }
    figures = {f"{kind}_curves": _mnist_figure(results, runs)}
    return LabResult(results, tables, figures, reported=MNIST_REPORTED if kind == "mnist" else {},
                     settings=settings(list(runs), kind=kind, seed=seed, n_train=len(X), n_test=len(X_test),
                                       inputs="pixels / 255, flattened")).save(out_dir)


def _mnist_figure(results: list[RunResult], runs: tuple[RunConfig, ...]) -> Figure:
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    ax_report, ax_ex = fig.subplots(1, 2, sharey=True)
    for config, r in zip(runs, results):
        ax = ax_ex if config.hidden_sizes == (28,) else ax_report
        ax.plot(r.history["epoch"], r.history["test_metric"], "o-" if len(r.history["epoch"]) < 30 else "-",
                ms=3, label=config.label)
    ax_report.set(title="report MLPs", xlabel="epoch", ylabel="test accuracy")
    ax_ex.set(title="784-28-10 (GD: x = full-batch steps)", xlabel="epoch", xscale="log")
    for ax in (ax_report, ax_ex):
        ax.legend(fontsize="x-small")
    return fig

