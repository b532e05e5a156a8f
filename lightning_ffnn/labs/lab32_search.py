"""Choosing the main job's settings (lab 3.2) on a validation split of the training file, never the test file.

A plain PyTorch loop, not Lightning: a grid of a few dozen runs would otherwise pay Lightning's start-up and per-call
costs dozens of times. It trains exactly what `SpecNetModule` trains with the ``torch`` backend -- the same network
(`build_network`, same init and seed), the same split (`OCRDataModule(val_fraction=...)`), the same batches in the
same order (`EpochBatchSampler`), ``torch.optim.Adam`` or ``SGD`` -- and records the validation loss and accuracy
after every epoch. The test set ({size}Validation.csv) is dropped before training starts: nothing here can look at it.

    python -m lightning_ffnn.labs.lab32_search --size large --epochs 40
    python -m lightning_ffnn.labs.lab32_search --size small --epochs 200 --val_fraction 0.2 --handout --widths 256

The steps taken, their tables and the choice: docs/main_job.md.
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import dataclass

import torch

from numpy_ops import spec as S

from ..datamodules import OCRDataModule
from ..datamodules.base import EpochBatchSampler
from ..network import build_network
from course.tables import markdown_table


@dataclass(frozen=True)
class Candidate:
    """One setting of the two-hidden-layer network and its optimiser (``sgd`` uses ``momentum``)."""

    width: int = 256
    activation: str = "relu"
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 100
    optimizer: str = "adam"
    momentum: float = 0.0

    def label(self) -> str:
        opt = "Adam" if self.optimizer == "adam" else f"SGD momentum {self.momentum:g},"
        return (f"{self.width}-{self.width} {self.activation}, {opt} lr {self.lr:g}, wd {self.weight_decay:g}, "
                f"batch {self.batch_size}")


#: The handout's settings (configs/ocr_{size}.yaml), the baseline every candidate must beat on the split.
HANDOUT = Candidate(width=64, activation="sigmoid", lr=0.1, optimizer="sgd", momentum=0.9)


@dataclass
class Curve:
    """Per-epoch validation metrics of one candidate; ``best_epoch`` (1-based) has the highest val accuracy."""

    candidate: Candidate
    val_loss: list[float]
    val_accuracy: list[float]
    seconds: float

    @property
    def best_epoch(self) -> int:
        return max(range(len(self.val_accuracy)), key=lambda e: (self.val_accuracy[e], -e)) + 1

    @property
    def min_loss_epoch(self) -> int:
        return min(range(len(self.val_loss)), key=lambda e: self.val_loss[e]) + 1


def split_sets(size: str, data_dir: str | None, val_fraction: float, seed: int = 0):
    """(train, val) tensors of the datamodule's split of {size}Train.csv; the test file's set is dropped here."""
    dm = OCRDataModule(size=size, data_dir=data_dir, val_fraction=val_fraction, seed=seed)
    sets = dm.eval_sets()
    del sets["test"]  # model selection never sees the test file
    return sets["train"], sets["val"], dm.data_source


def train_curve(c: Candidate, train, val, epochs: int, seed: int = 0) -> Curve:
    """Train ``c`` for ``epochs`` epochs as the Lightning ``torch`` backend would; validate after each."""
    torch.manual_seed(seed)
    (X, y), (Xv, yv) = train, val
    net = build_network(S.mlp_spec([c.width, c.width], c.activation, 10), X.shape[1], "torch", "torch_default",
                        seed)
    if c.optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=c.lr, weight_decay=c.weight_decay)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    sampler = EpochBatchSampler(len(X), c.batch_size, shuffle=True, seed=seed)
    losses, accs, t0 = [], [], time.perf_counter()
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for idx in sampler:
            opt.zero_grad()
            loss_fn(net(X.index_select(0, idx)), y.index_select(0, idx)).backward()
            opt.step()
        with torch.no_grad():
            out = net(Xv)
            losses.append(float(loss_fn(out, yv)))
            accs.append(float((out.argmax(1) == yv).double().mean()))
    return Curve(c, losses, accs, time.perf_counter() - t0)


def chosen_epochs(curves: list[Curve], window: int = 5) -> tuple[int, float]:
    """The epoch count to train for: the end of the ``window``-epoch stretch with the highest val accuracy,
    averaged over seeds and over the stretch (one epoch's accuracy on a few hundred examples is too noisy to pick
    by). Returns (epoch, that smoothed accuracy)."""
    n = min(len(cv.val_accuracy) for cv in curves)
    mean = [sum(cv.val_accuracy[e] for cv in curves) / len(curves) for e in range(n)]
    window = min(window, n)
    scores = [sum(mean[e - window + 1 : e + 1]) / window for e in range(window - 1, n)]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    return best + window, scores[best]


def grid(widths=(128, 256, 512), activations=("relu", "tanh", "sigmoid"), lrs=(1e-3,), weight_decays=(0.0,),
         batch_sizes=(100,)) -> list[Candidate]:
    return [Candidate(w, a, lr, wd, b)
            for w, a, lr, wd, b in itertools.product(widths, activations, lrs, weight_decays, batch_sizes)]


def search(candidates: list[Candidate], size: str, data_dir: str | None, epochs: int, val_fraction: float = 0.1,
           seeds=(0,), log=print) -> list[tuple[Candidate, list[Curve]]]:
    """Train every candidate with every seed on the split; return the curves, in the candidates' order."""
    train, val, source = split_sets(size, data_dir, val_fraction)
    log(f"OCR {size}: {len(train[0])} train / {len(val[0])} val examples of {source}")
    results = []
    for c in candidates:
        curves = [train_curve(c, train, val, epochs, seed) for seed in seeds]
        results.append((c, curves))
        log(f"  {c.label()}: " + "; ".join(
            f"seed {s}: best val acc {cv.val_accuracy[cv.best_epoch - 1]:.4f} at epoch {cv.best_epoch}, last "
            f"{cv.val_accuracy[-1]:.4f}, min val loss {min(cv.val_loss):.4f} at epoch {cv.min_loss_epoch} "
            f"({cv.seconds:.1f} s)" for s, cv in zip(seeds, curves)))
    return results


def search_table(results: list[tuple[Candidate, list[Curve]]], report_epochs: tuple[int, ...]) -> str:
    """Mean validation accuracy (over seeds) at a few epoch counts; per seed the epoch of the best val accuracy and
    of the lowest val loss; the `chosen_epochs` rule's epoch count and its smoothed accuracy."""
    def mean(xs):
        return sum(xs) / len(xs)

    rows = []
    for c, curves in results:
        at = [f"{mean([cv.val_accuracy[e - 1] for cv in curves]):.4f}" for e in report_epochs]
        rows.append([c.label(), *at, "/".join(str(cv.best_epoch) for cv in curves),
                     "/".join(str(cv.min_loss_epoch) for cv in curves), "{} ({:.4f})".format(*chosen_epochs(curves)),
                     f"{mean([cv.seconds for cv in curves]):.1f}"])
    header = ["candidate", *[f"val acc @{e}" for e in report_epochs], "best-acc epoch", "min-loss epoch",
              "chosen epochs (5-epoch mean val acc)", "s / run"]
    return markdown_table(header, rows)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", default="large", choices=["small", "medium", "large"])
    p.add_argument("--data_dir", default=None)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--val_fraction", type=float, default=0.1)
    p.add_argument("--widths", type=int, nargs="+", default=[128, 256, 512])
    p.add_argument("--activations", nargs="+", default=["relu", "tanh", "sigmoid"])
    p.add_argument("--lrs", type=float, nargs="+", default=[1e-3])
    p.add_argument("--weight_decays", type=float, nargs="+", default=[0.0])
    p.add_argument("--batch_sizes", type=int, nargs="+", default=[100])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--report_epochs", type=int, nargs="+", default=None)
    p.add_argument("--handout", action="store_true", help="add the handout's SGD settings as a baseline")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    cands = ([HANDOUT] if a.handout else []) + grid(a.widths, a.activations, a.lrs, a.weight_decays, a.batch_sizes)
    results = search(cands, a.size, a.data_dir, a.epochs, a.val_fraction, tuple(a.seeds))
    marks = tuple(a.report_epochs or sorted({e for e in (5, 10, 20, 30, 40, a.epochs) if e <= a.epochs}))
    print()
    print(search_table(results, marks))


if __name__ == "__main__":
    main()
