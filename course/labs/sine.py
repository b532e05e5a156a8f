"""The sine lab: a 1-16-16-16-16-1 ReLU network fitted to y = 24 sin(3.2x) + 42 cos(2.3x), in NumPy only.

`run_sine_lab` runs the report's two settings (SGD with the default init, Adam with Kaiming-uniform; lr 0.002,
batch 100, 2000 epochs) with correct gradients, then variants that do better. `run_sine_as_reported_lab` runs the
report's code as it ran -- its data, a second division of the gradients by the batch size, Adam without bias
correction -- next to correct-math runs of the same network and budget. The quirks live here, as the labelled
pieces `make_sine_as_reported`, `AsReportedSGD` and `AsReportedAdam`; `numpy_ops` keeps the correct formulas.

The network is `configs/sine_sgd.yaml`'s and `configs/sine_adam.yaml`'s (`RunConfig.from_yaml`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from numpy_ops.optim import SGD, Adam

from ..datasets.plots import wrap_title
from ..datasets.regression import Standardiser
from ..datasets.toy import make_sine, sine_function
from ..tables import markdown_table
from .runs import EXTRA_OPTIMIZERS, LabResult, RunConfig, RunResult, settings, train, with_epochs

_BUDGET = dict(lr=0.002, batch_size=100, epochs=2000, loss="mse")
SGD_SPEC = RunConfig.from_yaml("sine_sgd", "SGD, default init (spec)", 1, 1, optimizer="sgd", **_BUDGET)
ADAM_SPEC = RunConfig.from_yaml("sine_adam", "Adam, Kaiming-uniform, zero biases (spec)", 1, 1, optimizer="adam",
                                **_BUDGET)
#: The report's two runs exactly as specified (raw x and y), then the variants that beat its numbers.
SINE_RUNS = (
    SGD_SPEC,
    ADAM_SPEC,
    replace(SGD_SPEC, label="SGD + momentum 0.9, default init, x and y standardised", momentum=0.9,
            standardise="xy"),
    replace(ADAM_SPEC, label="Adam, Kaiming-uniform, nn.Linear biases, x standardised", default_bias=True,
            standardise="x"),
)
#: Test MSE reached by the report this lab comes from.
SINE_REPORTED = {"sgd": 34.5, "adam": 0.59}
_SCALED = {"none": "raw", "x": "x", "xy": "x and y"}


# ---- the report's code, as it ran ----

def make_sine_as_reported() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The report's data: ``np.random.seed(42)``, then x_train ~ U(-2pi, 2pi) (1000, 1), then x_test (100, 1),
    y = 24 sin(3.2x) + 42 cos(2.3x). (`RandomState(42)` is the stream ``np.random.seed(42)`` starts.)"""
    rng = np.random.RandomState(42)
    x_train = rng.uniform(-2 * np.pi, 2 * np.pi, (1000, 1))
    x_test = rng.uniform(-2 * np.pi, 2 * np.pi, (100, 1))
    return {"train": (x_train, sine_function(x_train)), "test": (x_test, sine_function(x_test))}


class AsReportedSGD(SGD):
    """AS REPORTED, NOT CORRECT: the report's SGD. Its MSE gradient was already divided by the batch size N and its
    ``Linear.backward`` divided the weight and bias gradients by N again (``input.T @ grad / N``), so every step is
    ``lr / N`` times the true gradient: at N = 100 the stated lr 0.002 acts as 2e-5."""

    def __init__(self, params, lr: float, batch_size: int):
        super().__init__(params, lr)
        self.batch_size = batch_size

    def _update(self, p, g, state):
        super()._update(p, g / self.batch_size, state)


class AsReportedAdam(Adam):
    """AS REPORTED, NOT CORRECT: the report's Adam. The gradients are divided by N once more (as `AsReportedSGD`),
    and the moments are divided by (1 - beta1) and (1 - beta2) instead of (1 - beta1^t) and (1 - beta2^t): at step
    1 that is the true bias correction, later the step shrinks to sqrt(1 - beta2) / (1 - beta1) = 0.32 of Adam's."""

    def __init__(self, params, lr: float, batch_size: int):
        super().__init__(params, lr)
        self.batch_size = batch_size

    def _update(self, p, g, state):
        # BEGIN HIDDEN adam
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
        state["step"] += 1
        g = g / self.batch_size
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        p -= self.lr * (m / (1 - self.beta1)) / (np.sqrt(v / (1 - self.beta2)) + self.eps)
        # END HIDDEN


EXTRA_OPTIMIZERS.update(sgd_as_reported=AsReportedSGD, adam_as_reported=AsReportedAdam)

AS_REPORTED_RUNS = (
    replace(SGD_SPEC, label="SGD as reported (gradients / N again)", optimizer="sgd_as_reported"),
    replace(ADAM_SPEC, label="Adam + Kaiming as reported (gradients / N again, no bias correction, "
            "nn.Linear biases)", optimizer="adam_as_reported", default_bias=True),
)
#: Correct gradients, the same network, data and budget (batch 100, 2000 epochs), each with the lr it needs.
CORRECT_RUNS = (
    replace(SGD_SPEC, label="SGD, correct gradients, lr 0.002 (the stated lr)"),
    replace(SGD_SPEC, label="SGD, correct gradients, lr 2e-5 (= 0.002 / N: the step the report took)", lr=2e-5),
    replace(SGD_SPEC, label="SGD + momentum 0.9, correct gradients, x and y standardised", momentum=0.9,
            standardise="xy"),
    replace(ADAM_SPEC, label="Adam + Kaiming, correct (bias-corrected), nn.Linear biases", default_bias=True),
    replace(ADAM_SPEC, label="Adam + Kaiming, correct, nn.Linear biases, x standardised", default_bias=True,
            standardise="x"),
)


# ---- the lab ----

def fit_sine(runs: tuple[RunConfig, ...], data: dict, seeds: tuple[int, ...]) -> tuple[list[RunResult], dict]:
    """Train every run once per seed on ``data`` ({"train", "test"} -> (x, y)), evaluating every 5th epoch.

    Returns the results (metrics ``train_mse``, ``test_mse``, ``initial_test_mse``, all in y's units) and, for
    the first seed of each run, its predictor x -> y (for the figures)."""
    (X, y), (X_test, y_test) = data["train"], data["test"]
    results, predictors = [], {}
    for config in runs:
        sx = Standardiser.fit(X) if config.standardise in ("x", "xy") else Standardiser(0.0, 1.0)
        sy = Standardiser.fit(y) if config.standardise == "xy" else Standardiser(0.0, 1.0)
        for seed in seeds:
            net, history, seconds = train(config, sx(X), sy(y), seed, eval_sets={"test": (sx(X_test), sy(y_test))},
                                          eval_every=5)
            first = config.build(seed)[0]  # the same initial weights, to measure where training started
            predict = lambda x, net=net, sx=sx, sy=sy: sy.inverse(net(sx(x)))  # noqa: E731 (bound now, not at call)
            results.append(RunResult(config.label, seed, seconds, {
                "initial_test_mse": float(np.mean((sy.inverse(first(sx(X_test))) - y_test) ** 2)),
                "train_mse": float(np.mean((predict(X) - y) ** 2)),
                "test_mse": float(np.mean((predict(X_test) - y_test) ** 2)),
            }, {"epoch": np.array(history["epoch"]) + 1,
                "train_mse": np.array(history["train_loss"]) * sy.std**2,
                "test_mse": np.array(history["test_loss"]) * sy.std**2}))
            predictors.setdefault(config.label, predict)
    return results, predictors


def run_sine_lab(out_dir: str | Path | None = None, quick: bool = False, seeds: tuple[int, ...] = (0,),
                 runs: tuple[RunConfig, ...] = SINE_RUNS) -> LabResult:
    """Fit the sine (1000 training, 100 test points, make_sine seed 0) with each run, once per seed.

    ``quick`` trains 400 epochs instead of 2000. The figures show the first seed. Table ``"main"``.
    """
    data = make_sine()
    if quick:
        runs = with_epochs(runs, 400)
    results, predictors = fit_sine(runs, data, seeds)
    rows = [[r.label, _SCALED[c.standardise], r.seed, c.epochs, f"{r.metrics['initial_test_mse']:.1f}",
             f"{r.metrics['train_mse']:.3f}", f"{r.metrics['test_mse']:.3f}", SINE_REPORTED[c.optimizer],
             f"{r.seconds:.1f}"]
            for c in runs for r in results if r.label == c.label]
    table = markdown_table(["run (lr 0.002, batch 100, 1-16-16-16-16-1 ReLU)", "standardised", "seed", "epochs",
                            "initial test MSE", "final train MSE", "final test MSE", "report's test MSE",
                            "seconds"], rows, align_numbers=True)
    first_seed = [r for r in results if r.seed == seeds[0]]
    figures = {"sine_loss": _sine_loss_figure(first_seed), "sine_fit": _sine_fit_figure(predictors, *data["test"])}
    return LabResult(results, {"main": table}, figures,
                     settings=settings(list(runs), seeds=list(seeds), data="make_sine(1000, 100, seed=0)",
                                       eval="MSE over the whole set after each 5th epoch, final weights"),
                     reported=SINE_REPORTED).save(out_dir)


def run_sine_as_reported_lab(out_dir: str | Path | None = None, quick: bool = False,
                             seeds: tuple[int, ...] = (0, 1, 2, 3, 4)) -> LabResult:
    """The report's code as it ran (`AS_REPORTED_RUNS`) and correct-math runs (`CORRECT_RUNS`), all on the report's
    data (`make_sine_as_reported`) with the same network and budget, each over ``seeds`` (initial weights and
    batch order). ``quick`` trains 200 epochs. Table ``"as_reported"``: each run's test MSE per seed and their mean.
    """
    runs = AS_REPORTED_RUNS + CORRECT_RUNS
    if quick:
        runs = with_epochs(runs, 200)
    data = make_sine_as_reported()
    results, predictors = fit_sine(runs, data, seeds)
    rows = []
    for c in runs:
        mse = [r.metrics["test_mse"] for r in results if r.label == c.label]
        reported = SINE_REPORTED[c.optimizer.split("_")[0]] if c.optimizer.endswith("_as_reported") else ""
        rows.append([c.label, f"{c.lr:g}", _SCALED[c.standardise], c.epochs, " / ".join(f"{m:.3g}" for m in mse),
                     f"{np.mean(mse):.3g}", reported])
    table = markdown_table(["run (1-16-16-16-16-1 ReLU, batch 100)", "lr", "standardised", "epochs",
                            f"test MSE, seeds {', '.join(map(str, seeds))}", "mean", "report's test MSE"], rows, align_numbers=True)
    figures = {"sine_as_reported_fit": _sine_fit_figure(predictors, *data["test"])}
    return LabResult(results, {"as_reported": table}, figures,
                     settings=settings(list(runs), seeds=list(seeds),
                                       data="the report's: np.random.seed(42), x_train (1000, 1), x_test (100, 1)"),
                     reported=SINE_REPORTED).save(out_dir)


def _sine_loss_figure(results: list[RunResult]) -> Figure:
    fig = Figure(figsize=(12, 3.4 * math.ceil(len(results) / 2)), layout="constrained")
    axes = fig.subplots(math.ceil(len(results) / 2), 2, sharey=True, squeeze=False)
    for ax, r in zip(axes.flat, results):
        ax.semilogy(r.history["epoch"], r.history["train_mse"], label="train")
        ax.semilogy(r.history["epoch"], r.history["test_mse"], label="test", alpha=0.8)
        ax.set(title=wrap_title(f"{r.label}\nfinal test MSE {r.metrics['test_mse']:.3g}"), xlabel="epoch", ylabel="MSE")
        ax.grid(True, which="major", alpha=0.3)
    axes.flat[0].legend()
    return fig


def _sine_fit_figure(predictors: dict, X_test: np.ndarray, y_test: np.ndarray) -> Figure:
    grid = np.linspace(-2 * np.pi, 2 * np.pi, 1000)[:, None]
    fig = Figure(figsize=(12, 3.2 * math.ceil(len(predictors) / 2)), layout="constrained")
    axes = fig.subplots(math.ceil(len(predictors) / 2), 2, sharex=True, sharey=True, squeeze=False)
    for ax, (label, predict) in zip(axes.flat, predictors.items()):
        ax.plot(grid, sine_function(grid), color="0.6", lw=3, label="truth")
        ax.plot(grid, predict(grid), color="tab:red", lw=1.2, label="network")
        ax.scatter(X_test, y_test, s=8, color="k", zorder=3, label="test points")
        ax.set(title=wrap_title(label), xlabel="x", ylabel="y")
    for ax in axes.flat[len(predictors):]:
        fig.delaxes(ax)
    axes.flat[0].legend(loc="lower left", fontsize="small")
    return fig
