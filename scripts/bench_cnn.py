"""Speed of the course report's CNN (configs/mnist_cnn.yaml) on MNIST-shaped float32 batches of 100.

    PYTHONPATH=. python scripts/bench_cnn.py            # a few minutes on a quiet 2-core machine
    PYTHONPATH=. python scripts/bench_cnn.py --quick    # seconds: a smoke run, numbers too noisy to quote
    PYTHONPATH=. python scripts/bench_cnn.py --profile  # also where the numpy backend's step spends its time

Measures, in one run (synthetic random images: speed does not depend on the pixels):

1. the ceiling: NumPy's float32 matrix product at the shape of the 2nd conv layer's im2col product
   (19600 x 800 @ 800 x 64), in GFLOPS, with 1 BLAS thread and with all of them;
2. the 2nd conv layer alone (100 x 32 x 14 x 14 -> 64 channels, 5x5, "same"), forward + backward:
   `numpy_ops.conv.Conv2dOp` vs ``torch.nn.functional.conv2d`` + autograd, ms and GFLOPS
   (6 * N*Ho*Wo * F*C*k*k flops: one product forward, two backward), and NumPy's share of the ceiling;
3. ms per training step of the whole network: a plain torch loop, Lightning with the torch backend, Lightning
   with the numpy backend (the bridge runs BLAS on 1 thread there, see course/threads.py).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

import numpy as np
import torch
import yaml
from threadpoolctl import threadpool_limits

import lightning as L
from lightning_ffnn.models import SpecNetModule
from lightning_ffnn.network import build_network
from course.threads import limit_blas_threads
from numpy_ops.conv import Conv2dOp

BATCH, CLASSES = 100, 10
CONV2 = dict(N=BATCH, C=32, H=14, W=14, F=64, k=5)


def report_layers() -> list[dict]:
    with open("configs/mnist_cnn.yaml") as f:
        return yaml.safe_load(f)["model"]["layers"]


def best_of(fn, repeats: int) -> float:
    """Smallest wall time of ``repeats`` calls, seconds (the least disturbed run on a shared machine)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def matmul_gflops(threads: int | None, repeats: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((19600, 800), dtype=np.float32)
    b = rng.standard_normal((800, 64), dtype=np.float32)
    with threadpool_limits(threads, user_api="blas"):
        t = best_of(lambda: a @ b, repeats)
    return 2 * 19600 * 800 * 64 / t / 1e9


def conv2_times(threads: int | None, repeats: int) -> dict[str, float]:
    c = CONV2
    rng = np.random.default_rng(0)
    x = rng.standard_normal((c["N"], c["C"], c["H"], c["W"]), dtype=np.float32)
    w = (rng.standard_normal((c["F"], c["C"], c["k"], c["k"]), dtype=np.float32) * 0.05).astype(np.float32)
    b = np.zeros(c["F"], np.float32)
    op = Conv2dOp(1, "same")
    dout = rng.standard_normal((c["N"], c["F"], c["H"], c["W"]), dtype=np.float32)

    def numpy_step():
        out, cache = op.forward(x, w, b)
        op.backward(dout, cache)

    tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    tdout = torch.from_numpy(dout)

    def torch_step():
        torch.nn.functional.conv2d(tx, tw, tb, padding="same").backward(tdout)

    with threadpool_limits(threads, user_api="blas"):
        t_np = best_of(numpy_step, repeats)
        parts = {}
        out, cache = op.forward(x, w, b)
        parts["numpy forward"] = best_of(lambda: op.forward(x, w, b), repeats)
        parts["numpy backward"] = best_of(lambda: op.backward(dout, cache), repeats)
    t_torch = best_of(torch_step, repeats)
    flops = 6 * c["N"] * c["H"] * c["W"] * c["F"] * c["C"] * c["k"] ** 2
    return {"numpy_ms": t_np * 1e3, "torch_ms": t_torch * 1e3, "numpy_gflops": flops / t_np / 1e9,
            "torch_gflops": flops / t_torch / 1e9, **{f"{k}_ms": v * 1e3 for k, v in parts.items()}}


def batches(n: int, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(BATCH, 1, 28, 28, generator=g), torch.randint(0, CLASSES, (BATCH,), generator=g))
            for _ in range(n)]


def plain_torch_ms(steps: int) -> float:
    net = build_network([*report_layers(), {"type": "linear", "out_features": CLASSES}], (1, 28, 28), "torch")
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    data = batches(steps + 2)
    for i, (x, y) in enumerate(data):
        if i == 2:
            t = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return (time.perf_counter() - t) / steps * 1e3


class _StepTimer(L.Callback):
    def __init__(self, warmup: int):
        self.warmup, self.t0, self.t1 = warmup, None, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.warmup and self.t0 is None:
            self.t0 = time.perf_counter()

    def on_train_end(self, trainer, pl_module):
        self.t1 = time.perf_counter()


def lightning_model(backend: str) -> SpecNetModule:
    return SpecNetModule(backend=backend, layers=report_layers(), optimizer="sgd", lr=0.01, momentum=0.9,
                         task="classification", input_shape=[1, 28, 28], output_dim=CLASSES)


def lightning_ms(backend: str, steps: int, warmup: int = 2, profile: bool = False) -> float:
    timer = _StepTimer(warmup)
    trainer = L.Trainer(max_steps=warmup + steps, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                        num_sanity_val_steps=0, callbacks=[timer])
    model = lightning_model(backend)
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    loader = torch.utils.data.DataLoader(batches(warmup + steps), batch_size=None)  # yields the batches as they are
    trainer.fit(model, train_dataloaders=loader)
    if profiler:
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(14)
        print(f"\nProfile of {warmup + steps} numpy-backend steps (tottime = time in the function itself):")
        print("\n".join(out.getvalue().splitlines()[4:]))
    return (timer.t1 - timer.t0) / steps * 1e3


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run in seconds (few repeats, few steps)")
    parser.add_argument("--profile", action="store_true", help="profile the numpy backend's training steps")
    args = parser.parse_args(argv)
    repeats, steps = (1, 2) if args.quick else (5, 20)
    torch.manual_seed(0)
    results = {"torch_threads": torch.get_num_threads()}
    for label, threads in (("1 BLAS thread", 1), ("all BLAS threads", None)):
        results[f"matmul_gflops ({label})"] = matmul_gflops(threads, repeats)
        for key, value in conv2_times(threads, repeats).items():
            results[f"conv2 {key} ({label})"] = value
    limit_blas_threads(1)  # what the bridge sets for training (it is imported above; say so explicitly)
    results["step_ms plain torch loop"] = plain_torch_ms(steps)
    results["step_ms Lightning torch backend"] = lightning_ms("torch", steps)
    results["step_ms Lightning numpy backend"] = lightning_ms("numpy", steps, profile=args.profile)
    print(f"\nThe report's CNN, float32, batch {BATCH} (torch threads: {results['torch_threads']})")
    for key, value in results.items():
        print(f"  {key:48s} {value:9.2f}")
    for label in ("1 BLAS thread", "all BLAS threads"):
        share = results[f"conv2 numpy_gflops ({label})"] / results[f"matmul_gflops ({label})"]
        print(f"  NumPy conv2 at {share:.0%} of the matmul rate ({label}; target >= 50%)")
    ratio = results["step_ms Lightning numpy backend"] / results["step_ms Lightning torch backend"]
    print(f"  numpy backend / torch backend: {ratio:.2f}x (target <= 1.5x)")
    return results


if __name__ == "__main__":
    main()
