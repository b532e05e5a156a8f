"""A check's findings as text for a person (per input: relative errors, worst element, PASS/FAIL, hint)."""

from __future__ import annotations

from .checks import TOL_NUMERIC, TOL_REFERENCE, WRONG_VALUES, OpReport


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.2e}"


def format_report(report: OpReport, source: str = "") -> str:
    """The text `scripts/check_op.py` prints."""
    title = f"{source or report.op}" + (f" checked against numpy_ops' {report.like}" if report.like
                                        else " checked by central differences")
    lines = [title, "-" * len(title)]
    if report.layout:
        lines.append(f"layout assumed: {report.layout}")
    if report.error:
        return "\n".join([*lines, f"FAIL: {report.error}"])
    for o in report.output:
        if o["problems"]:
            lines.append(f"output [{o['case']}]: FAIL, {'; '.join(o['problems'])}"
                         + (f" (relative error {_num(o['rel_error'])})" if o["rel_error"] is not None else ""))
    if report.like and not any(o["problems"] for o in report.output):
        worst = max((o["rel_error"] or 0.0) for o in report.output)
        lines.append(f"output: PASS (relative error {_num(worst)} against the reference)")
    if report.mistake:
        lines.append(f"HINT: {report.mistake[1]}")
    for row in report.summary():
        status = "PASS" if row["passed"] else "FAIL"
        rel = f"relative error {_num(row['rel_numeric'])} vs central differences"
        if row["rel_reference"] is not None:
            rel += f", {_num(row['rel_reference'])} vs the reference"
        lines.append(f"d{row['input']}: {status}  {rel}")
        w = row["worst"]
        if WRONG_VALUES in row["problems"] and w["index"] is not None and w["got"] is not None:
            lines.append(f"    worst element {list(w['index'])} in case '{w['case']}': yours {w['got']:.6g}, "
                         f"expected {w['expected']:.6g}")
        for p in row["problems"]:
            lines.append(f"    {p}")
        if row["hint"]:
            lines.append(f"    HINT: {row['hint']}")
    cases = sorted({r.case for r in report.results}, key=[r.case for r in report.results].index)
    lines += ["", f"cases: {'; '.join(cases)}",
              f"pass: relative error <= {TOL_NUMERIC:g} vs central differences"
              + (f" and <= {TOL_REFERENCE:g} vs the reference" if report.like else "")
              + "; gradients with the input's shape and dtype",
              f"RESULT: {'PASS' if report.passed else 'FAIL'}"]
    return "\n".join(lines)
