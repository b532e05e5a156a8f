"""Regression (lab 3.3): the lab's three CSV files, a documented stand-in for them, and the lab's protocol.

The course files `data_train.csv` (2400 rows), `data_valid.csv` and `data_test.csv` are not public. The stand-in has
the same names and layout (header `x,y`, one point a line) and is generated deterministically:

    f(x) = 0.3 + 0.4 x + 0.5 sin(2.7 x) + 1.1 / (1 + x^2),   y = f(x) + N(0, 0.1^2)
    data_train: 2400 points, x ~ U[-3, 3];  data_valid: 300, x ~ U[-5, -3);  data_test: 300, x ~ U(3, 5]

Lab protocol (`lab_splits`): data_train is split at random (seeded) into 3/4 train (1800) and 1/4 in-distribution
test (600); the out-of-distribution test set is data_valid followed by data_test (600). Inputs and targets are
standardised with the training split's mean and standard deviation only; the `Standardiser` keeps them for the
inverse transform.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from .errors import DataError, decode_text, read_bytes

FILE_NAMES = {"train": "data_train.csv", "valid": "data_valid.csv", "test": "data_test.csv"}
STANDIN_MARKER = "STANDIN.txt"
"""Written next to the stand-in's CSV files, so a run reading them still knows (and says) they are synthetic."""
NOISE_STD = 0.1
_SIZES = {"train": 2400, "valid": 300, "test": 300}
_WHAT = "regression CSV (header x,y)"


def regression_function(x: np.ndarray) -> np.ndarray:
    """The stand-in's noiseless target f(x) = 0.3 + 0.4x + 0.5 sin(2.7x) + 1.1/(1+x^2), elementwise."""
    x = np.asarray(x, dtype=np.float64)
    return 0.3 + 0.4 * x + 0.5 * np.sin(2.7 * x) + 1.1 / (1.0 + x**2)


def make_regression_standin(seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The stand-in's three files as arrays: {"train", "valid", "test"} -> (x, y), float64 (N,) each."""
    rng = np.random.default_rng(seed)
    x_train = rng.uniform(-3.0, 3.0, _SIZES["train"])
    x_valid = rng.uniform(-5.0, -3.0, _SIZES["valid"])  # [-5, -3)
    x_test = 5.0 - rng.uniform(0.0, 2.0, _SIZES["test"])  # (3, 5]
    out = {}
    for name, x in (("train", x_train), ("valid", x_valid), ("test", x_test)):
        out[name] = (x, regression_function(x) + rng.normal(0.0, NOISE_STD, x.shape))
    return out


def write_regression_standin(directory: str | PathLike[str], seed: int = 0, *, overwrite: bool = False) -> list[Path]:
    """Write the stand-in's data_train.csv, data_valid.csv, data_test.csv (and STANDIN.txt) into `directory`.

    Refuses to replace existing files unless `overwrite`: they may be a user's real course files.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / FILE_NAMES[name] for name in FILE_NAMES]
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} exists; pass overwrite=True (--overwrite) to replace it")
    for (name, (x, y)), path in zip(make_regression_standin(seed).items(), paths):
        np.savetxt(path, np.column_stack([x, y]), fmt="%.10g", delimiter=",", header="x,y", comments="")
    (directory / STANDIN_MARKER).write_text(
        f"These CSV files are the project's SYNTHETIC stand-in for the lab 3.3 files (seed {seed}):\n"
        "f(x) = 0.3 + 0.4x + 0.5 sin(2.7x) + 1.1/(1+x^2) + N(0, 0.1^2); train x~U[-3,3], valid x~U[-5,-3), "
        "test x~U(3,5].\nDelete this file only if you replace the CSV files with the course's own.\n"
    )
    return paths


def read_xy_csv(path: str | PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read a file with the header `x,y` and then one point `x,y` a line, strictly.

    Accepts CRLF and a missing final newline. A missing header, a blank line, a line without exactly two values,
    a value that is not a finite number, or no data rows: DataError naming the file, the line, what was expected.

    Returns x, y: float64 (N,).
    """
    text = decode_text(read_bytes(path, _WHAT), path, _WHAT)
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    header = [f.strip() for f in lines[0].split(",")]
    if header != ["x", "y"]:
        raise DataError(path, "missing or wrong header", line=1, expected="the header line 'x,y'",
                        found=repr(lines[0]))
    if len(lines) == 1:
        raise DataError(path, "no data rows after the header", expected="at least one line 'x,y'")
    values = np.empty((len(lines) - 1, 2))
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        if len(fields) != 2:
            raise DataError(path, "wrong number of values", line=number, expected="two numbers 'x,y'",
                            found=f"{len(fields)} value{'s' * (len(fields) != 1)} in {line!r}")
        for j, field in enumerate(fields):
            try:
                v = float(field)
            except ValueError:
                v = math.nan
            if not math.isfinite(v):
                raise DataError(path, f"{'xy'[j]} is not a finite number", line=number, expected="a finite number",
                                found=repr(field))
            values[number - 2, j] = v
    return values[:, 0], values[:, 1]


@dataclass(frozen=True)
class RegressionFiles:
    """The three files' points (float64 (N,) each) and where they came from."""

    train: tuple[np.ndarray, np.ndarray]
    valid: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    is_synthetic: bool
    source: str


def load_regression(data_dir: str | PathLike[str] | None = None, *, seed: int = 0) -> RegressionFiles:
    """The three files read from `data_dir`, or (None) the stand-in generated in memory with `seed`."""
    if data_dir is None:
        d = make_regression_standin(seed)
        return RegressionFiles(d["train"], d["valid"], d["test"], True,
                               f"SYNTHETIC stand-in for the lab 3.3 files (generated in memory, seed {seed})")
    directory = Path(data_dir).expanduser()
    if not directory.is_dir():
        raise DataError(directory, "regression data directory does not exist",
                        expected=f"a directory holding {', '.join(FILE_NAMES.values())}",
                        hint="Write the stand-in there with: python scripts/prepare_data.py regression --out DIR")
    read = {name: read_xy_csv(directory / file) for name, file in FILE_NAMES.items()}
    synthetic = (directory / STANDIN_MARKER).exists()
    source = (f"SYNTHETIC stand-in for the lab 3.3 files, read from {directory}" if synthetic
              else f"course files from {directory}")
    return RegressionFiles(read["train"], read["valid"], read["test"], synthetic, source)


@dataclass(frozen=True)
class Standardiser:
    """z = (v - mean) / std with statistics of the training split only; `inverse` maps back to original units."""

    mean: float
    std: float

    @classmethod
    def fit(cls, values: np.ndarray) -> Standardiser:
        std = float(np.std(values))
        return cls(float(np.mean(values)), std if std > 0 else 1.0)

    def __call__(self, values):
        return (values - self.mean) / self.std

    def inverse(self, values):
        """Works on NumPy arrays and torch tensors alike (plain arithmetic with Python floats)."""
        return values * self.std + self.mean


@dataclass(frozen=True)
class RegressionSplits:
    """The lab's sets in ORIGINAL units (float64 (N,) each) and the training split's standardisers."""

    train: tuple[np.ndarray, np.ndarray]
    test_id: tuple[np.ndarray, np.ndarray]
    test_ood: tuple[np.ndarray, np.ndarray]
    x_scaler: Standardiser
    y_scaler: Standardiser


def lab_splits(files: RegressionFiles, *, seed: int = 0, train_fraction: float = 0.75) -> RegressionSplits:
    """Split data_train at random into train (3/4: 1800 of 2400) and in-distribution test; OOD = valid + test."""
    x, y = files.train
    order = np.random.default_rng(seed).permutation(len(x))
    n_train = int(round(train_fraction * len(x)))
    if not 0 < n_train < len(x):
        raise DataError("data_train.csv", "too few rows to split into train and test", expected="at least 2 rows",
                        found=f"{len(x)} rows")
    tr, te = order[:n_train], order[n_train:]
    ood = (np.concatenate([files.valid[0], files.test[0]]), np.concatenate([files.valid[1], files.test[1]]))
    return RegressionSplits((x[tr], y[tr]), (x[te], y[te]), ood, Standardiser.fit(x[tr]), Standardiser.fit(y[tr]))
