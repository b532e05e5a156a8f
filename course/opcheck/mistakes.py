"""Named mistakes: an op's typical mistakes recognised by what they compute, never by code.

A reference (`course.opcheck.references`) may list its known `Mistake`s: each is the reference op with one
mistake students make (batch norm's dx without the mean's term, the LSTM's gates read in another order, the
attention's mask applied after the softmax, ...), built by ``make_op(reference_op)`` from
`course.opcheck.mutants`. A user's op that fails is run on the same inputs (and, for the backward, the same
upstream gradient) as each mistake; the first mistake whose results it reproduces is named in words.

* A ``"forward"`` mistake shows in the output and in the state forward updates (batch norm's running
  statistics): those are compared.
* A ``"backward"`` mistake keeps the right forward and breaks gradients: the output, the state and every
  gradient are compared.

`check_op` (`course.opcheck.checks`) computes the mistakes' results live. A course-kit handout cannot: its copy
of the mutants is stripped (a mutant is the right formula less a term, nearly the answer), so the builder
records their results on the handout's fixed inputs (numbers, as the forward outputs are) and the handout's
checker compares with those (`course.kit.tasks`). Either way the hint is words: no right value is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .hints import close

PHASES = ("forward", "backward")


@dataclass(frozen=True)
class Mistake:
    key: str                                # what tests and tables refer to: "gate_order", "bn_mean_path"
    hint: str                               # the mistake in words, shown to the student
    phase: str                              # "forward" or "backward" (see the module docstring)
    make_op: Callable[[object], object]     # the reference op -> the op with this one mistake

    def __post_init__(self):
        if self.phase not in PHASES:
            raise ValueError(f"mistake {self.key!r}: phase must be one of {PHASES}, got {self.phase!r}")


def outcome(op, inputs: Sequence[np.ndarray], names: Sequence[str], state: Sequence[str] = (),
            dout: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """What ``op`` gives on one case: ``{"output", <each state input after forward>, and with ``dout`` "grad <input>"
    for every differentiable input}``. The inputs are copied; exceptions propagate."""
    work = [np.array(a, copy=True) for a in inputs]
    out, cache = op.forward(*work)
    row = {"output": np.asarray(out)}
    row.update({n: work[names.index(n)] for n in state})
    if dout is not None:
        grads = op.backward(np.array(dout, copy=True), cache)
        for n, a, g in zip(names, inputs, grads):
            if n not in state and np.asarray(a).dtype.kind == "f":
                row[f"grad {n}"] = None if g is None else np.asarray(g)
    return row


def compared(row: dict, phase: str) -> dict:
    """The part of a mistake's result that names it: the forward's for a forward mistake, all for a backward one."""
    return row if phase == "backward" else {k: v for k, v in row.items() if not k.startswith("grad ")}


def agrees(got: dict, want: dict) -> bool:
    """Every array of ``want`` is in ``got`` with the same shape and values (relative error 1e-6)."""
    return all(got.get(k) is not None and v is not None and close(np.asarray(got[k], np.float64), v)
               for k, v in want.items())


def identify(got: Sequence[dict], candidates: Sequence[tuple[str, str, Sequence[dict]]]) -> tuple[str, str] | None:
    """``(key, hint)`` of the first candidate ``(key, hint, rows)`` whose rows (one per case, already reduced by
    `compared`) all agree with the user's results ``got`` (one per case, same order)."""
    for key, hint, rows in candidates:
        if got and len(rows) == len(got) and all(agrees(g, r) for g, r in zip(got, rows)):
            return key, hint
    return None


def expected(mistakes: Sequence[Mistake], ref_op, cases: Sequence[tuple[Sequence[np.ndarray], np.ndarray]],
             names: Sequence[str], state: Sequence[str] = ()) -> list[tuple[str, str, str, list[dict]]]:
    """``[(key, hint, phase, rows)]``: what each mistake's op (built from ``ref_op``) gives on ``cases`` ([(inputs,
    dout)]), reduced by `compared`. A mutant that cannot run these inputs is left out."""
    out = []
    for m in mistakes:
        try:
            mutant = m.make_op(ref_op)
            rows = [compared(outcome(mutant, inputs, names, state, dout if m.phase == "backward" else None),
                             m.phase) for inputs, dout in cases]
        except Exception:  # noqa: BLE001 -- a mistake that does not apply to these inputs names nothing
            continue
        out.append((m.key, m.hint, m.phase, rows))
    return out


def diagnose(mistakes: Sequence[Mistake], ref_op, seen: Sequence[tuple[list, np.ndarray, dict]],
             names: Sequence[str], state: Sequence[str] = ()) -> tuple[str, str] | None:
    """Live: the first of ``mistakes`` that reproduces the user's results ``seen`` ([(inputs, dout, the user's
    `outcome`)] per case), its mutant built from ``ref_op``."""
    found = expected(mistakes, ref_op, [(inputs, dout) for inputs, dout, _ in seen], names, state)
    return identify([row for _, _, row in seen], [(key, hint, rows) for key, hint, _, rows in found])
