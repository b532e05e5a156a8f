"""scripts/check_op.py: loading users' files, exit codes, JSON, and the teacher's table."""

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from course.opcheck import LoadError, load_op
from course.opcheck.cli import main, parse_shapes
from submissions import SIGMOID, SIGMOID_GRAD
from course.opcheck.teacher import grade_directory, guess_reference, to_csv, to_markdown

REPO = Path(__file__).resolve().parents[1]

RIGHT_SIGMOID = SIGMOID.format(grad=SIGMOID_GRAD)
WRONG_PAIR = """
    import numpy as np

    def affine_forward(x, w, b):
        return x @ w.T + b, (x, w)

    def affine_backward(dout, cache):
        x, w = cache
        return dout @ w, x.T @ dout, dout.sum(0)   # dW transposed

    def tanh_forward(x):
        y = np.tanh(x)
        return y, (x, y)

    def tanh_backward(dout, cache):
        x, y = cache
        return -dout * (1 - y ** 2)                 # wrong sign
"""
SQUARE = """
    def square_forward(x):
        return x * x, (x,)

    def square_backward(dout, cache):
        (x,) = cache
        return 2 * x * dout
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_right_op_exits_0(tmp_path, capsys):
    path = write(tmp_path, "mine.py", RIGHT_SIGMOID)
    code, out, _ = run(capsys, f"{path}:Sigmoid", "--like", "sigmoid")
    assert code == 0, out
    assert "dx: PASS" in out and "RESULT: PASS" in out and "HINT" not in out


def test_a_wrong_pair_exits_1_with_the_hint(tmp_path, capsys):
    path = write(tmp_path, "cs231n.py", WRONG_PAIR)
    code, out, _ = run(capsys, f"{path}:affine", "--like", "linear")
    assert code == 1
    assert "dW: FAIL" in out and "dx: PASS" in out and "db: PASS" in out
    assert "HINT: transposed" in out and "worst element" in out
    code, out, _ = run(capsys, f"{path}:tanh", "--like", "tanh")
    assert code == 1 and "HINT: wrong sign" in out


def test_json_holds_the_same_findings(tmp_path, capsys):
    path = write(tmp_path, "cs231n.py", WRONG_PAIR)
    code, out, _ = run(capsys, f"{path}:affine", "--like", "linear", "--json")
    assert code == 1
    found = json.loads(out)
    assert found["passed"] is False and found["like"] == "linear"
    rows = {row["input"]: row for row in found["inputs"]}
    assert set(rows) == {"x", "W", "b"}
    assert rows["W"]["passed"] is False and rows["W"]["hint_key"] == "transposed"
    assert rows["x"]["passed"] and rows["x"]["rel_reference"] < 1e-12
    assert rows["W"]["worst"]["case"] and len(rows["W"]["worst"]["index"]) == 2


def test_shapes_without_reference_use_central_differences(tmp_path, capsys):
    path = write(tmp_path, "sq.py", SQUARE)
    code, out, _ = run(capsys, f"{path}:square", "--shapes", "3x5")
    assert code == 0 and "checked by central differences" in out
    assert parse_shapes("4x3,2x3,2") == [(4, 3), (2, 3), (2,)]
    with pytest.raises(ValueError, match="4x3"):
        parse_shapes("4by3")


@pytest.mark.parametrize("target, text, reason", [
    ("missing.py:Sigmoid", None, "no such file"),
    ("bad.py:Sigmoid", "def f(:\n", "SyntaxError"),
    ("raises.py:Sigmoid", "import numpy\nraise RuntimeError('boom')\n", "line 2: importing the file raised RuntimeError: boom"),
    ("mine.py:Nope", RIGHT_SIGMOID, "ops found in the file: Sigmoid"),
    ("fn.py:sigmoid", "def sigmoid(x):\n    return x\n", "has no forward and no backward"),
    ("mine.py", RIGHT_SIGMOID, "expected FILE.py:NAME"),
])
def test_unloadable_exits_2_with_the_reason(tmp_path, capsys, target, text, reason):
    if text is not None:
        write(tmp_path, target.split(":")[0], text)
    code, out, err = run(capsys, tmp_path / target, "--like", "sigmoid")
    assert code == 2 and reason in err, err


def test_bad_arguments_exit_2(tmp_path, capsys):
    path = write(tmp_path, "mine.py", RIGHT_SIGMOID)
    assert run(capsys, f"{path}:Sigmoid", "--like", "sigmoidd")[0] == 2
    square = write(tmp_path, "sq.py", SQUARE)  # a name that says no reference (Sigmoid's does: --like is inferred)
    code, _, err = run(capsys, f"{square}:square")
    assert code == 2 and "--like" in err


def test_the_script_runs_as_a_command(tmp_path):
    path = write(tmp_path, "mine.py", RIGHT_SIGMOID)
    done = subprocess.run([sys.executable, "scripts/check_op.py", f"{path}:Sigmoid", "--like", "sigmoid"], cwd=REPO,
                          capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": ""})
    assert done.returncode == 0, done.stderr
    assert "RESULT: PASS" in done.stdout


def test_load_op_accepts_an_instance_and_a_bare_array_gradient(tmp_path):
    path = write(tmp_path, "inst.py", textwrap.dedent(RIGHT_SIGMOID) + "\nsigmoid = Sigmoid()\n")
    op = load_op(f"{path}:sigmoid")
    assert op.n_inputs == 1
    sq = load_op(f"{write(tmp_path, 'sq.py', SQUARE)}:square")
    import numpy as np
    out, cache = sq.forward(np.ones(3))
    assert isinstance(sq.backward(np.ones(3), cache), tuple)  # a bare array becomes a 1-tuple
    with pytest.raises(LoadError):
        load_op(f"{tmp_path}/none.py:x")


def test_teacher_table_from_a_directory(tmp_path, capsys):
    d = tmp_path / "class"
    d.mkdir()
    write(d, "alice.py", WRONG_PAIR)
    write(d, "bob.py", RIGHT_SIGMOID)
    write(d, "carol.py", "def f(:\n")
    out_dir = tmp_path / "grades"
    code, out, _ = run(capsys, d, "--out", out_dir)
    assert code == 1
    # rows.csv: one line per op (grades.csv is one line per student, one column per task: tests/test_grading.py)
    rows = list(csv.DictReader(io.StringIO((out_dir / "rows.csv").read_text())))
    got = {(r["file"], r["op"]): r for r in rows}
    assert got[("alice.py", "affine")]["result"] == "FAIL" and "transposed" in got[("alice.py", "affine")]["hint"]
    assert got[("alice.py", "tanh")]["result"] == "FAIL" and "wrong sign" in got[("alice.py", "tanh")]["hint"]
    assert got[("bob.py", "Sigmoid")]["result"] == "PASS" and got[("bob.py", "Sigmoid")]["reference"] == "sigmoid"
    assert got[("carol.py", "")]["result"] == "NOT LOADED" and "SyntaxError" in got[("carol.py", "")]["hint"]
    md = (out_dir / "grades.md").read_text()
    assert md.startswith("| file | op | reference | result | worst relative error | hint |") and md == out + ""
    # no reference values anywhere the class sees: no expected gradient, no worst element, no absolute path
    assert "expected" not in md.lower() and "worst element" not in md and str(tmp_path) not in md


def test_teacher_rows_and_reference_guess(tmp_path):
    assert guess_reference("sigmoid") == "sigmoid" and guess_reference("ReLU") == "relu"
    assert guess_reference("affine") == "linear" and guess_reference("my_tanh") == "tanh"
    assert guess_reference("conv_nothing_like") is None
    write(tmp_path, "helpers.py", "import numpy as np\nfrom numpy_ops import linear\n")  # imported ops are not hers
    write(tmp_path, "odd.py", SQUARE)  # an op no reference matches by name
    rows = grade_directory(tmp_path)
    assert [(r.file, r.result) for r in rows] == [("helpers.py", "NOT LOADED"), ("odd.py", "NO REFERENCE")]
    assert to_markdown(rows).count("\n") == len(rows) + 1 and to_csv(rows).count("\n") == len(rows) + 1
