"""OCR letters (lab 3.2): the strict reader of the handout's CSV files, and where to find them.

Format of every file: no header, one example a line, 129 comma-separated integers: the label 0-9 (index into
LETTERS), then the 128 pixels (0 or 1) of a 16x8 image in row-major order. Files: {small,medium,large}Train.csv and
{small,medium,large}Validation.csv; the Validation file is the lab's test set.

Where the files are looked for, first match wins: the `data_dir` argument, the environment variable
LIGHTNING_FFNN_OCR_DIR, `<repository>/data/ocr`. With no handout files there, `load_ocr` returns the synthetic
stand-in of `synthetic_ocr` in the same format and says so in `OCRSplits.source`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from .errors import DataError, decode_text, read_bytes
from .ocr_format import LETTERS, N_PIXELS, SIZES, check_size

ENV_VAR = "LIGHTNING_FFNN_OCR_DIR"
DEFAULT_OCR_DIR = Path(__file__).resolve().parents[2] / "data" / "ocr"

_WHAT = "OCR letters CSV"
_ROW = f"129 comma-separated integers (label 0-9, then {N_PIXELS} pixels 0/1)"
_INT = re.compile(r"[+-]?\d+\Z")


def read_ocr_csv(path: str | PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read one handout file strictly: all of it, or a DataError naming the file, the line and what was expected.

    CRLF line endings and a missing final newline are accepted; a header row, a blank line, a wrong number of
    values, a value that is not an integer, a label outside 0-9 or a pixel other than 0/1 are not.

    Returns:
        X: uint8 (N, 128), pixels 0/1 in row-major 16x8 order.
        y: int64 (N,), labels 0-9 (letters LETTERS[y]).
    """
    data = read_bytes(path, _WHAT)
    values = _parse_exact_layout(data)
    if values is None:  # not the handout's exact byte layout: parse line by line, which also finds the first error
        values = _parse_lines(decode_text(data, path, _WHAT), path)
    _check_ranges(values, path)
    return values[:, 1:].astype(np.uint8), values[:, 0].astype(np.int64)


def _parse_exact_layout(data: bytes) -> np.ndarray | None:
    """Fast path for the handout's layout, where every value is one digit: each line is exactly 258 bytes.

    Returns the (N, 129) digits, or None when the bytes are laid out any other way (the slow path decides then).
    """
    data = data.replace(b"\r\n", b"\n")
    if not data.endswith(b"\n"):
        data += b"\n"
    width = 2 * (1 + N_PIXELS)  # digit + separator, 129 times; the last separator is the newline
    if len(data) % width:
        return None
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, width)
    if not ((rows[:, 1:-1:2] == ord(",")).all() and (rows[:, -1] == ord("\n")).all()):
        return None
    digits = rows[:, 0::2] - np.uint8(ord("0"))  # anything but '0'..'9' wraps round to >= 10
    if (digits > 9).any():
        return None
    return digits


def _parse_lines(text: str, path: str | PathLike[str]) -> np.ndarray:
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":  # the final newline ends the last line; it does not start an empty one
        lines.pop()
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise DataError(path, "blank line", line=number, expected=_ROW)
        fields = [f.strip() for f in line.split(",")]
        bad = next((i for i, f in enumerate(fields) if not _INT.match(f)), None)
        if number == 1 and bad is not None and any(c.isalpha() for c in line):
            raise DataError(path, "the first line looks like a header row", line=1, expected=f"no header: {_ROW}",
                            found=repr(line))
        if len(fields) != 1 + N_PIXELS:
            raise DataError(path, "wrong number of values", line=number, expected=_ROW,
                            found=f"{len(fields)} value{'s' * (len(fields) != 1)}")
        if bad is not None:
            raise DataError(path, f"value {bad + 1} is not an integer", line=number,
                            expected="an integer" if bad == 0 else "0 or 1", found=repr(fields[bad]))
        rows.append([int(f) for f in fields])
    return np.array(rows, dtype=np.int64)


def _check_ranges(values: np.ndarray, path: str | PathLike[str]) -> None:
    labels, pixels = values[:, 0], values[:, 1:]
    bad_label = np.flatnonzero((labels < 0) | (labels > 9))
    if bad_label.size:
        i = int(bad_label[0])
        raise DataError(path, "label out of range", line=i + 1,
                        expected=f"a label 0-9 (one of the letters {' '.join(LETTERS)})", found=str(labels[i]))
    bad_row, bad_col = np.nonzero((pixels != 0) & (pixels != 1))
    if bad_row.size:
        i, j = int(bad_row[0]), int(bad_col[0])
        raise DataError(path, f"pixel value out of range (value {j + 2} of the line, pixel {j + 1})", line=i + 1,
                        expected="0 or 1", found=str(pixels[i, j]))


# ----------------------------------------------------------------------------------------------------------------
# Where the files are, and the synthetic stand-in when there are none


@dataclass(frozen=True)
class OCRSplits:
    """The lab's two sets. X: uint8 (N, 128) pixels 0/1; y: int64 (N,) labels 0-9."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    is_synthetic: bool
    source: str
    """A sentence for logs, figures and result tables, e.g. "real handout files from /path"."""


def resolve_ocr_dir(data_dir: str | PathLike[str] | None = None) -> tuple[Path, bool]:
    """Return (directory, named): the argument, else $LIGHTNING_FFNN_OCR_DIR, else <repository>/data/ocr.

    `named` is True when the user named the directory (argument or environment variable).
    """
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser(), True
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser(), True
    return DEFAULT_OCR_DIR, False


def ocr_file_paths(size: str, directory: str | PathLike[str]) -> tuple[Path, Path]:
    """(train, test) paths of one size in `directory`: `{size}Train.csv`, `{size}Validation.csv`."""
    check_size(size)
    directory = Path(directory)
    return directory / f"{size}Train.csv", directory / f"{size}Validation.csv"


def load_ocr(size: str = "small", data_dir: str | PathLike[str] | None = None, *, synthetic_seed: int = 0) -> OCRSplits:
    """Load the handout's {size}Train.csv / {size}Validation.csv, or the synthetic stand-in when there are none.

    A directory the user named (argument or environment variable) that does not exist, or that holds only one of
    the two files, is a DataError: a typo must not silently turn a run into a synthetic one.
    """
    directory, named = resolve_ocr_dir(data_dir)
    train_path, test_path = ocr_file_paths(size, directory)
    how = "given" if data_dir else (f"from ${ENV_VAR}" if named else "the default")
    if named and not directory.is_dir():
        raise DataError(directory, f"OCR data directory ({how}) does not exist",
                        expected=f"a directory holding {train_path.name} and {test_path.name}",
                        hint="Unset it to use the synthetic stand-in, or put the course handout's files there.")
    for path in (train_path, test_path):
        if path.exists() and not path.is_file():  # else "holds only one of the two files", or a silent fallback
            raise DataError(path, "is a directory" if path.is_dir() else "is not a regular file",
                            expected=f"the handout's CSV file {path.name}")
    present = [p.is_file() for p in (train_path, test_path)]
    if all(present):
        X_train, y_train = read_ocr_csv(train_path)
        X_test, y_test = read_ocr_csv(test_path)
        return OCRSplits(X_train, y_train, X_test, y_test, False, f"real handout files from {directory}")
    if any(present):
        missing = test_path if present[0] else train_path
        raise DataError(missing, "missing: the OCR directory holds only one of the two files of this size",
                        expected=f"both {train_path.name} and {test_path.name}")
    from .synthetic_ocr import make_synthetic_ocr  # only when needed: it loads fonts

    X_train, y_train, X_test, y_test = make_synthetic_ocr(size, seed=synthetic_seed)
    source = (f"SYNTHETIC stand-in (font-rendered letters, seed {synthetic_seed}) - no handout files "
              f"{train_path.name}/{test_path.name} in {directory} ({how} directory)")
    return OCRSplits(X_train, y_train, X_test, y_test, True, source)
