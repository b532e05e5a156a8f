"""The bridge: any `numpy_ops` op becomes a ``torch.autograd.Function``.

One generic adapter, `NumpyOpFunction`, serves every op (linear, activations, losses, or a whole
fused network), because every op keeps the same contract::

    out, cache = op.forward(*arrays)          # NumPy in, NumPy out
    grads      = op.backward(dout, cache)

How a call flows:

1. ``forward`` (no ctx, as PyTorch recommends) turns the tensors into NumPy arrays without copying
   (`to_numpy`), runs ``op.forward`` and turns the results back without copying (`to_tensor`).
   The cache travels to ``setup_context`` as a "layout" (`_layout`), the cache's own structure with
   each array replaced by where it comes from: an input or the output (by position), or a new array,
   which becomes an extra output tensor marked non-differentiable. Whatever is not an array (a shape,
   a flag, a number) stays in the layout as it is; tuples of entries are walked.
2. ``setup_context`` saves the arrays with ``ctx.save_for_backward``: the original input tensors (so
   in-place changes between forward and backward are caught by autograd's version check), the output,
   and the extras; the layout, with the cache's other entries, is kept on ``ctx``. No compute there.
3. ``backward`` (``@once_differentiable``: the NumPy code is not itself differentiable, so double
   backward is not supported and says so) rebuilds the cache, calls ``op.backward``, keeps the
   gradients autograd asked for (``ctx.needs_input_grad``) and returns them as tensors of each
   input's dtype.

The NumPy backend is CPU only: a CUDA tensor raises a clear error instead of being copied.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from numpy_ops.op import Op

from .bridge_fast import apply_function


def to_numpy(t: torch.Tensor | None, what: str = "input") -> np.ndarray | None:
    """A NumPy view of a CPU tensor (no copy; any strides). Raises for tensors NumPy cannot see."""
    if t is None:
        return None
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{what}: expected a torch.Tensor, got {type(t).__name__}")
    if t.device.type != "cpu":
        raise RuntimeError(
            f"{what}: the NumPy backend runs on the CPU, but got a tensor on {t.device}. "
            f"Use backend='torch' for GPU training, or move the model and data to the CPU."
        )
    return t.detach().numpy()


def to_tensor(a: np.ndarray) -> torch.Tensor:
    """A tensor sharing ``a``'s memory (copies only what ``torch.from_numpy`` cannot share)."""
    a = np.asarray(a)
    if not a.flags.writeable or any(s < 0 for s in a.strides):
        a = np.array(a)  # read-only or negative strides: torch.from_numpy would refuse or warn
    return torch.from_numpy(a)


def _layout(entry: Any, arrays: tuple, out: np.ndarray, new: list[np.ndarray]) -> tuple:
    """The cache entry ``entry`` with each array replaced by ("out",), ("in", i) or ("new", k) (appending new
    arrays to ``new``); a tuple becomes ("tuple", its entries' layouts); anything else ("value", itself)."""
    if isinstance(entry, np.ndarray):
        if entry is out:
            return ("out",)
        for i, a in enumerate(arrays):
            if entry is a:
                return ("in", i)
        new.append(entry)
        return ("new", len(new) - 1)
    if isinstance(entry, tuple):
        return ("tuple", tuple(_layout(e, arrays, out, new) for e in entry))
    return ("value", entry)


def _saved(layout: tuple, inputs: tuple, out: torch.Tensor, extras: tuple) -> list[torch.Tensor]:
    """The tensors of the layout's arrays, in the order `_rebuild` reads them back."""
    kind = layout[0]
    if kind == "tuple":
        return [t for sub in layout[1] for t in _saved(sub, inputs, out, extras)]
    if kind == "value":
        return []
    return [out if kind == "out" else inputs[layout[1]] if kind == "in" else extras[layout[1]]]


def _rebuild(layout: tuple, saved) -> Any:
    """The cache, from its layout and an iterator over the saved tensors (as NumPy arrays)."""
    kind = layout[0]
    if kind == "tuple":
        return tuple(_rebuild(sub, saved) for sub in layout[1])
    if kind == "value":
        return layout[1]
    return next(saved).numpy()


class NumpyOpFunction(torch.autograd.Function):
    """``NumpyOpFunction.apply(op, *tensors) -> (out, layout, *extras)``; use `apply_op` instead."""


    @staticmethod
    def forward(op: Op, *inputs: torch.Tensor | None):
        arrays = tuple(to_numpy(t, f"{op.name} input {i}") for i, t in enumerate(inputs))
        out, cache = op.forward(*arrays)
        if any(a is not None and np.may_share_memory(out, a) for a in arrays):
            # An op may return its input (identity). A tensor built on that memory would be an alias
            # autograd does not know about: an in-place change to it would silently alter the input
            # behind the version check. One copy, only in that case, keeps the output independent.
            out = out.copy()
        new: list[np.ndarray] = []
        layout = _layout(tuple(cache), arrays, out, new)
        return (to_tensor(out), layout, *(to_tensor(c) for c in new))

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: tuple) -> None:
        op, tensors = inputs[0], inputs[1:]
        out, layout, extras = output[0], output[1], output[2:]
        ctx.op = op
        ctx.layout = layout
        ctx.input_dtypes = tuple(t.dtype if t is not None else None for t in tensors)
        ctx.mark_non_differentiable(*extras)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(*_saved(layout, tensors, out, extras))

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: torch.Tensor | None, *unused):
        n = len(ctx.input_dtypes)
        if grad_out is None:
            return (None,) * (n + 1)
        cache = _rebuild(ctx.layout, iter(ctx.saved_tensors))
        needs = tuple(ctx.needs_input_grad[1:])
        grads = ctx.op.backward(to_numpy(grad_out, f"{ctx.op.name} gradient"), cache)
        result: list[torch.Tensor | None] = [None]
        for i, (g, want, dtype) in enumerate(zip(grads, needs, ctx.input_dtypes)):
            if not want or g is None:
                result.append(None)
                continue
            g = to_tensor(g)
            if g.dtype != dtype:
                # Autograd would cast silently and hide a bug in an op; keep dtypes aligned on purpose.
                raise TypeError(f"{ctx.op.name}.backward returned {g.dtype} for input {i} of dtype {dtype}")
            result.append(g)
        return tuple(result)


def apply_op(op: Op, *inputs: torch.Tensor | None) -> torch.Tensor:
    """Run a `numpy_ops` op on tensors, differentiably: ``op``'s backward becomes autograd's.

    It is ``NumpyOpFunction.apply(op, *inputs)[0]``, called through `bridge_fast.apply_function`, which gives
    the same result without torch's per-call argument binding (docs/speed.md)."""
    return apply_function(NumpyOpFunction, op, *inputs)[0]
