"""The zoo's labs (norm, gated, attention) and the checker's named mistakes, on both paths.

Each mistake is an edit a student could make to the project's own code (a line or two of it). The same edit is
checked twice: in a completed handout by its ``check.py`` (which has only the mistakes' recorded results), and
by `check_op`'s path (`course.opcheck.check` against the reference, the mistakes' ops run live) on the edited
file loaded as a user's op. Both must name the mistake; the right code names none.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course.kit.build import ROOT, build
from course.opcheck import check, get_reference
from course.opcheck.report import format_report

ZOO_LABS = ("norm", "gated", "attention")

# (lab, task, file, (class, kwargs), [(the right line, a wrong one)], the mistake's key, words of its hint)
MISTAKES = [
    ("norm", "batch_norm", "norm.py", ("BatchNormOp", dict(training=True)),
     [("return (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)) * inv_std",
       "return (g - xhat * (g * xhat).mean(axis=axes, keepdims=True)) * inv_std")],
     "bn_mean_path", "path through the batch mean"),
    ("norm", "batch_norm", "norm.py", ("BatchNormOp", dict(training=True)),
     [("running_var += self.momentum * var.reshape(shape) * (m / (m - 1))",
       "running_var += self.momentum * var.reshape(shape)")],
     "bn_biased_running_var", "biased batch variance"),
    ("norm", "batch_norm_eval", "norm.py", ("BatchNormOp", dict(training=False)),
     [("mean, var = self._per_channel(running_mean, x), self._per_channel(running_var, x)",
       "mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)")],
     "bn_batch_stats_in_eval", "batch's own mean and variance"),
    ("norm", "layer_norm", "norm.py", ("LayerNormOp", {}),
     [("return (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)) * inv_std",
       "return (g - xhat * (g * xhat).mean(axis=axes, keepdims=True)) * inv_std")],
     "ln_mean_path", "path through the example's mean"),
    ("norm", "layer_norm", "norm.py", ("LayerNormOp", {}),
     [("return (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True)) * inv_std",
       "return (g - g.mean(axis=axes, keepdims=True)) * inv_std")],
     "ln_variance_path", "path through the example's variance"),
    ("norm", "layer_norm", "norm.py", ("LayerNormOp", {}),
     [("axes = tuple(range(-self.ndim, 0))", "axes = tuple(range(x.ndim - self.ndim))")],
     "ln_over_the_batch", "taken over the batch"),
    ("gated", "lstm_forward", "lstm.py", ("LSTMOp", {}),
     [("gt[:, 2] = np.tanh(a[:, 2])", "gt[:, 3] = np.tanh(a[:, 3])"),
      ("c = gt[:, 1] * c + gt[:, 0] * gt[:, 2]", "c = gt[:, 1] * c + gt[:, 0] * gt[:, 3]"),
      ("h = gt[:, 3] * np.tanh(c)", "h = gt[:, 2] * np.tanh(c)")],
     "gate_order", "gates read in the order i, f, o, g"),
    ("gated", "lstm_backward", "lstm.py", ("LSTMOp", {}),
     [("i, f, g, o = (gates[:, :, k] for k in range(4))", "i, f, o, g = (gates[:, :, k] for k in range(4))")],
     "gate_order", "backward reads the gates in the order i, f, o, g"),
    ("gated", "lstm_backward", "lstm.py", ("LSTMOp", {}),
     [("dc = dc * f[:, t]", "dc = dc * 0")],
     "lstm_cell_path", "cell state's path through time"),
    ("gated", "gru_forward", "gru.py", ("GRUOp", {}),
     [("gt[:, 2] = np.tanh(xw[:, t, 2 * H:] + gt[:, 0] * hn[:, t])",
       "gt[:, 2] = np.tanh(xw[:, t, 2 * H:] + gt[:, 1] * hn[:, t])"),
      ("hs[:, t] = h = gt[:, 2] + gt[:, 1] * (h - gt[:, 2])  # (1 - z) n + z h",
       "hs[:, t] = h = gt[:, 2] + gt[:, 0] * (h - gt[:, 2])")],
     "gate_order", "gates read in the order z, r, n"),
    ("gated", "gru_backward", "gru.py", ("GRUOp", {}),
     [("r, z, n = (gates[:, :, k] for k in range(3))", "z, r, n = (gates[:, :, k] for k in range(3))")],
     "gate_order", "backward reads the gates in the order z, r, n"),
    ("gated", "gru_forward", "gru.py", ("GRUOp", {}),
     [("gt[:, 2] = np.tanh(xw[:, t, 2 * H:] + gt[:, 0] * hn[:, t])",
       "gt[:, 2] = np.tanh(xw[:, t, 2 * H:] + b_hh[2 * H:] + gt[:, 0] * (hn[:, t] - b_hh[2 * H:]))")],
     "gru_b_hn_outside", "b_hn placed outside the reset gate"),
    ("gated", "gru_backward", "gru.py", ("GRUOp", {}),
     [("grads[4 * l:4 * l + 4], dup = self._param_grads(d_ih, d_hh, inp, prev, W_ihs[l])",
       "grads[4 * l:4 * l + 4], dup = self._param_grads(d_ih, d_hh, inp, prev, W_ihs[l]); "
       "grads[4 * l + 3][2 * H:] = grads[4 * l + 2][2 * H:]")],
     "gru_b_hn_outside", "as if b_hn sat outside the reset gate"),
    ("gated", "gru_backward", "gru.py", ("GRUOp", {}),
     [("dh = dh * z[:, t] + (dh[:, None] * to_hh[:, t]).reshape(N, 3 * H) @ W_hh",
       "dh = (dh[:, None] * to_hh[:, t]).reshape(N, 3 * H) @ W_hh")],
     "gru_update_path", "direct path from h_{t-1} to h_t"),
    ("attention", "embedding", "embedding.py", ("EmbeddingOp", {}),
     [("np.add.at(dweight, indices.reshape(-1), dout.reshape(-1, dout.shape[-1]))",
       "dweight[indices.reshape(-1)] += dout.reshape(-1, dout.shape[-1])")],
     "embedding_repeats", "repeated indices"),
    ("attention", "attention", "attention.py", ("AttentionOp", dict(num_heads=2)),
     [("return p * (dp - (dp * p).sum(axis=-1, keepdims=True))", "return p * dp")],
     "attn_row_sum", "misses its row-sum term"),
    ("attention", "attention", "attention.py", ("AttentionOp", dict(num_heads=2)),
     [("s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1])", "s = q @ k.transpose(0, 1, 3, 2)")],
     "attn_scale", "1/sqrt(d) is missing from the forward"),
    ("attention", "attention", "attention.py", ("AttentionOp", dict(num_heads=2)),
     [("ds = self.softmax_backward(dp, p) / math.sqrt(q.shape[-1])", "ds = self.softmax_backward(dp, p)")],
     "attn_scale", "1/sqrt(d) is missing from the backward"),
    ("attention", "causal_attention", "attention.py", ("AttentionOp", dict(num_heads=2, causal=True)),
     [("s = np.where(causal_mask(x.shape[1]), -np.inf, s)", "s = s * 1.0"),
      ("return q, k, v, softmax_last(s)",
       "return q, k, v, np.where(self.causal & causal_mask(x.shape[1]), 0.0, softmax_last(s))")],
     "attn_mask_after_softmax", "mask is applied after the softmax"),
    ("attention", "causal_attention", "attention.py", ("AttentionOp", dict(num_heads=2, causal=True)),
     [("s = np.where(causal_mask(x.shape[1]), -np.inf, s)", "s = s * 1.0")],
     "attn_no_mask", "no causal mask"),
]
IDS = [f"{m[1]}:{m[5]}:{m[4][0][1][:24]}" for m in MISTAKES]


def edited(text: str, edits) -> str:
    for right, wrong in edits:
        text, n = re.subn(rf"(?m)^(\s*){re.escape(right)}$", lambda m: m.group(1) + wrong, text, count=1)
        assert n == 1, f"no line {right!r}"
    return text


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    base = tmp_path_factory.mktemp("zoo")
    return {lab: build(lab, base / lab, solutions=True) for lab in ZOO_LABS}


def handout_results(folder: Path, *args: str) -> list[dict]:
    done = subprocess.run([sys.executable, "check.py", *args, "--json"], cwd=folder, capture_output=True,
                          text=True, timeout=120)
    value = json.loads(done.stdout)
    return [value] if isinstance(value, dict) else value


@pytest.mark.parametrize("lab, task, file, op, edits, key, words", MISTAKES, ids=IDS)
def test_the_handout_names_the_mistake(teacher, tmp_path, lab, task, file, op, edits, key, words):
    handout = tmp_path / lab
    shutil.copytree(teacher[lab], handout)
    path = handout / "numpy_ops" / file
    path.write_text(edited(path.read_text(), edits))
    (result,) = handout_results(handout, task)
    assert result["status"] == "FAIL", result
    named = [line for line in result["lines"] if line.strip().startswith("HINT:") and words in line]
    assert named, result["lines"]


@pytest.mark.parametrize("lab, task, file, op, edits, key, words", MISTAKES, ids=IDS)
def test_check_op_names_the_mistake(tmp_path, lab, task, file, op, edits, key, words):
    """The edited file, loaded as a user's op (its relative imports made absolute), against the reference."""
    text = edited((ROOT / "numpy_ops" / file).read_text(), edits).replace("from .", "from numpy_ops.")
    path = tmp_path / f"student_{file}"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(f"student_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls, kwargs = op
    reference = dict(batch_norm="batch_norm", batch_norm_eval="batch_norm_eval", layer_norm="layer_norm",
                     attention="attention", causal_attention="causal_attention").get(task, task.split("_")[0])
    report = check(getattr(module, cls)(**kwargs), like=reference)
    assert not report.passed
    assert report.mistake and report.mistake[0] == key, (report.mistake, report.hints())
    assert words in report.mistake[1] and f"HINT: {report.mistake[1]}" in format_report(report)
    assert report.hints()[0] == report.mistake[1]


@pytest.mark.parametrize("like", ["batch_norm", "batch_norm_eval", "layer_norm", "lstm", "gru", "embedding",
                                  "attention", "causal_attention"])
def test_the_right_op_gets_no_hint(like):
    report = check(get_reference(like).make_op(), like=like)
    assert report.passed and report.mistake is None
    assert "HINT" not in format_report(report)


PROBES = dict(norm=("m.BatchNormWithoutMeanPath().backward(None, None)", "batch_norm"),
              gated=("m.lstm_backward_steps(None, None)", "lstm_backward"),
              attention=("m.AttentionWithoutRowSum().softmax_backward(None, None)", "attention"))


@pytest.mark.parametrize("lab", ZOO_LABS)
def test_the_completed_handout_names_nothing_and_the_handout_ships_no_mutant(teacher, tmp_path, lab):
    results = handout_results(teacher[lab])
    assert all(r["status"] == "PASS" for r in results)
    assert not any("HINT" in line for r in results for line in r["lines"])
    # the student's copy: the mutants' bodies are stripped, their recorded results are numbers
    student = build(lab, tmp_path / "student")
    call, task = PROBES[lab]
    probe = subprocess.run([sys.executable, "-c", f"from course.opcheck import mutants as m; {call}"], cwd=student,
                           capture_output=True, text=True)
    assert f"NotImplementedError: TODO ({task}): hidden in this handout" in probe.stderr
    data = json.loads((student / "check_data.json").read_text())
    recorded = [m for t in data["tasks"].values() for m in t.get("mistakes", {}).get("known", [])]
    assert recorded and {"key", "hint", "phase", "cases"} == set(recorded[0])
