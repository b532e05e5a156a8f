"""Time every training path of the project side by side, in one run.

    python scripts/bench.py                 # full: several cases, 3 repetitions (a few minutes)
    python scripts/bench.py --quick         # seconds: one small case, one repetition (CI checks it runs)
    python scripts/bench.py --data_dir /path/to/ocr --repeats 5 --json bench.json
    python scripts/bench.py --suite cnn [--quick]    # the CNN cases (scripts/bench_cnn.py)
    python scripts/bench.py --suite rnn [--quick]    # the RNN cases (scripts/bench_rnn.py)

The same network (128-64-64-10 sigmoid, softmax cross-entropy, plain SGD lr 0.1, PyTorch's default
init from the same seed), the same data (OCR large: the handout files when present, else the
synthetic stand-in), the same batches (the (seed, epoch) permutation every path shares) and the same
number of epochs, trained by:

  (a) a minimal hand-written NumPy loop, written here as the floor;
  (b) the `numpy_ops` pure-NumPy trainer (`numpy_ops.train.fit`);
  (c) a plain PyTorch loop with ``nn.Linear`` and tensor slicing;
  (d) the Lightning module, ``torch`` backend, as ``scripts/train.py`` runs it (logging, checkpoints);
  (e) the Lightning module, ``numpy`` backend, the same, parity check off;
  (f) (e) with the gradient parity check at its default interval.

Every path also evaluates the loss over the whole training and test sets after each epoch, since the
Lightning paths do (that is what their per-epoch metrics are); the loops do it as cheaply as they can.
For each case, one warm-up round, then ``--repeats`` rounds, the paths interleaved in a rotating
order so that machine drift hits all alike; medians; ratios computed within the run; the final
training loss of each path is printed to show they did the same work. Peak memory: each path once in
a fresh process (VmHWM, imports included).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PATHS = {
    "a": "NumPy loop (floor)",
    "b": "numpy_ops trainer",
    "c": "PyTorch loop",
    "d": "Lightning, torch backend",
    "e": "Lightning, numpy backend",
    "f": "Lightning, numpy + parity",
}
LR = 0.1


@dataclass(frozen=True)
class Case:
    name: str
    data: str  # "ocr" or "regression"
    batch_size: int  # 0 = the whole training set
    dtype: str
    epochs: int
    size: str = "large"


# -- data ---------------------------------------------------------------------------------------------
def load(case: Case, data_dir: str | None):
    """(X_train, y_train, X_test, y_test, source) as NumPy arrays of the case's dtype, via the datamodules,
    so every path sees exactly what the Lightning paths see."""
    from lightning_ffnn.datamodules import OCRDataModule, RegressionDataModule

    if case.data == "ocr":
        dm = OCRDataModule(size=case.size, data_dir=data_dir, dtype=case.dtype, batch_size=1)
    else:
        dm = RegressionDataModule(dtype=case.dtype, batch_size=1)
    dm.setup("fit")
    sets = dm.eval_sets()
    held_out = "test" if case.data == "ocr" else "test_id"
    (X, y), (Xt, yt) = sets["train"], sets[held_out]
    return X.numpy(), y.numpy(), Xt.numpy(), yt.numpy(), dm.data_source


def sizes_for(case: Case, X: np.ndarray) -> list[int]:
    return [X.shape[1], 64, 64, 10 if case.data == "ocr" else 1]


def initial_weights(sizes: list[int], dtype) -> list[tuple[np.ndarray, np.ndarray]]:
    from numpy_ops.init import init_linear

    rng = np.random.default_rng(0)  # the same draws as lightning_ffnn.network.build_mlp(seed=0)
    return [tuple(a.astype(dtype) for a in init_linear(rng, o, i, "torch_default", dtype=np.float64))
            for i, o in zip(sizes[:-1], sizes[1:])]


def batches(n: int, batch_size: int, epoch: int):
    from numpy_ops.train import batch_order

    order = batch_order(n, epoch, True, 0)
    return [order[s:s + batch_size] for s in range(0, n, batch_size)]


# -- (a) the floor ------------------------------------------------------------------------------------------
def path_a(case: Case, X, y, Xt, yt, _run_dir) -> float:
    """Hand-written NumPy, everything inline: what any library path is measured against."""
    params = [(W.copy(), b.copy()) for W, b in initial_weights(sizes_for(case, X), X.dtype)]
    classify = case.data == "ocr"

    def sig(z):  # stable and branch-free: the fastest form NumPy offers (numpy_ops writes it readably)
        return np.exp(np.minimum(z, 0)) / (1 + np.exp(-np.abs(z)))

    def forward(x):
        hs = [x]
        for i, (W, b) in enumerate(params):
            z = hs[-1] @ W.T + b
            hs.append(sig(z) if i < len(params) - 1 else z)
        return hs

    def loss_grad(z, t):
        if classify:
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            loss = -np.log(p[np.arange(len(t)), t]).mean()
            p[np.arange(len(t)), t] -= 1
            return loss, p / len(t)
        d = z - t
        return (d * d).mean(), 2 * d / d.size

    n, bs = len(X), case.batch_size or len(X)
    for epoch in range(case.epochs):
        for idx in batches(n, bs, epoch):
            hs = forward(X[idx])
            _, dz = loss_grad(hs[-1], y[idx])
            for i in range(len(params) - 1, -1, -1):
                W, b = params[i]
                dW, db = dz.T @ hs[i], dz.sum(0)
                if i:
                    dh = dz @ W
                    dz = dh * hs[i] * (1 - hs[i])
                W -= LR * dW
                b -= LR * db
        train_loss = loss_grad(forward(X)[-1], y)[0]
        loss_grad(forward(Xt)[-1], yt)
    return float(train_loss)


# -- (b) numpy_ops --------------------------------------------------------------------------------------------
def path_b(case: Case, X, y, Xt, yt, _run_dir) -> float:
    import numpy_ops as no

    sizes = sizes_for(case, X)
    net = no.mlp(sizes, "sigmoid", dtype=X.dtype)
    net.load_state_dict({f"{2 * i}.{k}": v for i, (W, b) in enumerate(initial_weights(sizes, X.dtype))
                         for k, v in (("weight", W), ("bias", b))})
    loss = no.softmax_cross_entropy if case.data == "ocr" else no.mse
    hist = no.fit(net, loss, no.SGD(net.parameters(), lr=LR), X, y, epochs=case.epochs,
                  batch_size=case.batch_size or len(X), shuffle=True, seed=0, eval_sets={"test": (Xt, yt)})
    return hist["train_loss"][-1]


# -- (c) plain PyTorch ----------------------------------------------------------------------------------------
def path_c(case: Case, X, y, Xt, yt, _run_dir) -> float:
    import torch

    from lightning_ffnn.network import build_mlp

    torch.set_num_threads(1)  # as the CLI does (see README, "Threads")
    net = build_mlp(sizes_for(case, X), "sigmoid", "torch", seed=0, dtype=getattr(torch, case.dtype))
    loss_fn = torch.nn.CrossEntropyLoss() if case.data == "ocr" else torch.nn.MSELoss()
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    Xs, ys, Xts, yts = map(torch.from_numpy, (X, y, Xt, yt))
    n, bs = len(X), case.batch_size or len(X)
    for epoch in range(case.epochs):
        for idx in batches(n, bs, epoch):
            idx = torch.from_numpy(idx)
            opt.zero_grad()
            loss_fn(net(Xs[idx]), ys[idx]).backward()
            opt.step()
        with torch.no_grad():
            train_loss = loss_fn(net(Xs), ys)
            loss_fn(net(Xts), yts)
    return float(train_loss)


# -- (d, e, f) Lightning, as scripts/train.py runs it ---------------------------------------------------------------
def lightning_path(backend: str, parity: bool):
    def run(case: Case, X, y, Xt, yt, run_dir) -> tuple[float, float]:
        from lightning_ffnn.cli import cli_main, run_results

        config = "ocr_large.yaml" if case.data == "ocr" else "regression.yaml"
        args = ["fit", "--config", str(REPO / "configs" / config),
                "--model.backend", backend, "--model.dtype", case.dtype, "--model.hidden_sizes", "[64, 64]",
                "--model.activation", "sigmoid", "--model.init", "torch_default", "--model.optimizer", "sgd",
                "--model.lr", str(LR), "--model.momentum", "0", "--trainer.max_epochs", str(case.epochs),
                "--data.init_args.batch_size", str(case.batch_size or len(X)),
                "--trainer.logger.init_args.save_dir", str(run_dir), "--record.print_summary", "false"]
        if case.data == "ocr":
            args += ["--data.init_args.size", case.size]
            if BENCH_DATA_DIR:
                args += ["--data.init_args.data_dir", BENCH_DATA_DIR]
        if not parity:
            args += ["--parity.every_n_steps", str(10**9)]
        results = run_results(cli_main(args))
        return results["final"]["train/loss"], results["wall_time_s"]

    return run


BENCH_DATA_DIR: str | None = None
FULL_CASES = [
    Case("ocr large, batch 100, float32", "ocr", 100, "float32", 10),
    Case("ocr large, batch 100, float64", "ocr", 100, "float64", 10),
    Case("ocr large, batch 1, float32", "ocr", 1, "float32", 1),
    Case("ocr large, batch 1, float64", "ocr", 1, "float64", 1),
    Case("regression, full batch, float32", "regression", 0, "float32", 200),
]
RUNNERS = {"a": path_a, "b": path_b, "c": path_c, "d": lightning_path("torch", False),
           "e": lightning_path("numpy", False), "f": lightning_path("numpy", True)}


def time_path(key: str, case: Case, data, run_dir: str) -> tuple[float, float]:
    """(seconds, final training loss). Lightning paths report their fit time (first to last epoch hook,
    evaluation and checkpoints included; Trainer construction excluded)."""
    t0 = time.perf_counter()
    out = RUNNERS[key](case, *data[:4], run_dir)
    seconds = time.perf_counter() - t0
    loss, seconds = out if isinstance(out, tuple) else (out, seconds)
    return seconds, loss


# -- driver ------------------------------------------------------------------------------------------------------
def run_case(case: Case, repeats: int, data_dir: str | None, workdir: str) -> dict:
    data = load(case, data_dir)
    steps = case.epochs * -(-len(data[0]) // (case.batch_size or len(data[0])))
    times: dict[str, list[float]] = {k: [] for k in PATHS}
    losses: dict[str, float] = {}
    keys = list(PATHS)
    for r in range(repeats + 1):  # round 0 is the warm-up
        order = keys[r % len(keys):] + keys[:r % len(keys)]
        for key in order:
            seconds, loss = time_path(key, case, data, os.path.join(workdir, f"{case.name}-{key}-{r}"))
            losses[key] = loss
            if r:
                times[key].append(seconds)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"case": asdict(case), "steps": steps, "data_source": data[4], "median_s": med, "times_s": times,
            "ms_per_step": {k: 1e3 * v / steps for k, v in med.items()}, "final_train_loss": losses,
            "ratios": {"b/a": med["b"] / med["a"], "d/c": med["d"] / med["c"], "e/d": med["e"] / med["d"],
                       "f/e": med["f"] / med["e"]}}


def peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM). Not ru_maxrss: that keeps the peak of the forked parent
    image across exec, so every child would report the benchmark's own peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def peak_memory(case: Case, data_dir: str | None, workdir: str) -> dict[str, float]:
    """Peak RSS in MiB of each path trained once in a fresh process (imports included)."""
    out = {}
    for key in PATHS:
        cmd = [sys.executable, __file__, "--_memory", key, "--_case", json.dumps(asdict(case)), "--_workdir", workdir]
        if data_dir:
            cmd += ["--data_dir", data_dir]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out[key] = float(res.stdout.strip().splitlines()[-1])
    return out


def markdown(results: list[dict], memory: dict[str, float] | None, header: str) -> str:
    lines = [header, "", "| case | steps | " + " | ".join(f"({k}) {v}" for k, v in PATHS.items())
             + " | b/a | d/c | e/d | f/e |", "|---" * (len(PATHS) + 6) + "|"]
    for r in results:
        ms = " | ".join(f"{r['ms_per_step'][k]:.3f}" for k in PATHS)
        ratios = " | ".join(f"{r['ratios'][k]:.2f}" for k in ("b/a", "d/c", "e/d", "f/e"))
        lines.append(f"| {r['name']} | {r['steps']} | {ms} | {ratios} |")
    lines.append("")
    lines.append("Cells: median milliseconds per optimizer step (whole run including per-epoch evaluation, "
                 "divided by the number of steps). Ratios of medians, same run.")
    lines.append("")
    lines.append("| case | final train loss per path |\n|---|---|")
    for r in results:
        lines.append(f"| {r['name']} | " + ", ".join(f"{k}: {v:.6f}" for k, v in r["final_train_loss"].items()) + " |")
    if memory:
        lines += ["", "| path | peak RSS, MiB (fresh process) |", "|---|---|"]
        lines += [f"| ({k}) {PATHS[k]} | {v:.0f} |" for k, v in memory.items()]
    return "\n".join(lines)


def main() -> None:
    suite, rest = _suite(sys.argv[1:])
    if suite != "mlp":  # each suite is its own script; this one entry point runs any of them
        import importlib

        importlib.import_module(f"bench_{suite}").main(rest)
        return
    global BENCH_DATA_DIR
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small case, one repetition (seconds)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data_dir", default=None, help="OCR handout directory (else $LIGHTNING_FFNN_OCR_DIR, "
                                                         "data/ocr/, or the synthetic stand-in)")
    parser.add_argument("--json", default="bench_results/bench.json", help="where to write the JSON results")
    parser.add_argument("--case", help="run only the full-mode cases whose name contains this text")
    parser.add_argument("--epochs", type=int, help="override every case's number of epochs")
    parser.add_argument("--no_memory", action="store_true", help="skip the per-path peak-memory pass")
    parser.add_argument("--_memory", help=argparse.SUPPRESS)
    parser.add_argument("--_case", help=argparse.SUPPRESS)
    parser.add_argument("--_workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(rest)
    BENCH_DATA_DIR = args.data_dir
    from lightning_ffnn.cli import configure_runtime

    configure_runtime()  # every path, NumPy ones included, on one BLAS thread (docs/speed.md, "Threads")
    if args._memory:  # child process of peak_memory
        case = Case(**json.loads(args._case))
        time_path(args._memory, case, load(case, args.data_dir), os.path.join(args._workdir, f"mem-{args._memory}"))
        print(peak_rss_mib())
        return
    if args.quick:
        cases = [Case("ocr small, batch 100, float32", "ocr", 100, "float32", 2, size="small")]
        repeats = 1
    elif args.case:
        cases = [c for c in FULL_CASES if args.case in c.name]
        repeats = args.repeats
    else:
        cases, repeats = FULL_CASES, args.repeats
    if args.epochs:
        cases = [Case(**{**asdict(c), "epochs": args.epochs}) for c in cases]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ffnn-bench-") as workdir:
        results = []
        for case in cases:
            print(f"case: {case.name} ...", file=sys.stderr, flush=True)
            r = run_case(case, repeats, args.data_dir, workdir)
            r["name"] = case.name
            results.append(r)
        memory = None if args.no_memory or args.quick else peak_memory(cases[0], args.data_dir, workdir)
    import torch

    header = (f"Benchmark {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}; "
              f"{repeats} repetition(s) after a warm-up; data: {results[0]['data_source']}")
    table = markdown(results, memory, header)
    print(table)
    print(f"\n(benchmark wall time {time.perf_counter() - t0:.0f} s)")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"header": header, "results": results, "peak_rss_mib": memory}, indent=2))


def _suite(argv: list[str]) -> tuple[str, list[str]]:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--suite", choices=("mlp", "cnn", "rnn"), default="mlp",
                        help="mlp: the six training paths of lab 3.2 (this script); cnn, rnn: those networks' cases")
    known, rest = parser.parse_known_args(argv)
    return known.suite, rest


if __name__ == "__main__":
    main()
