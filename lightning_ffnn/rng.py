"""Randomness during training: where dropout's masks come from, and how a resumed run gets the same ones.

Dropout is the only random layer. Both backends draw its masks from torch's global CPU generator, in the same
way (`torch_dropout_mask`: the ``bernoulli_(1 - p)`` then ``div_(1 - p)`` that ``nn.Dropout`` does on the CPU),
so a seed gives the same masks, and in float64 the same numbers, on the ``numpy`` and the ``torch`` backend.

Two consequences, handled here:

* a checkpoint must hold the generator's state, or a resumed run draws the masks of a fresh start
  (`lightning_ffnn.generator_state.GeneratorState`, a callback the model brings itself);
* anything that runs the network outside training (the gradient parity check, the run's figures) must leave the
  generator as it found it, or switching it on would change what the network learns (`untouched_generator`).

This module imports torch only (the layers import it; Lightning is not needed to build a network).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
import torch


def torch_dropout_mask(x: torch.Tensor, p: float) -> torch.Tensor:
    """The mask ``nn.Dropout`` multiplies ``x`` (any shape) by in training, drawn as it draws it from torch's global
    generator: each element ``1 / (1 - p)`` with probability ``1 - p``, else 0. Shape and dtype of ``x``.
    ``p = 1`` gives zeros without a draw (as torch); the caller skips ``p = 0`` and empty inputs (torch draws
    nothing for them).

    The mask is drawn in row-major order whatever the strides of ``x``: torch draws in the order of its input's
    memory, and a NumPy layer's output (a pooling view, a transpose) may be laid out otherwise than the
    contiguous output of the native layer it stands for, which is what ``nn.Dropout`` sees in a torch network."""
    mask = torch.empty(x.shape, dtype=x.dtype, device=x.device)  # contiguous, whatever the strides of x
    if p == 1.0:
        return mask.zero_()
    return mask.bernoulli_(1.0 - p).div_(1.0 - p)


@contextlib.contextmanager
def untouched_generator() -> Iterator[None]:
    """Run a block without moving torch's global CPU generator: its state is put back afterwards."""
    with torch.random.fork_rng(devices=[]):
        yield
