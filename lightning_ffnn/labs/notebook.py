"""The training cell of a course-kit notebook: one Lightning run with the student's ops, and its curves.

The run is the one ``scripts/train.py fit`` makes: the ``numpy`` backend (the handout's own `numpy_ops`, the
student's code), the gradient-parity check against torch's autograd every few steps, seed 0, logs in ``runs/``.
"""

from __future__ import annotations

import json
from pathlib import Path


def fit_args(config: str, epochs: int, init: str, parity_every: int = 5, save_dir: str = "runs",
             extra: tuple[str, ...] = ()) -> list[str]:
    """The command line of the notebook's run (`lightning_ffnn.cli.cli_main` takes it); ``extra`` flags last
    (``("--data.init_args.size", "small")``)."""
    return ["fit", "--config", config, "--model.backend", "numpy", "--model.init", init,
            "--trainer.max_epochs", str(epochs), "--seed_everything", "0", "--parity.every_n_steps", str(parity_every),
            "--trainer.enable_progress_bar", "false", "--trainer.logger.init_args.save_dir", save_dir, *extra]


def train_and_plot(config: str, epochs: int, init: str, parity_every: int = 5, results: str | None = None,
                   log_scale: bool = False, extra: tuple[str, ...] = ()) -> dict:
    """Train ``config`` for ``epochs`` with ``init`` weights; show every logged loss (and accuracy) per epoch.

    Returns the run's record (`lightning_ffnn.cli.run_results`); ``results`` names a JSON file for its final
    metrics."""
    import matplotlib.pyplot as plt

    from lightning_ffnn.cli import cli_main, run_results

    record = run_results(cli_main(fit_args(config, epochs, init, parity_every, extra=extra)))
    if results:
        Path(results).write_text(json.dumps(record["final"]))
    print(record["final"])
    rows = record["epochs"]
    kinds = [k for k in ("loss", "accuracy") if any(key.endswith("/" + k) for key in rows[0])]
    fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 3.5), squeeze=False)
    for kind, ax in zip(kinds, axes[0]):
        for key in (k for k in rows[0] if k.endswith("/" + kind)):
            ax.plot([row["epoch"] for row in rows], [row[key] for row in rows], label=key)
        ax.set(xlabel="epoch", ylabel=kind, yscale="log" if log_scale and kind == "loss" else "linear")
        ax.legend()
    plt.show()
    return record
