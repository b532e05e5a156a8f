"""The command line of `scripts/check_op.py`: one op (text or ``--json``), or a directory of students' files.

Exit status: 0 when everything passes, 1 when anything fails, 2 when the op cannot be loaded (or the
arguments are wrong), with the reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from numpy_ops.user_op import LoadError, is_op_path, load_op, split_op_path

from . import layouts, teacher
from .checks import check
from .references import REFERENCES
from .report import format_report
from .teacher import guess_reference

USAGE = """examples:
  python scripts/check_op.py my_ops.py:Sigmoid --like sigmoid
  python scripts/check_op.py layers.py:affine --like linear --json
  python scripts/check_op.py my_ops.py:Square --shapes 4x3
  python scripts/check_op.py submissions/ --like sigmoid --out grades/   (teacher: one table for the class)
  python scripts/check_op.py submissions/ --out grades/ --jobs 4 --seed-file ~/hidden_seed --weights points.toml"""


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    """``"4x3,2x3,2"`` -> ``[(4, 3), (2, 3), (2,)]``."""
    try:
        shapes = [tuple(int(n) for n in part.split("x")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--shapes {text!r}: expected sizes like 4x3,2x3,2 (one shape per input)") from None
    if not shapes or any(n < 1 for s in shapes for n in s):
        raise ValueError(f"--shapes {text!r}: every size must be >= 1")
    return shapes


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="check_op.py", description="Check your own backward: compares a user's op "
                                "with central differences and a numpy_ops reference, and names the likely mistake.",
                                epilog=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", help="FILE.py:NAME (an object with forward/backward, or NAME_forward/NAME_backward), "
                                  "or a directory of students' files (teacher mode)")
    p.add_argument("--like", help=f"the numpy_ops op it should equal: {', '.join(sorted(REFERENCES))}")
    p.add_argument("--shapes", help="without --like: the input shapes to try, e.g. 4x3,2x3,2")
    p.add_argument("--layout", choices=sorted(layouts.LINEAR_LAYOUTS),
                   help="with --like linear, and in teacher mode for every linear op: the weight layout (default: "
                   "detected from each op's output): "
                   + "; ".join(f"{k}: {v.says}" for k, v in layouts.LINEAR_LAYOUTS.items()))
    p.add_argument("--json", action="store_true", help="print the findings as JSON instead of text")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    p.add_argument("--name", help="teacher mode: check only this NAME in every file (default: every op found)")
    p.add_argument("--out", type=Path, help="teacher mode: write grades.csv, rows.csv, grades.md and summary.md "
                                            "into this directory")
    teacher.add_arguments(p)
    return p


def _clean(value):
    """JSON has no inf or nan: write them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.like is not None and args.like not in REFERENCES:
        print(f"check_op: --like {args.like!r} is not a reference; expected one of {', '.join(sorted(REFERENCES))}",
              file=sys.stderr)
        return 2
    if Path(args.target).is_dir():
        return _teacher(args)
    try:
        if not is_op_path(args.target) and not Path(args.target).exists() and not args.target.endswith(".py"):
            raise LoadError(f"{args.target}: no such directory (a teacher's directory of students' files), and "
                            "not FILE.py:NAME either")
        shapes = parse_shapes(args.shapes) if args.shapes else None
        op = load_op(args.target)
        like, layout = args.like, None
        if like is None and shapes is None:  # as the teacher's mode does: the op's `like`, else its name
            like = op.like or guess_reference(split_op_path(args.target)[1])
        if like is None and shapes is None:
            raise ValueError(f"{args.target}: its name does not say which numpy_ops op it should equal; give "
                             "--like NAME (a numpy_ops op) or --shapes (e.g. 4x3,2x3)")
        if like is not None:
            op = layouts.with_params(op, like)
            like, layout = layouts.resolve(op, like, args.layout, args.seed)
    except (LoadError, ValueError) as exc:
        print(f"check_op: {exc}", file=sys.stderr)
        return 2
    report = check(op, like=like, shapes=shapes, seed=args.seed)
    report.layout = layout.says if layout is not None else None
    if args.json:
        print(json.dumps(_clean(dict(source=args.target, **report.to_dict())), indent=2))
    else:
        print(format_report(report, args.target))
    return 0 if report.passed else 1


def _teacher(args) -> int:
    directory = Path(args.target)
    submissions = teacher.submissions_in(directory, args.like, args.name)
    if not submissions:
        print(f"check_op: {args.target}: no .py files", file=sys.stderr)
        return 2
    hide = [directory] + ([args.out] if args.out else [])
    return teacher.run(args, submissions, hide)
