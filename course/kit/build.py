"""Build a lab's handout (the student's copy) or its teacher's copy from the project's own code.

A handout is a copy of the project's packages (so that completing it completes the framework: the Lightning
training runs the student's ops) in which every solution region of this lab and of every later lab is replaced
by a TODO that raises; the earlier labs' answers stay (they were handed in). Beside the code: ``check.py`` (the
checker, staged per task), ``check_data.json`` (inputs and forward outputs recorded from the project's code:
numbers, never code), ``README.md`` (the tasks and where each one is), ``notebooks/`` (one ``.ipynb`` per lab,
generated from its jupytext source). ``solutions=True`` keeps this lab's answers in: the teacher's copy.

The handout is written into a temporary folder beside ``out`` and renamed into place at the end, so a failed
build leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from . import markers
from .labs import LABS, Lab, get_lab, owner_of

ROOT = Path(__file__).resolve().parents[2]
#: What a handout carries of the project: the three packages, the configs, and what installs them.
SHIPPED = ("numpy_ops", "course", "lightning_ffnn", "configs", "pyproject.toml")
SKIPPED = ("__pycache__", ".egg-info", ".pyc")
NOTEBOOKS = ROOT / "notebooks"
#: The files of a handout that are the checker, not the student's work: a grader puts back pristine copies.
CHECKER_FILES = ("check.py", "check_data.json", "course/kit", "course/opcheck")


def hidden_tasks(lab: Lab, solutions: bool) -> dict[str, str]:
    """{task: its lab} of every task whose answer the handout hides: its own (unless ``solutions``) and later."""
    start = LABS.index(lab) + (1 if solutions else 0)
    return {t.name: later.name for later in LABS[start:] for t in later.tasks}


def _files(root: Path):
    for name in SHIPPED:
        path = root / name
        if path.is_file():
            yield path
        else:
            yield from (p for p in sorted(path.rglob("*")) if p.is_file()
                        and not any(s in part for part in p.relative_to(root).parts for s in SKIPPED))


def task_places(lab: Lab, root: Path = ROOT) -> dict[str, list[str]]:
    """{task: ["numpy_ops/layers.py: LinearOp.forward", ...]}: where the student writes each task of ``lab``."""
    places: dict[str, list[str]] = {t.name: [] for t in lab.tasks}
    for path in _files(root):
        if path.suffix != ".py":
            continue
        rel = path.relative_to(root).as_posix()
        for region in markers.regions(path.read_text(), rel):
            for task in region.tasks:
                if owner_of(task) is None:
                    raise markers.MarkerError(f"{rel}:{region.begin}: task {task!r} belongs to no lab "
                                              "(course/kit/labs.py)")
                where = f"{rel}: {region.function}"
                if task in places and not region.hidden and where not in places[task]:
                    places[task].append(where)
    return places


def _copy_stripped(lab: Lab, dest: Path, solutions: bool, root: Path) -> None:
    hidden = hidden_tasks(lab, solutions)

    def hide(task: str, hidden_region: bool) -> str | None:
        if task not in hidden:
            return None
        return markers.todo_message(task, hidden[task], own=hidden[task] == lab.name, hidden=hidden_region)

    for path in _files(root):
        rel = path.relative_to(root)
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".py":
            target.write_text(markers.strip(path.read_text(), hide, rel.as_posix()))
        else:
            shutil.copyfile(path, target)


CHECK_PY = '''"""Check your work on {title}.

    python check.py            # every task; exit status 0 only when every task passes
    python check.py {first}      # one task (a task not started says "not implemented yet")
    python check.py --json     # the results as JSON (for grading)

Tasks: {tasks}. NumPy alone runs it.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # this handout's code, not an installed copy

from course.kit.checker import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], lab={lab!r}))
'''


def _readme(lab: Lab, places: dict[str, list[str]], solutions: bool) -> str:
    lines = [f"# {lab.title}", "",
             "The teacher's copy: the answers are in." if solutions else
             "Your handout. Each task below is a function (or a few) that raises `NotImplementedError(\"TODO ...\")`:"
             " write its body, keeping the signature; the docstring gives the shapes and the formula.", "",
             "| task | what | where |", "|---|---|---|"]
    for t in lab.tasks:
        lines.append(f"| `{t.name}` | {t.title} | {'<br>'.join(f'`{p}`' for p in places[t.name])} |")
    lines += ["", "## Working through the lab", "",
              "1. `python -m venv .venv && .venv/bin/pip install numpy` is all the checker needs. For the notebook's "
              "training cell install this folder itself: `.venv/bin/pip install -e .` (it installs this copy, "
              "with your code in it, and its dependencies: torch, Lightning).",
              f"2. One task at a time: `python check.py {lab.tasks[0].name}`. The checker compares your forward with "
              "values recorded for fixed inputs and your gradients with central differences of your own forward; "
              "a wrong gradient gets a hint naming the likely mistake.",
              "3. `python check.py` checks every task: exit status 0 when all pass.",
              f"4. The notebook `notebooks/{lab.name}.ipynb` walks through the lab (open it with Jupyter).", "",
              "Functions of later labs also raise a TODO (\"part of lab ...\"): they are not part of this lab."]
    return "\n".join(lines) + "\n"


def _notebook(lab: Lab, dest: Path) -> None:
    if not lab.notebook:
        return
    import jupytext  # a build-time dependency (the kit extra): the student gets the .ipynb

    nb = jupytext.read(NOTEBOOKS / lab.notebook)
    (dest / "notebooks").mkdir(exist_ok=True)
    jupytext.write(nb, dest / "notebooks" / f"{lab.name}.ipynb")


def build(lab_name: str, out: Path, solutions: bool = False, archive: bool = False, root: Path = ROOT) -> Path:
    """Write the handout of ``lab_name`` into ``out`` (which must not exist, or be an empty folder)."""
    lab = get_lab(lab_name)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"--out {out}: exists and is not an empty folder; give a new one")
    places = task_places(lab, root)
    missing = [t for t, p in places.items() if not p]
    if missing:
        raise markers.MarkerError(f"lab {lab.name}: no '# BEGIN SOLUTION' region for task(s) {', '.join(missing)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _copy_stripped(lab, tmp, solutions, root)
        data = dict(lab=lab.name, places=places, tasks={t.name: t.record() for t in lab.tasks})
        (tmp / "check_data.json").write_text(json.dumps(data))
        (tmp / "check.py").write_text(CHECK_PY.format(title=lab.title, first=lab.tasks[0].name, lab=lab.name,
                                                      tasks=", ".join(t.name for t in lab.tasks)))
        (tmp / "README.md").write_text(_readme(lab, places, solutions))
        _notebook(lab, tmp)
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if archive:
        shutil.make_archive(str(out), "zip", root_dir=out.parent, base_dir=out.name)
    return out
