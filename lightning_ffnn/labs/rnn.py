"""Recurrent networks by hand: the BPTT table of a tiny RNN, vanishing gradients, delayed recall; the report section.

Pure NumPy (`numpy_ops.rnn`, `numpy_ops.bptt`, `numpy_ops.optim`) except where the point is the comparison with
autograd (`bptt_three_ways`) or a Lightning run (`rnn_section`'s training curves).

* `bptt_three_ways`: for a tiny RNN (T=4, D=3, H=2) the table delta_{t,k} = dL_t/ds_k and dL/dU by the course's
  double sum, by the op's reverse sweep and by torch autograd.
* `gradient_norms`: ||dL_T/ds_k|| / ||dL_T/ds_T|| as k goes back from T, for tanh and relu and recurrent weights
  W = scale * Q (Q random orthogonal, so every singular value of W is ``scale``); `gradient_norm_figure`.
* `delayed_recall`: a symbol shown at step 1, then ``delay`` steps of random distractor symbols; the network must
  name the first symbol at the end. A plain tanh RNN trained with Adam, per delay: test accuracy (chance 1/K).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from numpy_ops.bptt import bptt_double_sum
from numpy_ops.losses import softmax_cross_entropy
from numpy_ops.network import build
from numpy_ops.optim import Adam
from numpy_ops.rnn import RNNOp, _df_from_h

from course.labs.document import data_label
from course.tables import markdown_table

from .sections_lightning import fit_config


# ---- the tiny RNN, three ways ----

@dataclass
class ThreeWays:
    delta_formula: np.ndarray   # (T, T, H) the course's table
    delta_autograd: np.ndarray  # (T, T, H) dL_t/ds_k by torch autograd
    ds_sweep: np.ndarray        # (T, H)    dL/ds_k = sum_t delta_{t,k}, as the sweep accumulates it
    dU: dict[str, np.ndarray]   # "formula", "sweep", "autograd": (H, D) each


def tiny_problem(seed: int = 0, T: int = 4, D: int = 3, H: int = 2, C: int = 3):
    """x (T, D), y (T,), U (H, D), W (H, H), V (C, H), b (H,): a fixed random instance of the course's RNN."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(T, D)), rng.integers(0, C, T), rng.normal(scale=0.8, size=(H, D)),
            rng.normal(scale=0.8, size=(H, H)), rng.normal(size=(C, H)), rng.normal(scale=0.2, size=H))


def bptt_three_ways(seed: int = 0) -> ThreeWays:
    import torch

    x, y, U, W, V, b = tiny_problem(seed)
    T, H = len(x), W.shape[0]
    table = bptt_double_sum(x, y, U, W, V, b)
    # the sweep: RNNOp.backward with the per-step upstream dL/dh_t = V^T (y_hat_t - y_t)
    op = RNNOp("tanh")
    h, cache = op.forward(x[None], U, W, b, np.zeros(H))
    dh = (table.y_hat - np.eye(V.shape[0])[y]) @ V
    dU_sweep = op.backward(dh[None], cache)[1]
    # the column sums dL/ds_k the sweep accumulates (RNNOp.backward keeps them internal): its recursion, once more
    ds_sweep, carry = np.zeros_like(dh), np.zeros(H)
    dfs = _df_from_h(h[0], "tanh")
    for t in reversed(range(T)):
        ds_sweep[t] = (dh[t] + carry) * dfs[t]
        carry = W.T @ ds_sweep[t]
    # autograd: every s_k kept, each L_t differentiated on its own
    Ut, Wt, Vt, bt = (torch.tensor(a, requires_grad=True) for a in (U, W, V, b))
    xt, ht, ss, losses = torch.tensor(x), torch.zeros(H, dtype=torch.float64), [], []
    for t in range(T):
        s = Wt @ ht + Ut @ xt[t] + bt
        s.retain_grad()
        ss.append(s)
        ht = torch.tanh(s)
        losses.append(torch.nn.functional.cross_entropy((Vt @ ht)[None], torch.tensor([int(y[t])])))
    delta_auto = np.zeros((T, T, H))
    for t in range(T):
        grads = torch.autograd.grad(losses[t], ss[: t + 1], retain_graph=True)
        for k, g in enumerate(grads):
            delta_auto[t, k] = g.numpy()
    dU_auto = torch.autograd.grad(sum(losses), Ut)[0].numpy()
    return ThreeWays(table.delta, delta_auto, ds_sweep, {"formula": table.dU, "sweep": dU_sweep,
                                                          "autograd": dU_auto})


def three_ways_tables(r: ThreeWays) -> tuple[str, str]:
    """(delta table, dL/dU table) as Markdown: formula next to autograd for every (t, k); the sweep's column sums."""
    T = r.delta_formula.shape[0]
    fmt = lambda v: "[" + ", ".join(f"{a:+.6f}" for a in v) + "]"  # noqa: E731
    rows = []
    for k in range(T):
        for t in range(k, T):
            rows.append([t + 1, k + 1, fmt(r.delta_formula[t, k]), fmt(r.delta_autograd[t, k]),
                         f"{np.abs(r.delta_formula[t, k] - r.delta_autograd[t, k]).max():.1e}"])
        col = r.delta_formula[:, k].sum(0)
        rows.append(["sum over t", k + 1, fmt(col), f"sweep dL/ds_{k + 1} = {fmt(r.ds_sweep[k])}",
                     f"{np.abs(col - r.ds_sweep[k]).max():.1e}"])
    delta = markdown_table(["t", "k", "delta_{t,k} by the formula", "dL_t/ds_k by autograd", "max diff"], rows)
    H, D = r.dU["formula"].shape
    dU_rows = [[f"({i + 1},{j + 1})", *(f"{r.dU[w][i, j]:+.10f}" for w in ("formula", "sweep", "autograd"))]
               for i in range(H) for j in range(D)]
    return delta, markdown_table(["dL/dU entry", "double sum", "reverse sweep", "autograd"], dU_rows)


# ---- vanishing and exploding gradients ----

def orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


def gradient_norms(nonlinearity: str, scale: float, T: int = 60, H: int = 32, D: int = 8, seed: int = 0,
                   batch: int = 16) -> np.ndarray:
    """(T,) mean over a batch of ||dL_T/ds_k|| / ||dL_T/ds_T|| for k = T, T-1, ..., 1 (index 0 is k = T).

    W = scale * Q (orthogonal Q), U ~ N(0, 1/D), b = 0, x ~ N(0, 1), h_0 = 0; L_T depends on h_T only (a random
    unit direction): dL_T/ds_k = f'(s_k) * (W^T dL_T/ds_{k+1}), the recursion of delta_{T,k}."""
    rng = np.random.default_rng(seed)
    W, U = scale * orthogonal(rng, H), rng.normal(scale=1 / np.sqrt(D), size=(H, D))
    x = rng.normal(size=(batch, T, D))
    h = RNNOp(nonlinearity)(x, U, W, np.zeros(H), np.zeros(H))
    df = _df_from_h(h, nonlinearity)
    g = rng.normal(size=(batch, H))
    delta = df[:, -1] * g / np.linalg.norm(g, axis=1, keepdims=True)
    norms = [np.linalg.norm(delta, axis=1)]
    for k in range(T - 2, -1, -1):
        delta = df[:, k] * (delta @ W)
        norms.append(np.linalg.norm(delta, axis=1))
    norms = np.array(norms)
    return (norms / np.maximum(norms[0], 1e-300)).mean(axis=1)


def gradient_norm_figure(scales=(0.5, 1.0, 1.5, 2.0), T: int = 60) -> tuple[Figure, dict]:
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2, sharey=True)
    curves = {}
    for ax, nl in zip(axes, ("tanh", "relu")):
        for scale in scales:
            c = gradient_norms(nl, scale, T)
            curves[(nl, scale)] = c
            ax.semilogy(np.arange(T), np.maximum(c, 1e-30), label=f"W = {scale} Q")
        ax.set_title(f"{nl}: ||dL_T/ds_k|| / ||dL_T/ds_T||")
        ax.set_xlabel("T - k (steps back)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig, curves


# ---- delayed recall ----

def recall_data(rng: np.random.Generator, n: int, delay: int, K: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """x (n, delay + 1, K + 1): step 0 shows symbol y one-hot; steps 1..delay show random distractor symbols;
    the last feature marks "answer now" at the final step. y (n,)."""
    y = rng.integers(0, K, n)
    symbols = np.concatenate([y[:, None], rng.integers(0, K, (n, delay))], axis=1)
    x = np.zeros((n, delay + 1, K + 1))
    x[np.arange(n)[:, None], np.arange(delay + 1), symbols] = 1.0
    x[:, -1, K] = 1.0
    return x, y


def delayed_recall(delay: int, hidden: int = 32, steps: int = 600, batch: int = 64, lr: float = 3e-3,
                   K: int = 4, seed: int = 0, nonlinearity: str = "tanh") -> dict[str, float]:
    """Train a plain RNN (last state -> linear) on fresh batches; return test accuracy and final loss."""
    rng = np.random.default_rng(seed)
    net = build([{"type": "rnn", "hidden_size": hidden, "nonlinearity": nonlinearity, "output": "last"},
                 {"type": "linear", "out_features": K}], (delay + 1, K + 1), rng)
    opt = Adam(net.parameters(), lr=lr)
    for _ in range(steps):
        x, y = recall_data(rng, batch, delay, K)
        net.zero_grad()
        loss, cache = softmax_cross_entropy.forward(net(x), y)
        net.backward(softmax_cross_entropy.backward(1.0, cache)[0])
        opt.step(net.gradients())
    x, y = recall_data(np.random.default_rng([seed, 1]), 2000, delay, K)
    logits = net(x)
    return {"delay": delay, "accuracy": float((logits.argmax(1) == y).mean()),
            "loss": float(softmax_cross_entropy(logits, y)), "chance": 1.0 / K}


# ---- the report section ----

RECALL_DELAYS = (2, 5, 10, 20, 40)


def char_model_sample(results: dict, prompt: str = "Python ", n_chars: int = 200, seed: int = 0) -> str:
    """Text generated by the character model a `fit_config` run saved (its best checkpoint)."""
    from ..datamodules.text import CharTextDataModule, sample_text
    from ..models import FFNNModule

    data = results["settings"]["data"]
    dm = CharTextDataModule(source=data["source"], seq_len=data["seq_len"], stride=data["stride"],
                            val_fraction=data["val_fraction"], batch_size=data["batch_size"])
    net = FFNNModule.load_from_checkpoint(results["best_checkpoint"], map_location="cpu").net
    return sample_text(net.eval(), dm, prompt, n_chars, seed=seed)


def rnn_section(s, opts) -> None:
    """The RNN part of the report: ``s`` a `course.labs.document.Section`, ``opts`` its `Options`."""
    s.add("A simple recurrent network, s_t = W h_{t-1} + U x_t + b, h_t = tanh(s_t), z_t = V h_t, "
          "L = sum_t L_t, trained by backpropagation through time written by hand (`numpy_ops/rnn.py`: one reverse "
          "sweep; `numpy_ops/bptt.py`: the course's double sum). See docs/rnn.md.")
    s.data("generated", "a fixed random tiny RNN (T = 4, D = 3, H = 2, 3 classes, seed 0), float64")
    delta, dU = three_ways_tables(bptt_three_ways(seed=0))
    s.table(delta, "delta_{t,k} = dL_t/ds_k by the course's recursion and by torch autograd; the sum over t of each "
                   "column is dL/ds_k, which the reverse sweep accumulates in one pass.")
    s.table(dU, "dL/dU = sum_t sum_{k<=t} delta_{t,k} x_k^T: the double sum, the sweep (`RNNOp.backward`) and autograd.")
    fig, curves = gradient_norm_figure()
    s.figure(fig, "gradient_norms", "||dL_T/ds_k|| / ||dL_T/ds_T|| going back from T = 60 (H = 32, mean of 16 random "
             "sequences), W = scale * orthogonal, for tanh and relu. Below 1 the gradient vanishes geometrically; "
             "at 2 it grows.")
    s.table(markdown_table(["nonlinearity", "W scale", "10 steps back", "30 steps back", "59 steps back"],
                           [[nl, sc, *(f"{c[i]:.2e}" for i in (10, 30, 59))] for (nl, sc), c in curves.items()]),
            "Gradient norm ratios of the figure.")
    steps = 200 if opts.quick else 600
    recall = [delayed_recall(d, steps=steps) for d in RECALL_DELAYS]
    s.data("generated", "delayed recall: 1 of 4 symbols at step 1, then `delay` random distractor symbols; answer at "
                        "the end; fresh batches of 64, tanh RNN H = 32, Adam lr 3e-3, test set of 2000")
    s.table(markdown_table(["delay", "training steps", "test accuracy", "test loss", "chance"],
                           [[r["delay"], steps, f"{100 * r['accuracy']:.1f}%", f"{r['loss']:.3f}",
                             f"{100 * r['chance']:.0f}%"] for r in recall]),
            "Delayed recall with a plain RNN: where accuracy sits at chance, the gradient from the answer no longer "
            "reaches step 1 (the figure above).")
    epochs = {"ocr_rnn": 15 if opts.quick else None, "char_rnn": 2 if opts.quick else None}
    extra = ("--data.init_args.data_dir", opts.data_dir) if opts.data_dir else ()
    runs = {f"ocr_rnn, {b}": fit_config(opts, "ocr_rnn", f"rnn/ocr_{b}", b, epochs["ocr_rnn"], extra)
            for b in ("torch", "numpy")}
    runs["char_rnn, numpy"] = fit_config(opts, "char_rnn", "rnn/char_numpy", "numpy", epochs["char_rnn"])
    for label, r in runs.items():
        s.data("synthetic" if r["is_synthetic"] else "real", f"{label}: {r['data_source']}")
    rows = []
    for label, r in runs.items():
        f, val = r["final"], "test" if "test/loss" in r["final"] else "val"
        rows.append([*label.split(", "), len(r["epochs"]), f"{f['train/loss']:.4f}", f"{f[f'{val}/loss']:.4f} ({val})",
                     f"{100 * f[f'{val}/accuracy']:.1f}%", f"{r['wall_time_s']:.1f}",
                     data_label("synthetic" if r["is_synthetic"] else "real")])
    s.table(markdown_table(["config", "backend", "epochs", "train loss", "held-out loss", "held-out accuracy",
                            "wall s", "data"], rows),
            "RNN runs. For char_rnn the loss is the mean cross-entropy per character (nats) and the accuracy that of "
            "the next character.")
    for label, r in runs.items():
        for png in r["figures"]:
            s.figure(Path(r["run_dir"]) / png, f"{label.replace(', ', '_')}_{Path(png).stem}",
                     f"{label}: {Path(png).stem.replace('_', ' ')}.")
    s.code(char_model_sample(runs["char_rnn, numpy"]))
    s.add("Above: 200 characters sampled (temperature 1, seed 0) from the character model after the prompt "
          "'Python '.")
    s.add("Commands: " + "; ".join(f"`{r['command']}`" for r in runs.values()))
