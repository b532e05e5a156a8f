"""The conventions a student's op may follow, and which one it does.

The project stores an affine layer's weight ``(out, in)`` as torch does (``out = x @ W.T + b``). The course writes
``z = W^T a`` with ``W`` of shape ``(in, out)``; CS231n's ``affine_forward(x, w, b)`` takes ``w`` of shape ``(D, M)``
and ``x`` of shape ``(N, d1, ..., dk)`` with ``D = d1 * ... * dk``. A right op in any of the three passes: `resolve`
tries each layout's inputs on the op's forward and keeps the one whose output is the reference's, and the report
says which it assumed. A layout can also be told (``--layout course``).

CS231n's layers also take a settings dict after their arrays (``conv_forward_naive(x, w, b, conv_param)``,
``max_pool_forward_naive(x, pool_param)``): `with_params` passes the reference's settings in that form.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from numpy_ops.op import Op

from . import hints
from .references import Reference, get_reference


@dataclass(frozen=True)
class Layout:
    name: str
    says: str      # what the report prints: "W (in, out), z = x W + b: the course's z = W^T a"


class _LinearAs(Op):
    """The project's linear op seen in another layout: W given (in, out), x possibly (N, d1, ..., dk)."""

    name = "linear"
    n_inputs = 3

    def __init__(self, ref_op):
        self.ref_op = ref_op

    def forward(self, x, W, b):
        out, cache = self.ref_op.forward(x.reshape(x.shape[0], -1), np.ascontiguousarray(W.T), b)
        return out, (cache, x.shape)

    def backward(self, dout, cache):
        inner, shape = cache
        dx, dW, db = self.ref_op.backward(dout, inner)
        return dx.reshape(shape), dW.T, db


def _course_inputs(make):
    def inputs(rng, **sizes):
        x, W, b = make(rng, **sizes)
        return x, np.ascontiguousarray(W.T), b
    return inputs


def _cs231n_inputs(make):
    def inputs(rng, **sizes):
        x, W, b = make(rng, **sizes)
        # x (N, 1, in): a (N, d1, d2) input as CS231n's affine_forward takes, flattened to (N, in) inside
        return x.reshape(x.shape[0], 1, -1), np.ascontiguousarray(W.T), b
    return inputs


TORCH = Layout("torch", "W (out, in), out = x @ W.T + b, as torch.nn.Linear stores it")
LINEAR_LAYOUTS = {
    "torch": TORCH,
    # cs231n before course: an op that takes x (N, d1, ..., dk) takes (N, D) too, not the reverse
    "cs231n": Layout("cs231n", "w (D, M) with x (N, d1, ..., dk) flattened to (N, D): CS231n's affine_forward"),
    "course": Layout("course", "W (in, out), z = x W + b: the course's z = W^T a"),
}


def adapt(ref: Reference, layout: str) -> Reference:
    """``ref`` (the linear reference) in ``layout``: its op and inputs in that convention."""
    if layout == "torch":
        return ref
    make = _course_inputs(ref.make_inputs) if layout == "course" else _cs231n_inputs(ref.make_inputs)
    return Reference(ref.name, lambda: _LinearAs(ref.make_op()), ref.input_names, make, ref.cases)


def _output_matches(op, ref: Reference, seed: int) -> bool:
    rng = np.random.default_rng(seed)
    case = max(ref.cases, key=lambda c: c.batch)
    inputs = ref.inputs(case, rng)
    try:
        out = np.asarray(op.forward(*[a.copy() for a in inputs])[0])
    except Exception:  # the user's code: a layout it cannot take is simply not its layout
        return False
    want = np.asarray(ref.make_op().forward(*inputs)[0])
    return out.shape == want.shape and hints.rel_error(out, want) <= 1e-7


def resolve(op, like: str | Reference, layout: str | None = None, seed: int = 0) -> tuple[Reference, Layout | None]:
    """The reference to check ``op`` against, in the layout it uses (told, or the first whose output matches;
    torch's when none does), and that layout (None for ops without layouts). ``like``: a reference or its name."""
    ref = get_reference(like) if isinstance(like, str) else like
    if ref.name != "linear":
        if layout not in (None, "torch"):
            raise ValueError(f"--layout {layout}: only the linear op has layouts")
        return ref, None
    if layout is not None:
        if layout not in LINEAR_LAYOUTS:
            raise ValueError(f"--layout {layout!r}: expected one of {', '.join(LINEAR_LAYOUTS)}")
        return adapt(ref, layout), LINEAR_LAYOUTS[layout]
    for name in LINEAR_LAYOUTS:
        if _output_matches(op, adapt(ref, name), seed):
            return adapt(ref, name), LINEAR_LAYOUTS[name]
    return ref, TORCH


# ---- CS231n's settings dicts ----

#: For each reference, the dict a CS231n layer takes after its arrays, by the parameter's name.
CS231N_PARAMS = {
    "conv2d": ("conv_param", {"stride": 1, "pad": 1}),
    "max_pool2d": ("pool_param", {"pool_height": 2, "pool_width": 2, "stride": 2}),
}


class _WithParams(Op):
    """A CS231n layer with its settings dict bound: ``forward(*arrays)`` calls ``forward(*arrays, param)``."""

    def __init__(self, op, param: dict, n_inputs: int):
        self.op, self.param, self.n_inputs = op, param, n_inputs
        self.name = getattr(op, "name", "op")

    def forward(self, *inputs):
        return self.op.forward(*inputs, dict(self.param))

    def backward(self, dout, cache):
        return self.op.backward(dout, cache)


def with_params(op, like: str):
    """``op`` with the reference's settings passed CS231n's way, when its forward ends with that parameter."""
    if like not in CS231N_PARAMS:
        return op
    key, param = CS231N_PARAMS[like]
    forward = getattr(op, "user_forward", None) or getattr(op, "forward", None)
    try:
        names = list(inspect.signature(forward).parameters)
    except (TypeError, ValueError):
        return op
    if not names or names[-1] != key:
        return op
    return _WithParams(op, param, len(get_reference(like).input_names))


__all__ = ["Layout", "LINEAR_LAYOUTS", "TORCH", "adapt", "resolve", "CS231N_PARAMS", "with_params"]
