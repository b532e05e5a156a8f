"""The report's normalization and GPT sections.

`normalization_section(s, opts)` trains the deep sigmoid network of ``configs/ocr_deep_{sigmoid,batchnorm,layernorm}
.yaml`` (numpy backend; the small OCR set and 2 epochs with ``--quick``) and shows the loss curves side by side,
each hidden layer's activation histogram on the test set (the last checkpoint, evaluation mode), and at
initialization how much gradient reaches each layer and how much of what layer norm divides by is common to every
example.

`gpt_section(s, opts)` trains ``configs/char_gpt.yaml`` with both backends and ``configs/char_rnn.yaml`` on the same
text and split, compares the best validation loss of each, samples text from the best checkpoints and draws the
first block's attention maps on the first validation window. With ``--quick``: the Zen of Python, 1 epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from course.labs.document import Options, Section, data_label
from course.tables import markdown_table
from numpy_ops import spec as S
from numpy_ops.attention import AttentionOp

from .cnn import _trained_net
from .rnn import char_model_sample
from .sections_lightning import fit_config

NORM_VARIANTS = {"no normalization": "ocr_deep_sigmoid", "batch norm": "ocr_deep_batchnorm",
                 "layer norm": "ocr_deep_layernorm"}


def _held_key(final: dict[str, float]) -> str:
    return "val" if "val/loss" in final else "test"


def _loss_figure(runs: dict[str, dict[str, Any]], title: str) -> Figure:
    fig = Figure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    for (label, r), color in zip(runs.items(), ("C0", "C1", "C2", "C3")):
        key = _held_key(r["final"])
        epochs = [e["epoch"] + 1 for e in r["epochs"]]
        ax.plot(epochs, [e[f"{key}/loss"] for e in r["epochs"]], color=color, label=f"{label}, {key}")
        ax.plot(epochs, [e["train/loss"] for e in r["epochs"]], color=color, ls="--", label=f"{label}, train")
    ax.set(xlabel="epoch", ylabel="loss", title=title)
    ax.legend(fontsize=7)
    return fig


def normalization_section(s: Section, opts: Options) -> None:
    # Lightning and the datamodules load when the section runs: importing the report must leave BLAS alone.
    from ..activation_stats import activation_positions, held_out, layer_activations, summary
    from ..datamodules.ocr import OCRDataModule

    s.add("A deep sigmoid network (8 hidden layers of 64) on the OCR letters, without normalization and with batch "
          "norm or layer norm between each linear layer and its sigmoid (`numpy_ops/norm.py`, numpy backend: every "
          "backward hand-written). See docs/normalization.md.")
    extra = {"data.init_args.size": "small"} if opts.quick else {}
    if opts.data_dir:
        extra["data.init_args.data_dir"] = opts.data_dir
    runs = {label: fit_config(opts, cfg, f"normalization/{cfg}", "numpy", 2 if opts.quick else None, extra)
            for label, cfg in NORM_VARIANTS.items()}
    for label, r in runs.items():
        s.data("synthetic" if r["is_synthetic"] else "real", f"{label}: {r['data_source']}")
    s.figure(_loss_figure(runs, "8 hidden sigmoid layers"), "normalization_loss",
             "Held-out (solid) and training (dashed) loss per epoch.")
    data = next(iter(runs.values()))["settings"]["data"]
    dm = OCRDataModule(size=data["size"], data_dir=opts.data_dir, batch_size=data["batch_size"])
    dm.setup()
    set_name, x = held_out(dm)
    stats, fig = {}, Figure(figsize=(12, 1.6 * len(runs)))
    for row, (label, r) in enumerate(runs.items()):
        spec = [*S.parse(r["settings"]["model"]["layers"]), S.Linear(int(r["settings"]["model"]["output_dim"]))]
        net = _trained_net(r, tuple(dm.input_shape))
        acts = layer_activations(net, activation_positions(spec), x.to(next(net.parameters()).dtype))
        stats[label] = [summary(a) for a in acts.values()]
        for col, a in enumerate(acts.values()):
            ax = fig.add_subplot(len(runs), len(acts), row * len(acts) + col + 1)
            ax.hist(a.reshape(-1), bins=40, range=(0, 1), color=f"C{row}")
            ax.set_yticks([])
            ax.set_title(f"{label}, layer {col + 1}" if col == 0 else f"layer {col + 1}", fontsize=7)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    s.figure(fig, "normalization_activations", f"Sigmoid outputs of each hidden layer on the {set_name} set after "
             "training (evaluation mode: batch norm uses its running statistics).")
    rows = []
    for label, r in runs.items():
        key, st = _held_key(r["final"]), stats[label]
        rows.append([label, len(r["epochs"]), f"{r['final']['train/loss']:.4f}", f"{r['final'][f'{key}/loss']:.4f}",
                     f"{100 * r['final'][f'{key}/accuracy']:.1f}%",
                     " / ".join(f"{100 * x['saturated']:.0f}%" for x in (st[0], st[len(st) // 2], st[-1])),
                     " / ".join(f"{x['spread']:.4f}" for x in st)])
    s.table(markdown_table(["network", "epochs", "train loss", "held-out loss", "held-out accuracy",
                            "saturated (layers 1 / middle / last)", "spread between examples, layer 1 to last"],
                           rows),
            "Saturated: sigmoid outputs below 0.05 or above 0.95, where sigma' < 0.05. Spread: each unit's standard "
            "deviation over the held-out examples, averaged over the layer's units; where it reaches 0, every "
            "example looks the same to the layers above.")
    _at_initialization(s, runs, dm)
    s.add("Commands: " + "; ".join(f"`{r['command']}`" for r in runs.values()))


def _at_initialization(s: Section, runs: dict[str, dict[str, Any]], dm) -> None:
    """Why: each network as it starts (its run's init and seed), on the first 100 training letters in training mode.
    The gradient reaching each linear layer, and for layer norm the common fraction of its inputs."""
    from ..activation_stats import common_fraction, layer_activations, weight_gradient_norms
    from ..network import build_network

    x, y = (t[:100] for t in dm.eval_sets()["train"])
    grads, common = [], {}
    for label, r in runs.items():
        model = r["settings"]["model"]
        spec = [*S.parse(model["layers"]), S.Linear(int(model["output_dim"]))]
        net = build_network(spec, tuple(dm.input_shape), "torch", model["init"], model["seed"],
                            torch.float32 if model["dtype"] == "float32" else torch.float64,
                            tuple(model["init_bounds"]))
        norms = weight_gradient_norms(net.train(), torch.nn.CrossEntropyLoss(), x.to(net[0].weight.dtype), y)
        grads.append([label, *(f"{g:.1e}" for g in norms), f"{norms[-1] / norms[0]:.0f}"])
        if any(isinstance(layer, S.LayerNorm) for layer in spec):
            hidden = [i for i, layer in enumerate(spec) if isinstance(layer, S.Linear)][:-1]
            acts = layer_activations(net, hidden, x.to(net[0].weight.dtype))
            common[label] = [f"{common_fraction(a):.3f}" for a in acts.values()]
    depth = len(grads[0]) - 2
    s.table(markdown_table(["network", *(f"linear {i + 1}" for i in range(depth - 1)), "output", "output / first"],
                           grads),
            "At initialization: ||dL/dW|| of each linear layer's weight for the loss of the first 100 training "
            "letters (training mode), input side first. What reaches the first layers is what trains them.")
    if common:
        s.table(markdown_table(["network", *(f"linear {i + 1}" for i in range(depth - 1))],
                               [[label, *row] for label, row in common.items()]),
                "At initialization, the linear layers' outputs that layer norm normalises: the part of their "
                "variation across units that is the same for every letter (1: none tells the letters apart). "
                "Layer norm divides each letter by its whole spread across units, so where this is near 1 the "
                "letters' differences stay small; batch norm subtracts each unit's mean over the batch, which "
                "removes the common part.")


# ---- the GPT ----

def attention_maps(net: torch.nn.Sequential, x: torch.Tensor) -> np.ndarray:
    """The first attention layer's weights (heads, T, T) for one example x (T,), from its parameters and the input
    it receives (computed by `numpy_ops.attention.AttentionOp.weights`, whichever backend the net was built for)."""
    att = next(m for m in net.modules() if isinstance(m, torch.nn.MultiheadAttention))
    seen = {}
    hook = att.register_forward_hook(lambda m, inp, out: seen.__setitem__("x", inp[0].detach()))
    try:
        with torch.no_grad():
            net(x[None])
    finally:
        hook.remove()
    op = AttentionOp(att.num_heads, causal=True)
    return op.weights(seen["x"].double().numpy(), att.in_proj_weight.detach().double().numpy(),
                      att.in_proj_bias.detach().double().numpy())[0]


def attention_figure(maps: np.ndarray, chars: str) -> Figure:
    heads = maps.shape[0]
    fig = Figure(figsize=(3.2 * heads, 3.4))
    for h in range(heads):
        ax = fig.add_subplot(1, heads, h + 1)
        ax.imshow(maps[h], cmap="viridis", vmin=0, vmax=1)
        ticks = range(len(chars))
        ax.set_xticks(ticks, [repr(c)[1:-1] for c in chars], fontsize=5, rotation=90)
        ax.set_yticks(ticks, [repr(c)[1:-1] for c in chars], fontsize=5)
        ax.set_title(f"head {h + 1}", fontsize=8)
        ax.set_xlabel("key (attended to)", fontsize=7)
    fig.axes[0].set_ylabel("query (predicting the next)", fontsize=7)
    fig.tight_layout()
    return fig


def _best(r: dict[str, Any]) -> tuple[int, dict[str, float]]:
    best = min(r["epochs"], key=lambda e: e["val/loss"])
    return best["epoch"] + 1, best


#: The seeds of the GPT-against-RNN comparison (each sets the initial weights, the batch order and dropout's masks).
SEEDS = (0, 1, 2)


def seed_comparison(runs: dict[str, list[dict[str, Any]]]) -> tuple[list[list], dict[str, tuple[float, float]]]:
    """Rows (config, best val loss of each seed with its epoch, mean, standard deviation, range) and each config's
    (mean, standard deviation) of the best validation loss over its seeds' runs."""
    import statistics

    rows, stats = [], {}
    for label, seeded in runs.items():
        bests = [_best(r) for r in seeded]
        losses = [b["val/loss"] for _, b in bests]
        sd = statistics.stdev(losses) if len(losses) > 1 else 0.0
        stats[label] = (statistics.mean(losses), sd)
        rows.append([label, ", ".join(f"{b['val/loss']:.4f} ({e})" for e, b in bests), f"{stats[label][0]:.4f}",
                     f"{sd:.4f}", f"{min(losses):.4f} - {max(losses):.4f}"])
    return rows, stats


def gpt_section(s: Section, opts: Options) -> None:
    from ..datamodules.text import CharTextDataModule
    from ..models import SpecNetModule

    s.add("A small GPT-style character model: token and position embeddings, two pre-LayerNorm blocks of causal "
          "4-head self-attention and a GELU MLP, each around a residual connection, all written as data in "
          "`configs/char_gpt.yaml`; with the numpy backend every backward is hand-written (`numpy_ops/attention.py`, "
          "`norm.py`, `embedding.py`, `residual.py`). Against it, the character RNN (`configs/char_rnn.yaml`) on "
          "the same text, split and validation windows. See docs/transformer.md.")
    extra = {"data.init_args.source": "zen", "data.init_args.seq_len": 16} if opts.quick else {}
    epochs = 1 if opts.quick else None
    seeds = SEEDS[:1] if opts.quick else SEEDS
    gpt = fit_config(opts, "char_gpt", "gpt/char_gpt_numpy", "numpy", epochs, extra)
    seeded = {config: [fit_config(opts, config, f"gpt/{config}_torch_seed{seed}", "torch", epochs,
                                  {**extra, "model.seed": seed, "seed_everything": seed}) for seed in seeds]
              for config in ("char_gpt", "char_rnn")}
    runs = {"char_gpt, numpy": gpt, "char_gpt, torch": seeded["char_gpt"][0], "char_rnn, torch": seeded["char_rnn"][0]}
    s.data("real", gpt["data_source"])
    s.figure(_loss_figure(runs, "next-character loss (nats)"), "gpt_loss", "Validation (solid) and training "
             "(dashed) loss per character, per epoch (seed 0).")
    rows = []
    for label, r in runs.items():
        epoch, best = _best(r)
        rows.append([*label.split(", "), len(r["epochs"]), epoch, f"{best['val/loss']:.4f}",
                     f"{100 * best['val/accuracy']:.1f}%", f"{r['final']['val/loss']:.4f}", f"{r['wall_time_s']:.0f}",
                     data_label("real")])
    s.table(markdown_table(["config", "backend", "epochs", "best epoch", "best val loss", "val accuracy there",
                            "last val loss", "wall s", "data"], rows),
            "Mean cross-entropy per character (nats) on the held-out tail of the text, seed 0; the best epoch's "
            "checkpoint is the one kept.")
    rows, stats = seed_comparison(seeded)
    (gpt_mean, gpt_sd), (rnn_mean, rnn_sd) = stats["char_gpt"], stats["char_rnn"]
    s.table(markdown_table(["config", "best val loss (epoch), seed " + ", ".join(map(str, seeds)), "mean",
                            "standard deviation", "range"], rows),
            f"The best validation loss over seeds {', '.join(map(str, seeds))} (torch backend; the seed sets the "
            f"initial weights, the batch order and dropout's masks). GPT minus RNN: {gpt_mean - rnn_mean:+.4f} "
            f"nats, against standard deviations of {gpt_sd:.4f} (GPT) and {rnn_sd:.4f} (RNN).")
    for label in ("char_gpt, numpy", "char_rnn, torch"):
        s.code(char_model_sample(runs[label]))
        s.add(f"Above: 200 characters from {label} (best checkpoint), prompt 'Python ', temperature 1, seed 0.")
    data = gpt["settings"]["data"]
    dm = CharTextDataModule(source=data["source"], seq_len=data["seq_len"], stride=data["stride"],
                            val_fraction=data["val_fraction"], batch_size=data["batch_size"], encoding="index")
    dm.setup()
    x = dm.eval_sets()["val"][0][0]
    model = SpecNetModule.load_from_checkpoint(gpt["best_checkpoint"], map_location="cpu")
    s.figure(attention_figure(attention_maps(model.net.eval(), x), dm.decode(x.numpy())), "gpt_attention",
             "Attention weights of the first block's heads on the first validation window: row t is where the "
             "prediction of character t + 1 looks; the causal mask leaves the upper triangle at 0.")
    s.add("Commands: " + "; ".join(f"`{r['command']}`" for r in [gpt, *seeded["char_gpt"], *seeded["char_rnn"]]))
