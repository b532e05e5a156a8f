"""Run every lab and write one report: Markdown + HTML, every figure and table numbered by lab.

Run from the repository root (after ``make setup``)::

    python scripts/report.py --quick                        # CI-sized budgets, well under a minute; MNIST,
                                                            # Fashion-MNIST and the Lightning toy runs only
                                                            # when named (--only mnist fashion toys)
    python scripts/report.py                                # the labs' own budgets (minutes)
    python scripts/report.py --data_dir /path/to/ocr        # the handout's OCR files (else $LIGHTNING_FFNN_OCR_DIR,
                                                            # data/ocr/, else a SYNTHETIC stand-in, said in bold)
    python scripts/report.py --quick --only jacobian ocr    # some sections (or parts: sine, xor, flower, ...)
    python scripts/report.py --out reports/mine
    python scripts/report.py --only sine --out /tmp/sine    # the sine lab and its "as reported" rerun (docs/labs.md)

Writes ``<out>/report.md``, ``<out>/report.html`` and ``<out>/figures/*.png`` (default
``reports/<YYYYmmdd-HHMMSS>/``); the Lightning runs' logs, ``config.yaml`` and ``results.json`` go to
``<out>/runs/`` (``tensorboard --logdir <out>/runs``). Each section states its settings and its data source.
Exits with 1 when a lab failed (the report is still written, with the error in that lab's section).
"""

import argparse
import logging
import sys
import time
from pathlib import Path

from lightning_ffnn.labs.report import KEYS, Options, build_report, default_out_dir


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized budgets (the numbers are not the labs')")
    parser.add_argument("--out", type=Path, default=None, help="report directory (default reports/<timestamp>)")
    parser.add_argument("--data_dir", default=None, help="directory of the OCR handout's CSV files (lab 3.2)")
    parser.add_argument("--regression_dir", default=None,
                        help="directory of the lab 3.3 data_{train,valid,test}.csv (default: the generated stand-in)")
    parser.add_argument("--only", nargs="+", choices=KEYS, metavar="KEY",
                        help=f"run only these sections or parts: {', '.join(KEYS)}")
    args = parser.parse_args(argv)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no "GPU available: ..." per run

    start = time.perf_counter()
    result = build_report(Options(out_dir=args.out or default_out_dir(), quick=args.quick, data_dir=args.data_dir,
                                  regression_dir=args.regression_dir,
                                  only=frozenset(args.only) if args.only else None))
    print(f"\nReport: {result.markdown}\n        {result.html}\nTotal {time.perf_counter() - start:.1f} s")
    for key, error in result.failures.items():
        print(f"FAILED {key}: {error}", file=sys.stderr)
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
