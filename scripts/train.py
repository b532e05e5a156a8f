"""Train the labs' feed-forward networks with PyTorch Lightning (native or hand-written NumPy layers).

With no arguments, runs the main job, lab 3.2: a 2-hidden-layer sigmoid network on the small,
medium and large OCR sets, once with the ``torch`` backend and once with the ``numpy`` backend,
and prints the accuracy table (the handout files when present, else the embedded synthetic set,
said plainly)::

    python scripts/train.py
    python scripts/train.py --data_dir /path/to/ocr --sizes small medium

Any LightningCLI subcommand trains one configuration::

    python scripts/train.py fit --config configs/ocr_small.yaml
    python scripts/train.py fit --config configs/regression.yaml --model.backend numpy --trainer.max_epochs 5
    python scripts/train.py fit --config configs/ocr_small.yaml --ckpt_path last     # resume
    python scripts/train.py fit --config configs/ocr_small.yaml --print_config

Logs go to ``runs/<name>/version_<n>/``: ``tensorboard --logdir runs``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAB32_SIZES = ("small", "medium", "large")


def run_cli(args: list[str]):
    """Run one LightningCLI command; return the run's results dict (None if it did not fit)."""
    from lightning_ffnn.cli import run

    return run(args)


def lab32(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="Lab 3.2 on OCR letters, both backends (the main job).")
    parser.add_argument("--data_dir", default=None, help="directory with the handout's {small,medium,large}"
                        "{Train,Validation}.csv (default: $LIGHTNING_FFNN_OCR_DIR, then data/ocr/)")
    parser.add_argument("--sizes", nargs="+", default=list(LAB32_SIZES), choices=LAB32_SIZES)
    parser.add_argument("--backends", nargs="+", default=["torch", "numpy"], choices=["torch", "numpy"])
    parser.add_argument("--max_epochs", type=int, default=None, help="override the configs' epochs")
    opts = parser.parse_args(argv)
    rows, t0 = [], time.perf_counter()
    for size in opts.sizes:
        for backend in opts.backends:
            args = ["fit", "--config", str(REPO / "configs" / f"ocr_{size}.yaml"), "--model.backend", backend,
                    "--trainer.logger.init_args.name", f"lab32/{size}_{backend}"]
            if opts.data_dir:
                args += ["--data.init_args.data_dir", opts.data_dir]
            if opts.max_epochs:
                args += ["--trainer.max_epochs", str(opts.max_epochs)]
            print(f"\n=== lab 3.2: OCR {size}, {backend} backend ===", flush=True)
            results = run_cli(args)
            rows.append((size, backend, results))
    print("\n## Lab 3.2: OCR letters, 2 hidden layers (accuracy on the handout's Validation file = test set)\n")
    sources = {r["data_source"] for _, _, r in rows}
    for s in sorted(sources):
        print(f"Data: {s}")
    print("\n| set | backend | epochs | train loss | train acc | test loss | test acc | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for size, backend, r in rows:
        f = r["final"]
        print(f"| {size} | {backend} | {len(r['epochs'])} | {f['train/loss']:.4f} | {f['train/accuracy']:.4f} "
              f"| {f['test/loss']:.4f} | {f['test/accuracy']:.4f} | {r['wall_time_s']:.1f} |")
    print(f"\nTotal wall time {time.perf_counter() - t0:.1f} s. Logs: tensorboard --logdir runs")


def main(argv: list[str]) -> int:
    from lightning_ffnn.callbacks import GradientParityError
    from lightning_ffnn.cli import configure_runtime
    from lightning_ffnn.datasets.errors import DataError
    from lightning_ffnn.models import DivergenceError
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    configure_runtime()
    try:
        # A subcommand ("fit", ...) or the CLI's own help goes to LightningCLI; anything else is lab 3.2's options.
        if argv and (not argv[0].startswith("-") or argv[0] in ("-h", "--help", "--print_config")):
            run_cli(argv)
        else:
            lab32(argv)
    except (DataError, DivergenceError, GradientParityError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, MisconfigurationException) as exc:
        print(f"error: invalid setting: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:  # e.g. --ckpt_path naming no file
        print(f"error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
