"""Edges of a run that used to end in a traceback or a wrong sentence: a full disk while saving, a divergence before
any checkpoint, gradients that overflow on both sides of the parity check, empty batches and empty sequences, the
memory of whole-set evaluation, and runs that pile up on disk."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from helpers_training import REPO, fit_args, run_dir, run_main, skip_figures, subprocess_env


# ---- a full disk while saving ------------------------------------------------------------------------------------

class FullDisk:
    """``os`` as `lightning_ffnn.atomic` sees it, whose ``fsync`` fails with "no space left" from call ``fail_from``."""

    def __init__(self, fail_from: int):
        self.fail_from, self.calls = fail_from, 0

    def __getattr__(self, name):
        return getattr(os, name)

    def fsync(self, fd):
        self.calls += 1
        if self.calls >= self.fail_from:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        os.fsync(fd)


def test_disk_full_while_saving_stops_with_one_line_and_keeps_the_previous_checkpoint(tmp_path, capsys, monkeypatch):
    from lightning_ffnn import atomic

    skip_figures(monkeypatch)
    disk = FullDisk(fail_from=3)  # epoch 0 writes best-epoch=0.ckpt and last.ckpt; epoch 1's first write fails
    monkeypatch.setattr(atomic, "os", disk)
    code, out, err = run_main(fit_args("ocr_small", tmp_path, "--trainer.max_epochs", "3",
                                       "--trainer.logger.init_args.name", "full"), capsys)
    assert code == 1 and "Traceback" not in err, err
    (line,) = err.strip().splitlines()
    assert line.startswith("error: cannot write ") and "the disk is full (No space left on device)" in line, line
    assert "resume with --ckpt_path last" in line, line
    checkpoints = run_dir(tmp_path, "full") / "checkpoints"
    assert torch.load(checkpoints / "last.ckpt", weights_only=False)["epoch"] == 0, "the previous last.ckpt is kept"
    assert not list(checkpoints.glob(".*.tmp")), "no temporary file is left behind"


# ---- divergence: which checkpoint is kept --------------------------------------------------------------------------

@pytest.mark.parametrize("lr, kept", [("1.3", "The last good checkpoint is kept: "),
                                      ("100", "No checkpoint was written: it diverged before its first evaluated epoch")])
def test_divergence_says_which_checkpoint_is_kept(lr, kept, tmp_path, capsys, monkeypatch):
    skip_figures(monkeypatch)
    code, out, err = run_main(fit_args("regression", tmp_path, "--model.hidden_sizes", "[]", "--model.optimizer", "sgd",
                                       "--model.lr", lr, "--trainer.max_epochs", "4",
                                       "--trainer.logger.init_args.name", "diverge"), capsys)
    assert code == 1, err
    message = err.strip().splitlines()[-1]
    assert "training diverged" in message and kept in message, message
    last = run_dir(tmp_path, "diverge") / "checkpoints" / "last.ckpt"
    if "kept:" in kept:
        assert message.endswith(str(last)) and last.is_file(), message
    else:
        assert not last.exists()


# ---- the parity check when both sides overflow -------------------------------------------------------------------

def test_parity_check_where_both_sides_overflow_to_the_same_inf_agrees():
    """float32: x near the largest float, a weight that keeps the output small, so the loss is finite but
    dL/dW = dL/dout * x overflows to +inf through the NumPy backward and through autograd alike."""
    from lightning_ffnn.callbacks import GradientParityCheck
    from lightning_ffnn.models import SpecNetModule

    model = SpecNetModule(backend="numpy", hidden_sizes=[], task="regression", input_shape=[1], output_dim=1)
    with torch.no_grad():
        model.net[0].weight.fill_(1e-38)
        model.net[0].bias.fill_(0.0)
    x, y = torch.full((4, 1), 3e38), torch.zeros(4, 1)
    with np.errstate(over="ignore"):  # NumPy warns of the overflow: that is the case
        mine = torch.autograd.grad(model.loss_fn(model.net(x), y), [model.net[0].weight])[0]
        assert torch.isinf(mine).all() and torch.isfinite(model.loss_fn(model.net(x), y)), "inf gradient, finite loss"
        result = GradientParityCheck().compare(model, x, y)
    assert result["max"] <= 1e-3, result


# ---- empty batches and empty sequences -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_conv2d_on_a_batch_of_zero_equals_torch(dtype):
    from lightning_ffnn.layers_cnn import NumpyConv2d

    conv = NumpyConv2d(2, 3, 3, stride=1, padding=1, dtype=dtype)
    twin = conv.native()
    twin.load_state_dict(conv.state_dict())
    results = []
    for module in (conv, twin):
        x = torch.zeros(0, 2, 5, 4, dtype=dtype, requires_grad=True)
        out = module(x)
        out.sum().backward()
        results.append((out.shape, x.grad.shape, module.weight.grad.clone(), module.bias.grad.clone()))
    (shape, dx, dW, db), (t_shape, t_dx, t_dW, t_db) = results
    assert shape == t_shape == (0, 3, 5, 4) and dx == t_dx == (0, 2, 5, 4)
    torch.testing.assert_close(dW, t_dW, rtol=0, atol=0)
    torch.testing.assert_close(db, t_db, rtol=0, atol=0)


@pytest.mark.parametrize("output", ["all", "last"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_rnn_on_an_empty_sequence(output, num_layers):
    """T = 0: no step runs. "all" gives (N, 0, H) and zero gradients; "last" gives the top layer's initial
    state, so its gradient goes to h0 unchanged. Checked against central differences in float64."""
    from numpy_ops.gradcheck import numerical_gradient
    from numpy_ops.rnn import RNNOp

    rng = np.random.default_rng(0)
    op, N, D, H = RNNOp("tanh", num_layers, output), 3, 2, 4
    params = []
    for layer in range(num_layers):
        params += [rng.standard_normal((H, D if layer == 0 else H)), rng.standard_normal((H, H)),
                   rng.standard_normal(H), rng.standard_normal(H)]
    x, h0 = np.zeros((N, 0, D)), rng.standard_normal((num_layers, N, H))
    out, cache = op.forward(x, *params, h0)
    assert out.shape == ((N, 0, H) if output == "all" else (N, H))
    dout = rng.standard_normal(out.shape)
    dx, *dparams, dh0 = op.backward(dout, cache)
    assert dx.shape == (N, 0, D) and all(not g.any() for g in dparams)
    probe = h0.copy()
    want = numerical_gradient(lambda: float((op.forward(x, *params, probe)[0] * dout).sum()), probe)
    np.testing.assert_allclose(dh0, want, rtol=1e-7, atol=1e-9)
    if output == "last":
        np.testing.assert_array_equal(dh0[-1], dout)


# ---- evaluation memory -------------------------------------------------------------------------------------------

CNN = [{"type": "conv2d", "out_channels": 32, "kernel_size": 5, "padding": "same"},
       {"type": "activation", "name": "relu"}, {"type": "max_pool2d", "kernel_size": 2},
       {"type": "conv2d", "out_channels": 64, "kernel_size": 5, "padding": "same"},
       {"type": "activation", "name": "relu"}, {"type": "max_pool2d", "kernel_size": 2}, {"type": "flatten"}]
# The peak memory of one whole-set evaluation, in a fresh process: (peak before, peak after) in KiB.
EVALUATE = """
import json, resource, sys
import torch
from lightning_ffnn import network_check
from lightning_ffnn.models import SpecNetModule
network_check.EVAL_MEMORY_BUDGET = 32 << 20
setting = sys.argv[2] if sys.argv[2] in ("auto", "whole") else int(sys.argv[2])
model = SpecNetModule(backend="numpy", layers=json.loads(sys.argv[1]), task="classification",
                   input_shape=[1, 28, 28], output_dim=10, eval_batch_size=setting)
torch.manual_seed(0)
x, y = torch.rand(400, 1, 28, 28), torch.randint(0, 10, (400,))
with torch.inference_mode():
    model.evaluate(x[:2], y[:2])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loss = model.evaluate(x, y)["loss"].item()
print(json.dumps([before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, loss]))
"""


@pytest.mark.slow  # ~10 s: two fresh processes
def test_evaluation_in_chunks_by_default_bounds_its_memory():
    """400 MNIST-sized images through the MNIST CNN's conv layers (numpy backend) with a 32 MiB budget: evaluated
    at once the peak grows by ~250 MiB (im2col columns); in automatic chunks by about the budget, same loss."""
    grown, losses = {}, {}
    for setting in ("whole", "auto"):
        done = subprocess.run([sys.executable, "-c", EVALUATE, json.dumps(CNN), setting], capture_output=True,
                              text=True, env=subprocess_env(), cwd=REPO, timeout=300)
        assert done.returncode == 0, done.stderr
        before, after, losses[setting] = json.loads(done.stdout.strip().splitlines()[-1])
        grown[setting] = (after - before) / 1024  # MiB
    assert grown["auto"] <= 2 * 32, grown
    assert grown["whole"] >= 4 * max(grown["auto"], 1), grown
    assert abs(losses["auto"] - losses["whole"]) <= 1e-5 * abs(losses["whole"]), losses


def test_automatic_chunks_keep_small_networks_whole_and_split_large_ones():
    from lightning_ffnn.network_check import EVAL_MEMORY_BUDGET, activation_bytes, eval_chunk_size
    from numpy_ops import spec as S

    mlp = S.mlp_spec([64, 64], "sigmoid", 10)
    assert eval_chunk_size(mlp, (784,), torch.float32) > 70_000, "an MLP evaluates even MNIST in one pass"
    cnn = S.parse([*CNN, {"type": "linear", "out_features": 10}])
    per_example = activation_bytes(cnn, (1, 28, 28), torch.float32)
    # the second conv's im2col columns: 14 * 14 pixels * 5 * 5 * 32 values, with its input and output, twice
    assert per_example == 2 * 4 * (32 * 14 * 14 + 64 * 14 * 14 + 14 * 14 * 25 * 32)
    assert eval_chunk_size(cnn, (1, 28, 28), torch.float32) == EVAL_MEMORY_BUDGET // per_example


def test_eval_batch_size_whole_and_numbers_give_the_same_metrics():
    from lightning_ffnn.models import SpecNetModule

    x, y = torch.randn(50, 1, 8, 8, dtype=torch.float64), torch.randint(0, 3, (50,))
    layers = [{"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "flatten"}]
    metrics = {}
    for setting in ("auto", "whole", 7):
        model = SpecNetModule(backend="numpy", layers=layers, dtype="float64", task="classification",
                           input_shape=[1, 8, 8], output_dim=3, eval_batch_size=setting)
        metrics[setting] = {k: v.item() for k, v in model.evaluate(x, y).items()}
    assert metrics["auto"] == metrics["whole"]
    assert metrics[7]["accuracy"] == metrics["whole"]["accuracy"]
    assert abs(metrics[7]["loss"] - metrics["whole"]["loss"]) <= 1e-12
    with pytest.raises(ValueError, match="model.eval_batch_size must be an integer >= 1, 'auto' or 'whole'"):
        SpecNetModule(eval_batch_size=0)


# ---- runs on disk -------------------------------------------------------------------------------------------------

def test_prune_runs_keeps_the_newest_versions(tmp_path, capsys):
    import importlib.util

    root = tmp_path / "runs" / "cnn"
    for v in (0, 1, 2, 10):
        (root / f"version_{v}" / "checkpoints").mkdir(parents=True)
        (root / f"version_{v}" / "checkpoints" / "last.ckpt").write_bytes(b"x" * 1000 * (v + 1))
    (root / "notes").mkdir()
    spec = importlib.util.spec_from_file_location("prune_runs", REPO / "scripts" / "prune_runs.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    assert script.main([str(root), "--keep", "2", "--dry_run"]) == 0
    assert "would remove 2 run(s)" in capsys.readouterr().out and (root / "version_0").exists()
    assert script.main([str(root), "--keep", "2"]) == 0
    assert sorted(p.name for p in root.iterdir()) == ["notes", "version_10", "version_2"], "version 10 is newer than 2"
    assert script.main([str(tmp_path / "nothing"), "--keep", "1"]) == 2
