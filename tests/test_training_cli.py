"""``scripts/train.py`` as a user meets it: every config runs, ``--print_config`` works, bad settings are refused
with a short message that names the setting (exit code 2), never a traceback from inside a library."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from helpers_training import CONFIGS, fit_args, run_dir, run_fit, run_main, skip_figures

ALL_CONFIGS = sorted(p.stem for p in CONFIGS.glob("*.yaml"))


def _fake_idx(directory: Path, n_train: int = 64, n_test: int = 16) -> Path:
    """MNIST-shaped IDX files (random pixels), so the mnist / fashion configs run without the 60 000 images."""
    from course.datasets.idx import FILE_STEMS

    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        for stem, shape in zip(FILE_STEMS[split], ((n, 28, 28), (n,))):
            values = rng.integers(0, 10 if len(shape) == 1 else 256, shape, dtype=np.uint8)
            header = bytes([0, 0, 8, len(shape)]) + np.array(shape, dtype=">u4").tobytes()
            (directory / stem).write_bytes(header + values.tobytes())
    return directory


def test_configs_are_all_covered():
    assert len(ALL_CONFIGS) >= 10, ALL_CONFIGS


@pytest.mark.parametrize("backend", ["torch", "numpy"])
@pytest.mark.parametrize("config", ALL_CONFIGS)
def test_every_config_trains_one_step(config, backend, tmp_path, monkeypatch):
    """``fast_dev_run``: one training batch and one pass over each evaluation set, no checkpoints or logs."""
    skip_figures(monkeypatch)
    monkeypatch.chdir(tmp_path)  # fast_dev_run writes its record into the working directory
    extra = ["--trainer.fast_dev_run", "true", "--model.backend", backend]
    if "MNISTDataModule" in (CONFIGS / f"{config}.yaml").read_text():  # MNIST and Fashion-MNIST configs
        # 64 fake images: a batch the size some configs use (100) would be refused as larger than the set
        extra += ["--data.init_args.data_dir", str(_fake_idx(tmp_path / "idx")), "--data.init_args.batch_size", "32"]
    results = run_fit(config, tmp_path, *extra)
    assert len(results["epochs"]) == 1
    assert results["settings"]["model"]["backend"] == backend
    losses = {k: v for k, v in results["final"].items() if k.endswith("/loss")}
    assert losses and all(math.isfinite(v) for v in losses.values()), losses


def test_print_config_prints_the_full_yaml_and_trains_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(fit_args("ocr_small", tmp_path, "--model.backend", "numpy", "--print_config"), capsys)
    assert code == 0, err
    config = yaml.safe_load(out)
    assert config["model"]["backend"] == "numpy"
    assert config["model"]["hidden_sizes"] == [64, 64]
    assert config["data"]["class_path"] == "lightning_ffnn.datamodules.OCRDataModule"
    assert config["parity"]["every_n_steps"] >= 1 and config["checkpoint"]["save_last"] is True
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flag, value", [
    ("model.backend", "jax"),
    ("model.init", "he"),
    ("model.optimizer", "rmsprop"),
    ("model.dtype", "float16"),
    ("model.lr_schedule", "cosin"),
])
def test_unknown_choice_is_a_cli_error_naming_the_option(flag, value, tmp_path, capsys):
    code, out, err = run_main(fit_args("ocr_small", tmp_path, f"--{flag}", value), capsys)
    assert code == 2, err
    assert f'Parser key "{flag}"' in err and f"Got value: {value}" in err, err[-500:]
    assert "Traceback (most recent call last)" not in err
    assert list(tmp_path.iterdir()) == []


BAD_SETTINGS = {
    "lr zero": (["--model.lr", "0"], "model.lr: the learning rate must be > 0, got 0.0"),
    "lr negative": (["--model.lr", "-0.5"], "model.lr: the learning rate must be > 0, got -0.5"),
    "hidden size 0": (["--model.hidden_sizes", "[64, 0]"],
                      "model.hidden_sizes: every hidden layer needs at least 1 unit, got [64, 0]"),
    "batch > train set": (["--data.init_args.batch_size", "100000"],
                          "batch_size=100000 is larger than the training set (500 examples) of OCRDataModule"),
    "parity every 0 steps": (["--parity.every_n_steps", "0"], "every_n_steps must be >= 1, got 0"),
    "lr_final without a decay": (["--model.lr_final", "0.01"],
                                 "model.lr_final (0.01) is the end of a decay: it needs model.lr_schedule cosine or "
                                 "linear, not constant"),
    "lr_final above lr": (["--model.lr_schedule", "cosine", "--model.lr_final", "0.5"],
                          "model.lr_final must be between 0 and model.lr (0.1), got 0.5"),
    "warm-up fraction 1": (["--model.lr_warmup_fraction", "1"],
                           "model.lr_warmup_fraction is the part of the run's optimizer steps spent warming up: it "
                           "must be >= 0 and < 1, got 1.0"),
    # model.activation takes any string (a user's op is FILE.py:NAME@like), so the model names it, not the parser
    "unknown activation": (["--model.activation", "swishy"],
                           "model.activation: unknown activation 'swishy'; expected one of ['elu', 'gelu', "
                           "'gelu_tanh', 'identity', 'leaky_relu', 'relu', 'sigmoid', 'softplus', 'swish', 'tanh']"),
}


@pytest.mark.parametrize("case", list(BAD_SETTINGS))
def test_bad_value_exits_with_one_line_naming_the_setting(case, tmp_path, capsys, monkeypatch):
    skip_figures(monkeypatch)
    extra, message = BAD_SETTINGS[case]
    code, out, err = run_main(fit_args("ocr_small", tmp_path, "--trainer.max_epochs", "1", *extra), capsys)
    assert code == 2, err
    assert err.strip().splitlines()[-1] == f"error: invalid setting: {message}"
    assert "Traceback (most recent call last)" not in err


def test_checkpoint_of_another_architecture_is_refused(tmp_path, capsys, monkeypatch):
    skip_figures(monkeypatch)
    run_fit("ocr_small", tmp_path / "a", "--trainer.max_epochs", "1", "--model.hidden_sizes", "[16, 16]")
    ckpt = run_dir(tmp_path / "a", "ocr_small") / "checkpoints" / "last.ckpt"
    code, out, err = run_main(fit_args("ocr_small", tmp_path / "b", "--trainer.max_epochs", "2",
                                       "--model.hidden_sizes", "[8]", "--ckpt_path", str(ckpt)), capsys)
    assert code == 2, err
    assert err.strip().splitlines()[-1] == (
        "error: invalid setting: the checkpoint holds a different network (model.hidden_sizes is [8] here but "
        "[16, 16] in the checkpoint): resume with the checkpoint's settings, or start a new run without --ckpt_path")
    assert "Traceback (most recent call last)" not in err and "size mismatch" not in err
