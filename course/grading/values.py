"""Value tasks graded: an optimizer's steps, an initialiser, a Jacobian, dropout's mask, the BPTT sum.

A course-kit `ValueTask` has no op for the checker to drive: it is a call (``course.kit.values:adam_run``) that
runs the student's code on fixed inputs and gives named arrays, and optionally a call that gives named gradients.
Here the student's child makes those calls -- on the inputs the handout's checker uses and on hidden ones drawn
from the teacher's seed -- and sends back the arrays; the grader makes the same calls with the project's own code
in its own process and compares. The calls are the kit's glue (`course.kit.values`: it computes nothing itself),
imported from the student's folder like the rest of the package; a student who edits the glue to give the right
arrays for inputs nobody has seen has done the task.

Nothing of a right value reaches a row: a problem names the output, the inputs (recorded or hidden) and the
relative error, and says so when the result is the right one times a constant.
"""

from __future__ import annotations

import numpy as np

from course.kit.tasks import SEED, TOL_VALUE
from course.opcheck import hints

from .remote import remote_exception
from .results import FAIL, PASS
from .sandbox import CRASHED, Child, Stopped

def value_task(lab: str, name: str):
    """The kit's `ValueTask` ``name`` of ``lab``."""
    from course.kit.labs import get_lab

    return get_lab(lab).task(name)


def target_of(fn) -> str:
    """``"module:function"`` of a module-level function, as the child imports it."""
    return f"{fn.__module__}:{fn.__qualname__}"


def cases(task, seed: int, hidden: int) -> list[tuple[str, dict]]:
    """(label, inputs): the handout's recorded inputs, then ``hidden`` drawn from the teacher's ``seed``."""
    out = [("recorded", task.inputs(np.random.default_rng(SEED)))]
    out += [(f"hidden {i + 1}", task.inputs(np.random.default_rng([seed, 21, i]))) for i in range(hidden)]
    return out


def expected(task, inputs: dict) -> list[tuple[str, np.ndarray]]:
    """The project's own results for ``inputs``: (name, array) of every output, then of every gradient."""
    out = []
    if task.run is not None:
        out += [(k, np.asarray(v)) for k, v in task.run({k: np.copy(v) for k, v in inputs.items()}).items()]
    if task.gradients is not None:
        out += [(str(item[0]), np.asarray(item[1]))
                for item in task.gradients({k: np.copy(v) for k, v in inputs.items()})]
    return out


def ask_child(child: Child, task, inputs: dict, phase: str) -> dict[str, np.ndarray]:
    """The student's results for ``inputs`` by name; the child's exception raised as one of its type's name."""
    got = {}
    for kind, fn in (("run", task.run), ("gradients", task.gradients)):
        if fn is None:
            continue
        keys = list(inputs)
        answer, arrays = child.ask(dict(cmd="value", target=target_of(fn), kind=kind, keys=keys),
                                   [np.asarray(inputs[k]) for k in keys], phase=phase)
        if "error" in answer:
            raise remote_exception(answer["error"])
        names = answer.get("names")
        if not isinstance(names, list) or len(names) != len(arrays) or not all(isinstance(n, str) for n in names):
            child.stop()
            raise Stopped(CRASHED, f"garbled the answer channel {phase}")
        got.update(zip(names, arrays))
    return got


def problems(name: str, got: np.ndarray | None, want: np.ndarray, label: str) -> tuple[list[str], float]:
    """What is wrong with ``got`` (no value of ``want`` is shown), and its relative error (inf: not comparable)."""
    where = f"{name} ({label} inputs)"
    if got is None:
        return [f"{where}: not returned"], np.inf
    if got.shape != want.shape:
        return [f"{where}: shape {got.shape}, expected {want.shape}"], np.inf
    if not np.all(np.isfinite(got)):
        return [f"{where}: holds nan or inf"], np.inf
    error = hints.rel_error(got.astype(np.float64), want.astype(np.float64)) if got.size else 0.0
    if error <= TOL_VALUE:  # the handout's checker passes the same
        return [], error
    line = f"{where}: differs from the reference (relative error {error:.1e})"
    c = hints.constant_factor(got, want)
    if c is not None:
        line += f"; it is the right result times {c:.4g} (a constant factor)"
    return [line], error


def grade_value(child: Child, task, seed: int, hidden: int, label: str) -> tuple[str, str, float | None]:
    """(result, hint, worst relative error) of ``task`` in ``child``; `Stopped` when the child ends or hangs."""
    lines, worst = [], 0.0
    for case, inputs in cases(task, seed, hidden):
        child.restart_clock()
        try:
            got = ask_child(child, task, inputs, f"in {label} ({case} inputs)")
        except Exception as exc:  # the student's exception, rebuilt: a finding, not the end of the grading
            return FAIL, f"{type(exc).__name__}: {exc}", None
        for name, want in expected(task, inputs):
            found, error = problems(name, got.get(name), want, case)
            lines += found
            worst = max(worst, error)
        if lines:
            break
    return (PASS if not lines else FAIL), "; ".join(lines), (None if not np.isfinite(worst) else worst)

