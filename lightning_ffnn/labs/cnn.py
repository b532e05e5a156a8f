"""The report's CNN section: a convolutional network against the MLP on the same images.

`cnn_section(s, opts)` trains ``configs/ocr_cnn.yaml`` (numpy backend) and the MLP ``configs/ocr_<size>.yaml`` on the
OCR letters (the large set; the small one with ``--quick``), then shows: loss and accuracy curves, the first conv
layer's filters as images, the feature maps of one test image, the CNN's test confusion matrix, and a table MLP vs
CNN. MNIST (``configs/mnist_cnn.yaml`` against ``configs/mnist.yaml``) follows only where its IDX files exist, and
not with ``--quick`` (a CNN epoch on 60 000 images takes minutes on 2 cores).

The weights shown are the run's last checkpoint, loaded into a network rebuilt from the run's own layer list.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from numpy_ops import spec as S

from ..network import build_network
from course.tables import markdown_table
from course.labs.document import Options, Section
from .sections_lightning import fit_config


def _trained_net(results: dict[str, Any], input_shape: tuple[int, ...]) -> torch.nn.Sequential:
    """The run's network (its layers + the output layer) with the weights of its last checkpoint, in eval mode."""
    model = results["settings"]["model"]
    layers = [*S.parse(model["layers"]), S.Linear(int(model["output_dim"]))]
    net = build_network(layers, input_shape, "torch", dtype=torch.float32 if model["dtype"] == "float32"
                        else torch.float64)
    state = torch.load(Path(results["run_dir"]) / "checkpoints" / "last.ckpt", map_location="cpu",
                       weights_only=False)["state_dict"]
    net.load_state_dict({k.removeprefix("net."): v for k, v in state.items() if k.startswith("net.")})
    return net.eval()


def filters_figure(weight: np.ndarray, title: str) -> Figure:
    """First-layer filters (F, 1, kh, kw) as grey images, one colour scale for all (so sizes compare)."""
    n = len(weight)
    cols = min(n, 8)
    rows = -(-n // cols)
    fig = Figure(figsize=(1.2 * cols, 1.3 * rows + 0.4), layout="constrained")
    lim = float(np.abs(weight).max())
    for i, ax in enumerate(fig.subplots(rows, cols, squeeze=False).ravel()):
        ax.set_axis_off()
        if i < n:
            ax.imshow(weight[i, 0], cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(str(i), fontsize=7)
    fig.suptitle(title, fontsize=9)
    return fig


def feature_maps_figure(image: np.ndarray, maps: np.ndarray, title: str) -> Figure:
    """The input image (H, W) and the first conv block's feature maps (F, H', W') after its activation."""
    n = len(maps) + 1
    cols = min(n, 9)
    rows = -(-n // cols)
    fig = Figure(figsize=(1.1 * cols, 1.6 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    axes[0].imshow(image, cmap="binary")
    axes[0].set_title("input", fontsize=7)
    for i, m in enumerate(maps):
        axes[i + 1].imshow(m, cmap="viridis")
        axes[i + 1].set_title(f"map {i}", fontsize=7)
    fig.suptitle(title, fontsize=9)
    return fig


def confusion_matrix(true: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[t, p]: test examples of class t predicted as p (torchmetrics' confusion matrix)."""
    import torch
    from torchmetrics.functional.classification import multiclass_confusion_matrix

    return multiclass_confusion_matrix(torch.as_tensor(pred), torch.as_tensor(true), n_classes).numpy()


def confusion_figure(counts: np.ndarray, class_names: list[str], title: str) -> Figure:
    fig = Figure(figsize=(5.2, 4.6), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(class_names)), class_names, fontsize=7, rotation=90 if len(class_names[0]) > 2 else 0)
    ax.set_yticks(range(len(class_names)), class_names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (t, p), c in np.ndenumerate(counts):
        if c:
            ax.text(p, t, str(c), ha="center", va="center", fontsize=6,
                    color="white" if c > counts.max() / 2 else "black")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title, fontsize=9)
    return fig


def _accuracy_row(label: str, network: str, r: dict[str, Any]) -> list[str]:
    final = r["final"]
    pct = lambda key: f"{100 * final[key]:.2f}%" if key in final else ""  # noqa: E731
    n_params = r.get("n_params", "")
    return [label, network, str(n_params), r["settings"]["model"]["backend"], str(len(r["epochs"])),
            pct("train/accuracy"), pct("val/accuracy"), pct("test/accuracy"), f"{r['wall_time_s']:.1f}"]


def _compare(s: Section, name: str, dm, cnn: dict[str, Any], mlp: dict[str, Any]) -> None:
    """Curves, filters, feature maps, confusion matrix and the MLP-vs-CNN table of one data set."""
    net = _trained_net(cnn, tuple(dm.input_shape))
    cnn["n_params"] = sum(p.numel() for p in net.parameters())
    mlp["n_params"] = sum(int(np.prod(v)) for v in _param_shapes(mlp))
    mlp_model = mlp["settings"]["model"]
    sizes = "-".join(str(x) for x in [math.prod(mlp_model["input_shape"]), *mlp_model["hidden_sizes"],
                                      mlp["settings"]["model"]["output_dim"]])
    s.table(markdown_table(["data", "network", "parameters", "backend", "epochs", "train acc.", "val acc.",
                            "test acc.", "wall s"],
                           [_accuracy_row(name, f"MLP {sizes} {mlp['settings']['model']['activation']}", mlp),
                            _accuracy_row(name, "CNN (layers above)", cnn)]),
            f"{name}: the MLP and the CNN after their last epoch (wall times on a shared machine).")
    for label, r in (("CNN", cnn), ("MLP", mlp)):
        if "loss_curves.png" in r["figures"]:
            s.figure(Path(r["run_dir"]) / "loss_curves.png", f"{name}_{label}_curves".replace(" ", "_").lower(),
                     f"{name}, {label}: loss and accuracy per epoch.")
    s.figure(filters_figure(net[0].weight.detach().double().numpy(), f"{name}: first conv layer's filters"),
             f"{name}_filters".replace(" ", "_").lower(),
             f"{name}: the {len(net[0].weight)} filters of the first conv layer after training (red +, blue -).")
    X, y = dm.eval_sets()["test"]
    with torch.no_grad():
        maps = net[1](net[0](X[:1]))[0].double().numpy()  # first conv block: conv, then its activation
        pred = torch.cat([net(part) for part in X.split(1000)]).argmax(1).numpy()
    s.figure(feature_maps_figure(X[0, 0].double().numpy(), maps, f"{name}: test image 0 (label "
                                 f"{dm.class_names[int(y[0])]}) and the first block's feature maps"),
             f"{name}_feature_maps".replace(" ", "_").lower(),
             f"{name}: the first conv block's output (after ReLU) for the first test image.")
    counts = confusion_matrix(y.numpy(), pred, len(dm.class_names))
    s.figure(confusion_figure(counts, list(dm.class_names), f"{name}: CNN test confusion matrix"),
             f"{name}_confusion".replace(" ", "_").lower(),
             f"{name}: the CNN's test confusion matrix ({int(np.trace(counts))} of {counts.sum()} right).")
    s.add("To rerun:")
    s.code("\n".join((cnn["command"], mlp["command"])))


def _param_shapes(results: dict[str, Any]) -> list[tuple[int, ...]]:
    m = results["settings"]["model"]
    sizes = [math.prod(m["input_shape"]), *m["hidden_sizes"], m["output_dim"]]
    return [shape for a, b in zip(sizes, sizes[1:]) for shape in ((b, a), (b,))]


def cnn_section(s: Section, opts: Options) -> None:
    """Convolutional networks (see the module docstring)."""
    from ..datamodules import MNISTDataModule, OCRDataModule
    from course.datasets.errors import DataError

    size = "small" if opts.quick else "large"
    data = {"data.init_args.data_dir": opts.data_dir} if opts.data_dir else {}
    quick = {"data.init_args.size": "small", "trainer.max_epochs": 8} if opts.quick else {}
    s.add("A convolutional network built from the hand-written NumPy conv, pooling and dropout ops "
          "(`numpy_ops.conv`, `numpy_ops.pooling`, `numpy_ops.dropout`; numpy backend, gradients checked against "
          "autograd during training), compared with the lab's MLP on the same images. OCR letters are served as "
          "(1, 16, 8) images; the CNN's settings were chosen on a 10% validation split of the training file "
          "(`val`), never on the test file." + (" --quick: the small set, 8 CNN epochs." if opts.quick else ""))
    cnn = fit_config(opts, "ocr_cnn", f"cnn/ocr_{size}_cnn", "numpy", overrides={**data, **quick})
    mlp = fit_config(opts, f"ocr_{size}", f"cnn/ocr_{size}_mlp", "numpy", 15 if opts.quick else None, data)
    s.data("synthetic" if cnn["is_synthetic"] else "real", cnn["data_source"])
    s.settings({"CNN layers": "; ".join(f"{layer['type']} " + ", ".join(f"{k}={v}" for k, v in layer.items()
                                                                       if k != "type")
                                        for layer in cnn["settings"]["model"]["layers"]),
                "optimiser": f"{cnn['settings']['model']['optimizer']} lr {cnn['settings']['model']['lr']}, momentum "
                             f"{cnn['settings']['model']['momentum']}"})
    dm = OCRDataModule(size=size, layout="image", data_dir=opts.data_dir)
    dm.setup("test")
    _compare(s, f"OCR {size}", dm, cnn, mlp)

    try:
        MNISTDataModule(kind="mnist", layout="image").prepare_data()
    except DataError as exc:
        s.add(f"MNIST: not run ({str(exc).splitlines()[0]}).")
        return
    if opts.quick:
        s.add("MNIST: not run in --quick mode (a CNN epoch on 60 000 images takes minutes on 2 cores).")
        return
    cnn = fit_config(opts, "mnist_cnn", "cnn/mnist_cnn", "numpy")
    mlp = fit_config(opts, "mnist", "cnn/mnist_mlp", "numpy")
    s.data("real", cnn["data_source"])
    dm = MNISTDataModule(kind="mnist", layout="image")
    dm.setup("test")
    _compare(s, "MNIST", dm, cnn, mlp)
