"""The from-scratch network experiments: sine regression, XOR, the planar flower, MNIST multilayer perceptrons.

Pure NumPy + matplotlib (no torch): every network is built from a `numpy_ops.spec` list and trained by
`numpy_ops.train.fit`. Each ``run_*_lab(out_dir=None, quick=False, ...)`` returns a `LabResult` (its runs, Markdown
tables, matplotlib Figures built without pyplot, the settings that produced them); with ``out_dir`` it also saves
the figures as PNG. ``quick=True`` cuts the budget to seconds, for tests. From the repository root::

    python -m course.labs.scratch reports/scratch            # full budgets
    python -m course.labs.scratch reports/scratch --quick    # CI-sized

The labs live in `sine`, `xor_flower` and `mnist_mlp`; what they share (`RunConfig`, `RunResult`, `LabResult`,
`train`) in `runs`. This module gathers them and is the command line.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..threads import limit_blas_threads
from .mnist_mlp import MNIST_REPORT_RUNS, MNIST_REPORTED, mnist_exercise_runs, run_mnist_lab
from .runs import LabResult, RunConfig, RunResult, settings, train
from .sine import (AS_REPORTED_RUNS, CORRECT_RUNS, SINE_REPORTED, SINE_RUNS, AsReportedAdam, AsReportedSGD,
                   make_sine_as_reported, run_sine_as_reported_lab, run_sine_lab)
from .xor_flower import FLOWER_HIDDEN, FLOWER_RUN, XOR_RUNS, flower_label, run_flower_lab, run_xor_lab, xor_solved

__all__ = ["AS_REPORTED_RUNS", "CORRECT_RUNS", "FLOWER_HIDDEN", "FLOWER_RUN", "MNIST_REPORTED", "MNIST_REPORT_RUNS",
           "SINE_REPORTED", "SINE_RUNS", "XOR_RUNS", "AsReportedAdam", "AsReportedSGD", "LabResult", "RunConfig",
           "RunResult", "flower_label", "make_sine_as_reported", "mnist_exercise_runs", "run_flower_lab",
           "run_mnist_lab", "run_sine_as_reported_lab", "run_sine_lab", "run_xor_lab", "settings", "train",
           "xor_solved"]

LABS = {"sine": run_sine_lab, "sine_as_reported": run_sine_as_reported_lab, "xor": run_xor_lab,
        "flower": run_flower_lab, "mnist": lambda out, quick: run_mnist_lab(out, quick, kind="mnist"),
        "fashion": lambda out, quick: run_mnist_lab(out, quick, kind="fashion")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="From-scratch NumPy experiments: sine, XOR, flower, MNIST.")
    parser.add_argument("out_dir", type=Path, help="folder for the PNG figures")
    parser.add_argument("--quick", action="store_true", help="CI-sized budgets")
    parser.add_argument("--only", nargs="*", choices=list(LABS), default=list(LABS))
    args = parser.parse_args(argv)
    limit_blas_threads()
    for name in args.only:
        start = time.perf_counter()
        out: LabResult = LABS[name](args.out_dir, args.quick)
        print(f"## {name} ({time.perf_counter() - start:.1f} s)\n")
        if out.skipped:
            print(out.skipped + "\n")
        for table in out.tables.values():
            print(table + "\n")
        for path in out.paths.values():
            print(f"saved {path}")


if __name__ == "__main__":
    main()
