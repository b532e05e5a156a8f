"""A user's op in training: when the gradient-parity check fails, say which user op is wrong and how.

`explain_user_ops(net)` checks every user-file op of a network (`lightning_ffnn.layers.NumpyUserActivation`,
`NumpyUserLinear`) against the reference it stands in for, exactly as ``scripts/check_op.py`` would, and
returns the hints as text ("" when they all pass). `GradientParityCheck` appends that text to its error,
so a run stops with the same hint the checker gives.
"""

from __future__ import annotations

from torch import nn

from .layers import NumpyUserActivation, NumpyUserLinear
from course.opcheck.checks import check


def explain_user_ops(net: nn.Module) -> str:
    """One line per failing user op of ``net``: its layer, file, reference, and the checker's hints."""
    lines = []
    for name, module in net.named_modules():
        if not isinstance(module, (NumpyUserActivation, NumpyUserLinear)):
            continue
        report = check(module.op, like=module.like)
        if report.passed:
            continue
        found = report.hints() or sorted({p for row in report.summary() for p in row["problems"]})
        lines.append(f"layer {name} ({module.path}) fails `python scripts/check_op.py {module.path} --like "
                     f"{module.like}`: " + "; ".join(f"HINT: {h}" for h in found))
    return "\n".join(lines)
