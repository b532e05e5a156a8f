"""1-D regression with in- and out-of-distribution test sets (lab 3.3)."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from course import plots as run_plots
from course.datasets import Standardiser, lab_splits, load_regression, plots
from lightning_ffnn.tasks import DTYPES, DType

from .base import ArrayDataModule, Predict


class RegressionDataModule(ArrayDataModule):
    """1-D regression (lab 3.3): "train" (1800), "test_id" (600, same range), "test_ood" (valid + test, 600).

    x and y are standardised with the training split's statistics, kept in `x_scaler` / `y_scaler`
    (`Standardiser`s: ``scaler(v)`` standardises, ``scaler.inverse(z)`` maps back to original units).

    Args:
        data_dir: directory with the course's data_train.csv, data_valid.csv, data_test.csv (header x,y);
            None generates the documented stand-in in memory (deterministic, `standin_seed`).
        standin_seed: seed of the stand-in.
    """

    task = "regression"
    input_dim = 1
    output_dim = 1

    def __init__(
        self,
        data_dir: str | None = None,
        standin_seed: int = 0,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        dtype: DType = "float32",
    ) -> None:
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype)
        self.data_dir, self.standin_seed = data_dir, standin_seed
        self.x_scaler: Standardiser | None = None  # set by setup()
        self.y_scaler: Standardiser | None = None
        self.eval_set_names = ["train", "test_id", "test_ood"]
        self.save_hyperparameters()

    def _load(self):
        files = load_regression(self.data_dir, seed=self.standin_seed)
        self.is_synthetic, self.data_source = files.is_synthetic, files.source
        splits = lab_splits(files, seed=self.seed)
        self.x_scaler, self.y_scaler = splits.x_scaler, splits.y_scaler
        return {
            name: (self.x_scaler(x).reshape(-1, 1), self.y_scaler(y).reshape(-1, 1))
            for name, (x, y) in (("train", splits.train), ("test_id", splits.test_id), ("test_ood", splits.test_ood))
        }

    def target_units(self) -> tuple[float, float]:
        """(mean, std) of the training targets: the model reports RMSE in y's units (reads the data)."""
        self.setup()
        return self.y_scaler.mean, self.y_scaler.std

    def to_original_units(self, values: Tensor) -> Tensor:
        self.setup()
        return self.y_scaler.inverse(values)

    def _original_sets(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {name: (self.x_scaler.inverse(X.numpy()), self.y_scaler.inverse(y.numpy()))
                for name, (X, y) in self.eval_sets().items()}

    def sample_figure(self) -> Figure:
        splits = self._original_sets()
        splits = {"train": splits["train"], "test (in distribution)": splits["test_id"],
                  "test (out of distribution)": splits["test_ood"]}
        return plots.scatter_1d_figure(splits, title="Regression (lab 3.3): the three sets",
                                       synthetic=self.is_synthetic, source=self.data_source)

    def result_figures(self, predict: Predict, label: str, **_) -> dict[str, Figure]:
        """"fit": the three sets and the network's curve, in original units."""
        def curve(x: np.ndarray) -> np.ndarray:
            z = torch.as_tensor(self.x_scaler(x), dtype=DTYPES[self.dtype]).reshape(-1, 1)
            return self.y_scaler.inverse(predict(z).numpy())

        return {"fit": run_plots.fit_curve_figure(self._original_sets(), curve, title=f"Fitted curve ({label})",
                                                  synthetic=self.is_synthetic)}
