"""The synthetic OCR stand-in: the handout's format and sizes, deterministic by seed, and learnable.

How long it takes to draw is not a unit test's business (a timed test fails on a loaded machine): the suite's own
running time, which draws every size, shows it."""

from __future__ import annotations

import numpy as np
import pytest

from course.datasets import LETTERS, SIZES, read_ocr_csv
from course.datasets.synthetic_ocr import glyph_table, make_synthetic_ocr, make_synthetic_set, write_ocr_csv


def test_same_seed_same_set_other_seed_other_set():
    a, b, c = make_synthetic_set(200, 7), make_synthetic_set(200, 7), make_synthetic_set(200, 8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert (a[0] != c[0]).any()


@pytest.mark.parametrize("size", ["small", "medium", "large"])
def test_sizes_format_and_balanced_classes(size):
    X_train, y_train, X_test, y_test = make_synthetic_ocr(size, seed=0)
    assert (len(X_train), len(X_test)) == SIZES[size]
    for X, y in ((X_train, y_train), (X_test, y_test)):
        assert X.dtype == np.uint8 and X.shape[1] == 128 and set(np.unique(X)) == {0, 1}
        assert y.dtype == np.int64 and np.bincount(y, minlength=10).tolist() == [len(y) // 10] * 10
        ink = X.sum(1)
        assert ink.min() >= 6, "a letter rendered (almost) blank"
        assert 0.1 < X.mean() < 0.35  # the handout's letters: about 0.21
    assert (X_train[:50] != X_test[:50]).any()  # train and test are independent draws


def test_glyph_table_covers_every_face_and_letter():
    sdf, x_height, ink_box = glyph_table()
    assert sdf.shape[1] == len(LETTERS) and np.isfinite(sdf).all()
    assert (sdf.max(axis=(2, 3)) > 0).all(), "a glyph with no inside"
    assert ((x_height > 0.3) & (x_height < 0.7)).all()
    assert (ink_box[..., 1] > ink_box[..., 0]).all()


def test_letters_are_distinguishable():
    """A nearest-centroid classifier fitted on the train set beats chance (10%) by far on the test set."""
    X_train, y_train, X_test, y_test = make_synthetic_ocr("small", seed=0)
    centroids = np.stack([X_train[y_train == k].mean(0) for k in range(10)])
    predicted = ((X_test[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(1)
    assert (predicted == y_test).mean() > 0.5


def test_written_set_reads_back_in_the_handout_format(tmp_path):
    X, y = make_synthetic_set(30, 0)
    write_ocr_csv(tmp_path / "smallTrain.csv", X, y)
    X2, y2 = read_ocr_csv(tmp_path / "smallTrain.csv")
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert len((tmp_path / "smallTrain.csv").read_bytes()) == 30 * 258  # the handout's exact byte layout
