"""The one Markdown table writer: run summaries, the report, the benchmark and the lab tables use it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]], align_numbers: bool = False) -> str:
    """A GitHub-style Markdown table. Cells are written with ``str``; format numbers before passing them.
    ``align_numbers`` right-aligns every column after the first."""
    header = [str(h) for h in header]
    rule = ["---"] + (["---:"] if align_numbers else ["---"]) * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    for row in rows:
        cells = [str(c) for c in row]
        if len(cells) != len(header):
            raise ValueError(f"a table row has {len(cells)} cells, the header {len(header)}: {cells}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
