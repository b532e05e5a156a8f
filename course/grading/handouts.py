"""Whole handouts: a class's folder of completed handouts, one folder per student, graded by one call.

Each student's folder is copied whole into the scratch folder (the handout's own files: its packages hold the
student's code), and each task's op is imported from there by ``"package.module:attribute"``. The checks, the
hidden cases and the points are those of any submission (`course.grading.grade`); the project's own reference
ops stay in the grader.

    tasks = [Task(target="numpy_ops.layers:linear", like="linear", title="linear"), ...]
    rows, isolation = grade_handouts(Path("submissions"), tasks, Settings(), jobs=4)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from course.opcheck.references import REFERENCES

from .grade import Settings, Submission, Task, grade_class
from .results import NOT_LOADED, Row, scored

#: A student's folder larger than this is not copied (its row says so).
MAX_FOLDER_BYTES = 64 * 2**20


def handout_files(folder: Path) -> list[tuple[Path, str]]:
    """Every regular file of ``folder`` (no links, no caches) as (source, path inside the folder)."""
    files = []
    for path in sorted(folder.rglob("*")):
        inside = path.relative_to(folder)
        if path.is_symlink() or not path.is_file() or "__pycache__" in inside.parts:
            continue
        files.append((path, str(inside)))
    return files


def handout_submissions(class_dir: Path, tasks: Sequence[Task]) -> tuple[list[Submission], list[Row]]:
    """One submission per folder of ``class_dir`` (not starting with ``.`` or ``_``), named by the folder; and a
    NOT LOADED row per task (scored later) for a folder too large to copy."""
    submissions, refused = [], []
    for folder in sorted(p for p in Path(class_dir).iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        files = handout_files(folder)
        size = sum(src.stat().st_size for src, _ in files)
        if size > MAX_FOLDER_BYTES:
            refused += [Row(folder.name, t.where, t.name or "", t.like or "", NOT_LOADED, None,
                            f"the folder holds {size / 2**20:.0f} MiB (at most {MAX_FOLDER_BYTES / 2**20:.0f})",
                            t.title or t.like or "") for t in tasks]
            continue
        submissions.append(Submission(folder.name, files, list(tasks)))
    return submissions, refused


def grade_handouts(class_dir: Path, tasks: Sequence[Task], settings: Settings, jobs: int = 1,
                   hide: Sequence[Path] = (), **options) -> tuple[list[Row], str]:
    """Every student's handout in ``class_dir``, every task: (rows, the isolation that ran)."""
    submissions, refused = handout_submissions(class_dir, tasks)
    rows, isolation = grade_class(submissions, settings, jobs=jobs, hide=(Path(class_dir), *hide), **options)
    return rows + [scored(r, r.task, None, settings.weights) for r in refused], isolation


def lab_tasks(lab: str) -> list[Task]:
    """A course-kit lab's tasks as grading tasks: each op task's op imported from the student's handout and checked
    against its reference; each value task (an optimizer's steps, an initialiser, a Jacobian) run from the handout
    and compared with the project's own run (`course.grading.values`)."""
    from course.kit.labs import get_lab
    from course.kit.tasks import OpTask

    from .values import target_of

    tasks = []
    for t in get_lab(lab).tasks:
        if not isinstance(t, OpTask):
            tasks.append(Task(target=target_of(t.run or t.gradients), value=f"{lab}:{t.name}", title=t.name))
            continue
        gradients = tuple(f"d{n}" for n in REFERENCES[t.inputs].input_names)
        checks = None if t.forward and t.backward else ("forward",) if t.forward else gradients
        tasks.append(Task(target=t.op, kwargs=t.kwargs, like=t.inputs, title=t.name, checks=checks))
    return tasks
