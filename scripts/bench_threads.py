"""Measure how NumPy's BLAS threads and torch's intra-op threads interact in a NumPy-backed step.

    python scripts/bench_threads.py [--steps 300] [--repeats 5] [--busy 1]

Times one training step (forward, loss, backward, SGD update; batch 100, float32) of a
128-64-64-10 sigmoid network in a plain torch loop, for the native layers and for the NumPy-backed
layers under three thread settings. Each measurement runs in a fresh process (thread pools start as
they would for a user), settings interleaved over several repeats; prints medians in ms/step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch


def time_steps(backend: str, steps: int, X: torch.Tensor, y: torch.Tensor) -> float:
    from lightning_ffnn.layers import NumpySoftmaxCrossEntropy
    from lightning_ffnn.network import build_mlp

    net = build_mlp([128, 64, 64, 10], "sigmoid", backend, seed=0)
    loss_fn = NumpySoftmaxCrossEntropy() if backend == "numpy" else torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    n = X.shape[0]

    def step(i: int) -> None:
        s = (i * 100) % n
        opt.zero_grad()
        loss_fn(net(X[s:s + 100]), y[s:s + 100]).backward()
        opt.step()

    for i in range(20):  # warm-up
        step(i)
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    return (time.perf_counter() - t0) / steps * 1e3


SETTINGS = {
    # name: (backend, apply the library's BLAS limit, torch threads (0 = default))
    "native layers": ("torch", True, 0),
    "numpy layers, no thread limit": ("numpy", False, 0),
    "numpy layers, BLAS limited to 1 (entry-point default)": ("numpy", True, 0),
    "numpy layers, torch limited to 1 instead": ("numpy", False, 1),
    "native layers, torch 1 thread (CLI default)": ("torch", True, 1),
    "numpy layers, BLAS 1 + torch 1 (CLI default)": ("numpy", True, 1),
}


def child(name: str, steps: int) -> None:
    """Time one setting in this fresh process (thread pools start as a user's would)."""
    backend, limit, torch_threads = SETTINGS[name]
    import course.threads as threads

    if limit:
        threads.limit_blas_threads()  # what the entry points do (lightning_ffnn.cli.configure_runtime)
    if torch_threads:
        torch.set_num_threads(torch_threads)
    g = torch.Generator().manual_seed(0)
    X = torch.randint(0, 2, (9000, 128), generator=g).float()
    y = torch.randint(0, 10, (9000,), generator=g)
    print(json.dumps({"ms": time_steps(backend, steps, X, y), "blas": threads.blas_threads(),
                      "torch": torch.get_num_threads()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--busy", type=int, default=0,
                        help="run this many CPU-spinning processes meanwhile (a machine doing other work)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.steps)
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        measure(args)
    finally:
        for h in hogs:
            h.kill()


def measure(args) -> None:
    times: dict[str, list[float]] = {k: [] for k in SETTINGS}
    seen: dict[str, dict] = {}
    for _ in range(args.repeats):  # interleaved, so machine drift hits every setting alike
        for name in SETTINGS:
            out = subprocess.run([sys.executable, __file__, "--child", name, "--steps", str(args.steps)],
                                 check=True, capture_output=True, text=True).stdout
            seen[name] = json.loads(out.strip().splitlines()[-1])
            times[name].append(seen[name]["ms"])
    print(f"{os.cpu_count()} cores, {args.busy} busy process(es) beside; {args.steps} steps x {args.repeats} "
          f"fresh processes per setting\n")
    print("| setting | BLAS threads | torch threads | ms/step median | min | max |\n|---|---|---|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {seen[name]['blas']} | {seen[name]['torch']} | {statistics.median(ts):.3f} "
              f"| {min(ts):.3f} | {max(ts):.3f} |")


if __name__ == "__main__":
    main()
