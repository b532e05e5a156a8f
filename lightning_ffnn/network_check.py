"""Does a network spec fit its task and this machine? Checked when the network is built, before any weight is drawn.

A layer list can be valid layer by layer and still not end where the task needs: ``[]`` or no ``flatten`` on
images leaves the output layer acting on the last image axis (N, 1, 16, 10), an ``rnn`` with ``output: all`` on
a per-example task gives one output per time step, and ``out_features: 2000000000`` asks for terabytes. Each
used to fail later, as a traceback from deep inside the first training step (or a MemoryError); here each is one
line that says what ``model.layers`` produces and what the task needs.

The sizes come from the native torch modules built on PyTorch's ``meta`` device (shapes without storage), so every
layer type, a user's own included, is counted the way it will be built, and nothing is allocated.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import torch

from numpy_ops import spec as S

from .errors import SettingsError
from .network import torch_module
from .rng import untouched_generator

#: What one parameter costs while training: its value, its gradient and up to two optimizer buffers (Adam's
#: moments) in the training dtype, plus its float64 initial value, drawn once by `numpy_ops.spec.init_all`.
STATES_PER_PARAMETER = 4


def expected_output_shape(task: str, output_dim: int, target_shape: Sequence[int]) -> tuple[int, ...]:
    """The per-example output shape a task's loss takes: class scores per target for classification (``(C,)``
    for a label an example, ``(T, C)`` for a label per time step), the target's own shape for regression and
    binary (``(1,)``)."""
    target_shape = tuple(target_shape)
    return (*target_shape, output_dim) if task == "classification" else target_shape


def check_output_shape(layers: Sequence[S.LayerSpec], input_shape: Sequence[int], task: str, output_dim: int,
                       target_shape: Sequence[int]) -> None:
    """Raise `SettingsError`, in one line, when the network's per-example output is not what ``task`` needs."""
    produced = S.shapes(layers, tuple(input_shape))[-1]
    needed = expected_output_shape(task, output_dim, target_shape)
    if produced == needed:
        return
    what = f"{output_dim} classes" if task == "classification" else f"targets of shape {needed}"
    hint = ""
    if len(produced) > len(needed):
        hint = (": the output layer (linear, acting on the last axis) needs one vector an example; end model.layers "
                "with {type: flatten} (images) or an rnn with output: last (sequences)")
    raise SettingsError(f"model.layers produces outputs of shape {produced} per example (input {tuple(input_shape)}), "
                     f"but the {task} task with {what} needs {needed}{hint}")


def parameter_count(layers: Sequence[S.LayerSpec], input_shape: Sequence[int]) -> int:
    """The number of parameters of the network, counted on modules without storage (the ``meta`` device)."""
    count = 0
    shapes = S.shapes(layers, tuple(input_shape))
    with untouched_generator(), torch.device("meta"):
        for spec, in_shape in zip(layers, shapes):
            module = torch_module(spec, in_shape, torch.float32)
            count += sum(p.numel() for p in module.parameters())
    return count


def physical_memory() -> int | None:
    """This machine's memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_size(layers: Sequence[S.LayerSpec], input_shape: Sequence[int], dtype: torch.dtype,
               memory: int | None = None) -> int:
    """The bytes training the network's parameters needs (`STATES_PER_PARAMETER` copies and the float64 initial
    values); raise `SettingsError`, in one line, when that is more than ``memory`` (default: this machine's)."""
    n = parameter_count(layers, input_shape)
    need = n * (STATES_PER_PARAMETER * torch.empty((), dtype=dtype).element_size() + 8)
    memory = physical_memory() if memory is None else memory
    if memory is not None and need > memory:
        raise SettingsError(f"model.layers has {n:,} parameters: training them needs about {_gib(need)} (values, "
                         f"gradients, optimizer state), more than this machine's {_gib(memory)}. Use fewer units "
                         f"(out_features, out_channels, hidden_size)")
    return need


def _gib(n: int) -> str:
    return f"{n / 2 ** 30:,.1f} GiB" if n < 2 ** 40 else f"{n / 2 ** 40:,.2f} TiB"



# ---- evaluation in chunks ------------------------------------------------------------------------------------------

#: What one evaluation chunk's forward pass may take. Evaluating whole sets at once needed ~0.67 GiB per 1000 MNIST
#: images through the NumPy CNN (about 40 GiB for the 60 000 training images); 1 GiB a chunk leaves a 24 GB machine
#: the room for the data, the model and the training around it.
EVAL_MEMORY_BUDGET = 1 << 30


def activation_bytes(layers: Sequence[S.LayerSpec], input_shape: Sequence[int], dtype: torch.dtype) -> int:
    """An upper estimate of one example's memory at the peak of an evaluation forward pass: the largest layer's
    input and output (and for a convolution its im2col columns, ``C * k * k`` values an output pixel), twice, for
    the temporary copies the NumPy ops make (transposes, reshapes). Under evaluation no earlier layer is kept."""
    shapes = S.shapes(layers, tuple(input_shape))
    peak = math.prod(shapes[0])
    for spec, into, out in zip(layers, shapes, shapes[1:]):
        values = math.prod(into) + math.prod(out)
        if isinstance(spec, S.Conv2d):
            values += math.prod(out[1:]) * spec.kernel_size ** 2 * into[0]
        peak = max(peak, values)
    return 2 * peak * torch.empty((), dtype=dtype).element_size()


def eval_chunk_size(layers: Sequence[S.LayerSpec], input_shape: Sequence[int], dtype: torch.dtype,
                    budget: int | None = None) -> int:
    """How many examples one evaluation forward pass takes so that it stays within ``budget`` bytes (default
    `EVAL_MEMORY_BUDGET`): the automatic ``model.eval_batch_size``."""
    budget = EVAL_MEMORY_BUDGET if budget is None else budget
    return max(1, budget // activation_bytes(layers, input_shape, dtype))
