"""The bridge: any `numpy_ops` op becomes a ``torch.autograd.Function``.

One generic adapter, `NumpyOpFunction`, serves every op (linear, activations, losses, or a whole
fused network), because every op keeps the same contract::

    out, cache = op.forward(*arrays)          # NumPy in, NumPy out
    grads      = op.backward(dout, cache)

How a call flows:

1. ``forward`` (no ctx, as PyTorch recommends) turns the tensors into NumPy arrays without copying
   (`to_numpy`), runs ``op.forward`` and turns the results back without copying (`to_tensor`).
   The cache travels to ``setup_context`` as extra outputs: entries that *are* an input or the output
   are passed by position (a small tuple, the "layout"); only new arrays become extra tensors,
   marked non-differentiable.
2. ``setup_context`` saves what backward needs with ``ctx.save_for_backward``: the original input
   tensors (so in-place changes between forward and backward are caught by autograd's version
   check), the output, and the extras. No compute happens there.
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


def _layout(cache: tuple, arrays: tuple, out: np.ndarray) -> tuple[tuple, list[np.ndarray]]:
    """Describe each cache entry as ("in", i), ("out",) or ("new", k); collect the new ones."""
    layout, new = [], []
    for c in cache:
        if c is out:
            layout.append(("out",))
            continue
        for i, a in enumerate(arrays):
            if c is a:
                layout.append(("in", i))
                break
        else:
            layout.append(("new", len(new)))
            new.append(c)
    return tuple(layout), new


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
        layout, new = _layout(cache, arrays, out)
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
        saved = [tensors[e[1]] if e[0] == "in" else out if e[0] == "out" else extras[e[1]] for e in layout]
        ctx.save_for_backward(*saved)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: torch.Tensor | None, *unused):
        n = len(ctx.input_dtypes)
        if grad_out is None:
            return (None,) * (n + 1)
        cache = tuple(t.numpy() for t in ctx.saved_tensors)
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
    """Run a `numpy_ops` op on tensors, differentiably: ``op``'s backward becomes autograd's."""
    return _apply(op, *inputs)[0]


def _apply(*args):
    """``NumpyOpFunction.apply(*args)`` without its per-call ``inspect.signature`` binding.

    With ``setup_context`` defined, torch's Python ``Function.apply`` re-binds default arguments through
    ``inspect.signature`` on every call: measured here, 40 of the 65 us a bridged sigmoid took, about a sixth
    of a lab 3.2 training step on the NumPy backend. `NumpyOpFunction.forward` has no defaults or keywords, so
    that binding changes nothing: call the C++ ``apply`` beneath it. Under functorch transforms (which cannot
    see through NumPy anyway) torch's own path is kept."""
    if torch._C._are_functorch_transforms_active():
        return NumpyOpFunction.apply(*args)
    return super(torch.autograd.Function, NumpyOpFunction).apply(*args)
