"""Train the labs' feed-forward networks with PyTorch Lightning (native or hand-written NumPy layers).

With no arguments, runs the main job, lab 3.2 (`lightning_ffnn.labs.lab32`): a 2-hidden-layer network on
the small, medium and large OCR sets, once with the ``torch`` backend and once with the ``numpy`` backend,
and prints the accuracy table (the handout files when present, else the embedded synthetic set, said
plainly). Its settings, configs/ocr_{size}_selected.yaml, were chosen on a validation split of each training
file (docs/main_job.md); ``--settings handout`` runs the handout's SGD settings, configs/ocr_{size}.yaml::

    python scripts/train.py
    python scripts/train.py --data_dir /path/to/ocr --sizes small medium
    python scripts/train.py --settings handout

Any LightningCLI subcommand trains one configuration::

    python scripts/train.py fit --config configs/ocr_small.yaml
    python scripts/train.py fit --config configs/regression.yaml --model.backend numpy --trainer.max_epochs 5
    python scripts/train.py fit --config configs/ocr_small.yaml --ckpt_path last     # resume
    python scripts/train.py fit --config configs/ocr_small.yaml --print_config

Logs go to ``runs/<name>/version_<n>/``: ``tensorboard --logdir runs``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time


def run_cli(args: list[str]):
    """Run one LightningCLI command; return the run's results dict (None if it did not fit)."""
    from lightning_ffnn.cli import run

    return run(args)


def lab32(argv: list[str]) -> None:
    """The main job: `lightning_ffnn.labs.lab32.run_lab32` over the chosen sizes and backends, then its table."""
    from lightning_ffnn.labs.lab32 import BACKENDS, SETTINGS, SIZES, lab32_markdown, run_lab32

    parser = argparse.ArgumentParser(
        prog="python scripts/train.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Without a subcommand: the main job, lab 3.2 on OCR letters with both backends (options below).",
        epilog="One configuration, with LightningCLI's subcommands (fit, validate, test, predict):\n"
               "  python scripts/train.py fit --config configs/ocr_small.yaml [--model.backend numpy] ...\n"
               "  python scripts/train.py fit --help        every option of a training run\n"
               "  python scripts/train.py fit --config configs/ocr_small.yaml --print_config\n"
               "Configs: configs/*.yaml (docs/usage.md).")
    parser.add_argument("--data_dir", default=None, help="directory with the handout's {small,medium,large}"
                        "{Train,Validation}.csv (default: $LIGHTNING_FFNN_OCR_DIR, then data/ocr/)")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=SIZES)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--settings", default="selected", choices=list(SETTINGS),
                        help="selected: configs/ocr_{size}_selected.yaml (chosen on a validation split of the training "
                             "file, docs/main_job.md); handout: configs/ocr_{size}.yaml (64-64 sigmoid, SGD)")
    parser.add_argument("--max_epochs", type=int, default=None, help="override the configs' epochs")
    opts = parser.parse_args(argv)
    t0 = time.perf_counter()
    runs = run_lab32(opts.sizes, opts.backends, opts.settings, opts.data_dir, opts.max_epochs,
                     log=lambda text: print(text, flush=True))
    print("\n" + lab32_markdown(runs))
    print(f"\nTotal wall time {time.perf_counter() - t0:.1f} s. Logs: tensorboard --logdir runs")


def _resume_args(argv: list[str]) -> list[str]:
    """The same command with ``--ckpt_path last`` (the newest run of the config) in place of any ``--ckpt_path``."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--ckpt_path":
            skip = True
        elif not arg.startswith("--ckpt_path="):
            kept.append(arg)
    return [*kept, "--ckpt_path", "last"]


def main(argv: list[str]) -> int:
    from lightning_ffnn.callbacks import GradientParityError
    from lightning_ffnn.cli import configure_runtime
    from lightning_ffnn.interrupt import RunInterrupted
    from course.datasets.errors import DataError
    from lightning_ffnn.models import DivergenceError
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    configure_runtime()
    try:
        # A subcommand ("fit", ...) goes to LightningCLI; anything else, --help included, is the main job's options
        # (whose help names the subcommands).
        if argv and (not argv[0].startswith("-") or argv[0] == "--print_config"):
            run_cli(argv)
        else:
            lab32(argv)
    except RunInterrupted as exc:
        print(f"\nstopped: {exc}.", file=sys.stderr)
        if argv and argv[0] == "fit":
            print(f"Resume it with: python scripts/train.py {shlex.join(_resume_args(argv))}", file=sys.stderr)
        return exc.exit_status
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
