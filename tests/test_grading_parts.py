"""The grader's parts: the pipe's framing, hidden cases, points and weights, grades.csv, the summary, options."""

import csv
import io
import os
import textwrap

import numpy as np
import pytest

from course.grading import Limits, Settings, Weights, framing, hidden_reference
from course.grading.results import Row, grade_table, summary, to_grades_csv, to_rows_csv
from course.opcheck.cli import main
from course.opcheck.references import REFERENCES
from course.opcheck.teacher import grade_directory

from test_grading import affine, sigmoid

FAST = Settings(Limits(timeout_s=20, memory_mb=400))


def test_framing_round_trips_numbers_only():
    r, w = os.pipe()
    sent = [np.arange(12.0).reshape(3, 4)[:, ::2], np.float32(2.5), np.array([1, 2], np.int64), np.zeros((0, 3))]
    framing.send(w, dict(cmd="forward", op="x"), sent)
    header, got = framing.receive(r)
    assert header == dict(cmd="forward", op="x")
    for a, b in zip(sent, got):
        assert np.array_equal(a, b) and np.asarray(a).dtype == b.dtype and np.shape(a) == b.shape
    with pytest.raises(ValueError, match="numbers only"):
        framing.encode({}, [np.array([object()])])
    os.close(w)
    with pytest.raises(EOFError):
        framing.receive(r)


@pytest.mark.parametrize("raw, reason", [
    (b"\xff" * 8, "bytes"),                                                    # a length beyond the cap
    (len(b"[1]").to_bytes(8, "big") + b"[1]", "object with a list"),           # JSON, but not a header
    (len(b"{x").to_bytes(8, "big") + b"{x", "not JSON"),
    (len(h := b'{"arrays": [["|O", [1]]]}').to_bytes(8, "big") + h, "numbers only"),  # a pickled object's dtype
    (len(h := b'{"arrays": [["<f8", [10000000000]]]}').to_bytes(8, "big") + h, "bytes"),
])
def test_framing_refuses_a_hostile_stream(raw, reason):
    r, w = os.pipe()
    os.write(w, raw)
    os.close(w)
    with pytest.raises(framing.FramingError, match=reason):
        framing.receive(r)


def test_a_silent_writer_times_out():
    r, w = os.pipe()
    os.write(w, (100).to_bytes(8, "big"))
    with pytest.raises(framing.Timeout):
        framing.receive(r, deadline=0.0)


def test_hidden_cases_are_larger_and_drawn_from_the_seed():
    for name in ("linear", "sigmoid", "softmax_cross_entropy", *(n for n in ("conv2d", "max_pool2d") if n in REFERENCES)):
        ref = REFERENCES[name]
        hidden = hidden_reference(ref, seed=11, n=2)
        assert hidden.cases[: len(ref.cases)] == ref.cases and len(hidden.cases) == len(ref.cases) + 2
        last = ref.cases[-1].sizes
        for case in hidden.cases[len(ref.cases):]:
            assert all(case.sizes[k] > v or k == "k" for k, v in last.items()), (name, case)
            assert all((case.sizes[k] - v) % 2 == 0 for k, v in last.items())
        assert hidden_reference(ref, 11, 2) == hidden
        assert any(hidden_reference(ref, seed, 2) != hidden for seed in range(12, 16))


def test_partial_credit_follows_the_teachers_weights(tmp_path):
    (tmp_path / "alice.py").write_text(affine(dw="x.T @ dout"))  # forward, dx and db right, dW transposed
    (tmp_path / "bob.py").write_text(affine())
    (alice, bob) = grade_directory(tmp_path, settings=FAST)
    assert (alice.result, alice.points, alice.max_points) == ("FAIL", 0.75, 1.0) and bob.points == 1.0
    weights = tmp_path / "points.toml"
    weights.write_text("[linear]\npoints = 4\ndW = 2\n")
    settings = Settings(FAST.limits, weights=Weights.from_toml(weights))
    (alice, bob) = grade_directory(tmp_path, settings=settings)
    assert alice.points == pytest.approx(4 * 3 / 5) and bob.points == 4.0 and alice.max_points == 4.0
    weights.write_text("[linear]\ndW = 'two'\n")
    with pytest.raises(ValueError, match=r"points.toml: \[linear\] dW = 'two': expected a number >= 0"):
        Weights.from_toml(weights)


def test_grades_csv_is_one_line_per_student_and_one_column_per_task():
    rows = [Row("alice", "alice.py", "Sigmoid", "sigmoid", "PASS", 1e-10, "", "sigmoid", 1.0, 1.0),
            Row("alice", "alice.py", "affine", "linear", "FAIL", 0.5, "dW: transposed", "linear", 0.75, 1.0,
                ("transposed",)),
            Row("=bob", "=bob.py", "", "", "TIMEOUT", None, "no answer", "sigmoid", 0.0, 1.0, ("TIMEOUT",))]
    header, lines = grade_table(rows)
    assert header == ["student", "sigmoid", "linear", "total"]
    assert lines == [["alice", "1", "0.75", "1.75"], ["=bob", "0", "0", "0"]]
    text = to_grades_csv(rows)
    assert text.splitlines()[2] == "'=bob,0,0,0"  # a name must not start a spreadsheet formula
    assert len(list(csv.DictReader(io.StringIO(to_rows_csv(rows))))) == 3
    told = summary(rows, "test isolation")
    assert "2 submissions, 3 rows" in told and "Isolation: test isolation." in told
    assert "| sigmoid | 2 | 1 | TIMEOUT (1) |" in told and "| linear | 1 | 0 | transposed (1) |" in told


def test_an_op_that_cannot_be_built_gets_its_own_row(tmp_path):
    needs_args = textwrap.dedent("""
        class Tanh:
            def __init__(self, slope):
                self.slope = slope
            def forward(self, x):
                return x, ()
            def backward(self, dout, cache):
                return (dout,)
    """)
    (tmp_path / "carol.py").write_text(sigmoid() + needs_args)
    rows = grade_directory(tmp_path, settings=FAST)
    got = {r.op: r for r in rows}
    assert got["Sigmoid"].result == "PASS"
    assert got["Tanh"].result == "NOT LOADED" and "Tanh() raised TypeError" in got["Tanh"].hint
    assert str(tmp_path) not in got["Tanh"].hint


def test_teacher_options(tmp_path, capsys):
    klass = tmp_path / "class"
    klass.mkdir()
    (klass / "alice.py").write_text(sigmoid())
    seed = tmp_path / "seed.txt"
    seed.write_text("not a number\n")
    assert main([str(klass), "--seed-file", str(seed)]) == 2
    assert "--seed-file" in capsys.readouterr().err
    seed.write_text("12345\n")
    assert main([str(klass), "--seed-file", str(seed), "--out", str(tmp_path / "out"), "--jobs", "2"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "1 submissions, 1 rows: 1 PASS." in err  # no progress bar off a terminal
    assert (tmp_path / "out" / "grades.csv").read_text() == "student,sigmoid,total\nalice,1,1\n"
    assert main([str(klass), "--jobs", "0"]) == 2


def test_the_childs_op_loader_needs_nothing_of_the_project_but_itself():
    """The child runs a copy of numpy_ops' op loader (`sandbox.LOADER`) with NumPy alone on its path: the copied
    files may import the standard library, NumPy and each other, nothing else of the project."""
    import ast
    import sys

    from course.grading.sandbox import LOADER, PROJECT

    siblings = {name.removesuffix(".py") for name in LOADER}
    for name in LOADER:
        tree = ast.parse((PROJECT / "numpy_ops" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.module in siblings, f"numpy_ops/{name} imports .{node.module}: add it to LOADER"
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                for top in (n.split(".")[0] for n in names):
                    assert top in sys.stdlib_module_names or top in {"numpy", "__future__"}, (name, top)
