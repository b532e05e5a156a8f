"""A teacher's mode: a directory of students' files graded into one table (Markdown and CSV).

Each ``*.py`` file may hold one op or several (objects with forward/backward, or ``X_forward`` / ``X_backward``
pairs). Each op is checked against ``like`` when given, else against the reference its name matches
(``sigmoid_forward`` -> sigmoid, ``class ReLU`` -> relu). The table has one row per op: file, op, reference,
PASS/FAIL, worst relative error, hint. It holds no reference value (no expected gradient, no worst element),
so it can be handed back to the class.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from course.tables import markdown_table
from numpy_ops.user_op import LoadError, discover, load_module, load_op

from . import layouts
from .checks import check
from .references import REFERENCES

HEADER = ("file", "op", "reference", "result", "worst relative error", "hint")


@dataclass
class Row:
    file: str
    op: str
    reference: str
    result: str  # PASS, FAIL, NOT LOADED, NO REFERENCE
    worst: float | None
    hint: str

    def cells(self) -> list[str]:
        worst = "" if self.worst is None else f"{self.worst:.1e}"
        return [self.file, self.op, self.reference, self.result, worst, self.hint]


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


def grade_file(path: Path, like: str | None = None, name: str | None = None) -> list[Row]:
    """Every op of one student's file, checked; a file that cannot be loaded gives one NOT LOADED row."""
    shown = path.name
    try:
        ops = {name: load_op(f"{path}:{name}")} if name else discover(load_module(path))
    except LoadError as exc:
        return [Row(shown, name or "", like or "", "NOT LOADED", None, str(exc).replace(str(path), shown))]
    if not ops:
        return [Row(shown, "", like or "", "NOT LOADED", None, "no op found: define forward/backward or X_forward/X_backward")]
    rows = []
    for op_name, op in ops.items():
        ref = like or op.like or guess_reference(op_name)
        if ref is None or ref not in REFERENCES:
            rows.append(Row(shown, op_name, ref or "", "NO REFERENCE", None,
                            "name the reference with --like (it is not in the op's name)"))
            continue
        op = layouts.with_params(op, ref)
        reference, layout = layouts.resolve(op, ref)
        report = check(op, like=reference)
        if layout is not None and layout.name != "torch":
            ref = f"{ref} ({layout.name} layout)"
        hint = "; ".join(report.hints()) or (report.error or "")
        if not report.passed and not hint:
            hint = "; ".join(sorted({p for row in report.summary() for p in row["problems"]}))
        rows.append(Row(shown, op_name, ref, "PASS" if report.passed else "FAIL", report.worst_rel_error(), hint))
    return rows


def grade_directory(directory: Path, like: str | None = None, name: str | None = None) -> list[Row]:
    files = sorted(p for p in Path(directory).glob("*.py") if not p.name.startswith("_"))
    return [row for f in files for row in grade_file(f, like, name)]


def to_markdown(rows: Sequence[Row]) -> str:
    return markdown_table(HEADER, [[c.replace("|", "/") for c in r.cells()] for r in rows])


def to_csv(rows: Sequence[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(r.cells() for r in rows)
    return buffer.getvalue()
