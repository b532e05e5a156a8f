"""MNIST and Fashion-MNIST from their IDX files."""

from __future__ import annotations

from typing import Literal

import numpy as np
from matplotlib.figure import Figure

from course.datasets import load_mnist
from course.datasets.idx import FASHION_CLASSES, check_mnist_files

from ..tasks import DType
from .base import ArrayDataModule, Layout, _check_choice, check_val_fraction, holdout_split


class MNISTDataModule(ArrayDataModule):
    """MNIST or Fashion-MNIST from the standard IDX files: "train" (60 000) and "test" (10 000), pixels / 255.

    Missing files: DataError with the command that fetches them (`python scripts/prepare_data.py mnist|fashion`).

    Args:
        layout: "flat" vectors (MLP), "image" (N, 1, H, W) (CNN) or "rows" (N, H, W) (RNN, one row a step).
        kind: "mnist" or "fashion".
        val_fraction: hold out this fraction of the training images (seeded) as eval set "val" for model
            selection; 0 = off.
        data_dir: directory of the four IDX files (raw or .gz); default $LIGHTNING_FFNN_MNIST_DIR
            ($LIGHTNING_FFNN_FASHION_DIR), else <repo>/data/mnist (data/fashion-mnist).
    """

    task = "classification"
    input_dim = 784
    output_dim = 10
    image_size = (28, 28)

    def __init__(
        self,
        kind: Literal["mnist", "fashion"] = "mnist",
        layout: Layout = "flat",
        data_dir: str | None = None,
        val_fraction: float = 0.0,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: int = 0,
        dtype: DType = "float32",
    ) -> None:
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype)
        _check_choice("layout", layout, ("flat", "image", "rows"))
        self.layout = layout
        _check_choice("kind", kind, ("mnist", "fashion"))
        self.kind, self.data_dir = kind, data_dir
        self.val_fraction = check_val_fraction(val_fraction)
        self.eval_set_names = ["train", *(["val"] if self.val_fraction else []), "test"]
        self.class_names = [str(d) for d in range(10)] if kind == "mnist" else list(FASHION_CLASSES)
        self.save_hyperparameters()

    def prepare_data(self) -> None:
        """Fail early, with the fetch command, when the files are missing (fetching needs apt/npm: see
        scripts/prepare_data.py, so it is not done here)."""
        check_mnist_files(self.kind, self.data_dir)
        super().prepare_data()

    def _load(self):
        data = load_mnist(self.kind, self.data_dir)
        name = "MNIST" if self.kind == "mnist" else "Fashion-MNIST"
        self.data_source = f"{name} IDX files from {check_mnist_files(self.kind, self.data_dir)}"
        # Scaled in the target dtype: the float64 intermediate of 60000 x 784 would be 376 MB.
        dtype = np.float32 if self.dtype == "float32" else np.float64
        scaled = {split: ((X.reshape(len(X), -1).astype(dtype) / dtype(255.0)), y) for split, (X, y) in data.items()}
        return {**holdout_split(*scaled["train"], self.val_fraction, self.seed), "test": scaled["test"]}

    def sample_figure(self) -> Figure:
        X, y = self._numpy_set("train")
        pick = np.random.default_rng(self.seed).choice(len(X), size=10, replace=False)
        fig = Figure(figsize=(10.4, 2.0), layout="constrained")
        for ax, i in zip(fig.subplots(1, 10), pick):
            ax.imshow(X[i].reshape(28, 28), cmap="binary", vmin=0, vmax=1)
            ax.set_title(self.class_names[int(y[i])], fontsize=8)
            ax.set_axis_off()
        fig.suptitle(f"{'MNIST' if self.kind == 'mnist' else 'Fashion-MNIST'}: 10 random training samples")
        return fig
