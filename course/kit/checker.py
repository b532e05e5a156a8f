"""The checker a handout runs (``python check.py [TASK ...] [--json]``), and the API a grader drives it by.

Inside a handout, `main` checks the student's code against ``check_data.json`` (recorded numbers) and central
differences; it needs NumPy alone. Exit status: 0 when every checked task passes, 1 otherwise, 2 for a bad
argument.

For grading (another process, a time limit, a fresh copy of the checker), `task_checks` lists a handout's
tasks with the command that checks each one::

    for c in task_checks(student_dir, "lab32"):
        subprocess.run(c.command, cwd=c.cwd, timeout=60, capture_output=True)   # prints one JSON object
        result = parse_result(stdout)                                          # {"task", "status", "lines"}

Before running a student's copy, put back pristine copies of `CHECKER_FILES` (from a fresh `build`): they are
the checker, not the student's work, and a student could have edited them. An op task also names its op
(``op``, ``kwargs``) and its `course.opcheck` reference, so a grader may instead check that op in its own sandbox
against the reference, with no code of the handout's checker involved.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from .build import CHECKER_FILES
from .labs import get_lab
from .tasks import TaskResult, run_task

__all__ = ["main", "run", "TaskCheck", "task_checks", "parse_result", "CHECKER_FILES"]


def _root() -> Path:
    return Path(sys.modules["course"].__file__).resolve().parents[1]


def _data(root: Path, lab: str) -> dict:
    path = root / "check_data.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; this is not a built handout (build one with "
                                f"python scripts/course.py build {lab} --out DIR)")
    data = json.loads(path.read_text())
    if data.get("lab") != lab:
        raise ValueError(f"{path}: recorded for lab {data.get('lab')!r}, not {lab!r}")
    return data


def run(lab: str, tasks: list[str] | None = None, root: Path | None = None) -> list[TaskResult]:
    """Check ``tasks`` (default: every task of the lab) in this process; one `TaskResult` each."""
    spec = get_lab(lab)
    data = _data(root or _root(), lab)
    chosen = [spec.task(name) for name in tasks] if tasks else list(spec.tasks)
    return [run_task(t, data["tasks"][t.name]) for t in chosen]


def format_results(results: list[TaskResult]) -> str:
    lines = []
    for r in results:
        lines.append(f"{r.task}: {r.status}")
        lines += [f"    {line}" for line in r.lines]
    done = sum(r.passed for r in results)
    lines.append(f"\n{done}/{len(results)} tasks pass" + ("" if done < len(results) else ": all done"))
    return "\n".join(lines)


def main(argv: list[str], lab: str) -> int:
    spec = get_lab(lab)
    p = argparse.ArgumentParser(prog="check.py", description=f"Check your work on {spec.title}.")
    p.add_argument("tasks", nargs="*", metavar="TASK", help=f"tasks to check: {', '.join(t.name for t in spec.tasks)}"
                   " (default: all)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    args = p.parse_args(argv)
    unknown = [t for t in args.tasks if t not in {x.name for x in spec.tasks}]
    if unknown:
        print(f"check.py: no task {', '.join(map(repr, unknown))} in {lab}; the tasks: "
              f"{', '.join(t.name for t in spec.tasks)}", file=sys.stderr)
        return 2
    try:
        results = run(lab, args.tasks or None)
    except (FileNotFoundError, ValueError) as exc:
        print(f"check.py: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = [r.to_dict() for r in results]
        print(json.dumps(out[0] if len(out) == 1 else out))
    else:
        print(format_results(results))
    return 0 if all(r.passed for r in results) else 1


@dataclass(frozen=True)
class TaskCheck:
    """One task of a handout and how to check it in a separate process."""

    task: str
    title: str
    places: tuple[str, ...]     # "numpy_ops/layers.py: LinearOp.forward": where the student's code is
    command: tuple[str, ...]    # argv, run in ``cwd``; prints one JSON object (see `parse_result`)
    cwd: Path
    op: str | None = None       # an op task: "numpy_ops.layers:linear", the op (or factory) in the handout's code
    kwargs: dict | None = None  # ... called with these to make the op (None: the attribute is the op)
    reference: str | None = None  # ... and the course.opcheck reference it must equal (its inputs' cases)


def task_checks(handout: Path, lab: str, python: str | None = None) -> list[TaskCheck]:
    """The tasks of ``lab`` in the (student's) handout folder ``handout``, each with its check command."""
    handout = Path(handout).resolve()
    data = _data(handout, lab)
    return [TaskCheck(t.name, t.title, tuple(data["places"].get(t.name, ())),
                      (python or sys.executable, "check.py", t.name, "--json"), handout,
                      getattr(t, "op", None), getattr(t, "kwargs", None), getattr(t, "inputs", None)
                      if isinstance(getattr(t, "inputs", None), str) else None)
            for t in get_lab(lab).tasks]


def parse_result(stdout: str) -> dict:
    """A check command's output -> {"task", "status" (PASS, FAIL, NOT IMPLEMENTED), "lines"}; raises ValueError
    on anything else (a student's code may print: take the last line that is a JSON object)."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and {"task", "status", "lines"} <= value.keys():
            return value
    raise ValueError("no result in the check's output")
