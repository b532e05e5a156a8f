"""What a run leaves behind: PNG figures, results.json, config.yaml, checkpoints, and the TensorBoard tags
(scalars, learning rate, parity, images, figures, hparams), read back with tensorboard's EventAccumulator."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

from helpers_training import read_results, run_dir, run_fit, skip_figures

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _tensorboard(directory) -> EventAccumulator:
    acc = EventAccumulator(str(directory), size_guidance={"images": 0, "scalars": 0, "tensors": 0})
    acc.Reload()
    return acc


@pytest.fixture(scope="module")
def numpy_run(tmp_path_factory):
    """One numpy-backend OCR run of 2 epochs with every artifact (figures included: ~3 s)."""
    tmp = tmp_path_factory.mktemp("artifacts")
    results = run_fit("ocr_small", tmp, "--model.backend", "numpy", "--trainer.max_epochs", "2",
                      "--parity.every_n_steps", "2", "--trainer.logger.init_args.name", "art")
    return results, run_dir(tmp, "art")


def test_files_of_a_run(numpy_run):
    results, directory = numpy_run
    for name in ("loss_curves.png", "predictions.png"):
        assert (directory / name).read_bytes()[:8] == PNG_MAGIC, name
    assert results["figures"] == ["loss_curves.png", "predictions.png"]
    assert (directory / "config.yaml").is_file() and (directory / "hparams.yaml").is_file()
    assert (directory / "checkpoints" / "last.ckpt").is_file()
    assert results["best_checkpoint"] and os.path.isfile(results["best_checkpoint"])
    assert not list(directory.rglob(".*.tmp")), "temporary files left behind"


def test_results_json(numpy_run):
    results, directory = numpy_run
    on_disk = read_results(directory)
    assert on_disk["epochs"] == results["epochs"] and on_disk["run_dir"] == str(directory)
    assert [e["epoch"] for e in on_disk["epochs"]] == [0, 1]
    assert set(on_disk["final"]) == {"train/loss", "train/accuracy", "test/loss", "test/accuracy"}
    assert all(math.isfinite(v) for v in on_disk["final"].values())
    assert on_disk["settings"]["model"]["backend"] == "numpy"
    assert on_disk["settings"]["trainer"]["max_epochs"] == 2
    # The data source is said plainly: the handout files when $LIGHTNING_FFNN_OCR_DIR has them, else synthetic.
    assert on_disk["is_synthetic"] == ("SYNTHETIC" in on_disk["data_source"])
    if not os.environ.get("LIGHTNING_FFNN_OCR_DIR"):
        assert on_disk["is_synthetic"]
    assert on_disk["wall_time_s"] > 0


def test_tensorboard_tags(numpy_run):
    _, directory = numpy_run
    acc = _tensorboard(directory)
    tags = acc.Tags()
    for tag in ("train/loss", "train/accuracy", "test/loss", "test/accuracy", "lr-SGD", "parity/max",
                "parity/0.weight", "parity/4.bias"):
        assert tag in tags["scalars"], (tag, tags["scalars"])
    assert len(acc.Scalars("train/loss")) == 2  # one per epoch, and no extra point from the hparams' metrics
    # The HParams table's metrics are the curves' own tags (their last points), logged as no charts of their own:
    # no one-dot hp/* charts, no "epoch" or "selection_loss" chart above the curves in the Scalars tab.
    assert not [t for t in tags["scalars"] if t.startswith("hp/") or t in ("epoch", "selection_loss")], tags["scalars"]
    experiment = HParamsPluginData.FromString(acc.PluginTagToContent("hparams")["_hparams_/experiment"]).experiment
    assert {m.name.tag for m in experiment.metric_infos} == {"train/loss", "train/accuracy", "test/loss",
                                                             "test/accuracy"}
    assert [e.value for e in acc.Scalars("lr-SGD")] == pytest.approx([0.1, 0.1])
    parity = acc.Scalars("parity/max")
    assert len(parity) == 5 and max(e.value for e in parity) < 1e-4  # 10 steps, checked every 2
    assert {"data/train_samples", "data/samples", "figures/loss_curves", "figures/predictions"} <= set(tags["images"])
    assert {"_hparams_/experiment", "_hparams_/session_start_info"} <= set(acc.PluginTagToContent("hparams"))


def test_sample_images_are_spaced_on_white(numpy_run):
    """The data/train_samples picture: letters apart from one another on white paper, no black filler cells."""
    _, directory = numpy_run
    event = _tensorboard(directory).Images("data/train_samples")[-1]
    picture = np.asarray(Image.open(io.BytesIO(event.encoded_image_string)).convert("L"), dtype=np.float64) / 255
    assert picture.shape[0] >= 64  # scaled up: a 16x8 letter at 1:1 is a speck
    white_columns = np.flatnonzero(picture.min(axis=0) > 0.99)
    assert len(white_columns) > 2 * 10  # a white gap beside each of the 10 letters
    assert picture[0].min() > 0.99 and picture[:, -1].min() > 0.99  # a white border
    ink = picture < 0.5
    assert 0.02 < ink.mean() < 0.5  # letters, not solid blocks


def test_torch_backend_logs_no_parity(tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    run_fit("ocr_small", tmp_path, "--model.backend", "torch", "--trainer.max_epochs", "1",
            "--trainer.logger.init_args.name", "art")
    scalars = _tensorboard(run_dir(tmp_path, "art")).Tags()["scalars"]
    assert "train/loss" in scalars and "lr-SGD" in scalars
    assert not [t for t in scalars if t.startswith("parity/")], scalars


def test_results_json_has_the_mode_of_the_other_run_files(numpy_run):
    """results.json is written through a temporary file (mkstemp's mode 0600) and must not keep that mode."""
    _, directory = numpy_run
    modes = {p.name: p.stat().st_mode & 0o777 for p in directory.iterdir() if p.is_file()}
    assert modes["results.json"] == modes["config.yaml"] == modes["loss_curves.png"], modes
    umask = os.umask(0)
    os.umask(umask)
    assert modes["results.json"] == 0o666 & ~umask, modes  # what open(path, "w") gives, not 0600
    assert (directory / "checkpoints" / "last.ckpt").stat().st_mode & 0o777 == modes["config.yaml"]
