"""The report's document model: the command line's `Options`, one numbered `Section` of Markdown (its figures and
tables counted), the `Part` that fills one, and the HTML page made from the Markdown by the `markdown` package."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import markdown
from matplotlib.figure import Figure

from ..datasets.plots import short_paths


@dataclass
class Options:
    """What the command line chooses. ``only``: part or section keys to run (None: all)."""

    out_dir: Path
    quick: bool = False
    data_dir: str | None = None
    regression_dir: str | None = None
    only: frozenset[str] | None = None


@dataclass
class Section:
    """The Markdown of one numbered part, its figure and table counters, and where its figures go."""

    number: str
    title: str
    out_dir: Path
    blocks: list[str] = field(default_factory=list)
    n_figures: int = 0
    n_tables: int = 0

    def add(self, *blocks: str) -> None:
        self.blocks.extend(b.strip("\n") for b in blocks if b.strip())

    def code(self, text: str) -> None:
        self.add("```text\n" + text.rstrip() + "\n```")

    def table(self, markdown_text: str, caption: str) -> None:
        self.n_tables += 1
        self.add(f"**Table {self.number}.{self.n_tables}.** {caption}", markdown_text)

    def figure(self, source: Figure | Path, name: str, caption: str) -> None:
        """Save a Figure (or copy a PNG) as ``figures/<section>_<name>.png`` and reference it relatively."""
        self.n_figures += 1
        rel = Path("figures") / f"{self.number.replace('.', '_')}_{name}.png"
        target = self.out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Figure):
            source.savefig(target, dpi=110)
        else:
            shutil.copyfile(source, target)
        label = f"Figure {self.number}.{self.n_figures}"
        self.add(f"![{label}: {_alt(caption)}]({rel.as_posix()})", f"*{label}.* {caption}")

    def data(self, kind: str, source: str) -> None:
        """The data-source line: ``kind`` is "real", "synthetic" or "generated"."""
        self.add(f"Data: {data_label(kind)} -- {source}")

    def settings(self, items: dict[str, Any]) -> None:
        self.add("Settings: " + "; ".join(f"{k} = {code_span(v)}" for k, v in items.items()) + ".")


def code_span(value: Any) -> str:
    """``value`` as inline code; an empty value as *none* (an empty code span, two backticks, is no code span in
    Markdown: the rest of the line flips between code and text)."""
    text = "" if value is None else str(value)
    if not text.strip():
        return "*none*"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def portable_paths(text: str, out_dir: Path, repo: Path) -> str:
    """The report without the paths of the machine that built it: the repository's and the report directory's
    own paths become relative (``configs/x.yaml``, ``runs/...``), any other absolute path keeps its last two
    parts (``.../data/ocr``)."""
    for root in sorted({str(Path(out_dir).resolve()), str(Path(out_dir)), str(Path(repo).resolve())}, key=len,
                       reverse=True):
        text = text.replace(root + "/", "").replace(root, ".")
    return short_paths(text)


def data_label(kind: str) -> str:
    return {"real": "**REAL**", "synthetic": "**SYNTHETIC**", "generated": "**GENERATED**"}[kind]


def _alt(text: str) -> str:
    return re.sub(r"[\[\]*`]", "", text).replace("_", " ")


def skipped_in_quick(s: Section, opts: Options, key: str, why: str) -> bool:
    """In --quick mode, the slow parts run only when named in --only; otherwise the section says how to run them."""
    if opts.quick and not (opts.only and key in opts.only):
        s.add(f"Not run in --quick mode ({why}): run the full report, or add `--only {key}`.")
        return True
    return False


class LabFailed(RuntimeError):
    """A part that already wrote its failures into its section (no traceback needed)."""


SectionFunction = Callable[[Section, Options], None]


@dataclass(frozen=True)
class Part:
    """One entry of the report: ``number`` "4" is a heading (``##``), "4.1" a part under it (``###``).

    ``run`` fills the part's `Section`: a function ``f(s: Section, opts: Options)``. ``run=None`` with a whole
    number: a heading only, its parts follow. ``key`` is what ``--only`` takes; a heading's key selects all its
    parts.
    """

    number: str
    key: str
    title: str
    run: SectionFunction | None = None


# ---- HTML ----

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.25em .6em}
th{background:#f3f3f3}td{text-align:right}td:first-child{text-align:left}img{max-width:100%}
pre{background:#f6f8fa;padding:.8em;font-size:.85em;white-space:pre-wrap;overflow-wrap:anywhere}
code{background:#f6f8fa;overflow-wrap:anywhere}"""


def to_html(markdown_text: str, title: str) -> str:
    """A self-contained HTML page (inline CSS; images stay relative paths), the body by the `markdown` package with
    its ``tables`` and ``fenced_code`` extensions."""
    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"])
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n")
