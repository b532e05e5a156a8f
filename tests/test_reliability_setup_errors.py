"""A network or a data file that does not fit stops the run with one line that names the setting or the file, before
anything is written: no traceback, no partial ``runs/<name>/version_N/``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from course.datasets import DataError, load_mnist
from course.datasets.idx import FILE_STEMS

from helpers_training import fit_args, run_main

OCR_CNN_SMALL = ["--data.init_args.size", "small", "--data.init_args.val_fraction", "0.0", "--trainer.max_epochs", "1",
                 "--trainer.logger.init_args.name", "run"]


def failed_run(capsys, tmp_path: Path, config: str, *args: str) -> str:
    """Run ``config`` with ``args``; assert it stopped with an error of one line and left no run directory;
    return that line."""
    code, out, err = run_main(fit_args(config, tmp_path, *args), capsys)
    assert code in (1, 2), (code, err)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("version_*"))
    assert not left, f"a failed setup left {left}"
    return lines[0]


# ---- layer lists that do not end in the task's output --------------------------------------------------------------

@pytest.mark.parametrize("layers, words", [
    ([], "produces outputs of shape (1, 16, 10) per example (input (1, 16, 8)), but the classification task with "
         "10 classes needs (10,)"),
    ([{"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "activation", "name": "relu"}],
     "produces outputs of shape (2, 14, 10) per example"),
])
def test_image_network_without_flatten_is_refused(layers, words, tmp_path, capsys):
    line = failed_run(capsys, tmp_path, "ocr_cnn", *OCR_CNN_SMALL, "--model.layers", json.dumps(layers))
    assert "model.layers" in line and words in line and "{type: flatten}" in line, line


def test_rnn_output_all_on_a_per_example_task_is_refused(tmp_path, capsys):
    layers = [{"type": "rnn", "hidden_size": 4, "output": "all"}]
    line = failed_run(capsys, tmp_path, "ocr_rnn", "--trainer.max_epochs", "1", "--model.layers", json.dumps(layers),
                      "--trainer.logger.init_args.name", "run")
    assert "model.layers produces outputs of shape (16, 10) per example" in line and "needs (10,)" in line, line
    assert "output: last" in line, line


def test_network_larger_than_the_machine_is_refused_before_any_weight_is_drawn(tmp_path, capsys):
    layers = [{"type": "flatten"}, {"type": "linear", "out_features": 2_000_000_000}]
    line = failed_run(capsys, tmp_path, "ocr_cnn", *OCR_CNN_SMALL, "--model.layers", json.dumps(layers))
    # 128 -> 2e9 -> 10 (the output layer): 2e9 * 128 + 2e9 + 10 * 2e9 + 10
    assert "model.layers has 278,000,000,010 parameters" in line and "more than this machine's" in line, line


def test_size_check_counts_every_layer_type_without_allocating():
    import torch

    from lightning_ffnn.network_check import check_size, parameter_count
    from numpy_ops import spec as S

    conv = S.parse([{"type": "conv2d", "out_channels": 3, "kernel_size": 3}, {"type": "flatten"}])
    before = torch.get_rng_state()
    assert parameter_count(conv, (1, 16, 8)) == 3 * 9 + 3
    assert torch.equal(torch.get_rng_state(), before), "counting drew from torch's generator"
    rnn = S.parse([{"type": "rnn", "hidden_size": 5}, {"type": "linear", "out_features": 2}])
    assert parameter_count(rnn, (16, 8)) == (5 * 8 + 5 * 5 + 5 + 5) + (2 * 5 + 2)
    linear = S.parse([{"type": "linear", "out_features": 4}])
    with pytest.raises(ValueError, match=r"has 12 parameters: training them needs about"):
        check_size(linear, (2,), torch.float32, memory=100)
    assert check_size(linear, (2,), torch.float32, memory=10 ** 6) == 12 * (4 * 4 + 8)


def test_the_output_check_takes_each_task_and_the_per_step_model():
    from lightning_ffnn.network_check import check_output_shape
    from numpy_ops import spec as S

    per_step = S.parse([{"type": "rnn", "hidden_size": 4, "output": "all"}, {"type": "linear", "out_features": 7}])
    check_output_shape(per_step, (32, 7), "classification", 7, (32,))  # a character model: a label a step
    check_output_shape(S.mlp_spec([3], "relu", 1), (2,), "binary", 1, (1,))
    check_output_shape(S.mlp_spec([3], "relu", 2), (2,), "regression", 2, (2,))
    with pytest.raises(ValueError, match=r"produces outputs of shape \(3,\) .* regression task with targets of "
                                         r"shape \(1,\) needs \(1,\)$"):
        check_output_shape(S.mlp_spec([3], "relu", 3), (2,), "regression", 1, (1,))


# ---- IDX files (MNIST) ---------------------------------------------------------------------------------------------

def fake_idx(directory: Path, n_train: int = 8, n_test: int = 4, size: int = 28, label_code: int = 0x08) -> Path:
    """The four MNIST IDX files with random content: ``size`` x ``size`` images, labels of type ``label_code``."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        images_stem, labels_stem = FILE_STEMS[split]
        images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
        (directory / images_stem).write_bytes(bytes([0, 0, 8, 3]) + np.array(images.shape, ">u4").tobytes()
                                              + images.tobytes())
        labels = rng.integers(0, 10, n).astype(">u1" if label_code == 0x08 else ">i4")
        (directory / labels_stem).write_bytes(bytes([0, 0, label_code, 1]) + np.array([n], ">u4").tobytes()
                                              + labels.tobytes())
    return directory


@pytest.mark.parametrize("kwargs, file, words", [
    ({"size": 32}, "train-images-idx3-ubyte", "wrong image size; expected 28x28 images; found 32x32"),
    ({"n_test": 0}, "t10k-images-idx3-ubyte", "no images"),
    ({"label_code": 0x0C}, "train-labels-idx1-ubyte", "wrong value type"),
])
def test_bad_idx_files_are_named(kwargs, file, words, tmp_path):
    with pytest.raises(DataError) as info:
        load_mnist("mnist", fake_idx(tmp_path / "mnist", **kwargs))
    assert info.value.path == str(tmp_path / "mnist" / file) and words in str(info.value), str(info.value)


@pytest.mark.parametrize("kwargs, words", [({"size": 32}, "32x32"), ({"n_train": 0}, "no images")])
def test_bad_idx_files_stop_the_run_before_its_directory_is_made(kwargs, words, tmp_path, capsys):
    data = fake_idx(tmp_path / "mnist", **kwargs)
    line = failed_run(capsys, tmp_path, "mnist_cnn", "--data.init_args.data_dir", str(data),
                      "--trainer.max_epochs", "1", "--trainer.logger.init_args.name", "run")
    assert str(data) in line and words in line, line


# ---- text sources --------------------------------------------------------------------------------------------------

def test_text_that_is_not_utf8_is_named_in_one_line(tmp_path, capsys):
    source = tmp_path / "latin1.txt"
    source.write_bytes("café au lait\n".encode("latin-1") * 20)
    line = failed_run(capsys, tmp_path, "char_rnn", "--data.init_args.source", str(source),
                      "--trainer.max_epochs", "1")
    assert line == f"error: {source}: not UTF-8 text; expected a UTF-8 text file; found byte 0xe9 at offset 3", line


def test_text_too_short_for_seq_len_names_the_file_and_the_setting(tmp_path, capsys):
    source = tmp_path / "short.txt"
    source.write_text("hello world, hello text\n" * 3)
    line = failed_run(capsys, tmp_path, "char_rnn", "--data.init_args.source", str(source),
                      "--trainer.max_epochs", "1")
    assert str(source) in line and "seq_len=32" in line and "too short" in line, line
