"""IDX files (MNIST, Fashion-MNIST): strict reading raw and gzipped; the MNIST loader and its missing-file message."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course.datasets import DataError, load_mnist, read_idx
from course.datasets.idx import FILE_STEMS, mnist_dir

REPO = Path(__file__).resolve().parents[1]


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_reads_raw_and_gzip(tmp_path, name):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write(tmp_path / name, idx_bytes(images)), ndim=3), images)


def test_reads_big_endian_other_types(tmp_path):
    values = np.arange(6, dtype=np.float64).reshape(2, 3) / 7
    got = read_idx(write(tmp_path / "f", idx_bytes(values.astype(">f8"), code=0x0E)))
    np.testing.assert_array_equal(got, values)
    assert got.dtype == np.float64 and got.dtype.isnative


GOOD = idx_bytes(np.zeros((3, 4, 4), dtype=np.uint8))


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"\x00\x00", "wrong magic number"),
        (b"\x08\x03" + GOOD[2:], "wrong magic number"),
        (b"\x00\x00\x07\x03" + GOOD[4:], "wrong magic number"),  # unknown type code
        (GOOD[:4] + GOOD[4:10], "truncated header"),
        (GOOD[:-1], "truncated body"),
        (GOOD + b"\x00", "extra bytes after the body"),
        (b"\x00\x00\x08\x01" + np.array([3], ">u4").tobytes() + b"\x00\x00\x00", "wrong number of dimensions"),
    ],
)
def test_malformed_files_give_one_clear_error(tmp_path, data, words):
    path = write(tmp_path / "x-idx3-ubyte", data)
    with pytest.raises(DataError, match=words) as info:
        read_idx(path, ndim=3)
    assert str(path) in str(info.value) and "expected" in str(info.value)


def test_broken_gzip_directory_and_missing_file(tmp_path):
    (tmp_path / "a.gz").write_bytes(gzip.compress(GOOD)[:-10])
    with pytest.raises(DataError, match="not a valid gzip file"):
        read_idx(tmp_path / "a.gz")
    (tmp_path / "b.gz").write_bytes(GOOD)
    with pytest.raises(DataError, match="not a valid gzip file"):
        read_idx(tmp_path / "b.gz")
    with pytest.raises(DataError, match="is a directory"):
        read_idx(tmp_path)
    with pytest.raises(DataError, match="no such file"):
        read_idx(tmp_path / "none")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=64), st.booleans())
def test_random_bytes_give_a_data_error_or_an_array(tmp_path, data, gz):
    path = write(tmp_path / ("r.gz" if gz else "r"), data)
    try:
        array = read_idx(path)
    except DataError as err:
        assert str(path) in str(err)
        return
    assert isinstance(array, np.ndarray)


def fake_set(directory: Path, n_train: int = 6, n_test: int = 4, gz: bool = False) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("test", n_test)):
        images_stem, labels_stem = FILE_STEMS[split]
        suffix = ".gz" if gz else ""
        write(directory / (images_stem + suffix), idx_bytes(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)))
        write(directory / (labels_stem + suffix), idx_bytes(rng.integers(0, 10, n, dtype=np.uint8)))


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_a_directory(tmp_path, gz):
    fake_set(tmp_path, gz=gz)
    data = load_mnist("fashion", tmp_path)
    assert data["train"][0].shape == (6, 28, 28) and data["test"][1].shape == (4,)
    assert data["train"][1].dtype == np.int64


def test_missing_mnist_files_say_how_to_get_them(tmp_path):
    with pytest.raises(DataError, match=r"python scripts/prepare_data.py mnist --out") as info:
        load_mnist("mnist", tmp_path)
    assert "train-images-idx3-ubyte" in str(info.value)
    with pytest.raises(ValueError, match="kind must be"):
        load_mnist("kmnist", tmp_path)


def test_the_sets_variable_names_the_directory_and_an_argument_beats_it(tmp_path, monkeypatch):
    fake_set(tmp_path / "mine")
    monkeypatch.setenv("LIGHTNING_FFNN_MNIST_DIR", str(tmp_path / "mine"))
    assert load_mnist("mnist")["train"][0].shape == (6, 28, 28)
    with pytest.raises(DataError, match=r"prepare_data.py mnist --out .*elsewhere"):
        load_mnist("mnist", tmp_path / "elsewhere")
    with pytest.raises(DataError, match=r"prepare_data.py fashion"):  # each set has its own variable
        load_mnist("fashion", tmp_path / "none")


def test_mismatched_counts_and_labels_out_of_range(tmp_path):
    fake_set(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(3, dtype=np.uint8)))
    with pytest.raises(DataError, match="labels and images differ in number"):
        load_mnist("mnist", tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.full(4, 12, dtype=np.uint8)))
    with pytest.raises(DataError, match="label out of range"):
        load_mnist("mnist", tmp_path)


@pytest.mark.parametrize("kind", ["mnist", "fashion"])
def test_fetched_files_when_present(kind):
    where = mnist_dir(kind)
    if not all((where / s).is_file() or (where / (s + ".gz")).is_file() for stems in FILE_STEMS.values() for s in stems):
        pytest.skip(f"{kind} not fetched (python scripts/prepare_data.py {kind})")
    data = load_mnist(kind)
    assert data["train"][0].shape == (60000, 28, 28) and data["test"][0].shape == (10000, 28, 28)
    assert np.bincount(data["test"][1]).min() > 800
