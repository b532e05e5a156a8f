"""Lab 3.2, the main job: its one driver (`lightning_ffnn.labs.lab32`), the configs it runs, and the search that chose
the selected settings on a validation split (`lightning_ffnn.labs.lab32_search`).

The data: handout-format CSV files written from the synthetic stand-in into the test's directory, so every number
here is the same on every machine, with or without the handout files.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from helpers_training import CONFIGS, MAIN_JOB_SCRIPT, run_fit, run_main, skip_figures
from course.datasets.synthetic_ocr import make_synthetic_ocr, write_ocr_csv
from lightning_ffnn.labs import lab32, lab32_search

SIZES = ("small", "medium", "large")


@pytest.fixture
def ocr_dir(tmp_path):
    """smallTrain.csv / smallValidation.csv written from the synthetic stand-in."""
    X, y, Xt, yt = make_synthetic_ocr("small", seed=5)
    d = tmp_path / "ocr"
    d.mkdir()
    write_ocr_csv(d / "smallTrain.csv", X, y)
    write_ocr_csv(d / "smallValidation.csv", Xt, yt)
    return d


def test_driver_trains_both_backends_and_they_agree(ocr_dir, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    runs = lab32.run_lab32(["small"], data_dir=str(ocr_dir), max_epochs=1, save_dir=tmp_path / "runs",
                           overrides={"trainer.enable_progress_bar": False, "model.dtype": "float64"},
                           log=lambda text: None)
    assert [(r.size, r.backend, r.config) for r in runs] == [("small", "torch", "configs/ocr_small_selected.yaml"),
                                                              ("small", "numpy", "configs/ocr_small_selected.yaml")]
    torch_final, numpy_final = (r.results["final"] for r in runs)
    assert torch_final.keys() == numpy_final.keys() and "test/accuracy" in torch_final
    for key in torch_final:  # float64: the hand-written backward and autograd give the same weights
        assert numpy_final[key] == pytest.approx(torch_final[key], rel=1e-9, abs=1e-12), key
    assert lab32.backend_gaps(runs) == {"small": pytest.approx(0.0, abs=1e-12)}
    text = lab32.lab32_markdown(runs)
    for backend in ("torch", "numpy"):
        assert f"| small | {backend} | 128-64-64-10 sigmoid | sgd lr 0.1, momentum 0.9 | 100 | 1 |" in text
    assert f"Data: small: {runs[0].results['data_source']}" in text
    assert runs[1].command.startswith("python scripts/train.py fit --config configs/ocr_small_selected.yaml "
                                      "--model.backend numpy")


def test_main_job_command_runs_the_driver_with_either_settings(ocr_dir, tmp_path, monkeypatch, capsys):
    skip_figures(monkeypatch)
    monkeypatch.chdir(tmp_path)  # the runs' logs go to ./runs
    code, out, err = run_main(["--sizes", "small", "--backends", "torch", "--settings", "handout", "--max_epochs",
                               "1", "--data_dir", str(ocr_dir)], capsys, MAIN_JOB_SCRIPT)
    assert code == 0, err
    assert "=== lab 3.2: OCR small, torch backend (configs/ocr_small.yaml) ===" in out
    assert "| small | torch | 128-64-64-10 sigmoid | sgd lr 0.1, momentum 0.9 | 100 | 1 |" in out
    assert "Total wall time" in out and (tmp_path / "runs" / "lab32" / "small_torch").is_dir()
    code, out, err = run_main(["--settings", "nope"], capsys, MAIN_JOB_SCRIPT)
    assert code == 2 and "invalid choice: 'nope'" in err


def test_handout_settings_are_kept_and_selected_ones_keep_two_hidden_layers():
    for size, epochs in zip(SIZES, (100, 20, 20)):
        handout = yaml.safe_load((CONFIGS / f"ocr_{size}.yaml").read_text())
        assert handout["model"]["hidden_sizes"] == [64, 64] and handout["model"]["activation"] == "sigmoid"
        assert (handout["model"]["optimizer"], handout["model"]["lr"], handout["model"]["momentum"]) == ("sgd", 0.1,
                                                                                                         0.9)
        assert handout["data"]["init_args"]["batch_size"] == 100 and handout["trainer"]["max_epochs"] == epochs
        selected = yaml.safe_load((CONFIGS / f"ocr_{size}_selected.yaml").read_text())
        assert len(selected["model"]["hidden_sizes"]) == 2
        assert selected["data"]["init_args"]["size"] == size
        # The final fit uses the whole training file: the chosen epoch count was found on a split beforehand.
        assert selected["data"]["init_args"].get("val_fraction", 0.0) == 0.0
    with pytest.raises(ValueError, match="settings must be one of 'selected', 'handout'; got 'best'"):
        lab32.config_path("small", "best")


def test_search_selects_on_the_val_split_and_never_reads_the_test_file(ocr_dir, tmp_path):
    """Model selection sees the split of the training file only: another test file changes nothing."""
    c = lab32_search.Candidate(width=16, activation="relu")
    train, val, _ = lab32_search.split_sets("small", str(ocr_dir), 0.2)
    assert len(train[0]) == 400 and len(val[0]) == 100
    curve = lab32_search.train_curve(c, train, val, epochs=2)
    other = tmp_path / "other"
    other.mkdir()
    (other / "smallTrain.csv").write_bytes((ocr_dir / "smallTrain.csv").read_bytes())
    _, _, Xt, yt = make_synthetic_ocr("small", seed=9)
    write_ocr_csv(other / "smallValidation.csv", Xt, (yt + 1) % 10)
    train2, val2, _ = lab32_search.split_sets("small", str(other), 0.2)
    again = lab32_search.train_curve(c, train2, val2, epochs=2)
    assert again.val_loss == curve.val_loss and again.val_accuracy == curve.val_accuracy


@pytest.mark.parametrize("config, candidate", [
    ("ocr_small_selected", lab32_search.Candidate(32, "sigmoid", lr=0.1, optimizer="sgd", momentum=0.9)),
    ("ocr_medium_selected", lab32_search.Candidate(32, "relu", lr=1e-3, optimizer="adam")),
])
def test_search_loop_trains_what_the_lightning_run_trains(config, candidate, ocr_dir, tmp_path, monkeypatch):
    """The plain loop of the search and a LightningCLI run of a selected config on the same split agree, epoch by
    epoch: the settings were chosen for exactly the network, batches and optimiser the main job trains."""
    skip_figures(monkeypatch)
    train, val, _ = lab32_search.split_sets("small", str(ocr_dir), 0.2)
    curve = lab32_search.train_curve(candidate, train, val, epochs=3)
    results = run_fit(config, tmp_path, "--model.hidden_sizes", "[32, 32]", "--trainer.max_epochs", "3",
                      "--data.init_args.size", "small", "--data.init_args.val_fraction", "0.2",
                      "--data.init_args.data_dir", str(ocr_dir))
    settings = results["settings"]["model"]
    assert (settings["optimizer"], settings["activation"], settings["lr"]) == (candidate.optimizer,
                                                                               candidate.activation, candidate.lr)
    assert len(results["epochs"]) == 3
    for e, record in enumerate(results["epochs"]):
        assert record["val/loss"] == pytest.approx(curve.val_loss[e], rel=1e-5), e
        assert record["val/accuracy"] == pytest.approx(curve.val_accuracy[e], abs=1e-6), e


def test_chosen_epochs_takes_the_best_smoothed_stretch():
    def curve(accs):
        return lab32_search.Curve(lab32_search.Candidate(), [0.0] * len(accs), accs, 0.0)

    # one lucky epoch (0.95 at epoch 2) loses to a steady stretch; ties go to the earlier epoch
    a = curve([0.5, 0.95, 0.5, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7])
    b = curve([0.5, 0.55, 0.5, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7])
    epoch, score = lab32_search.chosen_epochs([a, b], window=3)
    assert epoch == 6 and math.isclose(score, 0.8)  # the stretch of epochs 4-6
    assert lab32_search.chosen_epochs([curve([0.1, 0.2])], window=5) == (2, pytest.approx(0.15))
    assert np.isclose(a.val_accuracy[a.best_epoch - 1], 0.95) and a.best_epoch == 2
