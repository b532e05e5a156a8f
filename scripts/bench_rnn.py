"""Time one training step of a recurrent net on MNIST rows three ways: plain torch, Lightning torch and numpy backends.

    PYTHONPATH=. python scripts/bench_rnn.py              # 28 steps of 28, batch 100, H = 128, float32, 60 steps a path
    PYTHONPATH=. python scripts/bench_rnn.py --quick      # seconds: 15 steps a path
    PYTHONPATH=. python scripts/bench_rnn.py --profile    # and cProfile of the numpy backend's steps
    PYTHONPATH=. python scripts/bench_rnn.py --threads 1  # torch on one intra-op thread
    PYTHONPATH=. python scripts/bench_rnn.py --cell lstm  # the LSTM (or gru) in place of the simple RNN
    PYTHONPATH=. python scripts/bench_rnn.py --threads 1 --blas_threads 2  # torch on one thread, NumPy's BLAS on two
    PYTHONPATH=. python scripts/bench_rnn.py --threads 1 --clock cpu  # CPU time per step, on a shared machine

The case: tanh RNN (or ``--cell lstm``, ``gru``; H = 128) over 28 steps of 28 pixels, last state -> linear(10),
softmax cross-entropy, Adam lr 1e-3, float32, batch 100, synthetic data (random pixels and labels: timing needs no real digits). Paths:

  (a) a plain PyTorch loop: ``nn.RNN(batch_first=True)`` (``nn.LSTM``, ``nn.GRU``) + ``nn.Linear``, tensor slicing,
      ``torch.optim.Adam``;
  (b) `SpecNetModule` with ``backend="torch"`` (native `TorchRNN`) under a Lightning Trainer (no logger, checkpoint,
      progress bar or validation: the step itself);
  (c) the same with ``backend="numpy"`` (`NumpyRNN`: `numpy_ops.rnn` through the bridge; `NumpyLSTM`, `NumpyGRU`),
      parity check off.

Each path: median milliseconds per optimizer step, timed between consecutive steps after a few warm-up steps.
Also the op alone: one forward + backward of `RNNOp` (`LSTMOp`, `GRUOp`) in NumPy against torch's module on the
same batch.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
import warnings

import lightning as L
import numpy as np
import torch
from torch import nn

from course.threads import limit_blas_threads
from lightning_ffnn.datamodules.base import ArrayDataModule
from lightning_ffnn.models import SpecNetModule, data_settings
from course.tables import markdown_table

T, D, H, C, BATCH, WARMUP = 28, 28, 128, 10, 100, 5
#: --clock: what a step's time is read from. "wall" (the default): elapsed time. "cpu": this process's CPU time, which
#: other processes on a shared machine barely move; it counts every thread of the process, a waiting torch thread's
#: spinning included, so it compares the backends' work only with torch on one thread (--threads 1).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]
#: --cell: (torch module, numpy_ops op class) of each recurrent layer type
CELLS = {"rnn": ("RNN", "numpy_ops.rnn:RNNOp"), "lstm": ("LSTM", "numpy_ops.lstm_fast:LSTMOp"),
         "gru": ("GRU", "numpy_ops.gru:GRUOp")}


class SyntheticRows(ArrayDataModule):
    """Random 28x28 "images" served as rows (N, 28, 28) with random labels: timing data only."""

    task, input_dim, output_dim, image_size, layout = "classification", 784, 10, (28, 28), "rows"

    def __init__(self, n: int, batch_size: int = BATCH):
        super().__init__(batch_size=batch_size, shuffle=False)
        self.n = n

    def _load(self):
        rng = np.random.default_rng(0)
        self.data_source = "synthetic timing data"
        return {"train": (rng.random((self.n, 784), dtype=np.float32), rng.integers(0, C, self.n))}

    def val_dataloader(self):
        return []


class StepTimer(L.Callback):
    def __init__(self):
        self.stamps = []

    def on_train_batch_end(self, *args):
        self.stamps.append(clock())


def use_clock(name: str) -> None:
    """Read every time stamp from ``CLOCKS[name]`` from now on."""
    global clock
    clock = CLOCKS[name]


def per_step_ms(stamps: list[float], warmup: int = WARMUP) -> float:
    """Median milliseconds between consecutive time stamps, the first ``warmup`` steps left out."""
    return 1000 * statistics.median(np.diff(stamps[warmup:]))


def plain_torch(steps: int, cell: str = "rnn") -> float:
    torch.manual_seed(0)
    rnn, head = getattr(nn, CELLS[cell][0])(D, H, batch_first=True), nn.Linear(H, C)
    opt = torch.optim.Adam([*rnn.parameters(), *head.parameters()], lr=1e-3)
    X, y = torch.rand(steps * BATCH, T, D), torch.randint(0, C, (steps * BATCH,))
    stamps = []
    for i in range(steps):
        xb, yb = X[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH]
        opt.zero_grad()
        nn.functional.cross_entropy(head(rnn(xb)[0][:, -1]), yb).backward()
        opt.step()
        stamps.append(clock())
    return per_step_ms(stamps)


def timed_fit(model: L.LightningModule, data: L.LightningDataModule, profile: bool = False, rows: int = 12,
              warmup: int = WARMUP) -> tuple[float, str]:
    """Median ms per optimizer step of one Lightning epoch of ``model`` on ``data`` (no evaluation, logs or
    checkpoints), and with ``profile`` the profile's top ``rows`` functions as text ("" without)."""
    timer = StepTimer()
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0,
                        callbacks=[timer], use_distributed_sampler=False)
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    trainer.fit(model, datamodule=data)
    text = ""
    if prof:
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(rows)
        text = out.getvalue()
    return per_step_ms(timer.stamps, warmup), text


def lightning(backend: str, steps: int, profile: bool = False, cell: str = "rnn") -> tuple[float, str]:
    data = SyntheticRows(steps * BATCH)
    model = SpecNetModule(backend=backend, layers=[{"type": cell, "hidden_size": H, "output": "last"}],
                          optimizer="adam", lr=1e-3, **data_settings(data))
    return timed_fit(model, data, profile)


def op_alone(repeats: int, cell: str = "rnn") -> tuple[float, float]:
    """(numpy ms, torch ms) of one forward + backward of the recurrent layer alone, median of ``repeats``."""
    import importlib

    module, name = CELLS[cell][1].split(":")
    rnn = getattr(nn, CELLS[cell][0])(D, H, batch_first=True)
    x = torch.rand(BATCH, T, D)
    params = [p.detach().numpy() for p in rnn._flat_weights]
    op, xn, dout = getattr(importlib.import_module(module), name)(), x.numpy(), np.ones((BATCH, T, H), np.float32)
    times = {"numpy": [], "torch": []}
    for _ in range(repeats):
        t0 = clock()
        out, cache = op.forward(xn, *params)
        op.backward(dout, cache)
        times["numpy"].append(clock() - t0)
        t0 = clock()
        rnn(x.requires_grad_())[0].sum().backward()
        times["torch"].append(clock() - t0)
    return tuple(1000 * statistics.median(times[k]) for k in ("numpy", "torch"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="15 steps a path (seconds)")
    p.add_argument("--steps", type=int, default=60, help="optimizer steps a path (default 60)")
    p.add_argument("--profile", action="store_true", help="print cProfile's top functions of the numpy backend")
    p.add_argument("--threads", type=int, default=None,
                   help="torch intra-op threads (default: torch's own). On a loaded machine 2 threads made nn.RNN "
                        "several times slower than 1 (measured here); the numpy backend's BLAS uses 1 either way")
    p.add_argument("--cell", choices=tuple(CELLS), default="rnn", help="the recurrent layer (default rnn)")
    p.add_argument("--blas_threads", type=int, default=1,
                   help="NumPy's BLAS threads (default 1, as training sets them; to measure another split)")
    p.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                   help="wall (default) or cpu: this process's CPU time, for a shared machine (with --threads 1)")
    args = p.parse_args(argv)
    use_clock(args.clock)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    # NumPy's BLAS on one thread, as the training CLI sets it (`configure_runtime`): left at OpenBLAS's default (one
    # per core) the LSTM's products ran 15-20x slower here on two shared cores, and that is not what training runs.
    limit_blas_threads(args.blas_threads)
    steps = 15 if args.quick else args.steps
    if steps <= WARMUP + 2:
        p.error(f"--steps must be more than {WARMUP + 2} (the first {WARMUP} are warm-up)")
    warnings.filterwarnings("ignore")
    L.seed_everything(0, verbose=False)
    module = f"nn.{CELLS[args.cell][0]}"
    rows = {f"(a) plain torch loop, {module}": plain_torch(steps, args.cell)}
    rows["(b) Lightning, torch backend"], _ = lightning("torch", steps, cell=args.cell)
    rows["(c) Lightning, numpy backend"], profile = lightning("numpy", steps, args.profile, args.cell)
    ratio = rows["(c) Lightning, numpy backend"] / rows["(b) Lightning, torch backend"]
    print(f"{module if args.cell != 'rnn' else 'RNN tanh'} H={H}, {T} steps of {D}, batch {BATCH}, float32, Adam; {steps} steps a path "
          f"(median after {WARMUP} warm-up); torch threads {torch.get_num_threads()}, "
          f"BLAS threads {args.blas_threads}, {args.clock} clock, "
          f"cpus {os.cpu_count()}\n")
    print(markdown_table(["path", "ms / step"], [[k, f"{v:.2f}"] for k, v in rows.items()], align_numbers=True))
    n_ms, t_ms = op_alone(max(5, steps // 3), args.cell)
    print(f"\nnumpy backend / torch backend: {ratio:.2f}x (target: within 2x)")
    print(f"recurrent layer alone, forward + backward: numpy_ops {n_ms:.2f} ms, {module} {t_ms:.2f} ms")
    if profile:
        print("\ncProfile of the numpy backend run (tottime):\n" + profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
