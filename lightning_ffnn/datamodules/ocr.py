"""OCR letters (lab 3.2)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from matplotlib.figure import Figure

from course.datasets import LETTERS, SIZES, load_ocr, plots

from ..tasks import DType
from .base import ArrayDataModule, Layout, _check_choice, check_val_fraction, holdout_split


class OCRDataModule(ArrayDataModule):
    """OCR letters (lab 3.2): train on {size}Train.csv, report on {size}Validation.csv (eval set "test").

    With no handout files in the data directory (argument > $LIGHTNING_FFNN_OCR_DIR > <repo>/data/ocr) the
    synthetic stand-in of the same size is used, and `is_synthetic` / `data_source` say so.

    Args:
        layout: "flat" vectors (MLP), "image" (N, 1, H, W) (CNN) or "rows" (N, H, W) (RNN, one row a step).
        size: which handout files: small (500/100), medium (5000/1000), large (9000/1000).
        data_dir: directory of the handout's CSV files.
        val_fraction: hold out this fraction of Train (seeded) as eval set "val" for model selection; 0 = off.
        synthetic_seed: seed of the synthetic stand-in (used only when there are no handout files).
    """

    task = "classification"
    input_dim = 128
    output_dim = 10
    image_size = (16, 8)

    def __init__(
        self,
        size: Literal["small", "medium", "large"] = "small",
        layout: Layout = "flat",
        data_dir: str | None = None,
        val_fraction: float = 0.0,
        synthetic_seed: int = 0,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        dtype: DType = "float32",
    ) -> None:
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype)
        _check_choice("layout", layout, ("flat", "image", "rows"))
        self.layout = layout
        _check_choice("size", size, tuple(SIZES))
        self.size, self.data_dir, self.synthetic_seed = size, data_dir, synthetic_seed
        self.val_fraction = check_val_fraction(val_fraction)
        self.eval_set_names = ["train", *(["val"] if self.val_fraction else []), "test"]
        self.class_names = list(LETTERS)
        self.save_hyperparameters()

    def _load(self):
        data = load_ocr(self.size, self.data_dir, synthetic_seed=self.synthetic_seed)
        self.is_synthetic, self.data_source = data.is_synthetic, data.source
        sets = holdout_split(data.X_train, data.y_train, self.val_fraction, self.seed)
        sets["test"] = (data.X_test, data.y_test)
        return sets

    def sample_figure(self) -> Figure:
        X, y = self._numpy_set("train")
        return plots.ocr_samples_figure(X, y, n=10, seed=self.seed, synthetic=self.is_synthetic,
                                        source=self.data_source, title=f"OCR letters ({self.size}): 10 random "
                                        "training samples")
