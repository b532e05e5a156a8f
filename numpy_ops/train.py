"""A minimal training loop for the pure-NumPy network.

Each epoch: (optionally) shuffle with a seeded generator, cut minibatches by slicing, and for each
batch run forward, loss, backward and one optimizer step. After the epoch, the loss and the metric
are computed over whole sets with the epoch's final weights (not a running mean of batch losses),
as the Lightning side does.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .network import Sequential
from .op import Op
from .optim import Optimizer

Metric = Callable[[np.ndarray, np.ndarray], float]


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose arg-max is the label (labels (N,) ints, or (N, 1) 0/1 with one logit)."""
    if logits.shape[1] == 1:
        return float(np.mean((logits[:, 0] > 0) == (labels.reshape(-1) > 0.5)))
    return float(np.mean(logits.argmax(axis=1) == labels))


def batch_order(n: int, epoch: int, shuffle: bool, seed: int) -> np.ndarray:
    """The example order of one epoch: a pure function of (seed, epoch), or file order."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)


@dataclass
class History:
    """Per-epoch records: ``history["train_loss"][e]`` etc."""

    records: dict[str, list[float]] = field(default_factory=dict)

    def add(self, **values: float) -> None:
        for k, v in values.items():
            self.records.setdefault(k, []).append(float(v))

    def __getitem__(self, key: str) -> list[float]:
        return self.records[key]

    def last(self) -> dict[str, float]:
        return {k: v[-1] for k, v in self.records.items()}


def evaluate(net: Sequential, loss_op: Op, X: np.ndarray, y: np.ndarray, metric: Metric | None = None) -> dict:
    """Loss (and metric) over a whole set, in evaluation mode (dropout off)."""
    net.eval()
    try:
        out = net.forward(X)
    finally:
        net.train()
    result = {"loss": float(loss_op.forward(out, y)[0])}
    if metric is not None:
        result["metric"] = metric(out, y)
    return result


def train_step(net: Sequential, loss_op: Op, optimizer: Optimizer, xb: np.ndarray, yb: np.ndarray) -> float:
    """One forward/backward/update on a batch; returns the batch loss."""
    net.zero_grad()
    out = net.forward(xb)
    loss, cache = loss_op.forward(out, yb)
    dout = loss_op.backward(np.ones((), dtype=out.dtype), cache)[0]
    net.backward(dout)
    optimizer.step(net.gradients())
    return float(loss)


def _diverged(what: str, where: str, lr: float) -> FloatingPointError:
    return FloatingPointError(f"{what} at {where}: training diverged; try a smaller learning rate (now {lr})")


@contextmanager
def _divergence_as_error(where: str, lr: float):
    # A diverging run overflows (inf, then inf - inf = nan) before its loss stops being finite, often in
    # the last step of an epoch, so the first overflow, not a later NumPy warning or a non-finite
    # history entry, is what gets reported. The ops are written so that finite training never overflows.
    try:
        with np.errstate(over="raise", invalid="raise"):
            yield
    except FloatingPointError as e:
        raise _diverged(f"numerical overflow ({e})", where, lr) from e


def fit(
    net: Sequential,
    loss_op: Op,
    optimizer: Optimizer,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int,
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
    metric: Metric | None = None,
    eval_sets: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    eval_every: int = 1,
    callback: Callable[[int, History], None] | None = None,
) -> History:
    """Train ``net`` and return its `History`.

    Shapes: ``X`` (N, D) of the network's dtype; ``y`` whatever ``loss_op`` takes as target.
    ``batch_size`` from 1 to N (N is full-batch gradient descent). Every ``eval_every`` epochs
    (and after the last) the loss and metric over ``X`` (key ``train_*``) and each of
    ``eval_sets`` (key ``{name}_*``) are recorded; ``epoch`` is recorded with them.
    """
    n = X.shape[0]
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be between 1 and the number of examples ({n}), got {batch_size}")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    sets = {"train": (X, y), **(eval_sets or {})}
    history = History()
    for epoch in range(epochs):
        order = batch_order(n, epoch, shuffle, seed)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            where = f"epoch {epoch}, step starting at example {start}"
            with _divergence_as_error(where, optimizer.lr):
                loss = train_step(net, loss_op, optimizer, X[idx], y[idx])
            if not np.isfinite(loss):
                raise _diverged(f"loss became {loss}", where, optimizer.lr)
        if (epoch + 1) % eval_every == 0 or epoch == epochs - 1:
            record = {"epoch": epoch}
            for name, (Xs, ys) in sets.items():
                where = f"epoch {epoch}, evaluating {name}"
                with _divergence_as_error(where, optimizer.lr):
                    r = evaluate(net, loss_op, Xs, ys, metric)
                if not np.isfinite(r["loss"]):
                    raise _diverged(f"loss became {r['loss']}", where, optimizer.lr)
                record[f"{name}_loss"] = r["loss"]
                if "metric" in r:
                    record[f"{name}_metric"] = r["metric"]
            history.add(**record)
            if callback is not None:
                callback(epoch, history)
    return history
