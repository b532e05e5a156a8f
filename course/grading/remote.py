"""A submission's op as the checker sees it: an object with forward/backward whose calls run in the child.

`RemoteOp` is what lets `course.opcheck.check` -- its cases, tolerances and hints -- run unchanged in the
grader's process on an op that runs in the submission's: forward sends the inputs and gets back the output
(and the inputs as the op left them, so "changed its input in place" is still seen); backward sends ``dout``
and gets back the gradients (and ``dout`` as left). An exception in the child comes back as an exception of
the same type name; a process that died or hung raises `Stopped`, which ends the check.
"""

from __future__ import annotations

import numpy as np

from .sandbox import CRASHED, Child, Stopped


class _Cache:
    """The child keeps the cache; the checker holds this ticket to it."""

    def __init__(self, number: int):
        self.number = number


def _identifier(text: str, default: str) -> str:
    return text if isinstance(text, str) and text.isidentifier() and len(text) < 80 else default


def remote_exception(error: dict) -> Exception:
    """The child's exception, rebuilt with its type's name and message (no object crosses the pipe)."""
    cls = type(_identifier(error.get("type"), "Error"), (Exception,), {})
    return cls(str(error.get("message", "")))


def _returned(kind: str):
    """A stand-in for a non-array gradient (``backward returned a float``): only its type's name matters."""
    return type(_identifier(kind, "object"), (), {})()


def _mirror(sent, back: list[np.ndarray]) -> bool:
    """What the op did in place to its inputs in the child (sent back as it left them), done to the caller's
    arrays, where the checker looks for it; False for an answer that does not fit."""
    if len(sent) != len(back) or any(np.shape(a) != b.shape for a, b in zip(sent, back)):
        return False
    for a, b in zip(sent, back):
        if isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True):
            a[...] = b
    return True


class RemoteOp:
    """One op of the submission loaded in ``child``; ``info`` is the child's load answer for it."""

    def __init__(self, child: Child, info: dict):
        self.child = child
        self.name = str(info["name"])
        self.n_inputs = info.get("n_inputs") if isinstance(info.get("n_inputs"), int) else None
        self.like = info.get("like") if isinstance(info.get("like"), str) else None

    def _ask(self, header: dict, arrays, phase: str) -> tuple[dict, list[np.ndarray]]:
        answer, back = self.child.ask(dict(header, op=self.name), arrays, phase=phase)
        if "error" in answer:
            raise remote_exception(answer["error"])
        return answer, back

    def _garbled(self, phase: str) -> Stopped:
        self.child.stop()
        return Stopped(CRASHED, f"garbled the answer channel {phase}")

    def forward(self, *inputs: np.ndarray):
        phase = f"in {self.name}.forward"
        answer, back = self._ask(dict(cmd="forward"), tuple(np.asarray(a) for a in inputs), phase)
        if not back or not isinstance(answer.get("cache"), int) or not _mirror(inputs, back[1:]):
            raise self._garbled(phase)
        return back[0], _Cache(answer["cache"])

    def backward(self, dout: np.ndarray, cache: _Cache):
        phase = f"in {self.name}.backward"
        answer, back = self._ask(dict(cmd="backward", cache=cache.number), (np.asarray(dout),), phase)
        kinds = answer.get("grads")
        n = kinds.count("array") if isinstance(kinds, list) else -1
        if n < 0 or not _mirror((dout,), back[n:]):
            raise self._garbled(phase)
        arrays = iter(back[:n])
        return tuple(None if k == "none" else next(arrays) if k == "array" else _returned(k) for k in kinds)
