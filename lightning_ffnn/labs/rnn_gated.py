"""Gated recurrences (LSTM, GRU) in the report: delayed recall with each cell, the character model with each cell,
MNIST read by rows with the LSTM.

The ops are `numpy_ops.lstm` and `numpy_ops.gru` (their backward by hand, one reverse sweep per layer); the configs
`char_lstm`, `char_gru` and `mnist_lstm`. Delayed recall is `lightning_ffnn.labs.rnn.delayed_recall` (pure NumPy)
with the same budget for the three cells, so only the cell differs.
"""

from __future__ import annotations

from pathlib import Path

from course.datasets.errors import DataError
from course.tables import markdown_table

from .rnn import char_model_sample, delayed_recall
from .sections_lightning import fit_config

#: (cell, spec arguments): the three cells with torch's init, then the gated ones with gate_bias 3 (forget or
#: update gate near 1 at the start: the cell keeps its state instead of halving it every step).
RECALL_VARIANTS = (("rnn", {}), ("lstm", {}), ("gru", {}), ("lstm", {"gate_bias": 3.0}), ("gru", {"gate_bias": 3.0}))
RECALL_GATED_DELAYS = (10, 20, 40)
#: Training steps of every variant (section 8's RNN had 600).
RECALL_STEPS = 1000
QUICK_RECALL = ((5, 20), 200)


def variant_name(cell: str, args: dict) -> str:
    return ", ".join([cell, *(f"{k} {v:g}" for k, v in args.items())])


def recall_comparison(delays=RECALL_GATED_DELAYS, steps: int = RECALL_STEPS, variants=RECALL_VARIANTS) -> list[dict]:
    """`delayed_recall` for every variant and delay (H = 32, Adam 3e-3, fresh batches of 64, seed 0)."""
    return [{**delayed_recall(d, steps=steps, cell=cell, **args), "variant": variant_name(cell, args)}
            for d in delays for cell, args in variants]


def recall_table(results: list[dict], steps: int) -> str:
    delays = sorted({r["delay"] for r in results})
    names = list(dict.fromkeys(r["variant"] for r in results))
    acc = {(r["variant"], r["delay"]): r["accuracy"] for r in results}
    return markdown_table(["cell", "training steps", *(f"delay {d}" for d in delays)],
                          [[n, steps, *(f"{100 * acc[n, d]:.1f}%" for d in delays)] for n in names])


def _run_row(label: str, r: dict) -> list:
    val = min(r["epochs"], key=lambda e: e["val/loss"])
    f = r["final"]
    return [*label.split(", "), len(r["epochs"]), f"{f['train/loss']:.4f}", f"{f['val/loss']:.4f}",
            f"{val['val/loss']:.4f} (epoch {val['epoch'] + 1})", f"{100 * f['val/accuracy']:.1f}%",
            f"{r['wall_time_s']:.1f}"]


def gated_section(s, opts) -> None:
    """The LSTM/GRU part of the report: ``s`` a `course.labs.document.Section`, ``opts`` its `Options`."""
    s.add("Two gated cells with hand-written backward passes: the LSTM (`numpy_ops/lstm.py`: gates i, f, g, o; "
          "c_t = f c_{t-1} + i g, h_t = o tanh(c_t)) and the GRU (`numpy_ops/gru.py`: gates r, z, n; n = tanh(x_n + "
          "r (W_hn h + b_hn)), h_t = (1 - z) n + z h_{t-1}), with `nn.LSTM`'s and `nn.GRU`'s parameters. The cell "
          "state's additive path (and the GRU's z h_{t-1}) carries the gradient back without the repeated tanh "
          "derivative that makes the simple RNN's vanish. See docs/rnn.md.")
    delays, steps = QUICK_RECALL if opts.quick else (RECALL_GATED_DELAYS, RECALL_STEPS)
    s.data("generated", "delayed recall (section 8's task): 1 of 4 symbols at step 1, then `delay` random distractor "
                        "symbols; fresh batches of 64, H = 32, Adam lr 3e-3, test set of 2000, pure NumPy")
    s.table(recall_table(recall_comparison(delays, steps), steps),
            "Delayed recall, test accuracy per cell with the same budget (chance: 25%). gate_bias 3 adds 3 to the "
            "bias of the LSTM's forget gate or the GRU's update gate at the start (torch's init leaves them near 0, "
            "so the state halves every step until training opens the gate).")
    # --quick: two epochs on the Zen of Python (1/16 of the license text), to check the pipeline
    epochs, extra = (2, {"data.init_args.source": "zen"}) if opts.quick else (None, {})
    runs = {f"char_{c}, numpy": fit_config(opts, f"char_{c}", f"gated/char_{c}", "numpy", epochs, extra)
            for c in ("lstm", "gru")}
    for label, r in runs.items():
        s.data("real", f"{label}: {r['data_source']}")
    s.table(markdown_table(["config", "backend", "epochs", "train loss", "val loss", "best val loss", "val accuracy",
                            "wall s"], [_run_row(label, r) for label, r in runs.items()]),
            "The character model of section 8 (H = 64, T = 32, Adam 5e-3) with each gated cell; loss per character "
            "(nats), accuracy of the next character.")
    for label, r in runs.items():
        s.code(char_model_sample(r))
        s.add(f"Above: {label.split(',')[0]}, 200 characters sampled (temperature 1, seed 0) after 'Python ' from the "
              "checkpoint of the best validation loss.")
        for png in r["figures"]:
            s.figure(Path(r["run_dir"]) / png, f"{label.split(',')[0]}_{Path(png).stem}",
                     f"{label}: {Path(png).stem.replace('_', ' ')}.")
    _mnist_rows(s, opts)
    s.add("Commands: " + "; ".join(f"`{r['command']}`" for r in runs.values()))


def _mnist_rows(s, opts) -> None:
    # imported here: the datamodules load a second BLAS library, and importing the report must leave BLAS alone
    # (tests/test_scratch_labs.py)
    from ..datamodules import MNISTDataModule

    try:
        MNISTDataModule(kind="mnist", layout="rows").prepare_data()
    except DataError as exc:
        s.add(f"MNIST by rows with the LSTM: not run ({str(exc).splitlines()[0]}).")
        return
    if opts.quick:
        s.add("MNIST by rows with the LSTM: not run in --quick mode (3 minutes on a quiet 2-core machine, 25 on a "
              "busy one; docs/gated.md has the measured runs).")
        return
    r = fit_config(opts, "mnist_lstm", "gated/mnist_lstm", "torch")
    s.data("real", f"mnist_lstm: {r['data_source']}")
    s.table(markdown_table(["epoch", *(str(e["epoch"] + 1) for e in r["epochs"])],
                           [["test accuracy", *(f"{100 * e['test/accuracy']:.2f}%" for e in r["epochs"])]]),
            f"MNIST read by rows (28 steps of 28 pixels) with an LSTM (H = 128), Adam 2e-3 warmed up over 5% of the "
            f"steps then decayed to 0 (cosine), torch backend: test accuracy per epoch; wall time {r['wall_time_s']:.0f} s. Command: `{r['command']}`")
