"""Two small classification labs in NumPy only: XOR over seeds, and the planar flower against the hidden size.

The networks are `configs/xor.yaml`'s (2-2-2-1 sigmoid) and `configs/flower.yaml`'s (2-4-1 tanh, N(0, 0.01^2)
weights), read by `RunConfig.from_yaml`; the variants change one thing each.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from numpy_ops import Sequential, accuracy
from numpy_ops.train import History

from ..datasets.toy import make_flower, make_xor
from ..tables import markdown_table
from .runs import LabResult, RunConfig, RunResult, settings, train, with_epochs


def curves(history: History) -> dict[str, np.ndarray]:
    """A `History` as arrays, ``epoch`` counted from 1."""
    out = {key: np.array(history[key]) for key in history.records}
    out["epoch"] = out["epoch"] + 1
    return out


# ---- XOR ----

#: The handout's net and its fixes. Loss: MSE on the sigmoid output, as the handout does.
XOR_HANDOUT = RunConfig.from_yaml("xor", "2-2-2-1 sigmoid, lr 0.3 (handout)", 2, 1, output_activation="sigmoid",
                                  loss="mse", optimizer="sgd", batch_size=1, epochs=3001, lr=0.3)
XOR_RUNS = (
    XOR_HANDOUT,
    replace(XOR_HANDOUT, label="2-8-8-1 sigmoid, lr 0.3 (more units)", hidden_sizes=(8, 8)),
    replace(XOR_HANDOUT, label="2-2-2-1 sigmoid, lr 3 (larger lr)", lr=3.0),
    replace(XOR_HANDOUT, label="2-2-2-1 tanh, lr 0.3 (tanh hidden)", activation="tanh"),
)


def xor_solved(net: Sequential) -> bool:
    """All four XOR points on the right side of 0.5."""
    X, y = make_xor()
    return bool(np.all((net(X)[:, 0] > 0.5) == (y == 1)))


def run_xor_lab(out_dir: str | Path | None = None, quick: bool = False, seeds: tuple[int, ...] = tuple(range(20)),
                runs: tuple[RunConfig, ...] = XOR_RUNS) -> LabResult:
    """Per-example SGD on the four XOR points, each run over every seed (seed = init and shuffling).

    A run succeeds when all four outputs are on the correct side of 0.5 after training (metric ``solved``, 0 or 1;
    ``final_loss`` too). ``quick`` keeps the seeds but trains 600 epochs. Table ``"main"``.
    """
    X, labels = make_xor()
    y = labels[:, None].astype(np.float64)
    if quick:
        runs = with_epochs(runs, 600)
    results, seconds = [], {}
    for config in runs:
        start = time.perf_counter()
        for seed in seeds:
            net, history, took = train(config, X, y, seed, eval_every=10)
            results.append(RunResult(config.label, seed, took, {
                "solved": float(xor_solved(net)), "final_loss": history["train_loss"][-1]}, curves(history)))
        seconds[config.label] = time.perf_counter() - start
    solved = {c.label: int(sum(r.metrics["solved"] for r in results if r.label == c.label)) for c in runs}
    rows = []
    for c in runs:
        losses = [r.metrics["final_loss"] for r in results if r.label == c.label]
        rows.append([c.label, c.epochs, f"{solved[c.label]}/{len(seeds)}", f"{losses[0]:.4f}",
                     f"{np.median(losses):.4f}", f"{seconds[c.label]:.1f}"])
    table = markdown_table(["run (MSE on sigmoid output, batch 1)", "epochs", "solved", f"final loss, seed {seeds[0]}",
                            "median final loss", "seconds (all seeds)"], rows, align_numbers=True)
    figures = {"xor_loss": _xor_figure(results, solved, len(seeds))}
    return LabResult(results, {"main": table}, figures,
                     settings=settings(list(runs), seeds=list(seeds),
                                       success="all 4 outputs on the right side of 0.5")).save(out_dir)


def _xor_figure(results: list[RunResult], solved: dict[str, int], n_seeds: int) -> Figure:
    fig = Figure(figsize=(12, 3.4 * math.ceil(len(solved) / 2)), layout="constrained")
    axes = fig.subplots(math.ceil(len(solved) / 2), 2, sharey=True, squeeze=False)
    for ax, label in zip(axes.flat, solved):
        for i, r in enumerate(r for r in results if r.label == label):
            ax.plot(r.history["epoch"], r.history["train_loss"], color="tab:blue" if i else "tab:red",
                    lw=1.8 if i == 0 else 0.8, alpha=1 if i == 0 else 0.35, zorder=3 if i == 0 else 2)
        ax.set(title=f"{label}: solved {solved[label]}/{n_seeds}", xlabel="epoch", ylabel="MSE", yscale="log")
    axes.flat[0].plot([], [], color="tab:red", label="first seed")
    axes.flat[0].plot([], [], color="tab:blue", alpha=0.5, label="other seeds")
    axes.flat[0].legend(loc="lower left", fontsize="small")
    return fig


# ---- the planar flower ----

FLOWER_HIDDEN = (1, 2, 3, 4, 5, 10, 20)
#: The lab's 2-h-1 net: tanh hidden, sigmoid output with binary cross-entropy (taken from the logit, which is the
#: same function), weights N(0, 0.01^2), zero biases, full-batch gradient descent.
FLOWER_RUN = RunConfig.from_yaml("flower", "2-4-1 tanh, BCE, GD lr 1.2", 2, 1, normal_std=0.01, optimizer="sgd",
                                 lr=1.2, batch_size=0, epochs=10000, loss="bce_with_logits")


def flower_label(h: int) -> str:
    return f"2-{h}-1"


def run_flower_lab(out_dir: str | Path | None = None, quick: bool = False, seed: int = 0,
                   hidden_sizes: tuple[int, ...] = FLOWER_HIDDEN) -> LabResult:
    """The 2-h-1 classifier on the 400 flower points (make_flower seed 1), for each hidden size h.

    Every size gets the full 10000 iterations; ``quick`` keeps only sizes 1, 2 and 4. Runs are labelled
    ``flower_label(h)`` ("2-4-1") with metrics ``accuracy`` (training set) and ``final_loss`` (BCE). Table ``"main"``.
    """
    X, labels = make_flower()
    y = labels[:, None].astype(np.float64)
    if quick:
        hidden_sizes = tuple(h for h in hidden_sizes if h in (1, 2, 4))
    configs = [replace(FLOWER_RUN, label=flower_label(h), hidden_sizes=(h,)) for h in hidden_sizes]
    results, nets = [], {}
    for h, config in zip(hidden_sizes, configs):
        nets[h], history, took = train(config, X, y, seed, metric=accuracy, eval_every=100)
        results.append(RunResult(config.label, seed, took, {"accuracy": history["train_metric"][-1],
                                                            "final_loss": history["train_loss"][-1]},
                                 curves(history)))
    acc = {h: r.metrics["accuracy"] for h, r in zip(hidden_sizes, results)}
    table = markdown_table(["hidden units", "train accuracy", "final BCE", "iterations", "seconds"],
                           [[h, f"{100 * acc[h]:.2f}%", f"{r.metrics['final_loss']:.4f}", configs[0].epochs,
                             f"{r.seconds:.1f}"] for h, r in zip(hidden_sizes, results)], align_numbers=True)
    figures = {"flower_boundaries": _boundary_figure(nets, acc, X, labels),
               "flower_loss": _flower_loss_figure(dict(zip(hidden_sizes, results)))}
    return LabResult(results, {"main": table}, figures,
                     settings=settings(configs, seed=seed, data="make_flower(400, seed=1)",
                                       accuracy="training set, final weights")).save(out_dir)


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


def _flower_loss_figure(results: dict[int, RunResult]) -> Figure:
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    for h, r in results.items():
        ax.plot(r.history["epoch"], r.history["train_loss"], label=f"{h} hidden")
    ax.set(xlabel="iteration", ylabel="BCE (training set)", yscale="log", title="Flower: full-batch gradient descent")
    ax.legend(fontsize="small", ncol=2)
    return fig
