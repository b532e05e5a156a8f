"""Generated sets of the from-scratch labs: sine, XOR, the planar flower."""

from __future__ import annotations

from typing import Literal

from matplotlib.figure import Figure

from lightning_ffnn.datasets import make_flower, make_sine, make_xor, plots

from .base import ArrayDataModule


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
        dtype: Literal["float32", "float64"] = "float32",
    ) -> None:
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype)
        for name, value in (("n_train", n_train), ("n_test", n_test)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
        self.n_train, self.n_test, self.data_seed = n_train, n_test, data_seed
        self.save_hyperparameters()

    def _load(self):
        self.data_source = (f"generated: y = 24 sin(3.2x) + 42 cos(2.3x), x ~ U(-2pi, 2pi), "
                            f"{self.n_train}/{self.n_test} points, seed {self.data_seed}")
        return make_sine(self.n_train, self.n_test, self.data_seed)

    def sample_figure(self) -> Figure:
        splits = {name: (X.numpy(), y.numpy()) for name, (X, y) in self.eval_sets().items()}
        return plots.scatter_1d_figure(splits, title="Sine: y = 24 sin(3.2x) + 42 cos(2.3x)",
                                       source=self.data_source)


class XORDataModule(ArrayDataModule):
    """The four XOR points, binary targets 0./1. (N, 1); eval set "train" only. Default batch: all four."""

    task = "binary"
    input_dim = 2
    output_dim = 1

    def __init__(
        self,
        batch_size: int = 4,
        shuffle: bool = True,
        seed: int = 0,
        dtype: Literal["float32", "float64"] = "float32",
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


class FlowerDataModule(ArrayDataModule):
    """The planar "flower": 400 points, 2 classes (binary 0./1. (N, 1)); eval set "train" only, as in the lab.

    Args:
        data_seed: seed of the lab's generator; 1 (the default) reproduces the lab's very points.
    """

    task = "binary"
    input_dim = 2
    output_dim = 1

    def __init__(
        self,
        n: int = 400,
        data_seed: int = 1,
        batch_size: int = 400,
        shuffle: bool = True,
        seed: int = 0,
        dtype: Literal["float32", "float64"] = "float32",
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
