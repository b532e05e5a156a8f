"""Check a user's op: its output against a reference, every gradient against central differences and against
the reference's gradient, the shape and dtype of every gradient, at several input shapes.

`check(op, like=REF)` runs the reference's cases (`course.opcheck.references`); `check(op,
shapes=[...])` runs the given shapes with central differences only. Both add a case where one input is a
non-contiguous view and a case with float32 inputs (whose gradients must come back float32; their values
are compared with the float64 ones at float32's precision). Everything else runs in float64.

With a reference, central differences are a second opinion (every entry is compared with the reference's
gradient): they are taken at `SAMPLED` entries of each input drawn at random, as CS231n's sparse gradient check
does, so a large case or an op of loops (a hidden case in grading, each forward a round trip to the student's
process) costs `SAMPLED` forward pairs per input, not one per entry. Without a reference they are taken
everywhere: they are then the only judge.

The upstream gradient ``dout`` is random (a scalar of 1.7 for a scalar output), so a backward that drops it
or sums it wrongly shows. Relative errors are CS231n's (`hints.rel_error`). A wrong gradient is given to
`hints.diagnose` to name the likely mistake; an op that fails a reference with known mistakes (batch norm,
LSTM, GRU, attention) is also compared with each of them (`course.opcheck.mistakes`), and the one it reproduces
is named (`OpReport.mistake`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from numpy_ops.gradcheck import numerical_gradient

from . import hints, mistakes
from .references import Case, Reference, away_from_zero, get_reference

#: Pass thresholds: against central differences (CS231n: a right backward gives ~1e-10; 1e-7 is fine), against
#: the reference's analytic gradient and output (both exact up to rounding), and float32 against float64.
TOL_NUMERIC, TOL_REFERENCE, TOL_FLOAT32 = 1e-6, 1e-7, 1e-3
H = 1e-5
#: Entries per input at which central differences are taken when a reference gradient judges every entry.
SAMPLED = 40
#: Without a reference, a gradient element within this many times sum|out * dout| of its central difference
#: passes whatever its relative error: that is central differences' rounding (about eps / H = 2e-11 per unit of
#: the function's terms), which swamps elements a million times smaller than the largest (an LSTM's, attention's).
NOISE = 1e-10
WRONG_VALUES = "gradient differs from the right one"


@dataclass
class InputResult:
    """One input in one case."""

    case: str
    name: str
    passed: bool
    rel_numeric: float | None = None      # vs central differences
    rel_reference: float | None = None    # vs the reference's gradient
    worst_index: tuple[int, ...] | None = None
    got: float | None = None
    expected: float | None = None
    problems: list[str] = field(default_factory=list)
    hint_key: str | None = None
    hint: str | None = None


@dataclass
class OpReport:
    """Everything found about one op; `passed` when every input and the output passed in every case."""

    op: str
    like: str | None
    output: list[dict] = field(default_factory=list)   # per case: case, rel_error, problems
    results: list[InputResult] = field(default_factory=list)
    error: str | None = None
    layout: str | None = None   # the weight layout assumed (course.opcheck.layouts), for ops that have layouts
    mistake: tuple[str, str] | None = None  # (key, hint) of the reference's known mistake the op reproduces

    @property
    def passed(self) -> bool:
        return (self.error is None and all(not o["problems"] for o in self.output)
                and all(r.passed for r in self.results))

    def by_input(self) -> dict[str, list[InputResult]]:
        out: dict[str, list[InputResult]] = {}
        for r in self.results:
            out.setdefault(r.name, []).append(r)
        return out

    def summary(self) -> list[dict]:
        """Per input: passed, worst errors over all cases, the worst element, and a hint."""
        rows = []
        for name, results in self.by_input().items():
            bad = [r for r in results if not r.passed]
            worst = max(results, key=lambda r: _worst(r))
            hinted = next((r for r in bad if r.hint), None)
            rows.append(dict(
                input=name, passed=not bad,
                rel_numeric=_max(r.rel_numeric for r in results), rel_reference=_max(r.rel_reference for r in results),
                worst=dict(case=worst.case, index=worst.worst_index, got=worst.got, expected=worst.expected),
                problems=sorted({p for r in bad for p in r.problems}),
                hint_key=hinted.hint_key if hinted else None, hint=hinted.hint if hinted else None))
        return rows

    def worst_rel_error(self) -> float:
        values = [v for row in self.summary() for v in (row["rel_numeric"], row["rel_reference"]) if v is not None]
        return max(values, default=float("inf") if self.error else 0.0)

    def hints(self) -> list[str]:
        named = [self.mistake[1]] if self.mistake else []
        return named + [f"{row['input']}: {row['hint']}" for row in self.summary() if row["hint"]]

    def to_dict(self) -> dict:
        return dict(op=self.op, like=self.like, layout=self.layout, passed=self.passed, error=self.error, output=self.output,
                    mistake=self.mistake[0] if self.mistake else None, mistake_hint=self.mistake[1] if self.mistake else None,
                    inputs=self.summary(), cases=[asdict(r) for r in self.results])


def _worst(r: InputResult) -> float:
    return max([v for v in (r.rel_numeric, r.rel_reference) if v is not None] or [0.0]) + (1e9 if r.problems else 0)


def _max(values) -> float | None:
    values = [v for v in values if v is not None]
    return max(values) if values else None


def non_contiguous(a: np.ndarray) -> np.ndarray:
    """The same values as a strided view (every other column of a buffer twice as wide)."""
    if a.ndim == 0:
        return a
    buffer = np.zeros((*a.shape[:-1], 2 * a.shape[-1]), dtype=a.dtype)
    buffer[..., ::2] = a
    return buffer[..., ::2]


def _differentiable(a: np.ndarray) -> bool:
    return np.asarray(a).dtype.kind == "f"


def _upstream(out: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if np.ndim(out) == 0:
        return np.asarray(1.7, dtype=np.float64)
    return rng.uniform(0.5, 1.5, np.shape(out)) * rng.choice([-1.0, 1.0], np.shape(out))


def _call(fn, *args):
    """(result, None) or (None, "forward raised ValueError: ...")."""
    try:
        return fn(*args), None
    except Exception as exc:  # the user's code: any error is a finding, not a crash of the checker
        return None, f"{type(exc).__name__}: {exc}"


class _Runner:
    """Runs one op on one case's inputs and compares it with the reference (if any) and central differences."""

    def __init__(self, op, ref_op, names: Sequence[str], patterns: dict | None = None, state: Sequence[str] = ()):
        self.op, self.ref_op, self.names = op, ref_op, list(names)
        self.patterns = patterns or {}  # case name -> local derivatives at the output (no reference op)
        self.case = None
        self.state = {self.names.index(n) for n in state}  # updated in place by forward, never differentiated
        self.seen: list[tuple[list, np.ndarray, dict]] = []  # per case: inputs, dout, what the op gave (mistakes)

    def _graded(self, i: int, a: np.ndarray) -> bool:
        """Whether input ``i`` has a gradient to check."""
        return _differentiable(a) and i not in self.state

    def user_grads_for(self, inputs, dout):
        out, cache = self.op.forward(*[a.copy() for a in inputs])
        return self.op.backward(dout, cache)

    def right_for(self, inputs, dout):
        """The right gradients for upstream ``dout``: the reference's, else central differences of the user's forward."""
        if self.ref_op is not None:
            _, cache = self.ref_op.forward(*[a.copy() for a in inputs])
            grads = self.ref_op.backward(dout, cache)
            return [g if self._graded(i, a) else None for i, (g, a) in enumerate(zip(grads, inputs))]
        return self.numeric(inputs, dout)

    def numeric(self, inputs, dout):
        """Central differences of the user's forward for upstream ``dout``: every entry without a reference, at
        `SAMPLED` entries (the rest NaN) with one."""
        work = [np.array(a, copy=True) for a in inputs]

        def f():
            return float(np.sum(np.asarray(self.op.forward(*[w.copy() for w in work])[0], np.float64) * dout))

        out = []
        for i, w in enumerate(work):
            if not self._graded(i, w):
                out.append(None)
            elif self.ref_op is None or w.size <= SAMPLED:
                out.append(numerical_gradient(f, w, H))
            else:
                out.append(numerical_gradient(f, w, H, at=np.random.default_rng([i, w.size]).choice(w.size, SAMPLED, False)))
        return out

    def at_output(self, inputs, out, dout):
        """Right gradients of input 0 with the output put where the input belongs (elementwise ops only)."""
        ref = self.ref_op
        if ref is None and self.case in self.patterns:
            return [dout * np.asarray(p) for p in self.patterns[self.case]]
        if ref is None or len(inputs) != 1 or not hasattr(ref, "local_grad"):
            return []
        x = inputs[0]
        y = ref.forward(x)[0]
        return [dout * ref.local_grad(y, x), dout * ref.derivative(y)]

    def run(self, case: Case, inputs: list[np.ndarray], rng) -> tuple[dict, list[InputResult]]:
        originals = [a.copy() for a in inputs]
        self.case = next((k for k in self.patterns if case.name == k or case.name.startswith(k + ", ")), None)
        fwd, err = _call(self.op.forward, *inputs)
        output = dict(case=case.name, rel_error=None, problems=[])
        if err is None and not (isinstance(fwd, tuple) and len(fwd) == 2):
            err = f"forward must return (out, cache), got {type(fwd).__name__}"
        if err:
            output["problems"].append(f"forward raised {err}")
            return output, [InputResult(case.name, n, False, problems=[f"forward raised {err}"]) for n in self.names]
        out, cache = fwd
        out = np.asarray(out)
        changed = [n for i, (n, a, o) in enumerate(zip(self.names, inputs, originals))
                   if i not in self.state and not np.array_equal(a, o)]
        if changed:
            output["problems"].append(f"forward changed its input {', '.join(changed)} in place")
        if self.ref_op is not None:
            ref_inputs = [a.copy() for a in originals]
            ref_out = np.asarray(self.ref_op.forward(*ref_inputs)[0])
            for i in sorted(self.state):
                if not np.allclose(inputs[i], ref_inputs[i], rtol=TOL_REFERENCE, atol=0):
                    output["problems"].append(f"{self.names[i]} after forward differs from the reference's update "
                                              f"(relative error {hints.rel_error(inputs[i], ref_inputs[i]):.2g})")
            if out.shape != ref_out.shape:
                output["problems"].append(f"output shape {out.shape}, expected {ref_out.shape}")
            else:
                output["rel_error"] = hints.rel_error(out, ref_out)
                if output["rel_error"] > TOL_REFERENCE:
                    output["problems"].append("output differs from the reference")
        dout = _upstream(out, rng)
        self.noise = NOISE * float(np.sum(np.abs(np.asarray(out, np.float64) * dout)))
        dout_copy = dout.copy()
        gave = {"output": out, **{self.names[i]: inputs[i].copy() for i in self.state}}
        self.seen.append((originals, dout_copy, gave))
        grads, err = _call(self.op.backward, dout, cache)
        if err is None and len(grads) != len(inputs):
            err = f"backward returned {len(grads)} gradients for {len(inputs)} inputs"
        if err:
            return output, [InputResult(case.name, n, False, problems=[f"backward: {err}"]) for n in self.names]
        gave.update({f"grad {n}": g for n, g, a in zip(self.names, grads, originals)
                     if self._graded(self.names.index(n), a)})
        extra = ["backward changed dout in place (the upstream gradient belongs to the caller)"] \
            if not np.array_equal(dout, dout_copy) else []
        dout = dout_copy
        right = self.right_for(originals, dout)
        numeric = self.numeric(originals, dout) if self.ref_op is not None else right
        evidence = hints.Evidence(right=right, right_for=lambda d: self.right_for(originals, d), dout=dout,
                                  names=self.names, batch=case.batch, numel=int(originals[0].size),
                                  at_output=self.at_output(originals, out, dout))
        results = []
        for i, (a, g) in enumerate(zip(originals, grads)):
            if not self._graded(i, a):
                continue
            results.append(self._compare(case, i, a, g, numeric[i], right[i] if self.ref_op is not None else None,
                                         evidence, extra))
        return output, results

    def _compare(self, case, i, a, g, numeric, reference, evidence, extra) -> InputResult:
        r = InputResult(case.name, self.names[i], True, problems=list(extra))
        if g is None:
            r.problems.append("backward returned None")
        elif not isinstance(g, np.ndarray):
            r.problems.append(f"backward returned a {type(g).__name__}, not a NumPy array")
        else:
            if g.shape != a.shape:
                r.problems.append(f"gradient shape {g.shape}, expected the input's {a.shape}")
            if g.dtype != a.dtype:
                r.problems.append(f"gradient dtype {g.dtype}, expected the input's {a.dtype}")
            if g.shape == a.shape:
                taken = ~np.isnan(numeric) if reference is not None else np.ones(a.shape, bool)  # sampled entries
                errs = hints.rel_errors(g[taken], numeric[taken])
                if reference is None and errs.size:
                    errs = np.where(np.abs(g - numeric).ravel() <= self.noise, 0.0, errs)
                if reference is not None and errs.size:
                    # Entries whose gradient is zero by the maths (attention's key bias: a shift of every key
                    # leaves the softmax unchanged) get only rounding from central differences: there the user's
                    # gradient is judged by the reference alone.
                    tiny = 1e-12 * max(float(np.abs(reference).max()), 1e-300)
                    errs = np.where((np.abs(reference[taken]) <= tiny) & (np.abs(g[taken]) <= tiny), 0.0, errs)
                r.rel_numeric = float(errs.max()) if errs.size else 0.0
                if reference is None:
                    errs = errs.reshape(a.shape)  # every entry was taken
                else:
                    errs = hints.rel_errors(g, reference)
                    r.rel_reference = float(errs.max()) if errs.size else 0.0
                idx = np.unravel_index(int(np.argmax(errs)), errs.shape) if errs.size else ()
                r.worst_index = tuple(int(k) for k in idx)
                r.got = float(g[idx]) if errs.size else None
                right = reference if reference is not None else numeric
                r.expected = float(right[idx]) if errs.size else None
                if r.rel_numeric > TOL_NUMERIC or (r.rel_reference or 0.0) > TOL_REFERENCE:
                    r.problems.append(WRONG_VALUES)
        r.passed = not r.problems
        # only a wrong value or shape has a mistake to name (a right gradient that changed dout in place has none)
        if isinstance(g, np.ndarray) and (g.shape != a.shape or WRONG_VALUES in r.problems):
            found = hints.diagnose(g, i, evidence)
            if found:
                r.hint_key, r.hint = found
        return r

    def run_float32(self, case: Case, inputs: list[np.ndarray], rng, wrong64: set[str] = frozenset()
                    ) -> list[InputResult]:
        """float32 inputs: the gradients must come back float32, equal to float64's at float32 precision.
        The inputs in ``wrong64`` already have wrong float64 values: float32 precision is not their problem."""
        inputs32 = [a.astype(np.float32) if _differentiable(a) else a for a in inputs]
        inputs64 = [a.astype(np.float64) if _differentiable(a) else a for a in inputs32]
        fwd, err = _call(self.op.forward, *[a.copy() for a in inputs32])
        grads = None
        if err is None:
            out, cache = fwd
            dout = _upstream(out, rng)
            grads, err = _call(self.op.backward, np.asarray(dout, dtype=np.float32), cache)
        if err:
            return [InputResult(case.name, n, False, problems=[f"raised {err}"]) for n in self.names]
        right = self.right_for(inputs64, dout)
        results = []
        for i, (a, g) in enumerate(zip(inputs32, grads)):
            if not self._graded(i, a):
                continue
            r = InputResult(case.name, self.names[i], True)
            if not isinstance(g, np.ndarray) or g.shape != a.shape:
                r.problems.append(f"gradient shape {getattr(g, 'shape', None)}, expected the input's {a.shape}")
            else:
                if g.dtype != np.float32:
                    r.problems.append(f"gradient dtype {g.dtype} for a float32 input (keep the input's dtype)")
                if self.names[i] not in wrong64 and hints.rel_error(g, right[i], floor=1e-3) > TOL_FLOAT32:
                    r.problems.append("float32 gradient differs from the float64 one beyond float32 rounding")
            r.passed = not r.problems
            results.append(r)
        return results


def check(op, like: str | Reference | None = None, shapes: Sequence[Sequence[int]] | None = None,
          seed: int = 0, cases: Sequence[tuple[Case, list[np.ndarray]]] | None = None,
          names: Sequence[str] | None = None, patterns: dict | None = None, state: Sequence[str] = ()) -> OpReport:
    """Check ``op`` (anything with forward/backward) against the reference ``like``, or at ``shapes``, or on
    the given ``cases`` (``[(Case, inputs)]`` with the inputs' ``names``) by central differences alone.

    Without a reference, ``patterns`` ({case name: arrays}) are the op's local derivative evaluated at its
    output, for the "output used for input" hint (the course kit records them when it builds a handout), and
    ``state`` names the inputs forward updates in place (batch norm's running statistics: no gradient)."""
    ref = get_reference(like) if isinstance(like, str) else like
    report = OpReport(op=getattr(op, "name", type(op).__name__), like=ref.name if ref else None)
    rng = np.random.default_rng(seed)
    if cases is not None:
        cases, names, ref_op = [(c, [np.array(a) for a in inputs]) for c, inputs in cases], list(names), None
    elif ref is not None:
        cases = [(c, list(ref.inputs(c, rng))) for c in ref.cases]
        names, ref_op = ref.input_names, ref.make_op()
    elif shapes:
        cases = [(Case("given shapes", shapes[0][0] if shapes[0] else 1, {}),
                  [away_from_zero(rng, tuple(s)) for s in shapes])]
        names, ref_op = [f"x{i}" for i in range(len(shapes))], None
    else:
        raise ValueError("give a reference (--like NAME) or the input shapes (--shapes 4x3,2x3)")
    n_inputs = getattr(op, "n_inputs", None)
    if isinstance(n_inputs, int) and n_inputs != len(names):
        report.error = f"forward takes {n_inputs} inputs, but {report.like or 'the shapes'} gives {len(names)} ({', '.join(names)})"
        return report
    state = tuple(state) or (ref.state if ref is not None else ())
    runner = _Runner(op, ref_op, names, patterns, state)
    last_case, last_inputs = cases[-1]
    nc_case = Case(f"{last_case.name}, non-contiguous {names[0]}", last_case.batch, last_case.sizes)
    nc_inputs = [non_contiguous(a) if i == 0 else a for i, a in enumerate(last_inputs)]
    for case, inputs in [*cases, (nc_case, nc_inputs)]:
        output, results = runner.run(case, inputs, rng)
        report.output.append(output)
        report.results += results
    f32_case = Case(f"{last_case.name}, float32 inputs", last_case.batch, last_case.sizes)
    wrong64 = {r.name for r in report.results if WRONG_VALUES in r.problems}
    report.results += runner.run_float32(f32_case, last_inputs, rng, wrong64)
    _add_batch_hints(report, {c.name: c.batch for c, _ in cases} | {nc_case.name: nc_case.batch})
    if ref_op is not None and ref.mistakes and not report.passed:
        report.mistake = mistakes.diagnose(ref.mistakes, ref_op, runner.seen, names, state)
    return report


def _add_batch_hints(report: OpReport, batch_of: dict[str, int]) -> None:
    """Right at batch 1 and wrong above, with no other hint: the batch sum is missing."""
    for name, results in report.by_input().items():
        by_batch: dict[int, bool] = {}
        for r in results:
            if r.case in batch_of:
                n = batch_of[r.case]
                by_batch[n] = by_batch.get(n, True) and r.passed
        found = hints.batch_hint(by_batch)
        if found:
            for r in results:
                if not r.passed and r.hint is None:
                    r.hint_key, r.hint = found
