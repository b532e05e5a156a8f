"""Figures of the data sets. Each function returns a matplotlib `Figure` built without pyplot (so no global state,
no backend switch, no window): save it with `fig.savefig(path)`. A title says "SYNTHETIC" whenever the data is.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from .ocr_format import IMAGE_SHAPE, LETTERS

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


def _title(title: str, synthetic: bool, source: str | None) -> str:
    if synthetic:
        title = f"{title} - SYNTHETIC data"
    if source:
        title = f"{title}\n{short_paths(source)}"
    return wrap_title(title)


def wrap_title(title: str, width: int = 60) -> str:
    """``title`` with each line broken at ``width`` characters, so that it stays inside its figure or panel."""
    return "\n".join(textwrap.fill(line, width, break_on_hyphens=False) or line for line in title.split("\n"))


_ABSOLUTE = re.compile(r"(?<![\w.:/~-])/(?:[\w.+@-]+/){2,}[\w.+@-]*")


def short_paths(text: str) -> str:
    """Absolute paths cut to their last two parts (``/work/shared/data/ocr`` -> ``.../data/ocr``): a figure
    should not carry the directories of the machine that drew it."""
    return _ABSOLUTE.sub(lambda m: ".../" + "/".join(m.group(0).rstrip("/").split("/")[-2:]), text)


def ocr_samples_figure(
    X: np.ndarray,
    y: np.ndarray,
    *,
    n: int = 10,
    seed: int = 0,
    synthetic: bool = False,
    source: str | None = None,
    title: str = "OCR letters: random training samples",
    class_names: Sequence[str] = LETTERS,
) -> Figure:
    """`n` random rows of X (N, 128) as black-on-white 16x8 images, each titled with its letter.

    Args:
        X: (N, 128) pixels 0/1 (any numeric dtype).
        y: (N,) labels, indices into `class_names`.
        seed: which samples (a NumPy Generator seed).
        synthetic, source: stated in the title.
    """
    X, y = np.asarray(X), np.asarray(y).reshape(-1)
    pick = np.random.default_rng(seed).choice(len(X), size=min(n, len(X)), replace=False)
    cols = min(len(pick), 10)
    rows = -(-len(pick) // cols)
    fig = Figure(figsize=(1.0 * cols + 0.4, 2.0 * rows + 0.9), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, pick):
        ax.imshow(X[i].reshape(IMAGE_SHAPE), cmap="binary", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"'{class_names[int(y[i])]}'", fontsize=12)
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(_title(title, synthetic, source), fontsize=9 if source else 11)
    return fig


def scatter_1d_figure(
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    title: str,
    synthetic: bool = False,
    source: str | None = None,
    xlabel: str = "x",
    ylabel: str = "y",
) -> Figure:
    """The points (x, y) of each split, one colour per split, in one axes. Arrays of shape (N,) or (N, 1)."""
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    for (name, (x, y)), colour in zip(splits.items(), _COLOURS):
        x, y = np.asarray(x).reshape(-1), np.asarray(y).reshape(-1)
        ax.scatter(x, y, s=6, alpha=0.7, color=colour, label=f"{name} ({len(x)})", linewidths=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(markerscale=3)
    ax.set_title(_title(title, synthetic, source), fontsize=9 if source else 11)
    return fig


def points_2d_figure(
    X: np.ndarray,
    y: np.ndarray,
    *,
    title: str,
    synthetic: bool = False,
    source: str | None = None,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """2-D points X (N, 2) coloured by class y (N,) or (N, 1), integer or 0./1. labels."""
    X, y = np.asarray(X), np.asarray(y).reshape(-1).astype(np.int64)
    fig = Figure(figsize=(5.2, 5), layout="constrained")
    ax = fig.subplots()
    for k, colour in zip(np.unique(y), _COLOURS):
        name = class_names[k] if class_names is not None else f"class {k}"
        mask = y == k
        ax.scatter(X[mask, 0], X[mask, 1], s=40 if len(X) < 20 else 12, color=colour, label=f"{name} ({mask.sum()})",
                   edgecolors="black", linewidths=0.3)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.12)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(_title(title, synthetic, source), fontsize=9 if source else 11)
    return fig
