"""The base of every lab's LightningDataModule: whole sets held as tensors, batches cut by an index batch sampler.

Why not the usual Dataset + DataLoader(batch_size=...): the sets are tiny (at most 70 000 rows) and per-sample
collate costs ~107 us per batch of 32 against ~9 us for one tensor index. So every DataModule holds its sets as
tensors after `setup()`, and the training DataLoader gets `batch_size=None` and an `EpochBatchSampler` that yields
index tensors; `IndexBatchDataset[idx]` returns `(X[idx], y[idx])` in one gather.

Reproducible shuffling: the order of epoch e is `numpy_ops.train.batch_order` (a pure function of (seed, e), the one
the pure-NumPy trainer uses too), set through `set_epoch(e)`, which Lightning calls on the sampler at the start of
every epoch. A run resumed from a
checkpoint therefore sees the same batches as one that never stopped. `shuffle=False` keeps file order (a handout
reference trains in file order, one example at a time: `batch_size=1, shuffle=False`).

Validation and test: one DataLoader per evaluation set (`eval_set_names`, starting with "train"), each yielding the
WHOLE set as one batch, so per-epoch metrics are computed with the final weights in one forward pass.

What the model needs to know of the data is known when the datamodule is built, before any data is read: `task`,
`input_shape`, `output_dim`, `target_shape`, `eval_set_names` and `target_units()` (LightningCLI links them into the
model: `lightning_ffnn.models.data_settings`).

What the data means after training: `to_original_units` maps targets and predictions back to the data's units,
`result_figures` draws the trained network on this data, `sample_images` gives image sets' examples.

Create the Trainer with `use_distributed_sampler=False`: under torch.distributed the sampler itself gives each rank
its strided share `perm[rank::world]` of every epoch's permutation (the remainder dropped, so every rank runs the
same number of batches).

Shapes after `setup()`: X (N, *input_shape) in `dtype`; y int64 (N,) for "classification", `dtype` (N, 1) for
"regression" (standardised with training statistics) and "binary" (0./1.).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import lightning as L
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from numpy_ops.train import batch_order

from course import plots
from ..errors import SettingsError
from ..tasks import DTYPES, DType, Task

Layout = Literal["flat", "image", "rows"]
#: A trained network as the figures see it: inputs as served (N, *input_shape) -> outputs (N, output_dim), float64.
Predict = Callable[[Tensor], Tensor]


class IndexBatchDataset(Dataset):
    """Whole-set tensors; `ds[idx]` with an index tensor (or a slice) returns the batch `(X[idx], y[idx])`."""

    def __init__(self, X: Tensor, y: Tensor) -> None:
        self.X, self.y = X, y

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, index: Tensor | slice) -> tuple[Tensor, Tensor]:
        if isinstance(index, slice):
            return self.X[index], self.y[index]
        # index_select, not X[index]: on torch 2.13 CPU advanced indexing of a 2-D tensor took 1-8 ms for a batch
        # of 32 (measured here, on a loaded 2-core machine) against ~8 us for index_select.
        return self.X.index_select(0, index), self.y.index_select(0, index)


class EpochBatchSampler(Sampler[Tensor]):
    """Yields int64 index tensors of `batch_size` (the last one may be shorter unless `drop_last`).

    The order of epoch e is `numpy_ops.train.batch_order(n, e, shuffle, seed)`. Under an initialised
    torch.distributed group each rank keeps `order[rank::world]` of the first world * (n // world).
    """

    def __init__(self, n: int, batch_size: int, *, shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        self.n, self.batch_size, self.shuffle, self.seed, self.drop_last = n, batch_size, shuffle, seed, drop_last
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
        order = torch.from_numpy(batch_order(self.n, self.epoch, self.shuffle, self.seed))
        rank, world = self._rank_world()
        if world > 1:
            order = order[: world * (self.n // world)][rank::world]
        return order

    def __iter__(self):
        order = self.epoch_indices()
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            yield order[start : start + self.batch_size]

    def __len__(self) -> int:
        m = self.n // self._rank_world()[1]
        return m // self.batch_size if self.drop_last else math.ceil(m / self.batch_size)


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
        dtype: DType = "float32",
    ) -> None:
        super().__init__()
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1; got {batch_size!r}")
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
        self.batch_size, self.shuffle, self.seed, self.dtype = batch_size, bool(shuffle), int(seed), dtype
        self.is_synthetic = False
        self.data_source = ""
        #: the evaluation sets, in the order of the validation loaders ("train" first); subclasses set their own
        self.eval_set_names: list[str] = ["train"]
        self._sets: dict[str, tuple[Tensor, Tensor]] | None = None

    # -- to implement ------------------------------------------------------------------------------------------

    def _load(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The sets as NumPy arrays, "train" first: X (N, input_dim); y (N,) class indices or (N, 1) targets.

        Sets `self.is_synthetic` and `self.data_source` too.
        """
        raise NotImplementedError

    #: Image sets: (height, width) of one image, which `layout` "image" / "rows" serves unflattened.
    image_size: tuple[int, int] | None = None
    #: "flat" (N, input_dim) for MLPs; "image" (N, 1, H, W) for CNNs; "rows" (N, H, W), a sequence of H rows
    #: of W pixels, for RNNs. Image sets take it as an argument.
    layout: Layout = "flat"

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one example as served (no batch axis)."""
        if self.layout == "flat":
            return (self.input_dim,)
        if self.image_size is None:
            raise SettingsError(f"layout={self.layout!r} needs an image set; {type(self).__name__} serves flat vectors")
        return (1, *self.image_size) if self.layout == "image" else tuple(self.image_size)

    @property
    def target_shape(self) -> tuple[int, ...]:
        """The shape of one example's target as served (no batch axis): () for a class label, (1,) otherwise."""
        return () if self.task == "classification" else (1,)

    def sample_figure(self) -> Figure:
        """A figure of the data; its title says "SYNTHETIC" when the data is."""
        raise NotImplementedError

    # -- what the data means, for the run's record ------------------------------------------------------------

    def target_units(self) -> tuple[float, float] | None:
        """(mean, std) that map standardised targets back to the data's units, ``y * std + mean``; None when the
        targets are served as they were read."""
        return None

    def to_original_units(self, values: Tensor) -> Tensor:
        """Targets or predictions (N, output_dim) back in the data's original units (RMSE is reported in them).
        Sets served as they were read keep them: the identity."""
        return values

    def result_figures(self, predict: Predict, label: str, *, n_examples: int = 5, seed: int = 0) -> dict[str, Figure]:
        """Figures of a trained network on this data, by name (the PNG's stem, the TensorBoard tag's last part).

        `predict` maps inputs as served to the network's raw outputs (`Predict`); `label` goes into the titles.
        The default: for image classification sets, `n_examples` random test images (picked with `seed`) with
        their predicted and true labels; no figure for other sets. Each kind of data overrides it."""
        sets = self.eval_sets()
        if self.task != "classification" or self.image_size is None or "test" not in sets:
            return {}
        x, y = sets["test"]
        pick = torch.as_tensor(np.random.default_rng(seed).choice(len(x), size=min(n_examples, len(x)), replace=False))
        xs = x[pick]
        pred = predict(xs).argmax(1).numpy()
        return {"predictions": plots.predictions_figure(
            xs.numpy(), y[pick].numpy(), pred, self.class_names, title=f"Test examples ({label})",
            synthetic=self.is_synthetic, image_shape=self.image_size)}

    def sample_images(self, n: int, seed: int = 0) -> Tensor | None:
        """`n` random training images (n, 1, H, W) for TensorBoard, whatever the layout; None for non-image sets."""
        if self.image_size is None:
            return None
        x, _ = self.eval_sets()["train"]
        pick = torch.as_tensor(np.random.default_rng(seed).choice(len(x), size=min(n, len(x)), replace=False))
        return x[pick].reshape(-1, 1, *self.image_size)

    # -- Lightning hooks ---------------------------------------------------------------------------------------

    def prepare_data(self) -> None:
        """Read the sets here: Lightning calls this before its logger makes the run directory, so a file that does
        not fit stops the run before anything is written. (`setup` then finds them read; under DDP the other
        ranks read them in `setup`.)"""
        self.setup("fit")

    def setup(self, stage: str | None = None) -> None:
        """Build the tensors of every set, once (later calls, for other stages, reuse them)."""
        if self._sets is not None:
            return
        dtype = DTYPES[self.dtype]
        sets = {}
        for name, (X, y) in self._load().items():
            X = torch.as_tensor(np.ascontiguousarray(X), dtype=dtype).reshape(-1, *self.input_shape)
            if self.task == "classification":
                y = torch.as_tensor(np.asarray(y).reshape(-1), dtype=torch.int64)
            else:
                y = torch.as_tensor(np.asarray(y, dtype=np.float64).reshape(-1, 1), dtype=dtype)
            sets[name] = (X, y)
        n_train = len(sets["train"][0])
        if self.batch_size > n_train:
            raise SettingsError(f"batch_size={self.batch_size} is larger than the training set ({n_train} examples) "
                             f"of {type(self).__name__}")
        if list(sets) != self.eval_set_names:
            raise RuntimeError(f"{type(self).__name__} loaded the sets {list(sets)} but declared {self.eval_set_names}")
        self._sets = sets

    def train_dataloader(self) -> DataLoader:
        """One batch `(X[idx], y[idx])` an item, in the order of `EpochBatchSampler`."""
        X, y = self._require("train")
        sampler = EpochBatchSampler(len(X), self.batch_size, shuffle=self.shuffle, seed=self.seed)
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
        # num_workers=0: workers would only add process start-up and IPC to a gather that takes microseconds
        # (Lightning's warning that says otherwise is silenced by the entry points: `cli.configure_runtime`).
        return DataLoader(dataset, batch_size=None, sampler=sampler, num_workers=0, collate_fn=_no_collate)

    def _numpy_set(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        X, y = self.eval_sets()[name]
        return X.numpy(), y.numpy()


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def check_val_fraction(val_fraction: float) -> float:
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1); got {val_fraction!r}")
    return float(val_fraction)


def holdout_split(X: np.ndarray, y: np.ndarray, val_fraction: float, seed: int) -> dict[str, tuple]:
    """{"train": ..., "val": ...}: a seeded ``val_fraction`` of the training file held out for model selection
    (never the test file); {"train": (X, y)} when the fraction is 0. Both parts keep file order."""
    if val_fraction == 0:
        return {"train": (X, y)}
    n_val = int(round(val_fraction * len(X)))
    if not 0 < n_val < len(X):
        raise SettingsError(f"val_fraction={val_fraction} holds out {n_val} of {len(X)} training examples; "
                         "it must leave at least one on each side")
    order = np.random.default_rng([seed, 1]).permutation(len(X))
    train, val = np.sort(order[n_val:]), np.sort(order[:n_val])
    return {"train": (X[train], y[train]), "val": (X[val], y[val])}
