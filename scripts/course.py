"""The course kit: list the labs, build a lab's student handout or teacher's copy.

    python scripts/course.py list
    python scripts/course.py build lab32 --out handouts/lab32              # the student's copy
    python scripts/course.py build lab32 --out teacher/lab32 --solutions   # the same files, answers in
    python scripts/course.py build lab32 --out handouts/lab32 --zip        # also handouts/lab32.zip

Inside a handout: ``python check.py [TASK]``. See docs/course.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Python puts this script's folder first on sys.path, where this file would shadow the `course` package it runs.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)


def main(argv: list[str] | None = None) -> int:
    from course.kit.build import build
    from course.kit.labs import LABS
    from course.kit.markers import MarkerError

    p = argparse.ArgumentParser(prog="course.py", description="Build the course's lab handouts from the project's code.",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="one lab per line: name, tasks, title")
    b = sub.add_parser("build", help="write a lab's handout")
    b.add_argument("lab", help=f"one of: {', '.join(lab.name for lab in LABS)}")
    b.add_argument("--out", type=Path, required=True, help="a new (or empty) folder")
    b.add_argument("--solutions", action="store_true", help="the teacher's copy: this lab's answers in")
    b.add_argument("--zip", action="store_true", help="also write OUT.zip, the folder as one archive")
    args = p.parse_args(argv)
    if args.command == "list":
        for lab in LABS:
            print(f"{lab.name:8s} {lab.title}  [tasks: {', '.join(t.name for t in lab.tasks)}]")
        return 0
    if args.lab not in {lab.name for lab in LABS}:
        print(f"course.py: no lab {args.lab!r}; the labs: {', '.join(lab.name for lab in LABS)}", file=sys.stderr)
        return 2
    try:
        out = build(args.lab, args.out, solutions=args.solutions, archive=args.zip)
    except (FileExistsError, MarkerError) as exc:
        print(f"course.py: {exc}", file=sys.stderr)
        return 2
    kind = "teacher's copy" if args.solutions else "handout"
    print(f"wrote the {kind} of {args.lab} to {out}" + (f" and {out}.zip" if args.zip else ""))
    print(f"in it: cd {out} && python check.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
