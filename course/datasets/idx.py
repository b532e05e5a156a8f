"""IDX files (the format of MNIST and Fashion-MNIST), raw or gzip-compressed, read strictly.

Layout: two zero bytes, a type code, the number of dimensions d, then d big-endian uint32 sizes, then the values
(big-endian) in row-major order, and nothing after them.
"""

from __future__ import annotations

import gzip
import os
import zlib
from os import PathLike
from pathlib import Path

import numpy as np

from .errors import DataError, read_bytes

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_WHAT = "IDX file"
IMAGE_SIZE = (28, 28)  # MNIST's and Fashion-MNIST's

DEFAULT_DIRS = {
    "mnist": Path(__file__).resolve().parents[2] / "data" / "mnist",
    "fashion": Path(__file__).resolve().parents[2] / "data" / "fashion-mnist",
}
#: The variable naming a user's own copy of each set (as $LIGHTNING_FFNN_OCR_DIR does for the OCR letters).
ENV_VARS = {"mnist": "LIGHTNING_FFNN_MNIST_DIR", "fashion": "LIGHTNING_FFNN_FASHION_DIR"}
FILE_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]


def read_idx(path: str | PathLike[str], *, ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (`.gz` ones are decompressed). Returns the array in native byte order.

    Raises DataError for a missing/unreadable file, a broken gzip stream, a wrong magic number, a dimension count
    other than `ndim` (when given), or a body shorter or longer than the header says.
    """
    raw = read_bytes(path, _WHAT)
    if str(path).endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(path, f"not a valid gzip file ({err})", expected="a gzip-compressed IDX file") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES or raw[3] == 0:
        raise DataError(path, "wrong magic number", expected="an IDX header: 0x00 0x00, a type code "
                        "(0x08 0x09 0x0B 0x0C 0x0D 0x0E), a dimension count >= 1", found=raw[:4].hex(" ") or "nothing")
    dims = raw[3]
    if ndim is not None and dims != ndim:
        raise DataError(path, "wrong number of dimensions", expected=str(ndim), found=str(dims))
    header = 4 + 4 * dims
    if len(raw) < header:
        raise DataError(path, "truncated header", expected=f"{header} header bytes", found=f"{len(raw)} bytes")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=dims, offset=4))
    dtype = np.dtype(_TYPES[raw[2]])
    body = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != body:
        problem = "truncated body" if len(raw) - header < body else "extra bytes after the body"
        raise DataError(path, problem, expected=f"{body} bytes of data for shape {shape}",
                        found=f"{len(raw) - header} bytes")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def find_idx(directory: Path, stem: str) -> Path | None:
    """`stem` or `stem.gz` in `directory` (raw first), or None."""
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def mnist_dir(kind: str = "mnist", data_dir: str | PathLike[str] | None = None) -> Path:
    """Where the set's files are looked for: ``data_dir``, else the set's variable (`ENV_VARS`), else the
    repository's ``data/`` folder."""
    if kind not in DEFAULT_DIRS:
        raise ValueError(f"kind must be 'mnist' or 'fashion'; got {kind!r}")
    given = data_dir or os.environ.get(ENV_VARS[kind])
    return Path(given).expanduser() if given else DEFAULT_DIRS[kind]


def check_mnist_files(kind: str = "mnist", data_dir: str | PathLike[str] | None = None) -> Path:
    """The directory of the set's four IDX files, or DataError naming the first missing one and how to get it.

    Args:
        kind: "mnist" or "fashion".
        data_dir: default `mnist_dir(kind)`: $LIGHTNING_FFNN_MNIST_DIR (or $LIGHTNING_FFNN_FASHION_DIR), else
            `<repository>/data/mnist` (`<repository>/data/fashion-mnist`).
    """
    given = data_dir or os.environ.get(ENV_VARS.get(kind, ""))
    directory = mnist_dir(kind, data_dir)
    fetch = f"python scripts/prepare_data.py {kind}" + (f" --out {directory}" if given else "")
    for stems in FILE_STEMS.values():
        for stem in stems:
            if find_idx(directory, stem) is None:
                raise DataError(directory / stem, f"missing {kind} file (raw or .gz)",
                                expected="the four IDX files of the set in this directory",
                                hint=f"Get them with: {fetch}")
    return directory


def load_mnist(kind: str = "mnist", data_dir: str | PathLike[str] | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """MNIST or Fashion-MNIST from the four standard IDX files (raw or .gz) in `data_dir` (see check_mnist_files).

    Returns:
        {"train": (X, y), "test": (X, y)}: X uint8 (N, 28, 28), y int64 (N,) labels 0-9.
    """
    directory = check_mnist_files(kind, data_dir)
    out = {}
    for split, (image_stem, label_stem) in FILE_STEMS.items():
        images_path, labels_path = find_idx(directory, image_stem), find_idx(directory, label_stem)
        images, labels = read_idx(images_path, ndim=3), read_idx(labels_path, ndim=1)
        for path, values in ((images_path, images), (labels_path, labels)):
            if values.dtype != np.uint8:
                raise DataError(path, "wrong value type", expected="unsigned bytes (type code 0x08)",
                                found=f"{values.dtype} values")
        if images.shape[1:] != IMAGE_SIZE:
            raise DataError(images_path, "wrong image size", expected="{}x{} images".format(*IMAGE_SIZE),
                            found="{}x{}".format(*images.shape[1:]))
        if len(images) == 0:
            raise DataError(images_path, "no images", expected="at least one image", found="an empty set")
        if len(images) != len(labels):
            raise DataError(labels_path, "labels and images differ in number", expected=f"{len(images)} labels "
                            f"(as many as images in {images_path.name})", found=str(len(labels)))
        if labels.size and labels.max() > 9:
            raise DataError(labels_path, "label out of range", expected="labels 0-9", found=str(labels.max()))
        out[split] = (images, labels.astype(np.int64))
    return out
