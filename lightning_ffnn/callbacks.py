"""The project's Lightning callbacks, under the one name configs and scripts import them by.

`GradientParityCheck` (`lightning_ffnn.parity`) checks the hand-written gradients against autograd while a
``numpy``-backend model trains; `RunRecorder` (`lightning_ffnn.record`) keeps the run's record; `RunCheckpoint`
(`lightning_ffnn.checkpointing`) keeps ``last.ckpt`` at the newest evaluated epoch, and `EvaluateLastEpoch` makes
sure the last epoch is one.
"""

from .checkpointing import EvaluateLastEpoch, RunCheckpoint
from .parity import GradientParityCheck, GradientParityError
from .record import RunRecorder, markdown_summary

__all__ = ["EvaluateLastEpoch", "GradientParityCheck", "GradientParityError", "RunCheckpoint", "RunRecorder",
           "markdown_summary"]
