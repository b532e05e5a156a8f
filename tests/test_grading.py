"""Grading a class no submission can break or fool: a class directory of honest, mistaken and hostile files.

Each hostile file gets its own row (CRASHED, TIMEOUT, OUT OF MEMORY, NOT LOADED, FAIL), the honest ones pass
whatever the others did, only the grader writes the grades, and nothing outside the output folder changes.
Short timeouts and small limits keep it fast.
"""

import csv
import hashlib
import io
import os
import tempfile
import textwrap
from pathlib import Path

import pytest

from course.grading import Limits, Sandbox
from course.opcheck.cli import main
from submissions import SIGMOID, SIGMOID_GRAD

REPO = Path(__file__).resolve().parents[1]

RIGHT = SIGMOID_GRAD


def sigmoid(grad=RIGHT, before="", backward_first=""):
    text = textwrap.dedent(SIGMOID).format(grad=grad)
    if backward_first:
        text = text.replace("        (s,) = cache\n", f"        {backward_first}\n        (s,) = cache\n")
    return textwrap.dedent(before) + text


AFFINE = """
    def affine_forward(x, w, b):
        return x @ w.T + b, (x, w)

    def affine_backward(dout, cache):
        x, w = cache
        return dout @ w, {dw}, {db}
"""


def affine(dw="dout.T @ x", db="dout.sum(0)"):
    return textwrap.dedent(AFFINE).format(dw=dw, db=db)


def hostile_class(out: Path) -> dict[str, tuple[str, str]]:
    """file name -> (source, expected result); ``out`` is where the grades go (one file tries to write there)."""
    grades_writer = f"""
        import os
        for path in ({str(out / 'grades.csv')!r}, "../grades.csv", "grades.csv", {str(out / 'rows.csv')!r}):
            try:
                with open(path, "w") as f:
                    f.write("student,sigmoid,total\\ngrades_writer,100,100\\n")
            except OSError:
                pass
    """
    return {
        "good_sigmoid.py": (sigmoid(), "PASS"),
        "good_affine.py": (affine(), "PASS"),
        "zz_good_late.py": (sigmoid(), "PASS"),  # graded after every hostile file
        "sign.py": (sigmoid("-dout * s * (1 - s)"), "FAIL"),
        "output_for_input.py": (sigmoid("dout * x * (1 - x)").replace("(s,)", "(s, x)"), "FAIL"),
        "upstream.py": (sigmoid("s * (1 - s)"), "FAIL"),
        "changes_dout.py": (sigmoid("dout.__imul__(s * (1 - s))"), "FAIL"),
        "transposed_affine.py": (affine(dw="x.T @ dout"), "FAIL"),
        "not_summed_affine.py": (affine(db="dout"), "FAIL"),
        "exit_at_import.py": ("import sys\nsys.exit()\n" + sigmoid(), "CRASHED"),
        "os_exit_at_import.py": ("import os\nos._exit(0)\n" + sigmoid(), "CRASHED"),
        "exit_in_backward.py": (sigmoid(backward_first="import sys; sys.exit(3)"), "CRASHED"),
        "os_exit_in_backward.py": (sigmoid(backward_first="import os; os._exit(0)"), "CRASHED"),
        "segfaults_in_forward.py": (sigmoid().replace("        s = 1 /", "        __import__('ctypes').string_at(0)\n"
                                                                "        s = 1 /"), "CRASHED"),
        "hangs_in_backward.py": (sigmoid(backward_first="while True: pass"), "TIMEOUT"),
        "allocates.py": (sigmoid(backward_first="big = np.ones((10**6, 10**6))"), "OUT OF MEMORY"),
        # the kernel exempts root from the process limit: then the forks happen, and die with the child
        "fork_loop.py": ("import os, time\nfor _ in range(20):\n    if os.fork() == 0:\n        time.sleep(60)\n"
                         "        os._exit(0)\n" + sigmoid(), "PASS" if os.geteuid() == 0 else "NOT LOADED"),
        "patches_numpy.py": ("import numpy as np\nnp.exp = lambda x: 0 * x\nnp.array_equal = lambda *a, **k: True\n"
                             + sigmoid(), "FAIL"),
        "imports_reference.py": ("from numpy_ops.activations import Sigmoid as MySigmoid\n", "NOT LOADED"),
        "imports_reference_by_path.py": (f"import sys\nsys.path.insert(0, {str(REPO)!r})\n"
                                         "from numpy_ops.activations import Sigmoid as MySigmoid\n", "NOT LOADED"),
        "patches_checker.py": ("import course.opcheck.checks as c\nc.TOL_NUMERIC = c.TOL_REFERENCE = 1e9\n"
                               + sigmoid("0 * dout"), "NOT LOADED"),
        "writes_grades.py": (textwrap.dedent(grades_writer) + sigmoid("-dout * s * (1 - s)"), "FAIL"),
        # writes its own "answer" on the grader's pipe (the child's argv names the descriptor)
        "forges_answers.py": ("import json, os, sys\nfd = json.loads(sys.argv[1])['fds'][1]\n"
                              "os.write(fd, (9).to_bytes(8, 'big') + b'PASS PASS')\n" + sigmoid("0 * dout"), "CRASHED"),
        "prints_fake_results.py": ("print('| good_sigmoid.py | Sigmoid | sigmoid | FAIL |')\nprint('RESULT: PASS')\n"
                                   + sigmoid("2 * dout * s * (1 - s)"), "FAIL"),
    }


def snapshot(root: Path, skip: tuple[Path, ...]) -> dict[str, str]:
    """Every file under ``root`` (outside ``skip``) -> a hash of its content."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(s == path or s in path.parents for s in skip):
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def survivors(marker: str) -> list[int]:
    """Processes whose command line or working folder mentions ``marker`` (none should outlive a run)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            text = (proc / "cmdline").read_bytes().decode(errors="replace") + os.readlink(proc / "cwd")
        except OSError:
            continue
        if marker in text:
            pids.append(int(proc.name))
    return pids


@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """The sandbox's folders under this test's tmp_path (to find them, and to check they are gone)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


def test_a_hostile_class_gets_one_right_row_each(tmp_path, own_tmp, capsys):
    klass, out = tmp_path / "class", tmp_path / "grades"
    klass.mkdir()
    expected = hostile_class(out)
    for name, (text, _) in expected.items():
        (klass / name).write_text(text)
    before = snapshot(tmp_path, (out, own_tmp))
    code = main([str(klass), "--out", str(out), "--timeout", "6", "--memory-mb", "400", "--jobs", "2", "--seed", "7"])
    printed = capsys.readouterr()
    assert code == 1
    rows = list(csv.DictReader(io.StringIO((out / "rows.csv").read_text())))
    got = {r["file"]: r for r in rows}
    assert set(got) == set(expected), set(got) ^ set(expected)
    namespaces = "Isolation: user, network, mount and PID namespaces" in (out / "summary.md").read_text()
    for name, (_, result) in expected.items():
        if name == "imports_reference_by_path.py" and not namespaces:
            continue  # the project's folder is hidden only inside a mount namespace (docs/check_op.md)
        assert got[name]["result"] == result, (name, got[name])
    hint = {name: got[name]["hint"] for name in got}
    assert "wrong sign" in hint["sign.py"] and "transposed" in hint["transposed_affine.py"]
    assert "the output used where the input belongs" in hint["output_for_input.py"]
    assert "upstream" in hint["upstream.py"] and "not summed" in hint["not_summed_affine.py"]
    assert "exited with status 0 while importing" in hint["exit_at_import.py"]
    assert "status 3 in Sigmoid.backward" in hint["exit_in_backward.py"]
    assert "no answer within 6 s in Sigmoid.backward" in hint["hangs_in_backward.py"]
    assert "killed by signal SIGSEGV in Sigmoid.forward" in hint["segfaults_in_forward.py"]
    assert "MemoryError" in hint["allocates.py"] and "changed dout in place" in hint["changes_dout.py"]
    assert "imports numpy_ops (the project's reference ops)" in hint["imports_reference.py"]
    assert "imports course" in hint["patches_checker.py"] and "garbled" in hint["forges_answers.py"]
    # only the grader wrote the grades: the writer's line is the grader's, nobody else's files changed
    grades = {line["student"]: line for line in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    assert set(grades) == {Path(n).stem for n in expected}
    assert grades["writes_grades"]["total"] == "0.5" and grades["good_sigmoid"]["total"] == "1"
    assert snapshot(tmp_path, (out, own_tmp)) == before
    assert list(own_tmp.iterdir()) == [] and survivors(str(own_tmp)) == []
    # what a submission prints reaches neither the table nor the terminal
    assert "RESULT: PASS" not in printed.out + printed.err
    assert printed.out == (out / "grades.md").read_text()
    assert "good_sigmoid.py | Sigmoid | sigmoid | FAIL" not in printed.out


def test_the_sandbox_keeps_a_child_from_the_project_and_the_network(own_tmp):
    with Sandbox(Limits(timeout_s=5)) as sandbox:
        if not sandbox.namespaces:
            pytest.skip(f"no namespaces here: {sandbox.isolation}")
        probe = own_tmp / "probe.py"
        probe.write_text(textwrap.dedent(f"""
            import os, socket, sys
            found = []
            try:
                socket.create_connection(("1.1.1.1", 53), timeout=1)
                found.append("network")
            except OSError:
                pass
            if os.path.exists({str(REPO / 'numpy_ops')!r}):
                found.append("project")
            try:
                open("/tmp/escaped-by-a-submission", "w")
                found.append("wrote /tmp")
            except OSError:
                pass
            open("mine.txt", "w").write("the scratch folder is writable")
            raise RuntimeError(",".join(found) or "nothing")
        """))
        child = sandbox.start([(probe, "probe.py")], "probe")
        answer, _ = child.ask(dict(cmd="load", file="probe.py", name=None))
        child.stop()
    assert answer["error"]["message"].endswith("RuntimeError: nothing"), answer


def test_without_namespaces_the_limits_still_hold(tmp_path, own_tmp):
    from course.opcheck.teacher import grade_directory
    from course.grading import Settings

    for name, text in {"good.py": sigmoid(), "exits.py": "import os\nos._exit(0)\n",
                       "hangs.py": sigmoid(backward_first="import time; time.sleep(100)"),
                       "allocates.py": "import numpy as np\nbig = np.ones((10**6, 10**6))\n"}.items():
        (tmp_path / name).write_text(text)
    rows = grade_directory(tmp_path, settings=Settings(Limits(timeout_s=2, memory_mb=400)), isolate=False)
    assert {r.file: r.result for r in rows} == {"good.py": "PASS", "exits.py": "CRASHED", "hangs.py": "TIMEOUT",
                                                 "allocates.py": "OUT OF MEMORY"}
    assert survivors(str(own_tmp)) == []


def test_teacher_mode_finds_each_linear_ops_layout_or_takes_the_one_told(tmp_path):
    """A class writes the affine layer in torch's layout (W (out, in)), the course's (W (in, out)) or CS231n's: each
    right one passes, its row says the layout assumed; told a layout, the grader holds every file to it."""
    from course.grading import Settings
    from course.opcheck.teacher import grade_directory

    files = {"torch_layout.py": affine(),
             "course_layout.py": affine().replace("x @ w.T + b", "x @ w + b").replace("dout @ w,", "dout @ w.T,")
                                         .replace("dout.T @ x", "x.T @ dout"),
             "wrong.py": affine(dw="x.T @ dout")}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    limits = Limits(timeout_s=20, memory_mb=400)
    rows = {r.file: r for r in grade_directory(tmp_path, like="linear", settings=Settings(limits))}
    assert rows["torch_layout.py"].result == "PASS" and "layout" not in rows["torch_layout.py"].hint
    assert rows["course_layout.py"].result == "PASS" and "layout assumed: W (in, out)" in rows["course_layout.py"].hint
    assert rows["wrong.py"].result == "FAIL"
    told = {r.file: r.result for r in grade_directory(tmp_path, like="linear", settings=Settings(limits, layout="torch"))}
    assert told == {"torch_layout.py": "PASS", "course_layout.py": "FAIL", "wrong.py": "FAIL"}
