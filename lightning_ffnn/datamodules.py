"""LightningDataModules for every lab set: whole sets held as tensors, batches cut by an index batch sampler.

Why not the usual Dataset + DataLoader(batch_size=...): the sets are tiny (at most 70 000 rows) and per-sample
collate costs ~107 us per batch of 32 against ~9 us for one tensor index. So every DataModule holds its sets as
tensors after `setup()`, and the training DataLoader gets `batch_size=None` and an `EpochBatchSampler` that yields
index tensors; `IndexBatchDataset[idx]` returns `(X[idx], y[idx])` in one gather.

Reproducible shuffling: the permutation of epoch e is a pure function of (seed, e) (NumPy `default_rng([seed, e])`),
set through `set_epoch(e)`, which Lightning calls on the sampler at the start of every epoch. A run resumed from a
checkpoint therefore sees the same batches as one that never stopped. `shuffle=False` keeps file order (a handout
reference trains in file order, one example at a time: `batch_size=1, shuffle=False`).

Validation and test: one DataLoader per evaluation set (`eval_set_names`, starting with "train"), each yielding the
WHOLE set as one batch, so per-epoch metrics are computed with the final weights in one forward pass.

Create the Trainer with `use_distributed_sampler=False`: under torch.distributed the sampler itself gives each rank
its strided share `perm[rank::world]` of every epoch's permutation (the remainder dropped, so every rank runs the
same number of batches).

Shapes after `setup()`: X (N, input_dim) in `dtype`; y int64 (N,) for "classification", `dtype` (N, 1) for
"regression" (standardised with training statistics) and "binary" (0./1.).
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import lightning as L
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from lightning_ffnn.datasets import (
    LETTERS,
    SIZES,
    lab_splits,
    load_mnist,
    load_ocr,
    load_regression,
    make_flower,
    make_sine,
    make_xor,
)
from lightning_ffnn.datasets.idx import FASHION_CLASSES, check_mnist_files
from lightning_ffnn.datasets import plots

Task = Literal["classification", "regression", "binary"]
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
# The one Lightning warning that num_workers=0 triggers; it is wrong for in-memory tensors (workers would only add
# process start-up and IPC to a gather that takes microseconds).
_NUM_WORKERS_WARNING = r"The '\w+' does not have many workers"


class IndexBatchDataset(Dataset):
    """Whole-set tensors; `ds[idx]` with an index tensor (or a slice) returns the batch `(X[idx], y[idx])`."""

    def __init__(self, X: Tensor, y: Tensor) -> None:
        self.X, self.y = X, y

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, index: Tensor | slice | list[Tensor]) -> tuple[Tensor, Tensor] | list[tuple[Tensor, Tensor]]:
        if isinstance(index, slice):
            return self.X[index], self.y[index]
        if isinstance(index, list):  # a group of batches for one training call (see EpochBatchSampler.group)
            return [self[i] for i in index]
        # index_select, not X[index]: on torch 2.13 CPU advanced indexing of a 2-D tensor took 1-8 ms for a batch
        # of 32 (measured here, on a loaded 2-core machine) against ~8 us for index_select.
        return self.X.index_select(0, index), self.y.index_select(0, index)


class EpochBatchSampler(Sampler[Tensor]):
    """Yields int64 index tensors of `batch_size` (the last one may be shorter unless `drop_last`).

    The order of epoch e is `np.random.default_rng([seed, e]).permutation(n)` when shuffling, else 0..n-1. Under an
    initialised torch.distributed group each rank keeps `perm[rank::world]` of the first world * (n // world).
    """

    def __init__(self, n: int, batch_size: int, *, shuffle: bool = True, seed: int = 0, drop_last: bool = False,
                 group: int = 1):
        self.n, self.batch_size, self.shuffle, self.seed, self.drop_last = n, batch_size, shuffle, seed, drop_last
        self.group = group  # > 1: yield lists of this many consecutive batches (several optimizer steps per call)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    @staticmethod
    def _rank_world() -> tuple[int, int]:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_rank(), torch.distributed.get_world_size()
        return 0, 1

    def epoch_indices(self) -> Tensor:
        """This rank's indices for the current epoch, in the order they are batched."""
        if self.shuffle:
            order = torch.from_numpy(np.random.default_rng([self.seed, self.epoch]).permutation(self.n))
        else:
            order = torch.arange(self.n)
        rank, world = self._rank_world()
        if world > 1:
            order = order[: world * (self.n // world)][rank::world]
        return order

    def __iter__(self):
        order = self.epoch_indices()
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        batches = (order[start : start + self.batch_size] for start in range(0, stop, self.batch_size))
        if self.group == 1:
            yield from batches
            return
        chunk = []
        for b in batches:
            chunk.append(b)
            if len(chunk) == self.group:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _n_batches(self) -> int:
        m = self.n // self._rank_world()[1]
        return m // self.batch_size if self.drop_last else math.ceil(m / self.batch_size)

    def __len__(self) -> int:
        return math.ceil(self._n_batches() / self.group)


class _WholeSetSampler(Sampler[slice]):
    """One "batch": the whole set, as a slice (a view, no copy)."""

    def __iter__(self):
        yield slice(None)

    def __len__(self) -> int:
        return 1


def _no_collate(batch):
    return batch


class ArrayDataModule(L.LightningDataModule):
    """The shared base: in-memory tensors, index-batch training loader, whole-set evaluation loaders.

    Subclasses set `task`, `input_dim`, `output_dim`, `class_names` in `__init__` and implement `_load()`, which
    returns the sets as NumPy arrays; `setup()` turns them into tensors once.

    Args:
        batch_size: training batch size, >= 1 and at most the training set's size.
        shuffle: reshuffle the training set every epoch (seeded); False keeps file order.
        seed: seed of the shuffling (and of any random split the set makes).
        dtype: dtype of the inputs X (and of the targets of regression and binary sets).
    """

    task: Task
    input_dim: int
    output_dim: int
    class_names: list[str] | None = None

    def __init__(
        self,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        dtype: Literal["float32", "float64"] = "float32",
    ) -> None:
        super().__init__()
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1; got {batch_size!r}")
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
        self.batch_size, self.shuffle, self.seed, self.dtype = batch_size, bool(shuffle), int(seed), dtype
        self.is_synthetic = False
        self.data_source = ""
        self.eval_set_names: list[str] = []
        self._sets: dict[str, tuple[Tensor, Tensor]] | None = None

    # -- to implement ------------------------------------------------------------------------------------------

    def _load(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The sets as NumPy arrays, "train" first: X (N, input_dim); y (N,) class indices or (N, 1) targets.

        Sets `self.is_synthetic` and `self.data_source` too.
        """
        raise NotImplementedError

    def sample_figure(self) -> Figure:
        """A figure of the data; its title says "SYNTHETIC" when the data is."""
        raise NotImplementedError

    # -- Lightning hooks ---------------------------------------------------------------------------------------

    def setup(self, stage: str | None = None) -> None:
        """Build the tensors of every set, once (later calls, for other stages, reuse them)."""
        if self._sets is not None:
            return
        dtype = _DTYPES[self.dtype]
        sets = {}
        for name, (X, y) in self._load().items():
            X = torch.as_tensor(np.ascontiguousarray(X), dtype=dtype)
            if self.task == "classification":
                y = torch.as_tensor(np.asarray(y).reshape(-1), dtype=torch.int64)
            else:
                y = torch.as_tensor(np.asarray(y, dtype=np.float64).reshape(-1, 1), dtype=dtype)
            sets[name] = (X, y)
        n_train = len(sets["train"][0])
        if self.batch_size > n_train:
            raise ValueError(f"batch_size={self.batch_size} is larger than the training set ({n_train} examples) "
                             f"of {type(self).__name__}")
        self._sets = sets
        self.eval_set_names = list(sets)

    #: Batches per training call; the model sets it (FFNNModule.steps_per_call) before asking for the loader.
    steps_per_call: int = 1

    def train_dataloader(self) -> DataLoader:
        X, y = self._require("train")
        sampler = EpochBatchSampler(len(X), self.batch_size, shuffle=self.shuffle, seed=self.seed,
                                    group=self.steps_per_call)
        return self._loader(IndexBatchDataset(X, y), sampler)

    def val_dataloader(self) -> list[DataLoader]:
        self._require("train")
        return [self._loader(IndexBatchDataset(*self._sets[name]), _WholeSetSampler()) for name in self.eval_set_names]

    def test_dataloader(self) -> list[DataLoader]:
        return self.val_dataloader()

    # -- helpers -----------------------------------------------------------------------------------------------

    def eval_sets(self) -> dict[str, tuple[Tensor, Tensor]]:
        """Every evaluation set as whole tensors, keyed by name in `eval_set_names` order ("train" first)."""
        self.setup()
        return dict(self._sets)

    def _require(self, name: str) -> tuple[Tensor, Tensor]:
        if self._sets is None:
            raise RuntimeError(f"{type(self).__name__}.setup() must run before its dataloaders are asked for")
        return self._sets[name]

    @staticmethod
    def _loader(dataset: IndexBatchDataset, sampler: Sampler) -> DataLoader:
        warnings.filterwarnings("ignore", message=_NUM_WORKERS_WARNING)
        return DataLoader(dataset, batch_size=None, sampler=sampler, num_workers=0, collate_fn=_no_collate)

    def _numpy_set(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        X, y = self.eval_sets()[name]
        return X.numpy(), y.numpy()


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


class OCRDataModule(ArrayDataModule):
    """OCR letters (lab 3.2): train on {size}Train.csv, report on {size}Validation.csv (eval set "test").

    With no handout files in the data directory (argument > $LIGHTNING_FFNN_OCR_DIR > <repo>/data/ocr) the
    synthetic stand-in of the same size is used, and `is_synthetic` / `data_source` say so.

    Args:
        size: which handout files: small (500/100), medium (5000/1000), large (9000/1000).
        data_dir: directory of the handout's CSV files.
        val_fraction: hold out this fraction of Train (seeded) as eval set "val" for model selection; 0 = off.
        synthetic_seed: seed of the synthetic stand-in (used only when there are no handout files).
    """

    task = "classification"
    input_dim = 128
    output_dim = 10

    def __init__(
        self,
        size: Literal["small", "medium", "large"] = "small",
        data_dir: str | None = None,
        val_fraction: float = 0.0,
        synthetic_seed: int = 0,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
        dtype: Literal["float32", "float64"] = "float32",
    ) -> None:
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype)
        _check_choice("size", size, tuple(SIZES))
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1); got {val_fraction!r}")
        self.size, self.data_dir, self.val_fraction, self.synthetic_seed = size, data_dir, val_fraction, synthetic_seed
        self.class_names = list(LETTERS)
        self.save_hyperparameters()

    def _load(self):
        data = load_ocr(self.size, self.data_dir, synthetic_seed=self.synthetic_seed)
        self.is_synthetic, self.data_source = data.is_synthetic, data.source
        X, y = data.X_train, data.y_train
        sets = {}
        if self.val_fraction > 0:
            n_val = int(round(self.val_fraction * len(X)))
            if not 0 < n_val < len(X):
                raise ValueError(f"val_fraction={self.val_fraction} holds out {n_val} of {len(X)} training examples; "
                                 "it must leave at least one on each side")
            order = np.random.default_rng([self.seed, 1]).permutation(len(X))
            train, val = np.sort(order[n_val:]), np.sort(order[:n_val])  # sorted: file order stays file order
            sets["train"] = (X[train], y[train])
            sets["val"] = (X[val], y[val])
        else:
            sets["train"] = (X, y)
        sets["test"] = (data.X_test, data.y_test)
        return sets

    def sample_figure(self) -> Figure:
        X, y = self._numpy_set("train")
        return plots.ocr_samples_figure(X, y, n=10, seed=self.seed, synthetic=self.is_synthetic,
                                        source=self.data_source, title=f"OCR letters ({self.size}): 10 random "
                                        "training samples")


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


class MNISTDataModule(ArrayDataModule):
    """MNIST or Fashion-MNIST from the standard IDX files: "train" (60 000) and "test" (10 000), pixels / 255.

    Missing files: DataError with the command that fetches them (`python scripts/prepare_data.py mnist|fashion`).

    Args:
        kind: "mnist" or "fashion".
        data_dir: directory of the four IDX files (raw or .gz); default <repo>/data/mnist or data/fashion-mnist.
    """

    task = "classification"
    input_dim = 784
    output_dim = 10

    def __init__(
        self,
        kind: Literal["mnist", "fashion"] = "mnist",
        data_dir: str | None = None,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: int = 0,
        dtype: Literal["float32", "float64"] = "float32",
    ) -> None:
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, dtype=dtype)
        _check_choice("kind", kind, ("mnist", "fashion"))
        self.kind, self.data_dir = kind, data_dir
        self.class_names = [str(d) for d in range(10)] if kind == "mnist" else list(FASHION_CLASSES)
        self.save_hyperparameters()

    def prepare_data(self) -> None:
        """Fail early, with the fetch command, when the files are missing (fetching needs apt/npm: see
        scripts/prepare_data.py, so it is not done here)."""
        check_mnist_files(self.kind, self.data_dir)

    def _load(self):
        data = load_mnist(self.kind, self.data_dir)
        name = "MNIST" if self.kind == "mnist" else "Fashion-MNIST"
        self.data_source = f"{name} IDX files from {check_mnist_files(self.kind, self.data_dir)}"
        # Scaled in the target dtype: the float64 intermediate of 60000 x 784 would be 376 MB.
        dtype = np.float32 if self.dtype == "float32" else np.float64
        return {split: ((X.reshape(len(X), -1).astype(dtype) / dtype(255.0)), y) for split, (X, y) in data.items()}

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
