"""The speed paths change nothing but speed: several optimizer steps per Lightning call give the same
numbers as one (the grouped batches themselves: tests/test_datamodules.py), and the benchmark runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from helpers_training import REPO, run_fit


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_steps_per_call_gives_the_same_run(tmp_path, backend):
    common = ["--model.backend", backend, "--model.dtype", "float64", "--trainer.max_epochs", "2",
              "--data.init_args.batch_size", "30", "--parity.every_n_steps", "3"]
    one = run_fit("ocr_small", tmp_path / "one", *common, "--speed.steps_per_call", "1")
    many = run_fit("ocr_small", tmp_path / "many", *common, "--speed.steps_per_call", "7")
    assert [e["step"] for e in one["epochs"]] == [e["step"] for e in many["epochs"]] == [17, 34]
    assert one["epochs"] == many["epochs"], "several steps per call must not change a single number"
    w1 = torch.load(tmp_path / "one" / "ocr_small" / "version_0" / "checkpoints" / "last.ckpt", weights_only=False)
    w7 = torch.load(tmp_path / "many" / "ocr_small" / "version_0" / "checkpoints" / "last.ckpt", weights_only=False)
    for k, v in w1["state_dict"].items():
        assert torch.equal(v, w7["state_dict"][k]), k


def test_parity_check_runs_at_every_nth_optimizer_step_with_grouped_calls(tmp_path, monkeypatch):
    from lightning_ffnn.callbacks import GradientParityCheck

    steps = []
    original = GradientParityCheck.compare

    def spy(self, pl_module, x, y):
        steps.append(pl_module.trainer.global_step)
        return original(self, pl_module, x, y)

    monkeypatch.setattr(GradientParityCheck, "compare", spy)
    run_fit("ocr_small", tmp_path, "--model.backend", "numpy", "--trainer.max_epochs", "1",
            "--data.init_args.batch_size", "50", "--speed.steps_per_call", "4", "--parity.every_n_steps", "3")
    assert steps == [0, 3, 6, 9]  # 10 optimizer steps in groups of 4: checked on steps, not on calls


def test_bench_quick_runs_and_reports_every_path(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    (case,) = data["results"]
    assert set(case["median_s"]) == set("abcdef")
    losses = list(case["final_train_loss"].values())
    assert max(losses) - min(losses) < 1e-4, f"the paths did not do the same work: {case['final_train_loss']}"
    assert "| b/a | d/c | e/d | f/e |" in proc.stdout
