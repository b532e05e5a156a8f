"""The tasks and dtypes that the model, the data and the callbacks agree on, stated once.

A task fixes the loss (a key of `lightning_ffnn.layers.LOSS_MODULES`, one NumPy-backed module and its native
twin) and the metric recorded beside it; a dtype name ("float32", "float64") is what configs write and
`DTYPES` is the torch dtype it means.
"""

from __future__ import annotations

from typing import Literal

import torch

#: task -> (loss name in `LOSS_MODULES`, the metric recorded beside the loss)
TASKS: dict[str, tuple[str, str]] = {
    "classification": ("softmax_cross_entropy", "accuracy"),  # y: int64 class indices (N,)
    "regression": ("mse", "rmse"),                             # y: float (N, 1); RMSE in the data's original units
    "binary": ("bce_with_logits", "accuracy"),                 # y: 0./1. (N, 1); one logit a row
}
Task = Literal[tuple(TASKS)]  # the CLI's choices are the table's keys

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}
DType = Literal[tuple(DTYPES)]


def loss_name(task: str) -> str:
    """The loss of ``task`` (a key of `lightning_ffnn.layers.LOSS_MODULES`)."""
    return TASKS[task][0]


def metric_name(task: str) -> str:
    """The metric recorded beside the loss: "accuracy" or "rmse"."""
    return TASKS[task][1]
