"""Regression (lab 3.3): the stand-in's definition, the strict x,y reader, the lab's split and standardisation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course.datasets import (
    DataError,
    lab_splits,
    load_regression,
    make_regression_standin,
    read_xy_csv,
    regression_function,
    write_regression_standin,
)


def test_standin_sizes_ranges_and_noise():
    data = make_regression_standin(seed=0)
    x, y = data["train"]
    assert len(x) == 2400 and x.min() >= -3 and x.max() <= 3
    assert len(data["valid"][0]) == 300 and (data["valid"][0] >= -5).all() and (data["valid"][0] < -3).all()
    assert len(data["test"][0]) == 300 and (data["test"][0] > 3).all() and (data["test"][0] <= 5).all()
    residual = y - regression_function(x)
    assert abs(residual.std() - 0.1) < 0.01 and abs(residual.mean()) < 0.01
    np.testing.assert_allclose(regression_function(np.array([0.0])), [0.3 + 1.1])


def test_standin_is_deterministic_by_seed():
    a, b, c = make_regression_standin(0), make_regression_standin(0), make_regression_standin(1)
    for name in a:
        np.testing.assert_array_equal(a[name][0], b[name][0])
        np.testing.assert_array_equal(a[name][1], b[name][1])
    assert (a["train"][0] != c["train"][0]).any()


def test_written_files_read_back_and_say_they_are_synthetic(tmp_path):
    write_regression_standin(tmp_path, seed=0)
    assert (tmp_path / "data_train.csv").read_text().startswith("x,y\n")
    files = load_regression(tmp_path)
    assert files.is_synthetic and "SYNTHETIC" in files.source
    expected = make_regression_standin(0)
    np.testing.assert_allclose(files.train[0], expected["train"][0], rtol=1e-9)
    np.testing.assert_allclose(files.test[1], expected["test"][1], rtol=1e-9)
    with pytest.raises(FileExistsError):
        write_regression_standin(tmp_path)
    (tmp_path / "STANDIN.txt").unlink()  # the user's own files of those names: not synthetic
    assert not load_regression(tmp_path).is_synthetic


def test_in_memory_standin_and_missing_directory(tmp_path):
    files = load_regression(None, seed=0)
    assert files.is_synthetic and len(files.train[0]) == 2400
    with pytest.raises(DataError, match="does not exist"):
        load_regression(tmp_path / "nope")
    (tmp_path / "data_train.csv").write_text("x,y\n1,2\n")
    with pytest.raises(DataError, match="data_valid.csv.*no such file"):
        load_regression(tmp_path)


@pytest.mark.parametrize("text", ["x,y\r\n1,2\r\n3,4\r\n", "x,y\n1,2\n3,4", " x , y \n1 , 2\n3,4\n"])
def test_reader_accepts_crlf_and_missing_final_newline(tmp_path, text):
    path = tmp_path / "data_train.csv"
    path.write_bytes(text.encode())
    x, y = read_xy_csv(path)
    np.testing.assert_array_equal(x, [1, 3])
    np.testing.assert_array_equal(y, [2, 4])


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("", None, "empty"),
        ("1,2\n3,4\n", 1, "header"),
        ("x,y\n", None, "no data rows"),
        ("x,y\n1,2\n3\n", 3, "wrong number of values"),
        ("x,y\n1,2,3\n", 2, "wrong number of values"),
        ("x,y\n1,abc\n", 2, "y is not a finite number"),
        ("x,y\nnan,1\n", 2, "x is not a finite number"),
        ("x,y\n1,inf\n", 2, "not a finite number"),
        ("x,y\n1,2\n\n3,4\n", 3, "wrong number of values"),
        ("x,y\n1,\x00\n", 2, "binary"),
    ],
)
def test_reader_errors_name_file_line_and_expectation(tmp_path, text, line, words):
    path = tmp_path / "data_test.csv"
    path.write_bytes(text.encode())
    with pytest.raises(DataError) as info:
        read_xy_csv(path)
    message = str(info.value)
    assert str(path) in message and words in message and "expected" in message
    if line is not None:
        assert f"line {line}:" in message


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet="0123456789.,-+e xyna\t\r", max_size=12), min_size=1, max_size=5))
def test_random_rows_give_a_data_error_or_finite_numbers(tmp_path, lines):
    path = tmp_path / "fuzz.csv"
    path.write_text("x,y\n" + "\n".join(lines))
    try:
        x, y = read_xy_csv(path)
    except DataError as err:
        assert str(path) in str(err)
        return
    assert np.isfinite(x).all() and np.isfinite(y).all() and len(x) == len(y) >= 1


def test_lab_split_and_standardisation_use_training_statistics_only():
    files = load_regression(None, seed=0)
    splits = lab_splits(files, seed=0)
    assert [len(s[0]) for s in (splits.train, splits.test_id, splits.test_ood)] == [1800, 600, 600]
    together = np.sort(np.concatenate([splits.train[0], splits.test_id[0]]))
    np.testing.assert_array_equal(together, np.sort(files.train[0]))  # a partition of data_train
    np.testing.assert_array_equal(splits.test_ood[0], np.concatenate([files.valid[0], files.test[0]]))
    z = splits.x_scaler(splits.train[0])
    assert abs(z.mean()) < 1e-12 and abs(z.std() - 1) < 1e-12
    assert splits.x_scaler.mean == pytest.approx(splits.train[0].mean())
    y = splits.test_ood[1]
    np.testing.assert_allclose(splits.y_scaler.inverse(splits.y_scaler(y)), y)
    other = lab_splits(files, seed=1)
    assert (other.train[0] != splits.train[0]).any()
