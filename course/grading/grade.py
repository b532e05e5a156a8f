"""Grading: each submission's tasks run in its own child (`sandbox`), every verdict computed here (`check`).

A `Submission` is one student's files (a single ``.py`` file, or a handout's folder) and the `Task`s to grade in
them (a file, an op's name or every op the file defines, the reference it should equal). `grade_submission`
gives one `Row` per task and op whatever happens -- PASS, FAIL (with the hint), TIMEOUT, CRASHED, OUT OF MEMORY,
NOT LOADED (the reason), NO REFERENCE -- and `grade_class` runs a class of them on ``jobs`` threads (each
thread waits on its own child process) with a progress bar drawn only on a terminal.

The checker's cases are the reference's own plus hidden ones (`hidden_reference`): larger shapes than the
student's checker tried, all inputs drawn from the teacher's seed.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course.opcheck import layouts
from course.opcheck.checks import check
from course.opcheck.references import REFERENCES, Case, Reference

from .remote import RemoteOp
from .results import NO_REFERENCE, NOT_LOADED, Row, Weights, scored
from .sandbox import CRASHED, Child, Limits, Sandbox, Stopped
from .values import grade_value, value_task

#: Top-level packages a submission may not import: the project's own (reference ops, checker) and its heavy
#: dependencies. They are not on the child's import path; this names the reason in the row.
OUT_OF_REACH = {"numpy_ops": "the project's reference ops", "course": "the project's checker and grader",
                "lightning_ffnn": "the project's Lightning code", "torch": "PyTorch", "lightning": "Lightning"}
#: Sizes a hidden case keeps: the convolution's kernel (padding 1 is fixed for it).
FIXED_SIZES = {"k"}


@dataclass(frozen=True)
class Task:
    """What to grade in a submission: ``file`` (one of its files) and ``name`` in it (None: every op the file
    defines); or ``target``, ``"package.module:attribute"`` imported from the submission's folder (a handout's
    own files), called with ``kwargs`` when they are given (a factory). ``like``: the reference (None: the op's
    ``like`` attribute, else `Settings.guess` of its name). ``title`` names the task's column in grades.csv
    (default: the reference). ``checks``: the checks that count (default all: ``forward``, ``dx``, ``dW``...),
    e.g. ``("forward",)`` for a task that is the forward alone. ``value``: ``"lab:task"``, a course-kit value task
    (an optimizer's steps, an initialiser...) run from the submission's folder and compared with the project's own
    run (`course.grading.values`); ``title`` then defaults to the task's name."""

    file: str | None = None
    name: str | None = None
    like: str | None = None
    title: str | None = None
    target: str | None = None
    kwargs: dict | None = field(default=None, compare=False)
    checks: tuple[str, ...] | None = None
    value: str | None = None

    @property
    def where(self) -> str:
        """The file or the import target, as the table shows it."""
        return self.file or self.target or ""


@dataclass
class Submission:
    """One student's work: ``files`` ((source path, name in the scratch folder)) and the tasks in them."""

    student: str
    files: list[tuple[Path, str]]
    tasks: list[Task]


@dataclass
class Settings:
    limits: Limits = field(default_factory=Limits)
    seed: int = 0
    hidden: int = 2                      # hidden cases per reference
    weights: Weights = field(default_factory=Weights)
    guess: Callable[[str], str | None] = lambda name: None
    #: The linear op's weight layout (`course.opcheck.layouts`): None finds each op's from its output, as check_op
    #: does; a handout's is "torch" (its model trains with that layout).
    layout: str | None = None


def hidden_reference(ref: Reference, seed: int, n: int) -> Reference:
    """``ref`` with ``n`` more cases, each larger than its last case in every size (by an even amount drawn
    from ``seed``, so a pooling window still fits), named "hidden 1", ... The checker draws their inputs."""
    rng = np.random.default_rng([seed, 20])
    last = ref.cases[-1]
    extra = []
    for i in range(n):
        sizes = {k: v if k in FIXED_SIZES else v + 2 * int(rng.integers(1, 4)) for k, v in last.sizes.items()}
        extra.append(Case(f"hidden {i + 1}", sizes.get("n", last.batch), sizes))
    return dataclasses.replace(ref, cases=(*ref.cases, *extra))


def _valid_load(answer: dict) -> bool:
    """A load answer the grader can use: lists of {"name": str, ...}, nothing else (the child is not trusted)."""
    lists = [answer.get("ops", []), answer.get("skipped", [])]
    return all(isinstance(items, list) and all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items)
               for items in lists)


def _not_loaded_reason(error: dict) -> str:
    module = (error.get("module") or "").split(".")[0]
    if error.get("cause") == "ModuleNotFoundError" and module in OUT_OF_REACH:
        return (f"imports {module} ({OUT_OF_REACH[module]}), which is out of a graded submission's reach: "
                "write the op with NumPy alone")
    return error.get("message", "")


class _Grader:
    """One submission: a child at a time, restarted when a task killed it."""

    def __init__(self, sandbox: Sandbox, submission: Submission, settings: Settings):
        self.sandbox, self.sub, self.settings = sandbox, submission, settings
        self.child: Child | None = None
        self.loaded: tuple | None = None

    def row(self, task: Task, op: str, ref: str, result: str, hint: str, report=None) -> Row:
        return scored(Row(self.sub.student, task.where, op, ref, result, None, hint), task.title or ref,
                      report, self.settings.weights, task.checks)

    def live_child(self) -> Child:
        """The submission's child, a new one if there is none or the last was stopped."""
        if self.child is None or self.child.proc.poll() is not None:
            self.close()
            self.child = self.sandbox.start(self.sub.files, self.sub.student)
        return self.child

    def load(self, task: Task) -> dict:
        """The child's answer to loading ``task``'s file, in a live child (a new one if the last was stopped)."""
        if self.child is None or self.child.proc.poll() is not None or self.loaded is None:
            self.close()
            self.live_child()
        key = (task.file, task.name, task.target, repr(task.kwargs))
        if self.loaded is None or self.loaded[0] != key:
            self.child.restart_clock()
            phase = "while importing " + ("the file" if task.file else task.target)
            answer, _ = self.child.ask(dict(cmd="load", file=task.file, name=task.name, target=task.target,
                                            kwargs=task.kwargs), phase=phase)
            if not _valid_load(answer):
                self.child.stop()
                raise Stopped(CRASHED, f"garbled the answer channel {phase}")
            self.loaded = (key, answer)
        return self.loaded[1]

    def grade(self, task: Task) -> list[Row]:
        if task.value is not None:
            return [self.grade_value(task)]
        try:
            answer = self.load(task)
        except Stopped as stop:
            self.close()
            return [self.row(task, task.name or "", task.like or "", stop.result, stop.detail)]
        if "error" in answer:
            error = answer["error"]  # a handout's own numpy_ops is the student's: only a file's import is refused
            reason = _not_loaded_reason(error) if task.file else f"{error.get('type')}: {error.get('message')}"
            return [self.row(task, task.name or "", task.like or "", NOT_LOADED, reason)]
        rows = [self.row(task, s["name"], task.like or "", NOT_LOADED, str(s.get("reason")))
                for s in answer.get("skipped", [])]
        ops = answer.get("ops", [])
        if not ops and not rows:
            rows.append(self.row(task, "", task.like or "", NOT_LOADED,
                                 "no op found: define forward/backward or X_forward/X_backward"))
        for info in ops:
            rows.append(self.grade_op(task, info))
        return rows

    def grade_op(self, task: Task, info: dict) -> Row:
        op_name = info["name"]
        like = info.get("like") if isinstance(info.get("like"), str) and info["like"] in REFERENCES else None
        ref = task.like or like or self.settings.guess(op_name)
        if ref is None or ref not in REFERENCES:
            return self.row(task, op_name, ref or "", NO_REFERENCE,
                            "name the reference with --like (it is not in the op's name)")
        try:
            self.load(task)  # the op before may have stopped the child: a new one loads the file again
            self.child.restart_clock()
            op = RemoteOp(self.child, info)
            reference = hidden_reference(REFERENCES[ref], self.settings.seed, self.settings.hidden)
            reference, layout = layouts.resolve(op, reference, self.settings.layout if ref == "linear" else None,
                                                self.settings.seed)
            report = check(op, like=reference, seed=self.settings.seed)
        except Stopped as stop:
            self.close()
            return self.row(task, op_name, ref, stop.result, stop.detail)
        row = self.row(task, op_name, ref, "", "", report)
        if layout is not None and layout.name != "torch":
            row.hint = "; ".join(filter(None, [f"layout assumed: {layout.says}", row.hint]))
        return row

    def grade_value(self, task: Task) -> Row:
        lab, _, name = task.value.partition(":")
        title = task.title or name
        try:
            result, hint, worst = grade_value(self.live_child(), value_task(lab, name), self.settings.seed,
                                              self.settings.hidden, name)
        except Stopped as stop:
            self.close()
            result, hint, worst = stop.result, stop.detail, None
        row = Row(self.sub.student, task.where, name, name, result, worst, hint)
        return scored(row, title, None, self.settings.weights)

    def close(self) -> None:
        if self.child is not None:
            self.child.stop()
        self.child, self.loaded = None, None


def grade_submission(sandbox: Sandbox, submission: Submission, settings: Settings) -> list[Row]:
    """Every task of one submission: one row per op (or one for a file that gives none), whatever happens."""
    grader = _Grader(sandbox, submission, settings)
    try:
        return [row for task in submission.tasks for row in grader.grade(task)]
    finally:
        grader.close()


def grade_class(submissions: Sequence[Submission], settings: Settings, jobs: int = 1, hide: Sequence[Path] = (),
                isolate: bool = True, progress: bool | None = None) -> tuple[list[Row], str]:
    """Every submission, ``jobs`` at a time: (rows in the submissions' order, the isolation that ran).
    ``hide``: folders the submissions must not see (the class's, the output's); the project is always hidden.
    ``progress``: draw a bar on stderr (default: when stderr is a terminal)."""
    from tqdm import tqdm

    with Sandbox(settings.limits, tuple(hide), isolate) as sandbox:
        bar = tqdm(total=len(submissions), unit="submission", file=sys.stderr,
                   disable=not (sys.stderr.isatty() if progress is None else progress))
        with bar, ThreadPoolExecutor(max(1, jobs)) as pool:
            futures = [pool.submit(grade_submission, sandbox, s, settings) for s in submissions]
            for future in futures:
                future.add_done_callback(lambda _: bar.update(1))
            rows = [row for future in futures for row in future.result()]
        return rows, sandbox.isolation
