"""The course kit: every lab's handout builds, imports and fails per task with "not implemented"; its teacher's
copy passes; named mistakes get their hints; no line of a hidden answer is anywhere in a student's tree.

Handouts are built once per session (`kit` fixture); every check runs in its own process in the handout's
folder, as a student runs it (the handout's own copy of the code first on sys.path).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from course.kit import markers
from course.kit.build import ROOT, _files, build, hidden_tasks
from course.kit.checker import parse_result, task_checks
from course.kit.labs import LABS, get_lab

LAB_NAMES = [lab.name for lab in LABS]


@pytest.fixture(scope="session")
def kit(tmp_path_factory):
    """{lab: (student folder, teacher folder)}; the lab32 student copy also as a zip archive."""
    base = tmp_path_factory.mktemp("kit")
    return {lab: (build(lab, base / "student" / lab, archive=lab == "lab32"),
                  build(lab, base / "teacher" / lab, solutions=True)) for lab in LAB_NAMES}


def check(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "check.py", *args], cwd=folder, capture_output=True, text=True,
                          timeout=120)


def results(folder: Path, *tasks: str) -> list[dict]:
    done = check(folder, *tasks, "--json")
    value = json.loads(done.stdout)
    return [value] if isinstance(value, dict) else value


def test_list_prints_one_lab_per_line_name_first():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "course.py"), "list"], capture_output=True,
                          text=True, check=True)
    lines = done.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == LAB_NAMES


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_skeleton_fails_every_task_as_not_implemented(kit, lab):
    student, _ = kit[lab]
    framework = ", lightning_ffnn.bridge" if lab == "lab32" else ""  # torch's import is slow: once is enough
    imported = subprocess.run([sys.executable, "-c", f"import numpy_ops, course.kit.checker{framework};"
                               "print(numpy_ops.__file__)"], cwd=student, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    assert Path(imported.stdout.strip()).resolve().is_relative_to(student.resolve())
    done = check(student)
    assert done.returncode == 1
    for task in get_lab(lab).tasks:
        assert f"{task.name}: NOT IMPLEMENTED\n    not implemented yet" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_teacher_copy_passes_every_task(kit, lab):
    _, teacher = kit[lab]
    done = check(teacher)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r["status"] for r in results(teacher)] == ["PASS"] * len(get_lab(lab).tasks)


def test_one_task_at_a_time_and_bad_task_names(kit):
    student, teacher = kit["lab32"]
    assert check(teacher, "linear").returncode == 0
    assert check(student, "linear").returncode == 1
    bad = check(student, "lineer")
    assert bad.returncode == 2 and "no task 'lineer' in lab32" in bad.stderr


# (lab, task, file, the right line, a wrong one, words of the hint it must get)
MISTAKES = [
    ("lab32", "linear", "numpy_ops/layers.py", "dW = dout.T @ x", "dW = x.T @ dout", "transposed"),
    ("lab32", "linear", "numpy_ops/layers.py", "dx = dout @ W", "dx = -(dout @ W)", "wrong sign"),
    ("lab32", "linear", "numpy_ops/layers.py", "db = dout.sum(axis=0)", "db = dout", "not summed over the batch"),
    ("lab32", "linear", "numpy_ops/layers.py", "db = dout.sum(axis=0)", "db = dout[0]", "only the first example"),
    ("lab32", "linear", "numpy_ops/layers.py", "return dx, dW, db", "return dx, db, dW", "wrong input"),
    ("lab32", "sigmoid", "numpy_ops/activations.py", "return y * (1 - y)", "return x * (1 - x)", "output used"),
    ("lab32", "softmax_cross_entropy", "numpy_ops/losses.py", "scale = dout / logp.shape[0]", "scale = dout",
     "constant factor N"),
    ("lab33", "mse", "numpy_ops/losses.py", "dpred = diff * (2 * dout / diff.size)", "dpred = diff * (2 / diff.size)",
     "missing the upstream gradient"),
    ("lab33", "mse", "numpy_ops/losses.py", "dpred = diff * (2 * dout / diff.size)", "dpred = diff * (dout / diff.size)",
     "constant factor 1/2"),
    ("lab33", "tanh", "numpy_ops/activations.py", "return 1 - y * y", "return 1 - x * x", "output used"),
    ("lab31", "jacobian", "course/labs/lab31.py", "return np.array([self._reverse(1.0, 0.0), self._reverse(0.0, 1.0)])",
     "return np.array([self._reverse(1.0, 0.0), self._reverse(0.0, 1.0)]).T", "transposed"),
]


@pytest.mark.parametrize("lab, task, file, right, wrong, words", MISTAKES,
                         ids=[f"{m[1]}:{m[4]}" for m in MISTAKES])
def test_a_named_mistake_gets_its_hint(kit, tmp_path, lab, task, file, right, wrong, words):
    handout = tmp_path / lab
    shutil.copytree(kit[lab][1], handout)
    path = handout / file
    text, n = re.subn(rf"(?m)^(\s*){re.escape(right)}$", lambda m: m.group(1) + wrong, path.read_text(), count=1)
    assert n == 1, f"no line {right!r} in {file}"
    path.write_text(text)
    (result,) = results(handout, task)
    assert result["status"] == "FAIL"
    hints = [line for line in result["lines"] if "HINT" in line]
    assert hints and words in hints[0], result["lines"]


def test_a_wrong_forward_is_caught_against_recorded_values(kit, tmp_path):
    handout = tmp_path / "lab32"
    shutil.copytree(kit["lab32"][1], handout)
    path = handout / "numpy_ops/layers.py"
    path.write_text(path.read_text().replace("out = x @ W.T if b is None else x @ W.T + b",
                                             "out = x @ W.T if b is None else x @ W.T - b"))
    (result,) = results(handout, "linear")
    assert result["status"] == "FAIL"
    assert "forward output: differs from the recorded value" in " ".join(result["lines"])
    assert "fix the forward first" in result["lines"][-1]


# ---- no answer inside ----

CONTROL_FLOW = re.compile(r"^(for [\w, ]+ in [\w.()\[\], ]+:|else:|continue|return \w+)$")


def _hidden_lines(tasks) -> set[str]:
    """Code lines of the answers of ``tasks``, less the scaffolding the same file has outside its regions (an
    AvgPool that shares MaxPool's shape lines) and bare control flow (``else:``, a loop's header)."""
    out = set()
    for path in _files(ROOT):
        if path.suffix != ".py":
            continue
        text = path.read_text()
        solution = set(markers.solution_lines(text, tasks, str(path)))
        if solution:
            outside = markers.lines_outside(text)
            out |= {s for s in solution if s not in outside and not CONTROL_FLOW.match(s)}
    return out


def _student_texts(folder: Path):
    """(name, lines) of every text in the tree, notebooks' cells and zip archives' members included."""
    for f in sorted(folder.rglob("*")):
        if not f.is_file():
            continue
        if f.suffix == ".zip":
            yield from _student_texts_zip(f)
        elif f.suffix == ".ipynb":
            cells = json.loads(f.read_text())["cells"]
            yield f.name, [line for c in cells for line in "".join(c["source"]).splitlines()]
        else:
            try:
                yield str(f.relative_to(folder)), f.read_text().splitlines()
            except UnicodeDecodeError:
                continue


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_no_hidden_answer_line_anywhere_in_the_student_tree(kit, lab):
    student, teacher = kit[lab]
    answers = _hidden_lines(set(hidden_tasks(get_lab(lab), solutions=False)))
    own_answers = _hidden_lines({t.name for t in get_lab(lab).tasks})
    assert own_answers and own_answers <= answers
    texts = list(_student_texts(student))
    archive = student.with_suffix(".zip")
    if archive.exists():
        texts += list(_student_texts_zip(archive))
    leaks = [(name, line.strip()) for name, lines in texts for line in lines if line.strip() in answers]
    assert not leaks, leaks[:10]
    # the teacher's copy has this lab's answers: the comparison above is not vacuous
    teacher_lines = {line.strip() for _, lines in _student_texts(teacher) for line in lines}
    assert own_answers <= teacher_lines


def _student_texts_zip(archive: Path):
    with zipfile.ZipFile(archive) as z:
        for member in z.namelist():
            yield member, z.read(member).decode("utf-8", "replace").splitlines()


def test_the_archive_holds_the_handout(kit):
    student, _ = kit["lab32"]
    with zipfile.ZipFile(student.with_suffix(".zip")) as z:
        names = set(z.namelist())
    assert {"lab32/check.py", "lab32/check_data.json", "lab32/numpy_ops/layers.py",
            "lab32/notebooks/lab32.ipynb"} <= names


# ---- the grader's API ----

def test_task_checks_run_each_task_in_its_own_process(kit):
    student, teacher = kit["lab32"]
    checks = task_checks(student, "lab32")
    assert [c.task for c in checks] == [t.name for t in get_lab("lab32").tasks]
    assert checks[0].places == ("numpy_ops/layers.py: LinearOp.forward", "numpy_ops/layers.py: LinearOp.backward")
    assert (checks[0].op, checks[0].kwargs, checks[0].reference) == ("numpy_ops.layers:linear", None, "linear")
    assert (checks[1].op, checks[1].kwargs) == ("numpy_ops.activations:get_activation", {"name": "sigmoid"})
    assert checks[3].op is None and checks[3].reference is None   # sgd: a value task, checked by its command
    for folder, status in ((student, "NOT IMPLEMENTED"), (teacher, "PASS")):
        c = task_checks(folder, "lab32")[0]
        done = subprocess.run(c.command, cwd=c.cwd, capture_output=True, text=True, timeout=60)
        assert parse_result("a student's print\n" + done.stdout)["status"] == status


def test_build_refuses_a_folder_in_use_and_leaves_nothing_half_written(tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("x")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "course.py"), "build", "lab31", "--out",
                           str(tmp_path / "used")], capture_output=True, text=True)
    assert done.returncode == 2 and "exists and is not an empty folder" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["used"]
    bad = subprocess.run([sys.executable, str(ROOT / "scripts" / "course.py"), "build", "lab99", "--out",
                          str(tmp_path / "x")], capture_output=True, text=True)
    assert bad.returncode == 2 and "no lab 'lab99'" in bad.stderr


def test_scripts_importing_the_course_package_get_the_package_not_scripts_course_py(tmp_path):
    """``python scripts/x.py`` puts scripts/ first on sys.path, where scripts/course.py's name shadows `course`."""
    script = tmp_path / "probe.py"
    script.write_text("import course.kit.labs, course\nprint(course.__file__)\n")
    done = subprocess.run([sys.executable, "-c", f"import sys, runpy; sys.path.insert(0, {str(ROOT / 'scripts')!r});"
                           f"runpy.run_path({str(script)!r})"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == ROOT / "course" / "__init__.py"


def test_the_checker_needs_numpy_alone(kit):
    """check.py runs in a process where torch and Lightning cannot be imported."""
    _, teacher = kit["lab32"]
    code = ("import sys, runpy; sys.modules.update(torch=None, lightning=None, scipy=None); sys.argv = ['check.py'];"
            "runpy.run_path('check.py', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], cwd=teacher, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_value_off_by_a_constant_factor_is_said_to_be():
    """The handout's value check and the grader share `hints.constant_factor`: c when yours is c times the right
    value everywhere, nothing when it is right or wrong in another way."""
    from course.kit.tasks import compare
    from course.opcheck.hints import constant_factor

    want = np.random.default_rng(0).standard_normal((4, 3))
    assert constant_factor(2 * want, want) == pytest.approx(2.0)
    assert constant_factor(want, want) is None and constant_factor(want + 1, want) is None
    assert constant_factor(np.full((4, 3), np.nan), want) is None and constant_factor(want, 0 * want) is None
    lines = compare("params", 0.5 * want, want)
    assert lines[-1] == "    HINT: yours is the expected value times 0.5 everywhere: a constant factor"
    assert compare("params", want, want) == [] and "HINT" not in " ".join(compare("params", want + 1, want))
