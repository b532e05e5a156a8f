"""The OCR letters reader: strict, precise errors, fast path equals slow path, data-directory resolution."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course.datasets import DataError, load_ocr, read_ocr_csv, resolve_ocr_dir
from course.datasets import ocr

REAL_DIR = Path(os.environ.get(ocr.ENV_VAR) or Path(__file__).resolve().parents[2] / "shared" / "data" / "ocr")
needs_real = pytest.mark.skipif(not (REAL_DIR / "smallTrain.csv").is_file(),
                                reason=f"the handout's OCR files are not in {REAL_DIR}: to run this test, point "
                                       "LIGHTNING_FFNN_OCR_DIR at your copy of the handout's "
                                       "{small,medium,large}{Train,Validation}.csv")


def rows(n: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.integers(0, 10, n), rng.integers(0, 2, (n, 128))])


def text_of(values: np.ndarray) -> str:
    return "".join(",".join(map(str, r)) + "\n" for r in values)


def write(tmp_path: Path, content: str | bytes, name: str = "smallTrain.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_reads_handout_layout(tmp_path):
    values = rows(5)
    X, y = read_ocr_csv(write(tmp_path, text_of(values)))
    assert X.dtype == np.uint8 and X.shape == (5, 128) and y.dtype == np.int64 and y.shape == (5,)
    np.testing.assert_array_equal(X, values[:, 1:])
    np.testing.assert_array_equal(y, values[:, 0])


@pytest.mark.parametrize("variant", ["crlf", "no_final_newline", "crlf_no_final_newline", "spaces"])
def test_accepts_crlf_missing_final_newline_and_spaces(tmp_path, variant):
    values = rows(4)
    text = text_of(values)
    if "crlf" in variant:
        text = text.replace("\n", "\r\n")
    if "no_final_newline" in variant:
        text = text.rstrip("\r\n")
    if variant == "spaces":  # not the handout's layout: goes through the line-by-line path, same result
        text = text.replace(",", ", ")
    X, y = read_ocr_csv(write(tmp_path, text))
    np.testing.assert_array_equal(np.column_stack([y, X]), values)


def _line(values: np.ndarray) -> str:
    return ",".join(map(str, values))


GOOD = _line(rows(1)[0])
BAD_FILES = {
    # name: (content, line in the message or None, words the message must contain)
    "empty": ("", None, "empty"),
    "header": ("label," + ",".join(f"p{i}" for i in range(128)) + "\n" + GOOD + "\n", 1, "header"),
    "too_few_values": (GOOD + "\n" + GOOD.rsplit(",", 1)[0] + "\n", 2, "128 values"),
    "too_many_values": (GOOD + "\n" + GOOD + ",0\n", 2, "130 values"),
    "not_an_integer": (GOOD + "\n" + GOOD.replace(",1,", ",x,", 1) + "\n", 2, "not an integer"),
    "float_value": (GOOD.replace(",0,", ",0.0,", 1) + "\n", 1, "not an integer"),
    "empty_value": (GOOD.replace(",0,", ",,", 1) + "\n", 1, "not an integer"),
    "label_10": ("10" + GOOD[1:] + "\n", 1, "label out of range"),
    "label_negative": (GOOD + "\n" + GOOD + "\n-1" + GOOD[1:] + "\n", 3, "label out of range"),
    "pixel_2": (GOOD + "\n" + GOOD[:-1] + "2\n", 2, "pixel value out of range"),
    "blank_line_inside": (GOOD + "\n\n" + GOOD + "\n", 2, "blank line"),
    "trailing_blank_line": (GOOD + "\n\n", 2, "blank line"),
    "binary": (b"\x00\x01\x02\xff" * 40, 1, "binary"),
    "latin1_text": ((GOOD + "\n" + GOOD + "\n").encode() + "\xe9\n".encode("latin-1"), 3, "binary"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_each_malformed_file_gives_one_clear_error(tmp_path, case):
    content, line, words = BAD_FILES[case]
    path = write(tmp_path, content)
    with pytest.raises(DataError) as info:
        read_ocr_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert words in message
    assert "expected" in message
    if line is not None:
        assert f"line {line}:" in message and info.value.line == line


def test_missing_file_directory_and_unreadable_file(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="no such file"):
        read_ocr_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        read_ocr_csv(tmp_path)
    path = write(tmp_path, GOOD + "\n")

    def denied(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)  # chmod 000 does not stop root, who may run the tests
    with pytest.raises(DataError, match="cannot be read .Permission denied") as info:
        read_ocr_csv(path)
    assert str(path) in str(info.value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n_rows=st.integers(1, 4),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(["del", "ins", "sub"]),
                             st.sampled_from(list("0123456789,-+. x\t\r\n\x00é") + ["10", ",,", "\r\n\n"])),
                   min_size=1, max_size=4),
)
def test_random_malformed_rows_give_a_data_error_or_a_correct_parse(tmp_path, n_rows, edits):
    """Mutate a valid file at random: the reader either returns a valid set or raises DataError, nothing else."""
    text = text_of(rows(n_rows, seed=n_rows))
    for position, kind, piece in edits:
        i = position % (len(text) + 1)
        text = {"del": text[:i] + text[i + 1 :], "ins": text[:i] + piece + text[i:],
                "sub": text[:i] + piece + text[i + 1 :]}[kind]
    path = write(tmp_path, text.encode("utf-8"), name="fuzz.csv")
    try:
        X, y = read_ocr_csv(path)
    except DataError as err:
        assert str(path) in str(err) and "expected" in str(err)
        return
    assert X.shape[1] == 128 and set(np.unique(X)) <= {0, 1} and set(np.unique(y)) <= set(range(10))
    assert len(X) == len(y) >= 1


def test_resolve_dir_argument_beats_environment_beats_default(tmp_path, monkeypatch):
    monkeypatch.delenv(ocr.ENV_VAR, raising=False)
    assert resolve_ocr_dir() == (ocr.DEFAULT_OCR_DIR, False)
    monkeypatch.setenv(ocr.ENV_VAR, str(tmp_path / "env"))
    assert resolve_ocr_dir() == (tmp_path / "env", True)
    assert resolve_ocr_dir(tmp_path / "arg") == (tmp_path / "arg", True)


def test_load_ocr_synthetic_when_no_files_and_errors_for_named_problems(tmp_path, monkeypatch):
    monkeypatch.delenv(ocr.ENV_VAR, raising=False)
    data = load_ocr("small", tmp_path, synthetic_seed=3)
    assert data.is_synthetic and "SYNTHETIC" in data.source and str(tmp_path) in data.source
    assert data.X_train.shape == (500, 128) and data.X_test.shape == (100, 128)
    with pytest.raises(DataError, match="does not exist"):
        load_ocr("small", tmp_path / "typo")
    write(tmp_path, text_of(rows(3)), "smallTrain.csv")
    with pytest.raises(DataError, match="smallValidation.csv") as info:
        load_ocr("small", tmp_path)
    assert "only one of the two files" in str(info.value)
    write(tmp_path, text_of(rows(2)), "smallValidation.csv")
    data = load_ocr("small", tmp_path)
    assert not data.is_synthetic and data.source == f"real handout files from {tmp_path}"
    with pytest.raises(ValueError, match="size must be one of"):
        load_ocr("huge", tmp_path)


@needs_real
@pytest.mark.parametrize("size", ["small", "medium", "large"])
def test_real_handout_files(size):
    train, test = ocr.ocr_file_paths(size, REAL_DIR)
    X, y = read_ocr_csv(train)
    assert (len(X), len(read_ocr_csv(test)[0])) == ocr.SIZES[size]
    assert set(np.unique(y)) == set(range(10)) and set(np.unique(X)) == {0, 1}
    np.testing.assert_array_equal(np.column_stack([y, X]), np.loadtxt(train, delimiter=",", dtype=np.int64))


@needs_real
def test_real_tiny_files_are_refused_with_the_column_count():
    with pytest.raises(DataError, match=r"line 1: wrong number of values; expected 129 .*found 6 values"):
        read_ocr_csv(REAL_DIR / "tinyTrain.csv")


@pytest.mark.parametrize("which", ["smallTrain.csv", "smallValidation.csv"])
def test_a_directory_in_place_of_a_handout_file_is_named_as_one(which, tmp_path, monkeypatch):
    """Issue 15: a directory where a CSV file should be was reported as "holds only one of the two files" (or, with
    both, silently replaced by the synthetic set)."""
    monkeypatch.delenv(ocr.ENV_VAR, raising=False)
    other = "smallValidation.csv" if which == "smallTrain.csv" else "smallTrain.csv"
    write(tmp_path, text_of(rows(3)), other)
    (tmp_path / which).mkdir()
    with pytest.raises(DataError, match="is a directory") as info:
        load_ocr("small", tmp_path)
    assert info.value.path == str(tmp_path / which) and "only one of" not in str(info.value)
    (tmp_path / other).unlink()
    (tmp_path / other).mkdir()
    with pytest.raises(DataError, match="is a directory"):
        load_ocr("small", tmp_path)
