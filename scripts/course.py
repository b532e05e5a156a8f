"""The course kit: list the labs, build a lab's student handout or teacher's copy.

    python scripts/course.py list
    python scripts/course.py build lab32 --out handouts/lab32              # the student's copy
    python scripts/course.py build lab32 --out teacher/lab32 --solutions   # the same files, answers in
    python scripts/course.py build lab32 --out handouts/lab32 --zip        # also handouts/lab32.zip
    python scripts/course.py grade submissions/ --lab lab32 --out grades/  # a folder per student, sandboxed

Inside a handout: ``python check.py [TASK]``. See docs/course.md.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _the_package():
    """The `course` package, found with this script's folder off sys.path (``python scripts/x.py`` puts scripts/
    first, where this file's name shadows the package)."""
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    try:
        return importlib.import_module("course")
    finally:
        sys.path[:] = saved


if __name__ == "course":
    # A sibling script imported `course` and found this file: it meant the package. Load it and stand aside
    # (the import system hands over whatever sys.modules holds under the name once this file has run).
    del sys.modules["course"]
    sys.modules["course"] = _the_package()
elif __name__ == "__main__" and sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
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
    _grade_parser(sub)
    args = p.parse_args(argv)
    if args.command == "grade":
        return _grade(args)
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


def _grade_parser(sub) -> None:
    from course.opcheck import teacher

    g = sub.add_parser("grade", help="grade a class's completed handouts, one folder per student",
                       description="Each student's folder is graded in its own sandboxed process; the verdicts are "
                                   "computed here (docs/check_op.md, 'For teachers').")
    g.add_argument("submissions", type=Path, help="a folder holding one folder per student (a completed handout)")
    g.add_argument("--lab", required=True, help="the lab the handouts are of (course.py list)")
    g.add_argument("--out", type=Path, help="write grades.csv, rows.csv, grades.md and summary.md here")
    g.add_argument("--seed", type=int, default=0, help="seed of the hidden cases' inputs (default 0)")
    teacher.add_arguments(g)
    g.set_defaults(layout="torch")  # a handout's linear layer is torch's (out, in): its model trains with that


def _grade(args) -> int:
    from course.grading.handouts import handout_submissions, lab_tasks
    from course.opcheck import teacher

    if not args.submissions.is_dir():
        print(f"course.py: {args.submissions}: no such directory", file=sys.stderr)
        return 2
    try:
        tasks = lab_tasks(args.lab)
    except KeyError as exc:
        print(f"course.py: {exc.args[0]}", file=sys.stderr)
        return 2
    submissions, refused = handout_submissions(args.submissions, tasks)
    if not submissions and not refused:
        print(f"course.py: {args.submissions}: no student folders in it", file=sys.stderr)
        return 2
    hide = [args.submissions] + ([args.out] if args.out else [])
    return teacher.run(args, submissions, hide, prog="course.py", student_column=True, refused=refused)


if __name__ == "__main__":
    sys.exit(main())
