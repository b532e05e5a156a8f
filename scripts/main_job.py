"""The main job (``make run``): lab 3.2, a two-hidden-layer network on the small, medium and large OCR sets, each
trained once with the native PyTorch layers (``torch``) and once with the hand-written NumPy layers (``numpy``),
then the accuracy table (the handout files when present, else the embedded synthetic set, said plainly).

Its settings, configs/ocr_{size}_selected.yaml, were chosen on a validation split of each training file
(docs/main_job.md); ``--settings handout`` runs the handout's SGD settings, configs/ocr_{size}.yaml. Each run is one
`lightning_ffnn.cli.cli_main` call (`lightning_ffnn.labs.lab32.run_lab32`), and the output lists the command that
reruns each alone with scripts/train.py.

To run::

    python scripts/main_job.py
    python scripts/main_job.py --data_dir /path/to/ocr --sizes small medium
    python scripts/main_job.py --settings handout
"""

from __future__ import annotations

import argparse
import sys
import time

from lightning_ffnn.cli import exit_status
from lightning_ffnn.labs.lab32 import BACKENDS, SETTINGS, SIZES, lab32_markdown, run_lab32


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/main_job.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The main job: lab 3.2 on OCR letters, both backends.",
        epilog="One configuration, with LightningCLI's subcommands (fit, validate, test, predict):\n"
               "  python scripts/train.py fit --config configs/ocr_small.yaml [--model.backend numpy] ...\n"
               "  python scripts/train.py fit --help        every option of a training run\n"
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

    def job() -> None:
        t0 = time.perf_counter()
        runs = run_lab32(opts.sizes, opts.backends, opts.settings, opts.data_dir, opts.max_epochs,
                         log=lambda text: print(text, flush=True))
        print("\n" + lab32_markdown(runs))
        print("\nRerun one row alone:\n" + "\n".join(f"  {r.command}" for r in runs))
        print(f"\nTotal wall time {time.perf_counter() - t0:.1f} s. Logs: tensorboard --logdir runs")

    return exit_status(job)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
