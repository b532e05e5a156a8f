"""The classic labs before backprop: the perceptron, polynomial curve fitting, activation functions.

Pure NumPy + matplotlib (no torch). Each ``run_*_lab(out_dir)`` returns its numbers, Markdown
tables as strings and matplotlib Figures, and, when ``out_dir`` is given, saves the figures
there as PNG. Figures are built with ``matplotlib.figure.Figure`` rather than pyplot, so nothing
depends on a display or on pyplot's global state. From the repository root::

    python -m course.labs.classic reports/classic     # prints the tables, saves the PNGs
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from numpy_ops import perceptron, polyfit

from ..tables import markdown_table
from ..threads import limit_blas_threads
from .runs import save_figures

# ---- perceptron ----

#: The lecture's example: two points of class -1 and two of class +1.
LECTURE_X = np.array([[3.0, -3.0], [4.0, -3.0], [1.0, 1.0], [1.0, 2.0]])
LECTURE_Y = np.array([-1, -1, 1, 1])
#: XOR with labels in {-1, +1}: no line separates the classes.
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([-1, 1, 1, -1])


def perceptron_figure(X: np.ndarray, y: np.ndarray, result: perceptron.PerceptronResult, title: str) -> Figure:
    """Left: the samples and the final line w . x + b = 0. Right: mistakes in each epoch."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax, ax_err = fig.subplots(1, 2)
    for label, marker, color in ((1, "o", "tab:blue"), (-1, "x", "tab:red")):
        pts = X[y == label]
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, color=color, s=80, label=f"y = {label:+d}")
    lo, hi = X.min(axis=0) - 1.0, X.max(axis=0) + 1.0
    w, b = result.w, result.b
    if abs(w[1]) > 1e-12:  # x2 = -(w1 x1 + b) / w2
        x1 = np.linspace(lo[0], hi[0], 2)
        ax.plot(x1, -(w[0] * x1 + b) / w[1], "k-", label="w . x + b = 0")
    elif abs(w[0]) > 1e-12:  # a vertical line x1 = -b / w1
        ax.axvline(-b / w[0], color="k", label="w . x + b = 0")
    else:
        ax.text(0.5, 0.5, "w = 0: no line", transform=ax.transAxes, ha="center")
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel="$x_1$", ylabel="$x_2$",
           title=f"{title}: w = {np.array2string(w, precision=2)}, b = {b:.2f}")
    ax.legend(loc="best")
    epochs = np.arange(1, result.epochs + 1)
    ax_err.plot(epochs, result.mistakes_per_epoch, "o-" if result.epochs < 30 else "-")
    ax_err.set(xlabel="epoch", ylabel="mistakes", ylim=(-0.2, len(y) + 0.2),
               title=f"{'converged' if result.converged else 'not converged'} after {result.epochs} epochs, "
                     f"{result.n_updates} updates")
    return fig


def run_perceptron_lab(out_dir: str | Path | None = None, max_epochs: int = 100) -> dict[str, Any]:
    """The perceptron on the lecture's 4 points (converges) and on XOR (stops at ``max_epochs``).

    Returns:
        ``{"lecture": PerceptronResult, "xor": PerceptronResult, "table": Markdown str,
        "figures": {name: Figure}, "paths": {name: Path}}`` (``paths`` empty without ``out_dir``).
    """
    results = {"lecture": perceptron.fit_perceptron(LECTURE_X, LECTURE_Y, max_epochs=max_epochs),
               "xor": perceptron.fit_perceptron(XOR_X, XOR_Y, max_epochs=max_epochs)}
    data = {"lecture": (LECTURE_X, LECTURE_Y, "lecture example"), "xor": (XOR_X, XOR_Y, "XOR")}
    rows = []
    for key, r in results.items():
        X, y, title = data[key]
        accuracy = np.mean(perceptron.predict(X, r.w, r.b) == y)
        rows.append([title, "yes" if r.converged else f"no (cap {max_epochs} epochs)", r.epochs, r.n_updates,
                     np.array2string(r.w, precision=2), f"{r.b:.2f}", min(r.mistakes_per_epoch), f"{accuracy:.2f}"])
    table = markdown_table(["data", "converged", "epochs", "updates", "w", "b",
                            "fewest mistakes in an epoch", "final accuracy"], rows, align_numbers=True)
    figures = {f"perceptron_{key}": perceptron_figure(*data[key][:2], results[key], data[key][2])
               for key in results}
    return {**results, "table": table, "figures": figures, "paths": save_figures(figures, out_dir)}


# ---- polynomial curve fitting ----

ORDERS = (0, 1, 3, 9)
LN_LAMBDAS = (-18.0, 0.0)


def run_polyfit_lab(out_dir: str | Path | None = None, seed: int = 0, n_train: int = 10, n_test: int = 100,
                    noise_std: float = 0.3) -> dict[str, Any]:
    """Bishop's curve-fitting example: orders 0, 1, 3, 9, then ridge on M = 9.

    The training set is ``n_train`` evenly spaced points (seed ``seed``), the test set ``n_test``
    random points (seed ``seed + 1``), both sin(2 pi x) plus Gaussian noise of std ``noise_std``.

    Returns:
        ``{"coefficients": {M: w}, "ridge": {ln_lambda: w} (M = 9; None is lambda = 0),
        "rms": {label: (train, test)}, "rms_by_order": (orders, train, test),
        "tables": {"coefficients", "ridge", "rms": Markdown str}, "figures", "paths"}``.
    """
    x, t = polyfit.sin_data(n_train, noise_std, seed)
    x_test, t_test = polyfit.sin_data(n_test, noise_std, seed + 1, evenly_spaced=False)

    coefficients = {M: polyfit.fit_polynomial(x, t, M) for M in ORDERS}
    ridge = {ln_lam: polyfit.fit_polynomial(x, t, 9, ln_lam) for ln_lam in (None, *LN_LAMBDAS)}

    def errors(w: np.ndarray) -> tuple[float, float]:
        return polyfit.rms_error(x, t, w), polyfit.rms_error(x_test, t_test, w)

    rms = {f"M = {M}": errors(w) for M, w in coefficients.items()}
    rms.update({f"M = 9, ln λ = {ln_lam:g}": errors(ridge[ln_lam]) for ln_lam in LN_LAMBDAS})
    all_orders = np.arange(10)
    by_order = np.array([errors(polyfit.fit_polynomial(x, t, M)) for M in all_orders])

    tables = {
        "coefficients": coefficient_table(coefficients, [f"M = {M}" for M in coefficients]),
        "ridge": coefficient_table(ridge, [_ln_lambda_label(k) for k in ridge]),
        "rms": markdown_table(["fit", "train E_RMS", "test E_RMS"],
                              [[k, f"{tr:.4f}", f"{te:.4f}"] for k, (tr, te) in rms.items()], align_numbers=True),
    }
    data = (x, t, x_test, t_test)
    figures = {
        "polyfit_orders": _fits_figure(data, {f"M = {M}": w for M, w in coefficients.items()}),
        "polyfit_ridge": _fits_figure(data, {f"M = 9, {_ln_lambda_label(k)}": ridge[k] for k in LN_LAMBDAS}),
        "polyfit_rms": _rms_figure(all_orders, by_order),
    }
    return {"coefficients": coefficients, "ridge": ridge, "rms": rms,
            "rms_by_order": (all_orders, by_order[:, 0], by_order[:, 1]),
            "tables": tables, "figures": figures, "paths": save_figures(figures, out_dir)}


def _ln_lambda_label(ln_lam: float | None) -> str:
    return "ln λ = -inf" if ln_lam is None else f"ln λ = {ln_lam:g}"


def coefficient_table(fits: dict[Any, np.ndarray], column_names: list[str]) -> str:
    """Bishop's table 1.1 layout: one row per coefficient w_j*, one column per fit, blanks below M."""
    n_rows = max(len(w) for w in fits.values())
    rows = [[f"w{j}*"] + [f"{w[j]:.2f}" if j < len(w) else "" for w in fits.values()] for j in range(n_rows)]
    return markdown_table([""] + column_names, rows, align_numbers=True)


def _fits_figure(data: tuple[np.ndarray, ...], fits: dict[str, np.ndarray]) -> Figure:
    x, t, *_ = data
    grid = np.linspace(0.0, 1.0, 400)
    n_rows = (len(fits) + 1) // 2
    fig = Figure(figsize=(9, 3.6 * n_rows), layout="constrained")
    for ax, (label, w) in zip(np.ravel(fig.subplots(n_rows, 2, sharex=True, sharey=True)), fits.items()):
        ax.plot(grid, np.sin(2 * np.pi * grid), color="tab:green", label="sin(2 pi x)")
        ax.plot(grid, polyfit.predict_polynomial(grid, w), color="tab:red", label="fit")
        ax.scatter(x, t, facecolors="none", edgecolors="tab:blue", s=40, label="training data")
        ax.set(title=label, xlabel="x", ylim=(-1.6, 1.6))
        ax.set_ylabel("t")
    fig.axes[0].legend(loc="lower left", fontsize="small")
    return fig


def _rms_figure(orders: np.ndarray, by_order: np.ndarray) -> Figure:
    fig = Figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(orders, by_order[:, 0], "o-", color="tab:blue", label="training")
    ax.plot(orders, by_order[:, 1], "o-", color="tab:red", label="test")
    ax.set(xlabel="M", ylabel="$E_{RMS}$", ylim=(0, 1), title="RMS error against polynomial order")
    ax.legend()
    return fig


# ---- activation functions ----

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "swish", "gelu")


def activation_figure(out_dir: str | Path | None = None) -> dict[str, Any]:
    """Each activation of `numpy_ops.activations` and its hand-written derivative on [-4, 4].

    Leaky ReLU is drawn with slope 0.1 (instead of the default 0.01) so its negative side shows.

    Returns:
        ``{"figures": {"activations": Figure}, "paths": {...}}``.
    """
    from numpy_ops.activations import get_activation

    x = np.linspace(-4.0, 4.0, 801)
    fig = Figure(figsize=(14, 6), layout="constrained")
    axes = fig.subplots(2, 4, sharex=True)
    for ax, name in zip(axes.flat, ACTIVATION_NAMES):
        act = get_activation(name, negative_slope=0.1) if name == "leaky_relu" else get_activation(name)
        ax.plot(x, act.fn(x), color="tab:blue", label="f(x)")
        ax.plot(x, act.derivative(x), color="tab:orange", linestyle="--", label="f'(x)")
        ax.axhline(0, color="0.8", linewidth=0.8)
        ax.axvline(0, color="0.8", linewidth=0.8)
        ax.set(title=repr(act), ylim=(-1.5, 2.5))
    axes[0, 0].legend(loc="upper left")
    figures = {"activations": fig}
    return {"figures": figures, "paths": save_figures(figures, out_dir)}


# ---- command line ----

def main() -> None:
    parser = argparse.ArgumentParser(description="Perceptron, polynomial fitting and activation labs.")
    parser.add_argument("out_dir", type=Path, help="folder for the PNG figures")
    parser.add_argument("--seed", type=int, default=0, help="seed of the curve-fitting data")
    args = parser.parse_args()
    limit_blas_threads()

    p = run_perceptron_lab(args.out_dir)
    print("## Perceptron\n\n" + p["table"] + "\n")
    f = run_polyfit_lab(args.out_dir, seed=args.seed)
    for name, table in f["tables"].items():
        print(f"## Polynomial fitting: {name}\n\n{table}\n")
    a = activation_figure(args.out_dir)
    for path in [*p["paths"].values(), *f["paths"].values(), *a["paths"].values()]:
        print(f"saved {path}")


if __name__ == "__main__":
    main()
