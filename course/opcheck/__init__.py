"""Check your own backward: a gradient checker and grader for users' ops (NumPy only; no torch import).

* `numpy_ops.user_op` loads an op from ``FILE.py:NAME`` (an object with forward/backward, or a
  ``NAME_forward`` / ``NAME_backward`` pair);
* `references` -- the `numpy_ops` ops a user's op may be checked against, with the inputs to try;
* `checks`     -- `check(op, like=...)`: output, gradients, shapes, dtypes, at several shapes;
* `hints`      -- the likely mistake behind a wrong gradient;
* `mistakes`   -- a reference's known mistakes, named when an op reproduces one (`mutants`: the zoo's, as ops);
* `report`     -- the findings as text and JSON; `teacher` -- a class's files graded into one table
  (each file in its own sandboxed process: `course.grading`);
* `training`   -- the hint for a user's op that fails the gradient-parity check during training.

Run it as ``python scripts/check_op.py FILE.py:NAME --like sigmoid`` (see docs/check_op.md).
"""

from numpy_ops.user_op import LoadError, LoadedOp, load_op

from .checks import OpReport, check
from .references import REFERENCES, get_reference, register

__all__ = ["LoadError", "LoadedOp", "load_op", "OpReport", "check", "REFERENCES", "get_reference", "register"]
