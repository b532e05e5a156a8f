"""Rows, points and the files a teacher gets: grades.csv, rows.csv, grades.md and summary.md, written atomically.

A `Row` is one op of one task of one student. Its points: a task is worth ``points`` (1 unless the teacher's
weights say otherwise), shared among its checks -- ``forward`` and one gradient per input (``dx``, ``dW``, ``db``)
-- in proportion to their weights (equal unless set); a check that passed earns its share, a row that did not
run earns 0. Weights come from a TOML file::

    [linear]          # a task: the reference's name, or a handout task's
    points = 4
    forward = 1       # relative weights of its checks
    dW = 2

Nothing here holds a value of a right answer: hints name mistakes, the table shows a relative error at most.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from course.tables import markdown_table

PASS, FAIL, NOT_LOADED, NO_REFERENCE = "PASS", "FAIL", "NOT LOADED", "NO REFERENCE"
HEADER = ("file", "op", "reference", "result", "worst relative error", "hint", "points")


@dataclass
class Row:
    student: str
    file: str
    op: str
    reference: str
    result: str  # PASS, FAIL, TIMEOUT, CRASHED, OUT OF MEMORY, NOT LOADED, NO REFERENCE
    worst: float | None
    hint: str
    task: str = ""
    points: float = 0.0
    max_points: float = 0.0
    mistakes: tuple[str, ...] = ()

    def cells(self) -> list[str]:
        worst = "" if self.worst is None else f"{self.worst:.1e}"
        return [_one_line(self.file), _one_line(self.op), self.reference, self.result, worst, _one_line(self.hint),
                f"{self.points:.3g}/{self.max_points:.3g}"]


def _one_line(text: str, limit: int = 400) -> str:
    """A cell: one line of printable characters (a student's message may hold terminal escapes), cut short."""
    text = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Weights:
    """Per task: its points and its checks' relative weights (see the module docstring)."""

    tasks: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def from_toml(cls, path: Path) -> Weights:
        try:
            data = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: cannot read the weights: {exc}") from None
        for task, table in data.items():
            if not isinstance(table, dict):
                raise ValueError(f"{path}: [{task}] must be a table of numbers (points = 4, forward = 1, dx = 2)")
            for key, value in table.items():
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise ValueError(f"{path}: [{task}] {key} = {value!r}: expected a number >= 0")
        return cls({task: {k: float(v) for k, v in table.items()} for task, table in data.items()})

    def points(self, task: str) -> float:
        return self.tasks.get(task, {}).get("points", 1.0)

    def share(self, task: str, checks: dict[str, bool]) -> float:
        """The fraction of the task's points earned by ``checks`` (check name -> passed)."""
        table = self.tasks.get(task, {})
        weights = {name: table.get(name, 1.0) for name in checks}
        total = sum(weights.values())
        return sum(w for name, w in weights.items() if checks[name]) / total if total else 0.0


def checks_of(report) -> dict[str, bool]:
    """``forward`` and ``d<input>`` -> passed, from a checker's report."""
    checks = {"forward": report.error is None and not any(o["problems"] for o in report.output)}
    for row in report.summary():
        checks[f"d{row['input']}"] = report.error is None and row["passed"]
    return checks


def scored(row: Row, task: str, report, weights: Weights, counted: tuple[str, ...] | None = None) -> Row:
    """``row`` with its task, points and mistakes; with a checker's ``report`` also its result, error and hint.
    ``counted``: the checks that decide the result and the points (default: all of them)."""
    row.task, row.max_points = task, weights.points(task)
    if report is None:  # a row decided without the op checker: a value task's, or one that did not run
        row.points = row.max_points if row.result == PASS else 0.0
        row.mistakes = (row.hint.split(":")[0] or row.result,) if row.result == FAIL else \
            (row.result,) if row.result != PASS else ()
        return row
    checks = {k: v for k, v in checks_of(report).items() if counted is None or k in counted}
    row.result = PASS if checks and all(checks.values()) and (counted is not None or report.passed) else FAIL
    measured = any(r[k] is not None for r in report.summary() for k in ("rel_numeric", "rel_reference"))
    row.worst = report.worst_rel_error() if measured else None  # nothing ran: no error to show, not 0
    # A task that counts some checks only (a forward alone) shows what those found: a PASS of a forward-only task
    # says nothing of its backward's mistakes.
    inputs = [r for r in report.summary() if counted is None or f"d{r['input']}" in counted]
    named = [report.mistake[1]] if report.mistake and (counted is None or row.result == FAIL) else []
    row.hint = "; ".join(named + [f"{r['input']}: {r['hint']}" for r in inputs if r["hint"]]) or (report.error or "")
    if row.result == FAIL and not row.hint:
        row.hint = "; ".join(sorted({p for r in inputs for p in r["problems"]}))
    row.points = row.max_points * weights.share(task, checks)
    labels = [r["hint"].split(":")[0] if r["hint"] else (r["problems"] or ["wrong"])[0]
              for r in inputs if not r["passed"]]
    if counted is None or "forward" in counted:
        labels += ["output: " + p for o in report.output for p in o["problems"][:1]]
    row.mistakes = tuple(dict.fromkeys(labels or ([report.error] if report.error else [])))
    return row


def to_markdown(rows: Sequence[Row], student_column: bool = False) -> str:
    header = ("student", *HEADER) if student_column else HEADER
    body = [([r.student] if student_column else []) + r.cells() for r in rows]
    return markdown_table(header, [[c.replace("|", "/") for c in cells] for cells in body])


def _spreadsheet_safe(cell) -> str:
    """A cell a spreadsheet shows as text: one a student wrote must not start a formula."""
    cell = str(cell)
    return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell


def _csv(header, lines) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_spreadsheet_safe(c) for c in line] for line in lines)
    return buffer.getvalue()


def to_rows_csv(rows: Sequence[Row]) -> str:
    """One line per row (student, the table's columns, max points): for a teacher's own analysis."""
    return _csv(("student", *HEADER, "max points"),
                [[r.student, *r.cells()[:-1], f"{r.points:.6g}", f"{r.max_points:.6g}"] for r in rows])


def tasks_of(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(r.task for r in rows))


def grade_table(rows: Sequence[Row]) -> tuple[list[str], list[list[str]]]:
    """One line per student, one column per task (the best of its rows), and the total. A row of no task (a
    file that did not load, with no --like to say what it was for) earns nothing and makes no column."""
    tasks = [t for t in tasks_of(rows) if t]
    best: dict[str, dict[str, float]] = {}
    for r in rows:
        by_task = best.setdefault(r.student, {})
        by_task[r.task] = max(by_task.get(r.task, 0.0), r.points)
    lines = [[student, *[f"{by_task.get(t, 0.0):.6g}" for t in tasks], f"{sum(by_task.values()):.6g}"]
             for student, by_task in best.items()]
    return ["student", *tasks, "total"], lines


def to_grades_csv(rows: Sequence[Row]) -> str:
    return _csv(*grade_table(rows))


def summary(rows: Sequence[Row], isolation: str, top: int = 3) -> str:
    """For the teacher: per task, how many passed and the most common mistakes; how submissions were isolated."""
    students = list(dict.fromkeys(r.student for r in rows))
    lines = []
    for task in tasks_of(rows):
        mine = [r for r in rows if r.task == task]
        passed = sum(r.result == PASS for r in mine)
        common = Counter(m for r in mine for m in r.mistakes).most_common(top)
        lines.append([task or "(unknown: not loaded)", str(len(mine)), str(passed),
                      "; ".join(f"{_one_line(m, 80)} ({n})" for m, n in common) or "-"])
    results = Counter(r.result for r in rows)
    return "\n".join([
        f"{len(students)} submissions, {len(rows)} rows: "
        + ", ".join(f"{n} {result}" for result, n in results.most_common()) + ".",
        f"Isolation: {isolation}.", "",
        markdown_table(("task", "rows", "passed", "most common mistakes"),
                       [[c.replace("|", "/") for c in line] for line in lines])])


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file in the same folder, then a rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_outputs(out: Path, rows: Sequence[Row], isolation: str, student_column: bool = False) -> list[Path]:
    """grades.csv, rows.csv, grades.md and summary.md in ``out`` (created), each written atomically."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    files = {"grades.csv": to_grades_csv(rows), "rows.csv": to_rows_csv(rows),
             "grades.md": to_markdown(rows, student_column) + "\n", "summary.md": summary(rows, isolation) + "\n"}
    for name, text in files.items():
        write_atomic(out / name, text)
    return [out / name for name in files]
