"""The checker takes a student's op in the course's, CS231n's or torch's conventions and says which it assumed:
affine layers with W (in, out) or w (D, M) and x (N, d1, ..., dk), CS231n's softmax_loss(x, y) -> (loss, dx),
conv_forward_naive(x, w, b, conv_param) and max_pool_forward_naive(x, pool_param)."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.opcheck.cli import main

CS231N = Path(__file__).parent / "data" / "cs231n_layers.py"

COURSE = '''
import numpy as np


def affine_forward(x, W, b):
    assert x.ndim == 2
    return x @ W + b, (x, W)


def affine_backward(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
'''

TORCH = COURSE.replace("x @ W + b", "x @ W.T + b").replace("dout @ W.T, x.T @ dout", "dout @ W, dout.T @ x")


@pytest.mark.parametrize("name, like", [("affine", "linear"), ("softmax_loss", "softmax_cross_entropy"),
                                        ("conv_forward_naive", "conv2d"), ("max_pool_forward_naive", "max_pool2d")])
def test_cs231n_layers_pass_as_written(capsys, name, like):
    assert main([f"{CS231N}:{name}", "--like", like]) == 0
    out = capsys.readouterr().out
    assert "RESULT: PASS" in out and "transposed" not in out
    if like == "linear":
        assert "layout assumed: w (D, M) with x (N, d1, ..., dk)" in out


@pytest.mark.parametrize("source, says", [(COURSE, "layout assumed: W (in, out), z = x W + b"),
                                          (TORCH, "layout assumed: W (out, in), out = x @ W.T + b")])
def test_each_layout_is_detected_and_said(tmp_path, capsys, source, says):
    path = tmp_path / "mine.py"
    path.write_text(source)
    assert main([f"{path}:affine", "--like", "linear"]) == 0
    assert says in capsys.readouterr().out


def test_a_told_layout_is_used(tmp_path, capsys):
    path = tmp_path / "mine.py"
    path.write_text(COURSE)
    assert main([f"{path}:affine", "--like", "linear", "--layout", "course"]) == 0
    assert main([f"{path}:affine", "--like", "linear", "--layout", "torch"]) == 1
    assert main([f"{path}:affine", "--like", "sigmoid", "--layout", "course"]) == 2
    assert "only the linear op has layouts" in capsys.readouterr().err


def test_a_wrong_cs231n_affine_still_fails_with_a_hint(tmp_path, capsys):
    path = tmp_path / "wrong.py"
    path.write_text(CS231N.read_text().replace("db = dout.sum(axis=0)", "db = dout[0]"))
    assert main([f"{path}:affine", "--like", "linear"]) == 1
    out = capsys.readouterr().out
    assert "layout assumed: w (D, M)" in out and "only the first example counted" in out
