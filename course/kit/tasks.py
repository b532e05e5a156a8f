"""A handout's tasks: what each one checks, with no answer key.

Two kinds, each with ``record()`` (run once by the builder on the project's own code; what it returns is numbers
only, saved in the handout's ``check_data.json``) and ``check(recorded)`` (run in the handout on the student's
code):

* `OpTask` -- an op of the ``forward``/``backward`` contract. Its forward output is compared with the value
  recorded for fixed inputs; every gradient with central differences of the student's own forward, and a wrong
  one goes to `course.opcheck`'s hints, which name the mistake (sign, factor, transposed, not summed over the
  batch, output for input, missing dout, wrong input, ...). An op that updates state in forward (batch norm's
  running statistics) has that state compared with the recorded one too. Where the reference lists known
  mistakes (`course.opcheck.mistakes`: batch norm, LSTM, GRU, attention), the builder records what each
  mistake's op gives on the same inputs and upstream gradients (numbers only: the mutants themselves are
  stripped from the handout), and a failing op that reproduces one gets that mistake named.
* `ValueTask` -- anything else (an optimizer's steps, an initialiser, the Jacobian of lab 3.1, the course's
  BPTT table): ``run(inputs)`` returns named arrays compared with the recorded ones, and ``gradients(inputs)``
  optionally returns (name, analytic, scalar function, variable) to compare with central differences.

A task whose code still raises the stripped region's ``NotImplementedError("TODO ...")`` is "not implemented
yet", not a failure with a traceback.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from course.opcheck import hints, mistakes
from course.opcheck.checks import _upstream as upstream
from course.opcheck.checks import check as check_gradients
from course.opcheck.references import Case, get_reference
from numpy_ops.gradcheck import numerical_gradient

from .markers import TODO_PREFIX

#: A forward output within this relative error of the recorded one passes (both are float64 computations).
TOL_VALUE = 1e-7
#: Seed of every recorded input: the handout's numbers are the same on every build.
SEED = 0


@dataclass
class TaskResult:
    """One task's outcome: ``status`` is PASS, FAIL or NOT IMPLEMENTED; ``lines`` say what was found."""

    task: str
    status: str
    lines: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "PASS"

    def to_dict(self) -> dict:
        return dict(task=self.task, status=self.status, lines=self.lines)


class NotStarted(Exception):
    """The student's code still raises the handout's TODO."""


def _is_todo(exc: BaseException) -> bool:
    return isinstance(exc, NotImplementedError) and str(exc).startswith(TODO_PREFIX)


def call(fn, *args, **kwargs):
    """fn(*args); the handout's TODO becomes `NotStarted`."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        if _is_todo(exc):
            raise NotStarted(str(exc)) from None
        raise


def resolve(path: str):
    """``"module:attribute"`` -> the attribute, imported from wherever ``module`` is found (the handout)."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def encode(a) -> dict:
    a = np.asarray(a)
    return dict(dtype=str(a.dtype), shape=list(a.shape), data=a.ravel().tolist())


def decode(d: dict) -> np.ndarray:
    return np.asarray(d["data"], dtype=d["dtype"]).reshape(d["shape"])


def compare(name: str, got, expected: np.ndarray) -> list[str]:
    """Problems of a value against the recorded one: shape, then the worst element (both values shown)."""
    got = np.asarray(got) if got is not None else None
    if got is None or got.shape != expected.shape:
        return [f"{name}: shape {None if got is None else got.shape}, expected {expected.shape}"]
    errs = hints.rel_errors(got.astype(np.float64), expected.astype(np.float64))
    if not errs.size or errs.max() <= TOL_VALUE:
        return []
    idx = np.unravel_index(int(np.argmax(errs)), errs.shape)
    lines = [f"{name}: differs from the recorded value (relative error {errs.max():.1e}); worst element "
             f"{list(map(int, idx))}: yours {float(got[idx]):.6g}, expected {float(expected[idx]):.6g}"]
    c = hints.constant_factor(got, expected)
    if c is not None:
        lines.append(f"    HINT: yours is the expected value times {c:.6g} everywhere: a constant factor")
    return lines


@dataclass(frozen=True)
class OpTask:
    """An op: forward against recorded outputs, backward against central differences (named mistakes)."""

    name: str
    title: str
    op: str                           # "module:attribute": the op, or a factory called with ``kwargs``
    inputs: str                       # the course.opcheck reference whose cases draw the inputs
    kwargs: dict | None = None
    backward: bool = True             # False: this task is the forward alone (a later task does backward)
    forward: bool = True              # False: the forward is an earlier task's, only backward is checked

    def make_op(self):
        target = resolve(self.op)
        return target(**self.kwargs) if self.kwargs is not None else target

    def record(self) -> dict:
        op, ref, rng = self.make_op(), get_reference(self.inputs), np.random.default_rng(SEED)
        cases = []
        for case in ref.cases:
            inputs = ref.inputs(case, rng)
            work = [a.copy() for a in inputs]
            out = op.forward(*work)[0]
            row = dict(name=case.name, batch=case.batch, inputs=[encode(a) for a in inputs], output=encode(out))
            if ref.state:
                row["state"] = {n: encode(work[ref.input_names.index(n)]) for n in ref.state}
            if len(inputs) == 1 and hasattr(op, "local_grad"):
                # the derivative evaluated with the output where the input belongs: a pattern of a known mistake
                # (x (1 - x) for sigmoid'), never the right gradient
                x, y = inputs[0], out
                row["patterns"] = [encode(op.local_grad(y, x)), encode(op.derivative(y))]
            cases.append(row)
        data = dict(names=list(ref.input_names), state=list(ref.state), cases=cases)
        if ref.mistakes:
            data["mistakes"] = self._record_mistakes(ref, [[decode(a) for a in c["inputs"]] for c in cases],
                                                     [decode(c["output"]) for c in cases])
        return data

    def _record_mistakes(self, ref, inputs: list, outputs: list) -> dict:
        """The results of the reference's known mistakes that this task checks, on the recorded inputs and on
        upstream gradients drawn here: numbers only (`course.opcheck.mistakes`)."""
        rng = np.random.default_rng(SEED + 1)
        douts = [upstream(out, rng) for out in outputs]
        phases = {"forward"} if not self.backward else {"backward"} if not self.forward else set(mistakes.PHASES)
        found = mistakes.expected([m for m in ref.mistakes if m.phase in phases], ref.make_op(),
                                  list(zip(inputs, douts)), ref.input_names, ref.state)
        return dict(douts=[encode(d) for d in douts],
                    known=[dict(key=key, hint=hint, phase=phase, cases=[{k: encode(v) for k, v in row.items()}
                                                                         for row in rows])
                           for key, hint, phase, rows in found])

    @staticmethod
    def _named_mistake(op, recorded: dict, inputs: list, phase: str) -> list[str]:
        """``["HINT: ..."]`` when the op reproduces one of the recorded mistakes of ``phase``, else []."""
        known = recorded.get("mistakes")
        if not known:
            return []
        douts = [decode(d) for d in known["douts"]] if phase == "backward" else [None] * len(inputs)
        try:
            got = [mistakes.outcome(op, a, recorded["names"], recorded.get("state", ()), d)
                   for a, d in zip(inputs, douts)]
        except Exception:  # noqa: BLE001 -- the student's code: no result, no mistake to name
            return []
        candidates = [(m["key"], m["hint"], [{k: decode(v) for k, v in row.items()} for row in m["cases"]])
                      for m in known["known"] if m["phase"] == phase]
        found = mistakes.identify(got, candidates)
        return [f"HINT: {found[1]}"] if found else []

    def check(self, recorded: dict) -> TaskResult:
        op = self.make_op()
        result = TaskResult(self.name, "PASS")
        cases = [(Case(c["name"], c["batch"], {}), [decode(a) for a in c["inputs"]]) for c in recorded["cases"]]
        state = recorded.get("state", [])
        for (case, inputs), row in zip(cases, recorded["cases"]):
            work = [a.copy() for a in inputs]
            out, _ = call(op.forward, *work)
            if self.forward:
                problems = compare("forward output", out, decode(row["output"]))
                for n, value in row.get("state", {}).items():
                    problems += compare(f"{n} after forward", work[recorded["names"].index(n)], decode(value))
                result.lines += [f"[{case.name}] {p}" for p in problems]
        if result.lines:
            result.lines += self._named_mistake(op, recorded, [inputs for _, inputs in cases], "forward")
            result.lines.append("fix the forward first: the gradients are checked against your forward")
        elif self.backward:
            patterns = {c["name"]: [decode(p) for p in c["patterns"]] for c in recorded["cases"] if "patterns" in c}
            report = check_gradients(op, cases=cases, names=recorded["names"], patterns=patterns, state=state)
            for row in report.summary():
                if any("NotImplementedError: " + TODO_PREFIX in p for p in row["problems"]):
                    raise NotStarted(self.name)
                if not row["passed"] and not result.lines:
                    result.lines += self._named_mistake(op, recorded, [inputs for _, inputs in cases], "backward")
                if not row["passed"]:
                    result.lines.append(f"d{row['input']}: relative error {row['rel_numeric'] or float('nan'):.1e} "
                                        "vs central differences of your forward")
                    result.lines += [f"    {p}" for p in row["problems"]]
                    if row["hint"]:
                        result.lines.append(f"    HINT: {row['hint']}")
        result.status = "FAIL" if result.lines else "PASS"
        if result.passed:
            result.lines.append(f"forward and every gradient right on {len(cases)} cases"
                                if self.backward and self.forward else f"right on {len(cases)} cases")
        return result


@dataclass(frozen=True)
class ValueTask:
    """A function's results against recorded ones; optionally gradients against central differences."""

    name: str
    title: str
    inputs: Callable[[np.random.Generator], dict]
    run: Callable[[dict], dict] | None = None
    gradients: Callable[[dict], list] | None = None

    def record(self) -> dict:
        inputs = self.inputs(np.random.default_rng(SEED))
        outputs = self.run(dict(inputs)) if self.run else {}
        return dict(inputs={k: encode(v) for k, v in inputs.items()},
                    outputs={k: encode(v) for k, v in outputs.items()})

    def check(self, recorded: dict) -> TaskResult:
        inputs = {k: decode(v) for k, v in recorded["inputs"].items()}
        result = TaskResult(self.name, "PASS")
        if self.run:
            got = call(self.run, {k: v.copy() for k, v in inputs.items()})
            for key, expected in recorded["outputs"].items():
                result.lines += compare(key, got.get(key), decode(expected))
        if self.gradients and not result.lines:
            for name, analytic, f, x in call(self.gradients, {k: v.copy() for k, v in inputs.items()}):
                numeric = numerical_jacobian(lambda: call(f), x)
                g = np.asarray(analytic, dtype=np.float64)
                if g.shape == numeric.shape and hints.rel_error(g, numeric) <= 1e-6:
                    continue
                result.lines.append(f"{name}: differs from central differences"
                                    + (f" (relative error {hints.rel_error(g, numeric):.1e})"
                                       if g.shape == numeric.shape else f": shape {g.shape}, expected {numeric.shape}"))
                ev = hints.Evidence(right=[numeric], right_for=lambda d: [None], dout=np.ones(()), names=[name],
                                    batch=1, numel=int(numeric.size))
                found = hints.diagnose(g, 0, ev)
                if found:
                    result.lines.append(f"    HINT: {found[1]}")
        result.status = "FAIL" if result.lines else "PASS"
        if result.passed:
            result.lines.append("right")
        return result


def numerical_jacobian(f, x: np.ndarray) -> np.ndarray:
    """Central differences of ``f()`` with respect to ``x``: the gradient for a scalar ``f``, else the Jacobian
    (row i the gradient of output i)."""
    m = np.asarray(f()).size
    if np.ndim(f()) == 0:
        return numerical_gradient(lambda: float(f()), x)
    return np.stack([numerical_gradient(lambda i=i: float(np.asarray(f()).ravel()[i]), x) for i in range(m)])


def run_task(task, recorded: dict) -> TaskResult:
    """One task's check, whatever the student's code does (an exception is a finding, shown with its line)."""
    try:
        return task.check(recorded)
    except NotStarted:
        return TaskResult(task.name, "NOT IMPLEMENTED", ["not implemented yet (the TODO still raises)"])
    except Exception as exc:  # the student's code: any error is a finding
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "course/kit" not in f.filename.replace("\\", "/")]
        where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} ({frames[-1].line})" if frames else ""
        return TaskResult(task.name, "FAIL", [f"raised {type(exc).__name__}: {exc}{where}"])
