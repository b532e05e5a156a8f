"""A teacher's mode: a directory of students' files graded into one table, each file in its own sandbox.

Each ``*.py`` file (not starting with ``_``) is one student's submission and may hold one op or several (objects
with forward/backward, or ``X_forward`` / ``X_backward`` pairs). It runs in its own process through
`course.grading` (limits, timeout, no reach to the reference ops); the checker runs here. Each op is checked
against ``like`` when given, else against the reference its name matches (``sigmoid_forward`` -> sigmoid,
``class ReLU`` -> relu), on the reference's cases and hidden ones drawn from the teacher's seed. The table has
one row per op -- and one per file that gives none, or per op that cannot be built -- with file, op,
reference, result, worst relative error, hint and points. It holds no reference value (no expected gradient,
no worst element), so it can be handed back to the class.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from course.grading import Limits, Settings, Submission, Task, Weights, grade_class, write_outputs
from course.grading.results import HEADER, Row, scored, summary, to_markdown, to_rows_csv

from .references import REFERENCES

__all__ = ["HEADER", "Row", "guess_reference", "grade_directory", "grade_file", "to_markdown", "to_csv"]
to_csv = to_rows_csv


def guess_reference(name: str) -> str | None:
    """The reference a name points at: ``"sigmoid"``, ``"ReLU"``, ``"my_tanh"``, ``"affine"`` (CS231n's linear)."""
    key = name.lower().removesuffix("op").strip("_")
    aliases = {"affine": "linear", "fc": "linear", "softmax_loss": "softmax_cross_entropy",
               "cross_entropy": "softmax_cross_entropy", "mse_loss": "mse",
               "conv": "conv2d", "conv_naive": "conv2d", "max_pool": "max_pool2d", "max_pool_naive": "max_pool2d"}
    key = aliases.get(key, key)
    if key in REFERENCES:
        return key
    matches = [ref for ref in REFERENCES if key.endswith(ref) or key.startswith(ref)]
    return max(matches, key=len) if matches else None


def submissions_in(directory: Path, like: str | None = None, name: str | None = None) -> list[Submission]:
    """One submission per ``*.py`` file of ``directory`` (not starting with ``_``), the student named by its stem."""
    files = sorted(p for p in Path(directory).glob("*.py") if not p.name.startswith("_"))
    return [Submission(p.stem, [(p, p.name)], [Task(p.name, name, like)]) for p in files]


def grade_file(path: Path, like: str | None = None, name: str | None = None, **options) -> list[Row]:
    """Every op of one student's file, checked in a sandbox; see `grade_directory` for ``options``."""
    path = Path(path)
    return _grade([Submission(path.stem, [(path, path.name)], [Task(path.name, name, like)])], **options)[0]


def grade_directory(directory: Path, like: str | None = None, name: str | None = None, **options) -> list[Row]:
    """Every file of a class's directory; ``options``: ``settings`` (`course.grading.Settings`), ``jobs``,
    ``hide`` (folders the submissions must not see), ``isolate``, ``progress``."""
    return _grade(submissions_in(directory, like, name), hide=(directory,), **options)[0]


def _grade(submissions, settings: Settings | None = None, **options) -> tuple[list[Row], str]:
    settings = settings or Settings()
    settings.guess = guess_reference
    return grade_class(submissions, settings, **options)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The teacher's options of `scripts/check_op.py` (and of `scripts/course.py grade`)."""
    g = p.add_argument_group("teacher mode (a directory of submissions)")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    g.add_argument("--timeout", type=float, default=Limits.timeout_s,
                   help=f"seconds one task may take, loading included (default {Limits.timeout_s:g})")
    g.add_argument("--memory-mb", type=int, default=Limits.memory_mb,
                   help=f"address space of a submission's process in MiB (default {Limits.memory_mb})")
    g.add_argument("--seed-file", type=Path, help="a file holding the hidden cases' seed (instead of --seed)")
    g.add_argument("--weights", type=Path, help="a TOML file of points per task and weights per check")
    g.add_argument("--no-namespaces", action="store_true",
                   help="do not try the user/network/mount namespaces (limits and process groups still apply)")


def settings_from(args) -> Settings:
    """`Settings` from the teacher's options; ValueError names the option that is wrong."""
    if args.jobs < 1 or args.timeout <= 0 or args.memory_mb < 64:
        raise ValueError("--jobs must be >= 1, --timeout > 0 and --memory-mb >= 64")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out}: exists and is not a directory")
    seed = args.seed
    if args.seed_file is not None:
        try:
            seed = int(args.seed_file.read_text().split()[0])
        except (OSError, IndexError, ValueError):
            raise ValueError(f"--seed-file {args.seed_file}: expected a file holding an integer seed") from None
    weights = Weights.from_toml(args.weights) if args.weights else Weights()
    # CPU time is a backstop over the child's whole life (all of a submission's tasks): never below the wall clock's
    limits = Limits(timeout_s=args.timeout, memory_mb=args.memory_mb, cpu_s=max(Limits.cpu_s, int(4 * args.timeout)))
    return Settings(limits=limits, seed=seed, weights=weights, layout=getattr(args, "layout", None))


def run(args, submissions: list[Submission], hide: list[Path], prog: str = "check_op",
        student_column: bool = False, refused: list[Row] = ()) -> int:
    """Grade, print the table (stdout) and the summary (stderr), write the files to ``--out``: exit status
    0 when every row passed, 1 otherwise, 2 for wrong options. ``refused``: rows decided before grading."""
    try:
        settings = settings_from(args)
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    rows, isolation = _grade(submissions, settings, jobs=args.jobs, hide=hide, isolate=not args.no_namespaces)
    rows += [scored(r, r.task, None, settings.weights) for r in refused]
    if getattr(args, "json", False):
        print(json.dumps([dict(vars(r), worst=_finite(r.worst)) for r in rows], indent=2))
    else:
        print(to_markdown(rows, student_column))
    print("\n" + summary(rows, isolation), file=sys.stderr)
    if args.out:
        written = write_outputs(args.out, rows, isolation, student_column)
        print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    return 0 if all(r.result == "PASS" for r in rows) else 1


def _finite(value: float | None):
    """JSON has no inf: a worst error that is not finite is written as a string."""
    return str(value) if value is not None and not math.isfinite(value) else value
