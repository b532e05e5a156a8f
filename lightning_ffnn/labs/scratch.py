"""The from-scratch network experiments: sine regression, XOR, the planar flower, MNIST multilayer perceptrons.

Pure NumPy + matplotlib (no torch): every network is a `numpy_ops.mlp` trained by `numpy_ops.train.fit`. Each
``run_*_lab(out_dir=None, quick=False, ...)`` returns its numbers, Markdown tables (strings), matplotlib Figures
(built without pyplot) and the settings that produced them; with ``out_dir`` it also saves the figures as PNG.
``quick=True`` cuts the budget to seconds, for tests. From the repository root::

    python -m lightning_ffnn.labs.scratch reports/scratch            # full budgets
    python -m lightning_ffnn.labs.scratch reports/scratch --quick    # CI-sized

Every run is one `RunConfig` (network, initialisation, optimiser, budget), so a lab is a list of configs and one
training function; ``settings`` in each result lists the configs as plain dicts for the report.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from numpy_ops import LOSSES, OPTIMIZERS, Sequential, accuracy, fit, mlp
from numpy_ops.train import History

from ..datasets.errors import DataError
from ..datasets.idx import load_mnist
from ..datasets.toy import make_flower, make_sine, make_xor, sine_function
from .classic import _save, markdown_table

# ---- one run: network, initialisation, optimiser, budget ----


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run except the data and the seed.

    ``init`` is a `numpy_ops.init.init_linear` scheme; its non-default schemes set biases to zero, and
    ``default_bias=True`` redraws them as ``nn.Linear`` does, U(-1/sqrt(in), 1/sqrt(in)) -- what torch leaves when
    only ``nn.init.kaiming_uniform_(layer.weight)`` is called. ``batch_size=0`` is full-batch gradient descent.
    ``loss`` names a `numpy_ops.losses.LOSSES` entry; the network's last layer feeds it directly.
    ``standardise`` ("none", "x", "xy") applies to regression only: inputs (and targets) are shifted and scaled by
    the training set's mean and std, and errors are reported back in the original units.
    """

    label: str
    sizes: tuple[int, ...]
    activation: str = "relu"
    output_activation: str | None = None
    init: str = "torch_default"
    normal_std: float = 0.01
    default_bias: bool = False
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    batch_size: int = 0
    epochs: int = 1
    loss: str = "mse"
    standardise: str = "none"
    dtype: str = "float64"

    def build(self, seed: int) -> tuple[Sequential, Any]:
        """The network (initialised from ``default_rng(seed)``) and its optimiser."""
        rng = np.random.default_rng(seed)
        net = mlp(self.sizes, self.activation, rng=rng, init=self.init, output_activation=self.output_activation,
                  dtype=np.dtype(self.dtype), normal_std=self.normal_std)
        if self.default_bias:
            for layer in net.layers:
                if "weight" in layer.params:
                    out_features, in_features = layer.params["weight"].shape
                    bound = 1.0 / math.sqrt(in_features)
                    layer.params["bias"][...] = rng.uniform(-bound, bound, out_features)
        kwargs = {"momentum": self.momentum} if self.optimizer == "sgd" else {}
        return net, OPTIMIZERS[self.optimizer](net.parameters(), lr=self.lr, **kwargs)


def train(config: RunConfig, X: np.ndarray, y: np.ndarray, seed: int = 0, metric=None,
          eval_sets: dict | None = None, eval_every: int = 1) -> tuple[Sequential, History, float]:
    """Build ``config`` with ``seed``, train it on (X, y) (shuffled with the same seed); return the network, its
    `History` and the seconds it took."""
    net, optimizer = config.build(seed)
    batch = config.batch_size or X.shape[0]
    start = time.perf_counter()
    history = fit(net, LOSSES[config.loss], optimizer, X, y, config.epochs, batch, shuffle=batch < X.shape[0],
                  seed=seed, metric=metric, eval_sets=eval_sets, eval_every=eval_every)
    return net, history, time.perf_counter() - start


def settings(configs: list[RunConfig], **extra: Any) -> dict[str, Any]:
    """The configs as plain dicts (for a report), plus any lab-level settings."""
    return {"runs": [asdict(c) for c in configs], **extra}


# ---- sine regression ----

SINE_SIZES = (1, 16, 16, 16, 16, 1)
_SINE = dict(sizes=SINE_SIZES, activation="relu", lr=0.002, batch_size=100, epochs=2000, loss="mse")
#: The report's two runs exactly as specified (raw x and y), then the variants that beat its numbers.
SINE_RUNS = (
    RunConfig("SGD, default init (spec)", optimizer="sgd", init="torch_default", **_SINE),
    RunConfig("Adam, Kaiming-uniform, zero biases (spec)", optimizer="adam", init="kaiming_uniform", **_SINE),
    RunConfig("SGD + momentum 0.9, default init, x and y standardised", optimizer="sgd", momentum=0.9,
              init="torch_default", standardise="xy", **_SINE),
    RunConfig("Adam, Kaiming-uniform, nn.Linear biases, x standardised", optimizer="adam", init="kaiming_uniform",
              default_bias=True, standardise="x", **_SINE),
)
#: Test MSE reached by the report this lab comes from.
SINE_REPORTED = {"sgd": 34.5, "adam": 0.59}


def run_sine_lab(out_dir: str | Path | None = None, quick: bool = False, seeds: tuple[int, ...] = (0,),
                 runs: tuple[RunConfig, ...] = SINE_RUNS) -> dict[str, Any]:
    """Fit y = 24 sin(3.2x) + 42 cos(2.3x) (1000 training, 100 test points, make_sine seed 0) with each run.

    ``quick`` trains 400 epochs instead of 2000. Every run is trained once per seed; the figures show the first seed.

    Returns:
        ``{"results": [{"label", "seed", "train_mse", "test_mse", "initial_test_mse", "seconds", "history"}],
        "table": Markdown str, "figures", "paths", "settings", "reported": SINE_REPORTED}``. MSEs are in the
        original units of y whatever the standardisation; ``history`` holds per-epoch MSEs in those units too.
    """
    data = make_sine()
    (X, y), (X_test, y_test) = data["train"], data["test"]
    if quick:
        runs = tuple(replace(r, epochs=400) for r in runs)
    results, nets = [], {}
    for config in runs:
        x_mean, x_std = (X.mean(), X.std()) if config.standardise in ("x", "xy") else (0.0, 1.0)
        y_mean, y_std = (y.mean(), y.std()) if config.standardise == "xy" else (0.0, 1.0)
        scaled = {"test": ((X_test - x_mean) / x_std, (y_test - y_mean) / y_std)}
        for seed in seeds:
            net, history, seconds = train(config, (X - x_mean) / x_std, (y - y_mean) / y_std, seed,
                                          eval_sets=scaled, eval_every=5)
            first = config.build(seed)[0]  # the same initial weights, to measure where training started
            initial = float(np.mean((first((X_test - x_mean) / x_std) * y_std + y_mean - y_test) ** 2))
            predict = lambda x, net=net: net((x - x_mean) / x_std) * y_std + y_mean  # noqa: E731
            results.append({
                "label": config.label, "seed": seed, "seconds": seconds, "initial_test_mse": initial,
                "train_mse": float(np.mean((predict(X) - y) ** 2)),
                "test_mse": float(np.mean((predict(X_test) - y_test) ** 2)),
                "history": {"epoch": np.array(history["epoch"]) + 1,
                            "train_mse": np.array(history["train_loss"]) * y_std**2,
                            "test_mse": np.array(history["test_loss"]) * y_std**2},
            })
            nets.setdefault(config.label, predict)
    rows = [[r["label"], {"none": "raw", "x": "x", "xy": "x and y"}[c.standardise], r["seed"], c.epochs,
             f"{r['initial_test_mse']:.1f}", f"{r['train_mse']:.3f}", f"{r['test_mse']:.3f}",
             SINE_REPORTED[c.optimizer], f"{r['seconds']:.1f}"]
            for c in runs for r in results if r["label"] == c.label]
    table = markdown_table(["run (lr 0.002, batch 100, 1-16-16-16-16-1 ReLU)", "standardised", "seed", "epochs",
                            "initial test MSE", "final train MSE", "final test MSE", "report's test MSE",
                            "seconds"], rows)
    first_seed = [r for r in results if r["seed"] == seeds[0]]
    figures = {"sine_loss": _sine_loss_figure(first_seed), "sine_fit": _sine_fit_figure(nets, X_test, y_test)}
    return {"results": results, "table": table, "figures": figures, "paths": _save(figures, out_dir),
            "settings": settings(list(runs), seeds=list(seeds), data="make_sine(1000, 100, seed=0)",
                                 eval="MSE over the whole set after each 5th epoch, final weights"),
            "reported": SINE_REPORTED}


def _sine_loss_figure(results: list[dict]) -> Figure:
    fig = Figure(figsize=(12, 3.4 * math.ceil(len(results) / 2)), layout="constrained")
    axes = fig.subplots(math.ceil(len(results) / 2), 2, sharey=True, squeeze=False)
    for ax, r in zip(axes.flat, results):
        h = r["history"]
        ax.semilogy(h["epoch"], h["train_mse"], label="train")
        ax.semilogy(h["epoch"], h["test_mse"], label="test", alpha=0.8)
        ax.set(title=f"{r['label']}\nfinal test MSE {r['test_mse']:.3g}", xlabel="epoch", ylabel="MSE")
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
        ax.set(title=label, xlabel="x", ylabel="y")
    axes.flat[0].legend(loc="lower left", fontsize="small")
    return fig


# ---- XOR ----

#: The handout's net and its fixes. Loss: MSE on the sigmoid output, as the handout does.
_XOR = dict(output_activation="sigmoid", loss="mse", batch_size=1, epochs=3001, lr=0.3)
XOR_RUNS = (
    RunConfig("2-2-2-1 sigmoid, lr 0.3 (handout)", sizes=(2, 2, 2, 1), activation="sigmoid", **_XOR),
    RunConfig("2-8-8-1 sigmoid, lr 0.3 (more units)", sizes=(2, 8, 8, 1), activation="sigmoid", **_XOR),
    RunConfig("2-2-2-1 sigmoid, lr 3 (larger lr)", sizes=(2, 2, 2, 1), activation="sigmoid",
              **{**_XOR, "lr": 3.0}),
    RunConfig("2-2-2-1 tanh, lr 0.3 (tanh hidden)", sizes=(2, 2, 2, 1), activation="tanh", **_XOR),
)


def xor_solved(net: Sequential) -> bool:
    """All four XOR points on the right side of 0.5."""
    X, y = make_xor()
    return bool(np.all((net(X)[:, 0] > 0.5) == (y == 1)))


def run_xor_lab(out_dir: str | Path | None = None, quick: bool = False, seeds: tuple[int, ...] = tuple(range(20)),
                runs: tuple[RunConfig, ...] = XOR_RUNS) -> dict[str, Any]:
    """Per-example SGD on the four XOR points, each run over every seed (seed = init and shuffling).

    A run succeeds when all four outputs are on the correct side of 0.5 after training. ``quick`` keeps the 20 seeds
    but trains 600 epochs.

    Returns:
        ``{"success": {label: successes}, "n_seeds", "final_loss": {label: [per seed]}, "table", "figures",
        "paths", "settings"}``.
    """
    X, labels = make_xor()
    y = labels[:, None].astype(np.float64)
    if quick:
        runs = tuple(replace(r, epochs=600) for r in runs)
    success, final_loss, curves, seconds = {}, {}, {}, {}
    for config in runs:
        success[config.label], final_loss[config.label], curves[config.label] = 0, [], []
        start = time.perf_counter()
        for seed in seeds:
            net, history, _ = train(config, X, y, seed, eval_every=10)
            success[config.label] += xor_solved(net)
            final_loss[config.label].append(history["train_loss"][-1])
            curves[config.label].append((np.array(history["epoch"]) + 1, np.array(history["train_loss"])))
        seconds[config.label] = time.perf_counter() - start
    rows = [[c.label, c.epochs, f"{success[c.label]}/{len(seeds)}", f"{final_loss[c.label][0]:.4f}",
             f"{np.median(final_loss[c.label]):.4f}", f"{seconds[c.label]:.1f}"] for c in runs]
    table = markdown_table(["run (MSE on sigmoid output, batch 1)", "epochs", "solved", f"final loss, seed {seeds[0]}",
                            "median final loss", "seconds (all seeds)"], rows)
    figures = {"xor_loss": _xor_figure(curves, success, len(seeds))}
    return {"success": success, "n_seeds": len(seeds), "final_loss": final_loss, "table": table,
            "figures": figures, "paths": _save(figures, out_dir),
            "settings": settings(list(runs), seeds=list(seeds), success="all 4 outputs on the right side of 0.5")}


def _xor_figure(curves: dict, success: dict, n_seeds: int) -> Figure:
    fig = Figure(figsize=(12, 3.4 * math.ceil(len(curves) / 2)), layout="constrained")
    axes = fig.subplots(math.ceil(len(curves) / 2), 2, sharey=True, squeeze=False)
    for ax, (label, runs) in zip(axes.flat, curves.items()):
        for i, (epoch, loss) in enumerate(runs):
            ax.plot(epoch, loss, color="tab:blue" if i else "tab:red", lw=1.8 if i == 0 else 0.8,
                    alpha=1 if i == 0 else 0.35, zorder=3 if i == 0 else 2)
        ax.set(title=f"{label}: solved {success[label]}/{n_seeds}", xlabel="epoch", ylabel="MSE", yscale="log")
    axes.flat[0].plot([], [], color="tab:red", label="first seed")
    axes.flat[0].plot([], [], color="tab:blue", alpha=0.5, label="other seeds")
    axes.flat[0].legend(loc="lower left", fontsize="small")
    return fig


# ---- the planar flower ----

FLOWER_HIDDEN = (1, 2, 3, 4, 5, 10, 20)
#: The lab's 2-h-1 net: tanh hidden, sigmoid output with binary cross-entropy (taken from the logit, which is the
#: same function), weights N(0, 0.01^2), zero biases, full-batch gradient descent.
FLOWER_RUN = RunConfig("2-4-1 tanh, BCE, GD lr 1.2", sizes=(2, 4, 1), activation="tanh", init="normal",
                       normal_std=0.01, optimizer="sgd", lr=1.2, batch_size=0, epochs=10000, loss="bce_with_logits")


def run_flower_lab(out_dir: str | Path | None = None, quick: bool = False, seed: int = 0,
                   hidden_sizes: tuple[int, ...] = FLOWER_HIDDEN) -> dict[str, Any]:
    """The 2-h-1 classifier on the 400 flower points (make_flower seed 1), for each hidden size h.

    Every size gets the full 10000 iterations; ``quick`` keeps only sizes 1, 2 and 4.

    Returns:
        ``{"accuracy": {h: train accuracy}, "final_loss": {h: BCE}, "history": {h: History}, "seconds": {h: s},
        "table", "figures": {"flower_boundaries", "flower_loss"}, "paths", "settings"}``.
    """
    X, labels = make_flower()
    y = labels[:, None].astype(np.float64)
    if quick:
        hidden_sizes = tuple(h for h in hidden_sizes if h in (1, 2, 4))
    configs = [replace(FLOWER_RUN, label=f"2-{h}-1", sizes=(2, h, 1)) for h in hidden_sizes]
    nets, acc, loss, histories, seconds = {}, {}, {}, {}, {}
    for h, config in zip(hidden_sizes, configs):
        nets[h], histories[h], seconds[h] = train(config, X, y, seed, metric=accuracy, eval_every=100)
        acc[h], loss[h] = histories[h]["train_metric"][-1], histories[h]["train_loss"][-1]
    table = markdown_table(["hidden units", "train accuracy", "final BCE", "iterations", "seconds"],
                           [[h, f"{100 * acc[h]:.2f}%", f"{loss[h]:.4f}", configs[0].epochs, f"{seconds[h]:.1f}"]
                            for h in hidden_sizes])
    figures = {"flower_boundaries": _boundary_figure(nets, acc, X, labels),
               "flower_loss": _flower_loss_figure(histories)}
    return {"accuracy": acc, "final_loss": loss, "history": histories, "seconds": seconds, "table": table,
            "figures": figures, "paths": _save(figures, out_dir),
            "settings": settings(configs, seed=seed, data="make_flower(400, seed=1)",
                                 accuracy="training set, final weights")}


def _boundary_figure(nets: dict, acc: dict, X: np.ndarray, labels: np.ndarray) -> Figure:
    lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], 250), np.linspace(lo[1], hi[1], 250))
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    cols = min(4, len(nets))
    rows = math.ceil(len(nets) / cols)
    fig = Figure(figsize=(3.6 * cols, 3.4 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (h, net) in zip(axes.flat, nets.items()):
        ax.contourf(g1, g2, (net(grid)[:, 0] > 0).reshape(g1.shape), levels=[-0.5, 0.5, 1.5],
                    colors=["#f4b6b6", "#b6cdf4"])
        ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="bwr_r", s=8, edgecolors="k", linewidths=0.2)
        ax.set(title=f"{h} hidden: {100 * acc[h]:.1f}%", xticks=[], yticks=[])
    for ax in axes.flat[len(nets):]:
        fig.delaxes(ax)
    return fig


def _flower_loss_figure(histories: dict) -> Figure:
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    for h, hist in histories.items():
        ax.plot(np.array(hist["epoch"]) + 1, hist["train_loss"], label=f"{h} hidden")
    ax.set(xlabel="iteration", ylabel="BCE (training set)", yscale="log", title="Flower: full-batch gradient descent")
    ax.legend(fontsize="small", ncol=2)
    return fig


# ---- MNIST / Fashion-MNIST ----

#: Test accuracy reported elsewhere for the two report MLPs on MNIST.
MNIST_REPORTED = {"784-16-16-16-16-10 ReLU, Adam": 0.9413, "784-256-256-10 ReLU, SGD": 0.926}
MNIST_REPORT_RUNS = (
    RunConfig("784-16-16-16-16-10 ReLU, Adam", sizes=(784, 16, 16, 16, 16, 10), activation="relu",
              optimizer="adam", lr=1e-3, batch_size=64, epochs=30, loss="softmax_cross_entropy", dtype="float32"),
    RunConfig("784-256-256-10 ReLU, SGD", sizes=(784, 256, 256, 10), activation="relu", optimizer="sgd", lr=0.1,
              batch_size=64, epochs=4, loss="softmax_cross_entropy", dtype="float32"),
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


def mnist_exercise_runs() -> tuple[RunConfig, ...]:
    return tuple(RunConfig(f"784-28-10 {act}, {name}", sizes=(784, 28, 10), activation=act,
                           loss="softmax_cross_entropy", dtype="float32", **opt)
                 for act in MNIST_EXERCISE_ACTIVATIONS for name, opt in MNIST_EXERCISE_OPTIMISERS.items())


def run_mnist_lab(out_dir: str | Path | None = None, quick: bool = False, kind: str = "mnist",
                  data_dir: str | Path | None = None, seed: int = 0) -> dict[str, Any]:
    """The report MLPs and the [784, 28, 10] exercise on MNIST (``kind="mnist"``) or Fashion-MNIST (``"fashion"``).

    Pixels are scaled to [0, 1] and flattened; float32 throughout. ``quick`` trains on the first 5000 training
    images for 2 epochs (GD: 10 steps) and tests on the first 1000 test images.
    Without the data files, returns ``{"skipped": "skipped: <how to get them>"}`` and trains nothing.

    Returns:
        ``{"accuracy": {label: test accuracy}, "history": {label: History}, "seconds": {label: s},
        "tables": {"report", "exercise"}, "figures": {"<kind>_curves"}, "paths", "settings", "reported"}``.
    """
    try:
        data = load_mnist(kind, data_dir)
    except DataError as err:
        return {"skipped": f"skipped: {err}", "tables": {}, "figures": {}, "paths": {}}
    (X, y), (X_test, y_test) = [(im.reshape(len(im), -1).astype(np.float32) / 255, lab)
                                for im, lab in (data["train"], data["test"])]
    runs = MNIST_REPORT_RUNS + mnist_exercise_runs()
    if quick:
        X, y, X_test, y_test = X[:5000], y[:5000], X_test[:1000], y_test[:1000]
        runs = tuple(replace(r, epochs=10 if r.batch_size == 0 else 2) for r in runs)
    acc, histories, seconds = {}, {}, {}
    for config in runs:
        every = max(1, config.epochs // 20) if config.batch_size == 0 else 1
        _, histories[config.label], seconds[config.label] = train(
            config, X, y, seed, metric=accuracy, eval_sets={"test": (X_test, y_test)}, eval_every=every)
        acc[config.label] = histories[config.label]["test_metric"][-1]
    report_rows = [[c.label, f"{c.optimizer} lr {c.lr:g}, batch {c.batch_size}", c.epochs,
                    f"{100 * histories[c.label]['train_metric'][-1]:.2f}%", f"{100 * acc[c.label]:.2f}%",
                    f"{100 * MNIST_REPORTED[c.label]:.2f}%" if kind == "mnist" else "-", f"{seconds[c.label]:.0f}"]
                   for c in runs[:len(MNIST_REPORT_RUNS)]]
    exercise = {c.label: c for c in runs[len(MNIST_REPORT_RUNS):]}
    exercise_rows = [[act] + [f"{100 * acc[f'784-28-10 {act}, {name}']:.2f}%" for name in MNIST_EXERCISE_OPTIMISERS]
                     for act in MNIST_EXERCISE_ACTIVATIONS]
    budgets = ", ".join(f"{name}: {exercise[f'784-28-10 relu, {name}'].epochs} "
                        f"{'steps' if opt['batch_size'] == 0 else 'epochs'} lr {opt['lr']:g}"
                        for name, opt in MNIST_EXERCISE_OPTIMISERS.items())
    tables = {
        "report": markdown_table(["network", "optimiser", "epochs", "train accuracy", "test accuracy",
                                  "reported test accuracy", "seconds"], report_rows),
        "exercise": markdown_table([f"784-28-10 test accuracy ({budgets})", *MNIST_EXERCISE_OPTIMISERS],
                                   exercise_rows),
    }
    figures = {f"{kind}_curves": _mnist_figure(histories, runs)}
    return {"accuracy": acc, "history": histories, "seconds": seconds, "tables": tables, "figures": figures,
            "paths": _save(figures, out_dir), "reported": MNIST_REPORTED if kind == "mnist" else {},
            "settings": settings(list(runs), kind=kind, seed=seed, n_train=len(X), n_test=len(X_test),
                                 inputs="pixels / 255, flattened")}


def _mnist_figure(histories: dict, runs: tuple[RunConfig, ...]) -> Figure:
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    ax_report, ax_ex = fig.subplots(1, 2, sharey=True)
    for config in runs:
        h = histories[config.label]
        ax = ax_ex if config.sizes == (784, 28, 10) else ax_report
        ax.plot(np.array(h["epoch"]) + 1, h["test_metric"], "o-" if len(h["epoch"]) < 30 else "-",
                ms=3, label=config.label)
    ax_report.set(title="report MLPs", xlabel="epoch", ylabel="test accuracy")
    ax_ex.set(title="784-28-10 (GD: x = full-batch steps)", xlabel="epoch", xscale="log")
    for ax in (ax_report, ax_ex):
        ax.legend(fontsize="x-small")
    return fig


# ---- command line ----

def main() -> None:
    parser = argparse.ArgumentParser(description="From-scratch NumPy experiments: sine, XOR, flower, MNIST.")
    parser.add_argument("out_dir", type=Path, help="folder for the PNG figures")
    parser.add_argument("--quick", action="store_true", help="CI-sized budgets")
    parser.add_argument("--only", nargs="*", default=["sine", "xor", "flower", "mnist", "fashion"])
    args = parser.parse_args()
    labs = {"sine": run_sine_lab, "xor": run_xor_lab, "flower": run_flower_lab,
            "mnist": lambda out, quick: run_mnist_lab(out, quick, kind="mnist"),
            "fashion": lambda out, quick: run_mnist_lab(out, quick, kind="fashion")}
    for name in args.only:
        start = time.perf_counter()
        out = labs[name](args.out_dir, args.quick)
        print(f"## {name} ({time.perf_counter() - start:.1f} s)\n")
        if "skipped" in out:
            print(out["skipped"] + "\n")
        for table in [out["table"]] if "table" in out else out["tables"].values():
            print(table + "\n")
        for path in out["paths"].values():
            print(f"saved {path}")


if __name__ == "__main__":
    main()
