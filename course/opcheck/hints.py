"""What a wrong gradient most likely got wrong, found by testing it against transformations of the right one.

`diagnose` compares a user's gradient ``g`` of one input with the right gradient ``r`` transformed the way
the usual mistakes transform it: ``-r`` (wrong sign), ``c r`` for c in 2, 1/2, N, 1/N (a factor),
``r.T`` (the weight's transpose), ``r`` of another input (gradients returned in the wrong order), ``r`` for
an upstream gradient of ones (``dout`` never multiplied in), ``r`` for the first example only, the
derivative evaluated at the output instead of the input (``sigmoid'(x)`` written as ``x (1 - x)``), and a
gradient with a batch axis that sums to ``r`` (not summed over the batch). The first match names the
mistake; no value of the right gradient appears in a hint, so hints can be shown to students.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Hint texts, by mistake. Tests and the teacher's table refer to the keys.
HINTS = {
    "sign": "wrong sign: the gradient is exactly minus the right one (check d/dx of each term, e.g. dL/dt of a loss)",
    "factor": "off by a constant factor {factor}: {why}",
    "transposed": "transposed: the gradient has shape {got} but the input has shape {want}; for y = x @ W.T "
                  "with W (out, in), dW = dout.T @ x has shape (out, in)",
    "not_summed": "not summed over the batch: the gradient keeps a batch axis (shape {got} for an input of "
                  "shape {want}); a parameter used by every example gets the sum over examples, e.g. db = dout.sum(0)",
    "batch": "not summed over the batch: right for batch 1, wrong for larger batches; sum every example's "
             "contribution (e.g. dW = dout.T @ x over all rows, db = dout.sum(0))",
    "first_row": "only the first example counted: the gradient equals the first row's contribution alone; "
                 "sum over all N rows (dout.sum(axis=0), not dout[0])",
    "order": "gradient for the wrong input: what is returned for {name} is the gradient of {other}; return "
             "the gradients in the order forward takes its inputs",
    "upstream": "missing the upstream gradient: the result is the local derivative alone; multiply by dout "
                "(chain rule: dx = dout * dy/dx)",
    "output_for_input": "the output used where the input belongs (or the reverse): e.g. sigmoid'(x) = s (1 - s) "
                        "with s = sigmoid(x) the output, not x (1 - x); tanh'(x) = 1 - y^2 with y = tanh(x)",
}

_FACTOR_WHY = {
    "2": "a square's derivative 2 (x - t) lost or doubled, or a factor 1/2 missing",
    "1/2": "a factor 2 lost (d (x - t)^2 = 2 (x - t)), or divided by 2 once too often",
    "N": "the mean over the batch not taken: divide by N = {n} (the loss is a mean over examples)",
    "1/N": "divided by N = {n} once too often (the upstream gradient of a mean loss already holds the 1/N)",
    "numel": "the mean over all {numel} elements not taken: divide by the number of elements",
    "1/numel": "divided by the number of elements ({numel}) once too often",
}


def close(a: np.ndarray, b: np.ndarray, tol: float = 1e-6) -> bool:
    """Same shape and relative error (`rel_error`) at most ``tol``."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and rel_error(a, b) <= tol


def constant_factor(got: np.ndarray, want: np.ndarray) -> float | None:
    """c when ``got`` is ``c * want`` everywhere (c not 1; the least-squares c, to ``close``'s tolerance), else None.
    A value task's "yours is the right one times c": a learning rate or a gain applied twice, a mean not taken."""
    g, w = np.asarray(got, np.float64).ravel(), np.asarray(want, np.float64).ravel()
    if g.shape != w.shape or not np.all(np.isfinite(g)) or not w.size or np.abs(w).max() == 0:
        return None
    c = float(g @ w / (w @ w))
    return c if abs(c - 1) > 1e-6 and close(g, c * w, 1e-6) else None


def rel_errors(a: np.ndarray, b: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """Elementwise ``|a - b| / max(|a| + |b|, 1e-8, floor * max|b|)``: CS231n's relative error, except that
    elements a million times smaller than the largest are compared to the largest (their central difference
    is mostly rounding)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    denom = np.maximum(np.abs(a) + np.abs(b), max(1e-8, floor * scale))
    with np.errstate(invalid="ignore"):
        err = np.abs(a - b) / denom
    return np.where(np.isnan(err), np.inf, err)


def rel_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-6) -> float:
    errs = rel_errors(a, b, floor)
    return float(errs.max()) if errs.size else 0.0


@dataclass
class Evidence:
    """What `diagnose` may compare a wrong gradient with.

    Args:
        right: the right gradient of every input (None where an input has none, e.g. integer labels).
        right_for: the right gradients for another upstream gradient: ``right_for(dout) -> list``.
        dout: the upstream gradient the user's backward was given.
        names: the inputs' names.
        batch: N, the number of examples of the case.
        numel: the number of elements of the op's output-defining input (for "mean over elements").
        at_output: the right gradient of input 0 evaluated with the output where the input belongs, for
            elementwise ops (None otherwise).
    """

    right: Sequence[np.ndarray | None]
    right_for: Callable[[np.ndarray], Sequence[np.ndarray | None]]
    dout: np.ndarray
    names: Sequence[str]
    batch: int
    numel: int
    at_output: Sequence[np.ndarray] = ()


def _factors(ev: Evidence) -> list[tuple[str, float]]:
    named = [("2", 2.0), ("1/2", 0.5)]
    if ev.batch > 1:
        named += [("N", float(ev.batch)), ("1/N", 1.0 / ev.batch)]
    if ev.numel not in (1, ev.batch):
        named += [("numel", float(ev.numel)), ("1/numel", 1.0 / ev.numel)]
    return named


def diagnose(g: np.ndarray, i: int, ev: Evidence) -> tuple[str, str] | None:
    """``(key, hint)`` of the first known mistake that turns the right gradient of input ``i`` into ``g``."""
    r = ev.right[i]
    if g is None or r is None:
        return None
    g = np.asarray(g, dtype=np.float64)
    if not np.all(np.isfinite(g)):
        return None
    if g.shape != r.shape:
        if g.shape == r.T.shape and r.ndim == 2 and close(g, r.T):
            return "transposed", HINTS["transposed"].format(got=g.shape, want=r.shape)
        if g.shape[1:] == r.shape and g.ndim == r.ndim + 1 and close(g.sum(axis=0), r):
            return "not_summed", HINTS["not_summed"].format(got=g.shape, want=r.shape)
    if close(g, -r):
        return "sign", HINTS["sign"]
    for j, other in enumerate(ev.right):
        if j != i and other is not None and close(g, other):
            return "order", HINTS["order"].format(name=ev.names[i], other=ev.names[j])
    if g.shape == r.shape and r.ndim == 2 and r.shape[0] == r.shape[1] and close(g, r.T):
        return "transposed", HINTS["transposed"].format(got=g.shape, want=r.shape)
    if g.shape != r.shape:
        return None
    for label, c in _factors(ev):
        if close(g, c * r):
            why = _FACTOR_WHY[label].format(n=ev.batch, numel=ev.numel)
            return "factor", HINTS["factor"].format(factor=label, why=why)
    if close(g, ev.right_for(np.ones_like(ev.dout))[i]):
        return "upstream", HINTS["upstream"]
    if ev.batch > 1 and np.ndim(ev.dout) >= 1 and ev.dout.shape[0] == ev.batch:
        first = np.zeros_like(ev.dout)
        first[0] = ev.dout[0]
        if close(g, ev.right_for(first)[i]):
            return "first_row", HINTS["first_row"]
    if i == 0 and any(close(g, a) for a in ev.at_output):
        return "output_for_input", HINTS["output_for_input"]
    return None


def batch_hint(passed_by_batch: dict[int, bool]) -> tuple[str, str] | None:
    """The cross-case hint: right at batch 1, wrong at every larger batch."""
    ones = [ok for n, ok in passed_by_batch.items() if n == 1]
    more = [ok for n, ok in passed_by_batch.items() if n > 1]
    if ones and all(ones) and more and not any(more):
        return "batch", HINTS["batch"]
    return None
