"""Generated sets of the from-scratch labs: sine, XOR, the planar flower."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from course import plots as run_plots
from course.datasets import make_flower, make_sine, make_xor, plots
from lightning_ffnn.tasks import DTYPES, DType

from .base import ArrayDataModule, Predict


class _PlanarBinaryDataModule(ArrayDataModule):
    """Points of the plane in two classes (binary targets, one logit a row): the figure is the decision boundary."""

    task = "binary"
    input_dim = 2
    output_dim = 1

    def result_figures(self, predict: Predict, label: str, **_) -> dict[str, Figure]:
        """"decision_boundary": P(class 1) = sigmoid(logit) over the plane, and the training points."""
        X, y = self._numpy_set("train")

        def proba(points: np.ndarray) -> np.ndarray:
            return torch.sigmoid(predict(torch.as_tensor(points, dtype=DTYPES[self.dtype]))).numpy()

        return {"decision_boundary": run_plots.decision_boundary_figure(
            X, y, proba, title=f"Decision boundary ({label})", synthetic=self.is_synthetic)}


class SineDataModule(ArrayDataModule):
    """y = 24 sin(3.2x) + 42 cos(2.3x), x ~ U(-2pi, 2pi): "train" (n_train) and "test" (n_test), raw units.

    Args:
        data_seed: seed of the generated points (independent of the shuffling seed).
    """

    task = "regression"
    input_dim = 1
    output_dim = 1

    def __init__(
        self,
        n_train: int = 1000,
        n_test: int = 100,
        data_seed: int = 0,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        dtype: DType = "float32",
    ) -> None:
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype)
        for name, value in (("n_train", n_train), ("n_test", n_test)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
        self.n_train, self.n_test, self.data_seed = n_train, n_test, data_seed
        self.eval_set_names = ["train", "test"]
        self.save_hyperparameters()

    def _load(self):
        self.data_source = (f"generated: y = 24 sin(3.2x) + 42 cos(2.3x), x ~ U(-2pi, 2pi), "
                            f"{self.n_train}/{self.n_test} points, seed {self.data_seed}")
        return make_sine(self.n_train, self.n_test, self.data_seed)

    def sample_figure(self) -> Figure:
        splits = {name: (X.numpy(), y.numpy()) for name, (X, y) in self.eval_sets().items()}
        return plots.scatter_1d_figure(splits, title="Sine: y = 24 sin(3.2x) + 42 cos(2.3x)",
                                       source=self.data_source)

    def result_figures(self, predict: Predict, label: str, **_) -> dict[str, Figure]:
        """"fit": the points and the network's curve (the set is served in its own units)."""
        splits = {name: (X.numpy(), y.numpy()) for name, (X, y) in self.eval_sets().items()}

        def curve(x: np.ndarray) -> np.ndarray:
            return predict(torch.as_tensor(x, dtype=DTYPES[self.dtype]).reshape(-1, 1)).numpy()

        return {"fit": run_plots.fit_curve_figure(splits, curve, title=f"Fitted curve ({label})",
                                                  synthetic=self.is_synthetic)}


class XORDataModule(_PlanarBinaryDataModule):
    """The four XOR points, binary targets 0./1. (N, 1); eval set "train" only. Default batch: all four."""

    def __init__(
        self,
        batch_size: int = 4,
        shuffle: bool = True,
        seed: int = 0,
        dtype: DType = "float32",
    ) -> None:
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype)
        self.class_names = ["0", "1"]
        self.save_hyperparameters()

    def _load(self):
        self.data_source = "the four XOR points"
        X, y = make_xor()
        return {"train": (X, y.reshape(-1, 1))}

    def sample_figure(self) -> Figure:
        X, y = self._numpy_set("train")
        return plots.points_2d_figure(X, y, title="XOR: the four points by class", class_names=self.class_names)


class FlowerDataModule(_PlanarBinaryDataModule):
    """The planar "flower": 400 points, 2 classes (binary 0./1. (N, 1)); eval set "train" only, as in the lab.

    Args:
        data_seed: seed of the lab's generator; 1 (the default) reproduces the lab's very points.
    """

    def __init__(
        self,
        n: int = 400,
        data_seed: int = 1,
        batch_size: int = 400,
        shuffle: bool = True,
        seed: int = 0,
        dtype: DType = "float32",
    ) -> None:
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype)
        if not isinstance(n, int) or n < 2:
            raise ValueError(f"n must be an integer >= 2; got {n!r}")
        self.n, self.data_seed = n, data_seed
        self.class_names = ["0", "1"]
        self.save_hyperparameters()

    def _load(self):
        self.data_source = f"generated: planar flower, a=4, noise 0.2, {self.n} points, seed {self.data_seed}"
        X, y = make_flower(self.n, seed=self.data_seed)
        return {"train": (X, y.reshape(-1, 1))}

    def sample_figure(self) -> Figure:
        X, y = self._numpy_set("train")
        return plots.points_2d_figure(X, y, title="Planar flower: the points by class", source=self.data_source,
                                      class_names=self.class_names)
