"""Figures of a training run: loss curves, a fitted 1-D curve, a 2-D decision boundary, predictions.

Each function returns a matplotlib ``Figure`` built without pyplot (no global state, no window), so
the same object goes to TensorBoard (``add_figure``) and to a PNG (``fig.savefig``). Titles say
"SYNTHETIC" when the data is. Data figures live in `course.datasets.plots`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from .datasets.plots import _COLOURS, _title


def loss_curves_figure(history: Sequence[Mapping[str, float]], set_names: Sequence[str], metric: str | None,
                       *, title: str, synthetic: bool = False) -> Figure:
    """Per-epoch loss (and ``metric``, e.g. "accuracy" or "rmse") of each evaluation set.

    ``history`` is a list of per-epoch dicts with keys ``"epoch"`` and ``"{set}/{loss|metric}"``."""
    epochs = [h["epoch"] + 1 for h in history]
    keys = ["loss"] + ([metric] if metric else [])
    fig = Figure(figsize=(5.5 * len(keys), 4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(keys)))
    for ax, key in zip(axes, keys):
        for name, colour in zip(set_names, _COLOURS):
            values = [h.get(f"{name}/{key}", np.nan) for h in history]
            ax.plot(epochs, values, color=colour, label=name, marker="o" if len(epochs) < 30 else None, ms=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        if key == "loss" and all(h.get(f"{n}/loss", 1) > 0 for h in history for n in set_names):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(_title(title, synthetic, None))
    return fig


def fit_curve_figure(splits: Mapping[str, tuple[np.ndarray, np.ndarray]], predict: Callable[[np.ndarray], np.ndarray],
                     *, title: str, synthetic: bool = False) -> Figure:
    """The points of each split and the network's curve over their whole x range (original units)."""
    fig = Figure(figsize=(7.5, 4.5), layout="constrained")
    ax = fig.subplots()
    lo = min(float(np.min(x)) for x, _ in splits.values())
    hi = max(float(np.max(x)) for x, _ in splits.values())
    for (name, (x, y)), colour in zip(splits.items(), _COLOURS):
        ax.scatter(np.ravel(x), np.ravel(y), s=5, alpha=0.5, color=colour, label=f"{name} ({len(x)})", linewidths=0)
    grid = np.linspace(lo, hi, 600)
    ax.plot(grid, np.ravel(predict(grid)), color="black", lw=2, label="network")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(alpha=0.3)
    ax.legend(markerscale=3)
    ax.set_title(_title(title, synthetic, None))
    return fig


def decision_boundary_figure(X: np.ndarray, y: np.ndarray, predict_proba: Callable[[np.ndarray], np.ndarray],
                             *, title: str, synthetic: bool = False, ax=None) -> Figure:
    """P(class 1) over the plane as a filled contour, the 0.5 boundary, and the points by class."""
    X, y = np.asarray(X), np.ravel(y).astype(int)
    if ax is None:
        fig = Figure(figsize=(5.2, 5), layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    pad = 0.5 + 0.05 * float(np.ptp(X))
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 250)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 250)
    gx, gy = np.meshgrid(xs, ys)
    p = np.reshape(predict_proba(np.column_stack([gx.ravel(), gy.ravel()])), gx.shape)
    ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    ax.contour(gx, gy, p, levels=[0.5], colors="black", linewidths=1.5)
    for k, colour in zip(np.unique(y), ("tab:blue", "tab:red")):
        m = y == k
        ax.scatter(X[m, 0], X[m, 1], s=40 if len(X) < 20 else 10, color=colour, edgecolors="black",
                   linewidths=0.3, label=f"class {k}")
    ax.set_aspect("equal", adjustable="box")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(_title(title, synthetic, None), fontsize=10)
    return fig


def predictions_figure(images: np.ndarray, true: np.ndarray, pred: np.ndarray, class_names: Sequence[str],
                       *, title: str, synthetic: bool = False, image_shape=(16, 8)) -> Figure:
    """Test images with their predicted and true labels (a wrong prediction is titled in red)."""
    n = len(images)
    fig = Figure(figsize=(1.3 * n + 0.5, 2.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    for ax, img, t, p in zip(axes, images, true, pred):
        ax.imshow(np.reshape(img, image_shape), cmap="binary", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ok = int(t) == int(p)
        ax.set_title(f"pred '{class_names[int(p)]}'\ntrue '{class_names[int(t)]}'", fontsize=10,
                     color="black" if ok else "tab:red")
    fig.suptitle(_title(title, synthetic, None), fontsize=11)
    return fig


def image_grid(images: np.ndarray, *, columns: int = 10, gap: int = 2, min_height: int = 64) -> np.ndarray:
    """``images`` (N, H, W), ink 1 on paper 0, as one (H', W') picture for TensorBoard: dark ink on white paper,
    each image scaled up by a whole factor (to at least ``min_height`` pixels: a 16x8 letter is otherwise a
    speck), ``gap`` paper-coloured pixels between images, and the last row's empty cells left as paper.
    (TensorBoard's own tiling of a batch puts no gap between images and fills empty cells with black.)"""
    images = np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0)
    n, h, w = images.shape
    scale = max(1, -(-min_height // h))
    gap *= scale
    cols = max(1, min(columns, n))
    rows = -(-n // cols)
    big_h, big_w = h * scale, w * scale
    grid = np.ones((rows * big_h + (rows + 1) * gap, cols * big_w + (cols + 1) * gap), dtype=np.float32)
    for k, image in enumerate(images):
        r, c = divmod(k, cols)
        top, left = gap + r * (big_h + gap), gap + c * (big_w + gap)
        grid[top:top + big_h, left:left + big_w] = 1.0 - np.kron(image, np.ones((scale, scale), np.float32))
    return grid
