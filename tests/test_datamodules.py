"""The LightningDataModules: the shared interface, seeded per-epoch batches, whole-set evaluation, Lightning use."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from lightning_ffnn.cli import configure_runtime
from lightning_ffnn.datamodules import (
    ArrayDataModule,
    EpochBatchSampler,
    FlowerDataModule,
    MNISTDataModule,
    OCRDataModule,
    RegressionDataModule,
    SineDataModule,
    XORDataModule,
)
from lightning_ffnn.speed import BatchGroups, StepsPerCall
from course.datasets import DataError
from course.datasets.idx import FILE_STEMS
from course.datasets.ocr import ENV_VAR
from numpy_ops.train import batch_order

REAL_OCR = Path(os.environ.get(ENV_VAR) or Path(__file__).resolve().parents[2] / "shared" / "data" / "ocr")


@pytest.fixture
def no_ocr_env(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def make(name: str, tmp_path: Path, **kwargs) -> ArrayDataModule:
    if name == "ocr":
        return OCRDataModule(data_dir=str(tmp_path), **kwargs)  # empty directory: the synthetic stand-in
    if name == "mnist":
        _fake_mnist(tmp_path)
        return MNISTDataModule(kind="mnist", data_dir=str(tmp_path), **kwargs)
    cls = {"regression": RegressionDataModule, "sine": SineDataModule, "xor": XORDataModule,
           "flower": FlowerDataModule}[name]
    return cls(**kwargs)


def _fake_mnist(directory: Path, n_train: int = 80, n_test: int = 10) -> None:
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("test", n_test)):
        for stem, shape in zip(FILE_STEMS[split], ((n, 28, 28), (n,))):
            values = rng.integers(0, 10 if len(shape) == 1 else 256, shape, dtype=np.uint8)
            header = bytes([0, 0, 8, len(shape)]) + np.array(shape, dtype=">u4").tobytes()
            (directory / stem).write_bytes(header + values.tobytes())


EXPECTED = {
    # name: (task, input_dim, output_dim, eval set names, synthetic)
    "ocr": ("classification", 128, 10, ["train", "test"], True),
    "regression": ("regression", 1, 1, ["train", "test_id", "test_ood"], True),
    "sine": ("regression", 1, 1, ["train", "test"], False),
    "xor": ("binary", 2, 1, ["train"], False),
    "flower": ("binary", 2, 1, ["train"], False),
    "mnist": ("classification", 784, 10, ["train", "test"], False),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_interface_shapes_and_dtypes(tmp_path, no_ocr_env, name, dtype):
    dm = make(name, tmp_path, batch_size=4, dtype=dtype)
    dm.setup("fit")
    task, input_dim, output_dim, names, synthetic = EXPECTED[name]
    assert (dm.task, dm.input_dim, dm.output_dim, dm.eval_set_names) == (task, input_dim, output_dim, names)
    assert dm.is_synthetic == synthetic and dm.data_source
    assert ("SYNTHETIC" in dm.data_source) == synthetic
    sets = dm.eval_sets()
    assert list(sets) == names
    for X, y in sets.values():
        assert X.dtype == getattr(torch, dtype) and X.ndim == 2 and X.shape[1] == input_dim
        if task == "classification":
            assert y.dtype == torch.int64 and y.shape == (len(X),) and int(y.max()) < output_dim
        else:
            assert y.dtype == getattr(torch, dtype) and y.shape == (len(X), 1)
        if task == "binary":
            assert set(y.unique().tolist()) <= {0.0, 1.0}
    if name in ("ocr", "mnist"):
        assert 0 <= float(sets["train"][0].min()) and float(sets["train"][0].max()) <= 1
    assert dm.class_names is None or len(dm.class_names) == (output_dim if task == "classification" else 2)


def test_ocr_class_names_and_real_files_when_present(tmp_path, no_ocr_env):
    dm = OCRDataModule(data_dir=str(tmp_path))
    assert dm.class_names == list("aegilnortu")
    if not (REAL_OCR / "smallTrain.csv").is_file():
        pytest.skip(f"the handout's OCR files are not in {REAL_OCR}: to run this test, point "
                    "LIGHTNING_FFNN_OCR_DIR at your copy of the handout's {small,medium,large}{Train,Validation}.csv")
    real = OCRDataModule(size="small", data_dir=str(REAL_OCR))
    real.setup()
    assert not real.is_synthetic and str(REAL_OCR) in real.data_source
    assert [len(v[0]) for v in real.eval_sets().values()] == [500, 100]


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -3}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"dtype": "float16"}, "dtype"),
        ({"size": "huge"}, "size"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"val_fraction": -0.1}, "val_fraction"),
    ],
)
def test_bad_arguments_fail_at_construction_naming_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        OCRDataModule(**kwargs)


def test_bad_kind_and_batch_larger_than_train_set(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        MNISTDataModule(kind="kmnist")
    dm = XORDataModule(batch_size=5)
    with pytest.raises(ValueError, match=r"batch_size=5 is larger than the training set \(4 examples\)"):
        dm.setup("fit")


def test_setup_is_idempotent():
    dm = SineDataModule()
    dm.setup("fit")
    first = dm.eval_sets()["train"][0]
    dm.setup("validate")
    dm.setup("test")
    assert dm.eval_sets()["train"][0] is first


def test_ocr_val_fraction_holds_out_part_of_train(tmp_path, no_ocr_env):
    dm = OCRDataModule(data_dir=str(tmp_path), val_fraction=0.2, seed=1)
    dm.setup()
    assert dm.eval_set_names == ["train", "val", "test"]
    sets = dm.eval_sets()
    assert (len(sets["train"][0]), len(sets["val"][0]), len(sets["test"][0])) == (400, 100, 100)
    whole = OCRDataModule(data_dir=str(tmp_path)).eval_sets()["train"][0]
    rows = {tuple(r) for r in torch.cat([sets["train"][0], sets["val"][0]]).int().tolist()}
    assert rows == {tuple(r) for r in whole.int().tolist()}


def test_regression_standardised_with_train_stats_and_inverse():
    dm = RegressionDataModule(dtype="float64")
    dm.setup()
    X, y = dm.eval_sets()["train"]
    assert abs(float(X.mean())) < 1e-9 and abs(float(X.std(unbiased=False)) - 1) < 1e-9
    assert abs(float(y.mean())) < 1e-9
    x_ood = dm.x_scaler.inverse(dm.eval_sets()["test_ood"][0])
    assert float(x_ood.abs().min()) >= 3 - 1e-9 and float(x_ood.abs().max()) <= 5 + 1e-9
    np.testing.assert_allclose(dm.to_original_units(y).mean().item(), dm.y_scaler.mean, atol=1e-9)
    assert torch.equal(dm.to_original_units(y), dm.y_scaler.inverse(y))
    sine = SineDataModule()
    assert sine.to_original_units(y) is y  # served in its own units


# -- batches ----------------------------------------------------------------------------------------------------


def test_the_sampler_order_is_the_numpy_trainers_order():
    for shuffle in (True, False):
        s = EpochBatchSampler(23, 5, shuffle=shuffle, seed=7)
        s.set_epoch(3)
        assert torch.cat(list(s)).tolist() == batch_order(23, 3, shuffle, 7).tolist()


def test_epoch_permutation_is_a_pure_function_of_seed_and_epoch():
    a, b = EpochBatchSampler(50, 8, seed=3), EpochBatchSampler(50, 8, seed=3)
    b.set_epoch(4)
    b.set_epoch(2)  # history does not matter, only the epoch number
    a.set_epoch(2)
    assert torch.equal(torch.cat(list(a)), torch.cat(list(b)))
    assert sorted(torch.cat(list(a)).tolist()) == list(range(50))
    a.set_epoch(3)
    assert not torch.equal(torch.cat(list(a)), torch.cat(list(b)))
    assert [len(i) for i in a] == [8] * 6 + [2] and len(a) == 7
    c = EpochBatchSampler(50, 8, seed=4)
    c.set_epoch(2)
    assert not torch.equal(torch.cat(list(c)), torch.cat(list(b)))


def test_no_shuffle_keeps_file_order_and_drop_last():
    s = EpochBatchSampler(7, 1, shuffle=False)
    s.set_epoch(5)
    assert [int(i) for i in s] == list(range(7))
    d = EpochBatchSampler(7, 3, shuffle=False, drop_last=True)
    assert [i.tolist() for i in d] == [[0, 1, 2], [3, 4, 5]] and len(d) == 2


@pytest.mark.parametrize("world", [2, 3])
def test_distributed_ranks_share_each_epoch_without_overlap(monkeypatch, world):
    shares = []
    for rank in range(world):
        monkeypatch.setattr(EpochBatchSampler, "_rank_world", staticmethod(lambda r=rank: (r, world)))
        s = EpochBatchSampler(50, 4, seed=0)
        s.set_epoch(1)
        batches = list(s)
        assert len(batches) == len(s)
        shares.append(torch.cat(batches))
    assert len({len(s) for s in shares}) == 1  # the same number of examples (and batches) on every rank
    everything = torch.cat(shares).tolist()
    assert len(set(everything)) == len(everything) == world * (50 // world)


def test_train_batches_are_slices_of_the_set_and_eval_loaders_the_whole_sets():
    dm = SineDataModule(batch_size=64, seed=5)
    dm.setup()
    loader = dm.train_dataloader()
    loader.sampler.set_epoch(0)
    X, y = dm.eval_sets()["train"]
    order = torch.from_numpy(np.random.default_rng([5, 0]).permutation(len(X)))
    batches = list(loader)
    assert len(batches) == len(loader) == 16
    assert torch.equal(batches[0][0], X[order[:64]]) and torch.equal(batches[-1][1], y[order[960:]])
    for (name, (Xs, ys)), val_loader in zip(dm.eval_sets().items(), dm.val_dataloader()):
        (only,) = list(val_loader)
        assert torch.equal(only[0], Xs) and torch.equal(only[1], ys)
    assert len(dm.test_dataloader()) == len(dm.eval_set_names)


class _Recorder(L.LightningModule):
    """Records the training batches it is given; the smallest model Lightning accepts."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
        self.seen: list[list[torch.Tensor]] = []
        self.val_seen: list[tuple[int, int]] = []

    def on_train_epoch_start(self):
        self.seen.append([])

    def training_step(self, batch, batch_idx):
        assert isinstance(batch, tuple), "the module sees one batch at a time, whatever groups them"
        self.seen[-1].append(batch[0].clone())
        return ((self.layer(batch[0]) - batch[1]) ** 2).mean()

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        self.val_seen.append((dataloader_idx, len(batch[0])))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


@pytest.mark.parametrize("steps_per_call", [1, 3])
def test_lightning_calls_set_epoch_and_the_entry_point_quiets_the_workers_warning(steps_per_call):
    """Every epoch is its own permutation, also when several batches go in a call (`StepsPerCall`: Lightning sets the
    epoch on the loader's `sampler`: a grouped loader that hid the sampler repeated epoch 0's order)."""
    dm = SineDataModule(n_train=40, n_test=10, batch_size=6, seed=2)
    model = _Recorder()
    trainer = L.Trainer(max_epochs=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, use_distributed_sampler=False, accelerator="cpu", devices=1,
                        num_sanity_val_steps=0, callbacks=[StepsPerCall(steps_per_call)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        configure_runtime()
        trainer.fit(model, datamodule=dm)
    assert not [w for w in caught if "does not have many workers" in str(w.message)]
    X = dm.eval_sets()["train"][0]
    for epoch, batches in enumerate(model.seen):
        order = torch.from_numpy(np.random.default_rng([2, epoch]).permutation(40))
        assert torch.equal(torch.cat(batches), X[order]), f"epoch {epoch} is not permutation (seed 2, epoch {epoch})"
    assert model.val_seen == [(0, 40), (1, 10)] * 3  # each epoch: the whole train set, then the whole test set


def test_building_loaders_changes_no_warning_filter():
    dm = SineDataModule(n_train=40, n_test=10, batch_size=8)
    dm.setup()
    with warnings.catch_warnings():
        before = list(warnings.filters)
        dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()
        assert warnings.filters == before


def test_grouped_batches_are_the_plain_batches_in_lists():
    plain, inner = EpochBatchSampler(23, 4, seed=3), EpochBatchSampler(23, 4, seed=3)
    grouped = BatchGroups(inner, 4)
    for epoch in (0, 1):
        plain.set_epoch(epoch)
        inner.set_epoch(epoch)
        lists = list(grouped)
        assert [len(g) for g in lists] == [4, 2] and len(grouped) == 2 and len(plain) == 6
        assert [b.tolist() for g in lists for b in g] == [b.tolist() for b in plain]


# -- what the data means after training ---------------------------------------------------------------------


FIGURES = {"ocr": ["predictions"], "mnist": ["predictions"], "regression": ["fit"], "sine": ["fit"],
           "xor": ["decision_boundary"], "flower": ["decision_boundary"]}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_set_draws_its_own_result_figures(tmp_path, no_ocr_env, name):
    """`result_figures` gets the network as a function of inputs as served; each set says what it draws."""
    dm = make(name, tmp_path, dtype="float64")
    dm.setup()
    seen = []

    def predict(x: torch.Tensor) -> torch.Tensor:
        assert x.dtype == torch.float64 and tuple(x.shape[1:]) == dm.input_shape, (x.dtype, x.shape)
        seen.append(len(x))
        return torch.linspace(-1.0, 1.0, len(x) * dm.output_dim, dtype=torch.float64).reshape(len(x), -1)

    figures = dm.result_figures(predict, "a label", n_examples=3, seed=1)
    assert list(figures) == FIGURES[name] and all(isinstance(f, Figure) for f in figures.values())
    assert seen, "the figure did not use the network"
    fig = next(iter(figures.values()))
    titles = fig.get_suptitle() + " ".join(ax.get_title() for ax in fig.axes)
    assert "a label" in titles and ("SYNTHETIC" in titles) == dm.is_synthetic
    if name in ("ocr", "mnist"):
        assert seen == [3]


@pytest.mark.parametrize("layout", ["flat", "image", "rows"])
def test_sample_images_come_in_image_shape_whatever_the_layout(tmp_path, no_ocr_env, layout):
    dm = OCRDataModule(data_dir=str(tmp_path), layout=layout)
    images = dm.sample_images(4, seed=0)
    assert images.shape == (4, 1, 16, 8)
    flat = OCRDataModule(data_dir=str(tmp_path)).sample_images(4, seed=0)
    assert torch.equal(images, flat)
    assert SineDataModule().sample_images(4) is None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_figures(tmp_path, no_ocr_env, name):
    dm = make(name, tmp_path)
    dm.setup()
    fig = dm.sample_figure()
    assert isinstance(fig, Figure)
    titles = fig.get_suptitle() + " ".join(ax.get_title() for ax in fig.axes)
    assert ("SYNTHETIC" in titles) == dm.is_synthetic
    if name == "ocr":
        letters = [ax.get_title().strip("'") for ax in fig.axes if ax.images]
        assert len(letters) == 10 and set(letters) <= set("aegilnortu")


def test_mnist_missing_files_tell_the_command(tmp_path):
    dm = MNISTDataModule(kind="fashion", data_dir=str(tmp_path / "none"))
    with pytest.raises(DataError, match="python scripts/prepare_data.py fashion"):
        dm.prepare_data()
    with pytest.raises(DataError, match="python scripts/prepare_data.py fashion"):
        dm.setup()
