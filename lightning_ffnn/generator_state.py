"""Torch's generator state in every checkpoint, so a resumed run draws the dropout masks of the uninterrupted one
(see `lightning_ffnn.rng`)."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.callbacks import Callback


class GeneratorState(Callback):
    """Keeps torch's global CPU generator state in each checkpoint and restores it on resume.

    Saved when the checkpoint is written (the end of an evaluated epoch), restored when ``--ckpt_path`` loads it,
    so the epochs after a resume draw the dropout masks that the uninterrupted run drew. A checkpoint written
    before this callback existed holds no state: the generator is then left as seeded (the old behaviour)."""

    def state_dict(self) -> dict[str, Any]:
        return {"torch_cpu": torch.get_rng_state()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        saved = state_dict.get("torch_cpu")
        if saved is not None:
            torch.set_rng_state(saved)
