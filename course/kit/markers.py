"""Solution markers: the one source of a handout's skeleton is the project's own solution code.

A solution region is a run of whole lines inside a function body, between two comment lines::

    def local_grad(self, x, y):
        # BEGIN SOLUTION sigmoid
        ...                         # the answer
        # END SOLUTION

``# BEGIN SOLUTION`` names the task(s) the region answers (one or more names). `strip` replaces a region
whose task is to be hidden by one ``raise NotImplementedError("TODO ...")`` at the region's indentation;
the function's signature and docstring stay. ``# BEGIN HIDDEN task`` ... ``# END HIDDEN`` marks code that is not
where the student writes the task but would give its answer away (a one-page walkthrough of the same network, a
variant of the same optimizer): it is stripped with the task, and not listed as a place to write. A region may end
with a ``# HANDOUT`` line followed by commented-out code: the handout gets that code instead of the raise (a fast
form of an op, which training runs, calls the student's textbook form in the handout). Everything else, the markers of the tasks that stay
included, is left as it is (a marker is a comment: it changes no behaviour).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import dataclass

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN (?P<kind>SOLUTION|HIDDEN)(?P<tasks>(?: +[A-Za-z0-9_.]+)*)[ \t]*$")
END = re.compile(r"^[ \t]*# END (?P<kind>SOLUTION|HIDDEN)[ \t]*$")
HANDOUT = re.compile(r"^[ \t]*# HANDOUT[ \t]*$")
#: What every stripped region raises starts with this, so the checker can tell "not started" from a bug.
TODO_PREFIX = "TODO"


class MarkerError(ValueError):
    """A malformed solution region, with the file and line."""


@dataclass(frozen=True)
class Region:
    tasks: tuple[str, ...]
    begin: int          # 1-based line of "# BEGIN SOLUTION"
    end: int            # 1-based line of "# END SOLUTION"
    indent: str
    function: str       # the enclosing function, "Class.method" or "function"
    hidden: bool = False  # "# BEGIN HIDDEN": code that gives a task's answer away, not where the student writes it
    handout: tuple[str, ...] = ()  # the lines after "# HANDOUT", uncommented: what the handout has instead


def _functions(tree: ast.AST) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function, innermost last."""
    out: list[tuple[int, int, str]] = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append((child.lineno, child.end_lineno, prefix + child.name))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return out


def _comment_lines(text: str, where: str) -> set[int]:
    """Lines that hold nothing but a comment."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise MarkerError(f"{where}: cannot be read as Python: {exc}") from None
    return {t.start[0] for t in tokens if t.type == tokenize.COMMENT and not t.line[:t.start[1]].strip()}


def regions(text: str, where: str = "<source>") -> list[Region]:
    """Every solution region of one file's text; `MarkerError` names the line of any malformed one."""
    found, open_at = [], None
    lines = text.splitlines()
    comments = _comment_lines(text, where)
    for n, line in enumerate(lines, 1):
        if n not in comments:
            continue  # a marker quoted in a docstring is no marker
        begin = BEGIN.match(line)
        if begin:
            kind = begin.group("kind")
            if open_at is not None:
                raise MarkerError(f"{where}:{n}: BEGIN {kind} inside the region opened at line {open_at[0]}")
            tasks = tuple(begin.group("tasks").split())
            if not tasks:
                raise MarkerError(f"{where}:{n}: BEGIN {kind} names no task (write '# BEGIN {kind} task')")
            open_at = (n, begin.group("indent"), tasks, kind)
        elif END.match(line):
            kind = END.match(line).group("kind")
            if open_at is None or open_at[3] != kind:
                raise MarkerError(f"{where}:{n}: END {kind} without a BEGIN {kind}")
            found.append((open_at, n))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{where}:{open_at[0]}: BEGIN {open_at[3]} never closed by END {open_at[3]}")
    if not found:
        return []
    functions = _functions(ast.parse(text, filename=where))
    out = []
    for (begin, indent, tasks, kind), end in found:
        code = [n for n in range(begin + 1, end) if lines[n - 1].strip() and not lines[n - 1].strip().startswith("#")]
        if not code:
            raise MarkerError(f"{where}:{begin}: the solution region holds no code")
        inside = [f for f in functions if f[0] < begin and code[-1] <= f[1]]
        if not inside:
            raise MarkerError(f"{where}:{begin}: a solution region must lie inside a function body")
        split = next((n for n in range(begin + 1, end) if HANDOUT.match(lines[n - 1])), end)
        handout = tuple(re.sub(r"^(\s*)# ?", r"\1", line) for line in lines[split:end - 1])
        code = [n for n in code if n < split]
        if not code:
            raise MarkerError(f"{where}:{begin}: the solution region holds no code before its HANDOUT")
        out.append(Region(tasks, begin, end, indent, max(inside, key=lambda f: f[0])[2], kind == "HIDDEN", handout))
    return out


def strip(text: str, hide: Callable[[str], str | None], where: str = "<source>") -> str:
    """The text with every region whose task ``hide(task, hidden)`` names (a message) replaced by a raise.

    ``hide(task, hidden)`` returns None to keep the task's solution, or the text of the TODO message (``hidden``:
    the region is a ``# BEGIN HIDDEN`` one). A region of
    several tasks is hidden when any of them is. The result is checked to compile."""
    lines = text.splitlines(keepends=True)
    out, last = [], 0
    for region in regions(text, where):
        messages = [m for m in (hide(t, region.hidden) for t in region.tasks) if m]
        if not messages:
            continue
        out += lines[last:region.begin - 1]
        if region.handout:  # a fast form's stand-in: it calls the student's textbook form
            out += [line + "\n" for line in region.handout]
        else:
            out.append(f"{region.indent}raise NotImplementedError({messages[0]!r})\n")
        last = region.end
    out += lines[last:]
    result = "".join(out)
    compile(result, where, "exec")
    return result


def todo_message(task: str, lab: str, own: bool, hidden: bool = False) -> str:
    """The TODO text a stripped region raises."""
    if hidden:
        return f"{TODO_PREFIX} ({task}): hidden in this handout, it would give away the answer of task {task!r}"
    if own:
        return f"{TODO_PREFIX} ({task}): your code goes here; see the docstring, then run: python check.py {task}"
    return f"{TODO_PREFIX} ({task}): part of lab {lab!r}, not of this handout"


def solution_lines(text: str, tasks: Iterable[str] | None = None, where: str = "<source>") -> list[str]:
    """The code lines (stripped, comments dropped) of the regions of ``tasks`` (default: every region): what must
    never reach a student."""
    lines = text.splitlines()
    out = []
    for region in regions(text, where):
        if tasks is None or set(tasks) & set(region.tasks):
            out += [s for s in (line.strip() for line in lines[region.begin:region.end - 1])
                    if s and not s.startswith("#")]
    return out


def lines_outside(text: str, where: str = "<source>") -> set[str]:
    """The stripped lines of a file that lie outside every region (its scaffolding)."""
    inside = {n for r in regions(text, where) for n in range(r.begin, r.end + 1)}
    return {line.strip() for n, line in enumerate(text.splitlines(), 1) if n not in inside}
