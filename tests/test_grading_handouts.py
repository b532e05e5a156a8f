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
    assert got[("alice", "linear")].file == "numpy_ops.layers:linear"
    header, lines = grade_table(rows)
    assert header == ["student", "linear", "sigmoid", "sigmoid_forward", "total"]
    assert lines == [["alice", "1", "1", "1", "3"], ["bob", "0", "0.5", "1", "1.5"]]
