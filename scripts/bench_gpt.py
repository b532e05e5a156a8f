"""Time one training step of the small GPT (configs/char_gpt.yaml) with the numpy backend against the torch backend.

    PYTHONPATH=. python scripts/bench_gpt.py              # 40 steps a path
    PYTHONPATH=. python scripts/bench_gpt.py --quick      # seconds: 12 steps a path
    PYTHONPATH=. python scripts/bench_gpt.py --profile    # and cProfile of the numpy backend's Lightning steps
    PYTHONPATH=. python scripts/bench_gpt.py --threads 1  # torch on one intra-op thread
    PYTHONPATH=. python scripts/bench_gpt.py --threads 1 --blas_threads 2  # the other split: NumPy's BLAS on two
    PYTHONPATH=. python scripts/bench_gpt.py --threads 1 --clock cpu  # CPU time per step, on a shared machine

The case: the model of configs/char_gpt.yaml (token + position embeddings, two pre-LN blocks of causal 4-head
attention and a GELU MLP with dropout, a final LayerNorm and the linear head over 76 characters; D as the config
says), T = 32, batch 32, Adam lr 1e-3, float32, random character indices (timing needs no text). Paths, each the median
milliseconds per optimizer step after a few warm-up steps:

  block:     one pre-LN block (attention + MLP, both residual) alone, forward + backward + Adam, plain loop;
  model:     the whole model, plain loop (the network `build_network` makes, cross-entropy per character);
  lightning: `SpecNetModule` under a Lightning Trainer (no logger, checkpoint, progress bar or validation).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
import yaml

import bench_rnn
from bench_rnn import CLOCKS, per_step_ms, timed_fit, use_clock  # scripts/ is on the path of a script run from it
from course.tables import markdown_table
from course.threads import limit_blas_threads
from lightning_ffnn.datamodules.base import ArrayDataModule
from lightning_ffnn.layers import LOSS_MODULES
from lightning_ffnn.models import SpecNetModule, data_settings, per_step_flat
from lightning_ffnn.network import build_network

T, V, BATCH, WARMUP = 32, 76, 32, 3
CONFIG = "configs/char_gpt.yaml"


def gpt_layers() -> list[dict]:
    with open(CONFIG) as f:
        return yaml.safe_load(f)["model"]["layers"]


D = gpt_layers()[0]["embedding_dim"]  # the model's width, as the config sets it


class SyntheticText(ArrayDataModule):
    """Random character indices (N, T) with random next characters: timing data only."""

    task, input_dim, output_dim, layout = "classification", V, V, "rows"

    def __init__(self, n: int):
        super().__init__(batch_size=BATCH, shuffle=False)
        self.n = n
        self.class_names = [str(i) for i in range(V)]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (T,)

    @property
    def target_shape(self) -> tuple[int, ...]:
        return (T,)  # the next character at every position

    def _load(self):
        rng = np.random.default_rng(0)
        self.data_source = "synthetic timing data"
        return {"train": (rng.integers(0, V, (self.n, T)), rng.integers(0, V, (self.n, T)))}

    def setup(self, stage=None):
        if self._sets is None:
            self._sets = {k: (torch.as_tensor(x), torch.as_tensor(y)) for k, (x, y) in self._load().items()}
            self.eval_set_names = ["train"]

    def val_dataloader(self):
        return []


def plain_loop(layers: list[dict], input_shape: tuple, backend: str, steps: int, head_loss: bool) -> float:
    """Median ms per step of forward + backward + Adam on random data, the network ``build_network`` makes."""
    net = build_network(layers, input_shape, backend, seed=0)
    loss_fn = LOSS_MODULES["softmax_cross_entropy"][0 if backend == "numpy" else 1]()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    if head_loss:
        xs = torch.randint(0, V, (steps, BATCH, T), generator=g)
        ys = torch.randint(0, V, (steps, BATCH, T), generator=g)
    else:
        xs, ys = torch.randn(steps, BATCH, T, D, generator=g), None
    stamps = []
    for i in range(steps):
        opt.zero_grad()
        out = net(xs[i])
        loss = loss_fn(*per_step_flat(out, ys[i])) if head_loss else (out * out).mean()
        loss.backward()
        opt.step()
        stamps.append(bench_rnn.clock())
    return per_step_ms(stamps, WARMUP)


def lightning(backend: str, steps: int, profile: bool) -> tuple[float, str]:
    data = SyntheticText(steps * BATCH)
    model = SpecNetModule(backend=backend, layers=gpt_layers(), optimizer="adam", lr=1e-3, **data_settings(data))
    return timed_fit(model, data, profile, rows=14, warmup=WARMUP)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="12 steps a path instead of 40")
    parser.add_argument("--profile", action="store_true", help="cProfile the numpy backend's Lightning steps")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--blas_threads", type=int, default=1,
                        help="NumPy's BLAS threads (default 1, as training sets them; to measure another split)")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                        help="wall (default) or cpu: this process's CPU time, for a shared machine (with --threads 1)")
    opts = parser.parse_args()
    use_clock(opts.clock)
    if opts.threads:
        torch.set_num_threads(opts.threads)
    limit_blas_threads(opts.blas_threads)  # as training does (lightning_ffnn.cli.configure_runtime): one by default
    warnings.filterwarnings("ignore")
    steps = 12 if opts.quick else 40
    block = gpt_layers()[2:4]
    rows, profile = [], ""
    for name, run in (("block (plain loop)", lambda b: plain_loop(block, (T, D), b, steps, False)),
                      ("model (plain loop)", lambda b: plain_loop(gpt_layers() + [{"type": "linear", "out_features": V}],
                                                                  (T,), b, steps, True)),
                      ("model (Lightning)", None)):
        if run is None:
            t_torch, _ = lightning("torch", steps, False)
            t_numpy, profile = lightning("numpy", steps, opts.profile)
        else:
            t_torch, t_numpy = run("torch"), run("numpy")
        rows.append([name, f"{t_torch:.2f}", f"{t_numpy:.2f}", f"{t_numpy / t_torch:.2f}"])
    print(f"GPT step, T = {T}, D = {D}, batch {BATCH}, float32, torch threads {torch.get_num_threads()}, "
          f"BLAS threads {opts.blas_threads}, {opts.clock} clock, "
          f"{steps} steps a path (median ms per step)\n")
    print(markdown_table(["path", "torch ms", "numpy ms", "numpy / torch"], rows))
    if profile:
        print("\nnumpy backend, Lightning steps, by own time:\n" + profile)


if __name__ == "__main__":
    main()
