"""The bridge's fast path: calling a ``torch.autograd.Function`` without torch's per-call argument binding.

With ``setup_context`` defined, torch's Python ``Function.apply`` re-binds default arguments through
``inspect.signature`` on every call. A Function whose ``forward`` takes only positional arguments, without
defaults (`lightning_ffnn.bridge.NumpyOpFunction`), gains nothing from that binding, so `apply_function` calls
the C++ ``apply`` beneath it, a private torch API. Under functorch transforms (which cannot see through NumPy
anyway) torch's own path is kept. What it saves: docs/speed.md. That both paths agree, outputs and gradients:
tests/test_bridge_boundary.py.
"""

from __future__ import annotations

import torch


def apply_function(function: type[torch.autograd.Function], *args):
    """``function.apply(*args)``, skipping the argument binding (``function.forward`` must take positional
    arguments only, without defaults)."""
    if torch._C._are_functorch_transforms_active():
        return function.apply(*args)
    return super(torch.autograd.Function, function).apply(*args)
