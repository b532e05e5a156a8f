"""Whole handouts: a folder per student, each task's op imported from the student's own copy of the package."""

import textwrap

from course.grading import Limits, Settings, Task, grade_handouts
from course.grading.results import grade_table

from test_grading import sigmoid

LAYERS = """
    class Linear:
        def forward(self, x, w, b):
            return x @ w.T + b, (x, w)

        def backward(self, dout, cache):
            x, w = cache
            return dout @ w, dout.T @ x, dout.sum(0)

    linear = Linear()
"""
GET_ACTIVATION = """

def get_activation(name):
    assert name == "sigmoid"
    return Sigmoid()
"""
TASKS = [Task(target="numpy_ops.layers:linear", like="linear", title="linear"),
         Task(target="numpy_ops.activations:get_activation", kwargs=dict(name="sigmoid"), like="sigmoid",
              title="sigmoid"),
         Task(target="numpy_ops.activations:get_activation", kwargs=dict(name="sigmoid"), like="sigmoid",
              title="sigmoid_forward", checks=("forward",))]


def handout(folder, layers, activations):
    package = folder / "numpy_ops"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "layers.py").write_text(textwrap.dedent(layers))
    (package / "activations.py").write_text(activations + GET_ACTIVATION)
    (folder / "README.md").write_text("the handout's own files travel with it\n")


def test_a_class_of_handouts_in_one_call(tmp_path):
    klass = tmp_path / "class"
    handout(klass / "alice", LAYERS, sigmoid())
    # bob's layers.py does not parse: the project's own numpy_ops must not stand in for his package
    handout(klass / "bob", "def linear(:\n", sigmoid(backward_first="raise NotImplementedError('TODO: backward')"))
    rows, isolation = grade_handouts(klass, TASKS, Settings(Limits(timeout_s=20, memory_mb=400)), jobs=2)
    got = {(r.student, r.task): r for r in rows}
    assert len(rows) == 6 and isolation
    assert all(got[("alice", t)].result == "PASS" for t in ("linear", "sigmoid", "sigmoid_forward"))
    assert got[("bob", "linear")].result == "NOT LOADED" and "SyntaxError" in got[("bob", "linear")].hint
    assert got[("bob", "sigmoid")].result == "FAIL" and "NotImplementedError" in got[("bob", "sigmoid")].hint
    assert got[("bob", "sigmoid_forward")].result == "PASS"  # this task counts the forward alone
    assert got[("bob", "sigmoid_forward")].hint == "" and got[("bob", "sigmoid_forward")].mistakes == ()  # its row
    assert got[("alice", "linear")].file == "numpy_ops.layers:linear"
    header, lines = grade_table(rows)
    assert header == ["student", "linear", "sigmoid", "sigmoid_forward", "total"]
    assert lines == [["alice", "1", "1", "1", "3"], ["bob", "0", "0.5", "1", "1.5"]]


def test_course_py_grades_the_kits_handouts(tmp_path):
    """`scripts/course.py grade` on real handouts: the teacher's copy passes every task, the untouched handout fails
    each with its TODO, the value task (sgd) among them."""
    import csv
    import subprocess
    import sys
    from pathlib import Path

    from course.kit.build import build

    klass, out = tmp_path / "class", tmp_path / "grades"
    build("lab32", klass / "alice", solutions=True)
    build("lab32", klass / "bob")
    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(repo / "scripts" / "course.py"), "grade", str(klass), "--lab", "lab32",
                           "--out", str(out), "--jobs", "2", "--timeout", "60"], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    rows = {(r["student"], r["reference"]): r for r in csv.DictReader((out / "rows.csv").open())}
    for ref in ("linear", "sigmoid", "softmax_cross_entropy", "sgd"):
        assert rows[("alice", ref)]["result"] == "PASS", rows[("alice", ref)]
        assert rows[("bob", ref)]["result"] == "FAIL" and "TODO" in rows[("bob", ref)]["hint"]
    grades = (out / "grades.csv").read_text().splitlines()
    assert grades[0] == "student,linear,sigmoid,softmax_cross_entropy,sgd,total" and grades[1].endswith(",4")


def test_value_tasks_are_graded_on_hidden_inputs(tmp_path):
    """The optim lab has no op: each task is a call run in the student's child and compared with the project's own
    run, on the handout's inputs and on hidden ones. Replaying the handout's recorded numbers passes the handout's
    inputs only; a wrong formula, a constant factor, a hang and an exit each get their row; no right value shows."""
    import json
    import shutil

    from course.grading.handouts import lab_tasks
    from course.kit.build import build

    klass = tmp_path / "class"
    build("optim", klass / "alice", solutions=True)

    def copy_with(student, path, old, new):
        shutil.copytree(klass / "alice", klass / student)
        file = klass / student / path
        text = file.read_text()
        assert old in text, (path, old)
        file.write_text(text.replace(old, new, 1))

    copy_with("bob", "numpy_ops/optim.py", "m_hat = m / (1 - b1**t)", "m_hat = m")  # no bias correction
    copy_with("carol", "numpy_ops/init.py", "return calculate_gain(nonlinearity, a) / math.sqrt(fan)",
              "return 2 * calculate_gain(nonlinearity, a) / math.sqrt(fan)")  # every draw twice too large
    recorded = json.loads((klass / "alice" / "check_data.json").read_text())["tasks"]["adam"]["outputs"]["params"]
    copy_with("dave", "course/kit/values.py", "def adam_run(inputs):",  # the handout's numbers, replayed
              "def adam_run(inputs):\n    from course.kit.tasks import decode\n\n"
              f"    return dict(params=decode({recorded!r}))\n\n\ndef _adam_run(inputs):")
    copy_with("erin", "numpy_ops/optim.py", "# BEGIN SOLUTION sgd_momentum", "while True: pass")
    copy_with("frank", "numpy_ops/init.py", "fan = fan_in if", "__import__('os')._exit(3)\n    fan = fan_in if")

    rows, _ = grade_handouts(klass, lab_tasks("optim"), Settings(Limits(timeout_s=10, memory_mb=400)), jobs=2)
    got = {(r.student, r.task): r for r in rows}
    assert all(got[("alice", t)].result == "PASS" for t in ("sgd_momentum", "adam", "kaiming"))
    assert got[("bob", "adam")].result == "FAIL" and "params (recorded inputs): differs" in got[("bob", "adam")].hint
    assert got[("bob", "sgd_momentum")].result == "PASS"
    assert got[("carol", "kaiming")].result == "FAIL" and "times 2 (a constant factor)" in got[("carol", "kaiming")].hint
    assert got[("dave", "adam")].result == "FAIL" and "(hidden 1 inputs)" in got[("dave", "adam")].hint
    assert got[("erin", "sgd_momentum")].result == "TIMEOUT" and got[("erin", "adam")].result == "PASS"
    assert got[("frank", "kaiming")].result == "CRASHED" and got[("frank", "sgd_momentum")].result == "PASS"
    assert all(r.points == r.max_points == 1 for r in rows if r.result == "PASS")
    assert all(r.points == 0 for r in rows if r.result != "PASS")
    assert all("yours" not in r.hint and "expected 0" not in r.hint for r in rows)  # no value of the answer
