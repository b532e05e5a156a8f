"""1-D regression with in- and out-of-distribution test sets (lab 3.3)."""

from __future__ import annotations

from typing import Literal

from matplotlib.figure import Figure

from lightning_ffnn.datasets import lab_splits, load_regression, plots

from .base import ArrayDataModule


class RegressionDataModule(ArrayDataModule):
    """1-D regression (lab 3.3): "train" (1800), "test_id" (600, same range), "test_ood" (valid + test, 600).

    x and y are standardised with the training split's statistics; `x_mean, x_std, y_mean, y_std` keep them, and
    `inverse_x` / `inverse_y` map tensors (or arrays) back to original units.

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
        dtype: Literal["float32", "float64"] = "float32",
    ) -> None:
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype)
        self.data_dir, self.standin_seed = data_dir, standin_seed
        self.x_mean = self.x_std = self.y_mean = self.y_std = float("nan")
        self._x_scaler = self._y_scaler = None  # set by setup()
        self.save_hyperparameters()

    def _load(self):
        files = load_regression(self.data_dir, seed=self.standin_seed)
        self.is_synthetic, self.data_source = files.is_synthetic, files.source
        splits = lab_splits(files, seed=self.seed)
        self._x_scaler, self._y_scaler = splits.x_scaler, splits.y_scaler
        self.x_mean, self.x_std = splits.x_scaler.mean, splits.x_scaler.std
        self.y_mean, self.y_std = splits.y_scaler.mean, splits.y_scaler.std
        return {
            name: (self._x_scaler(x).reshape(-1, 1), self._y_scaler(y).reshape(-1, 1))
            for name, (x, y) in (("train", splits.train), ("test_id", splits.test_id), ("test_ood", splits.test_ood))
        }

    def inverse_x(self, t):
        return self._x_scaler.inverse(t)

    def inverse_y(self, t):
        return self._y_scaler.inverse(t)

    def sample_figure(self) -> Figure:
        splits = {name: tuple(self.inverse_x(X.numpy()) if i == 0 else self.inverse_y(X.numpy())
                              for i, X in enumerate(pair)) for name, pair in self.eval_sets().items()}
        splits = {"train": splits["train"], "test (in distribution)": splits["test_id"],
                  "test (out of distribution)": splits["test_ood"]}
        return plots.scatter_1d_figure(splits, title="Regression (lab 3.3): the three sets",
                                       synthetic=self.is_synthetic, source=self.data_source)
