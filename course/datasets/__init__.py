"""The labs' data sets: strict readers, deterministic generators, figures.

NumPy, the standard library and matplotlib only (no torch), so the pure-NumPy labs can use it; the Lightning
DataModules built on it are in `lightning_ffnn.datamodules`.

Every reader fails with one `DataError` (a ValueError) whose message names the file, the line where there is one,
what was expected and what was found; never a partly loaded set.
"""

from .errors import DataError
from .idx import load_mnist, read_idx
from .ocr import LETTERS, SIZES, OCRSplits, load_ocr, read_ocr_csv, resolve_ocr_dir
from .regression import (
    RegressionFiles,
    RegressionSplits,
    Standardiser,
    lab_splits,
    load_regression,
    make_regression_standin,
    read_xy_csv,
    regression_function,
    write_regression_standin,
)
from .toy import make_flower, make_sine, make_xor, sine_function

__all__ = [
    "DataError", "LETTERS", "SIZES", "OCRSplits", "RegressionFiles", "RegressionSplits", "Standardiser",
    "lab_splits", "load_mnist", "load_ocr", "load_regression", "make_flower", "make_regression_standin",
    "make_sine", "make_xor", "read_idx", "read_ocr_csv", "read_xy_csv", "regression_function",
    "resolve_ocr_dir", "sine_function", "write_regression_standin",
]
