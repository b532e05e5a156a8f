"""The normalization and GPT configs trained by Lightning with both backends: the same per-epoch numbers in float64
(the gradient parity check at every step), batch norm's running statistics in the checkpoint, the activation
statistics of the normalization lab, and the character data served as indices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers_training import assert_runs_agree, checkpoint_weights, run_dir, run_fit, skip_figures
from lightning_ffnn.activation_stats import (activation_positions, common_fraction, layer_activations, summary,
                                             weight_gradient_norms)
from lightning_ffnn.datamodules.text import CharTextDataModule, sample_text
from lightning_ffnn.models import SpecNetModule

F64 = ["--model.dtype", "float64", "--trainer.logger.init_args.name", "run", "--trainer.max_epochs", "2",
       "--parity.every_n_steps", "1"]
TINY_GPT = ["--data.init_args.source", "zen", "--data.init_args.seq_len", "8", "--data.init_args.stride", "8",
            "--model.layers", "[{type: embedding, num_embeddings: 76, embedding_dim: 8}, {type: position_embedding}, "
            "{type: residual, layers: [{type: layer_norm}, {type: attention, num_heads: 2, causal: true}]}, "
            "{type: residual, layers: [{type: layer_norm}, {type: linear, out_features: 16}, "
            "{type: activation, name: gelu}, {type: linear, out_features: 8}]}, {type: layer_norm}]"]
#: the config's own structure (dropout 0.1 on the embeddings and 0.3 on each residual branch's output, two blocks;
#: its AdamW and schedule), tiny and short
TINY_GPT_DROPOUT = ["--data.init_args.source", "zen", "--data.init_args.seq_len", "8", "--data.init_args.stride", "8",
                    "--trainer.limit_train_batches", "6", "--model.layers",
                    "[{type: embedding, num_embeddings: 76, embedding_dim: 8}, {type: position_embedding}, "
                    "{type: dropout, p: 0.1}, "
                    + 2 * ("{type: residual, layers: [{type: layer_norm}, "
                           "{type: attention, num_heads: 2, causal: true}, {type: dropout, p: 0.3}]}, "
                           "{type: residual, layers: [{type: layer_norm}, "
                           "{type: linear, out_features: 16}, {type: activation, name: gelu}, "
                           "{type: linear, out_features: 8}, {type: dropout, p: 0.3}]}, ")
                    + "{type: layer_norm}]"]
SHALLOW = ["--data.init_args.size", "small", "--model.layers"]
BN = ("[{type: linear, out_features: 16}, {type: batch_norm}, {type: activation, name: sigmoid}, "
      "{type: linear, out_features: 16}, {type: batch_norm, momentum: 0.3}, {type: activation, name: sigmoid}]")
LN = ("[{type: linear, out_features: 16}, {type: layer_norm}, {type: activation, name: sigmoid}, "
      "{type: linear, out_features: 16}, {type: layer_norm}, {type: activation, name: sigmoid}]")


@pytest.mark.parametrize("config, extra", [
    ("char_gpt", TINY_GPT),
    ("char_gpt", TINY_GPT_DROPOUT),
    ("ocr_deep_batchnorm", [*SHALLOW, BN]),
    ("ocr_deep_layernorm", [*SHALLOW, LN]),
])
def test_both_backends_give_the_same_epochs_in_float64(config, extra, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    runs = {b: run_fit(config, tmp_path / b, *F64, *extra, "--model.backend", b) for b in ("numpy", "torch")}
    assert_runs_agree(runs, epochs=2)
    got = checkpoint_weights(run_dir(tmp_path / "numpy", "run") / "checkpoints" / "last.ckpt")
    want = checkpoint_weights(run_dir(tmp_path / "torch", "run") / "checkpoints" / "last.ckpt")
    assert got.keys() == want.keys()
    if config == "ocr_deep_batchnorm":  # the running statistics travel in the checkpoint, and moved
        assert {"net.1.running_mean", "net.1.running_var", "net.1.num_batches_tracked"} <= set(got)
        assert not np.allclose(got["net.1.running_var"], 1.0)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-9, err_msg=key)


def test_layer_activations_and_their_statistics():
    model = SpecNetModule(layers=[{"type": "linear", "out_features": 5}, {"type": "batch_norm"},
                               {"type": "activation", "name": "sigmoid"}, {"type": "linear", "out_features": 4},
                               {"type": "activation", "name": "sigmoid"}],
                       task="classification", input_shape=[3], output_dim=2, dtype="float64")
    model.net.eval()
    x = torch.randn(7, 3, dtype=torch.float64)
    acts = layer_activations(model.net, activation_positions(model.network_spec()), x)
    assert sorted(acts) == [2, 4] and acts[2].shape == (7, 5) and acts[4].shape == (7, 4)
    assert np.all((acts[2] > 0) & (acts[2] < 1))
    stats = summary(np.array([[0.01, 0.5], [0.99, 0.5]]))
    assert stats["saturated"] == 0.5 and abs(stats["mean"] - 0.5) < 1e-12
    assert abs(stats["spread"] - 0.245) < 1e-12  # unit 0 differs between the two examples (0.49), unit 1 not


def test_common_fraction_and_gradient_norms_per_layer():
    same = np.tile([[0.1, 0.9, 0.4]], (5, 1))  # every example the same pattern across units
    assert common_fraction(same) == pytest.approx(1.0)
    assert common_fraction(np.array([[1.0, -1.0], [-1.0, 1.0]])) == 0.0  # the mean example is flat
    assert common_fraction(np.array([[1.0, -1.0], [3.0, -3.0]])) == pytest.approx(0.8)  # mean (2,-2): 4 of 5
    model = SpecNetModule(layers=[{"type": "linear", "out_features": 5}, {"type": "activation", "name": "sigmoid"},
                                  {"type": "linear", "out_features": 4}, {"type": "activation", "name": "sigmoid"}],
                          task="classification", input_shape=[3], output_dim=2, dtype="float64")
    x, y = torch.randn(7, 3, dtype=torch.float64), torch.tensor([0, 1, 1, 0, 1, 0, 0])
    norms = weight_gradient_norms(model.net, torch.nn.CrossEntropyLoss(), x, y)
    assert all(p.grad is None for p in model.net.parameters())  # nothing left behind
    torch.nn.CrossEntropyLoss()(model.net(x), y).backward()
    want = [model.net[i].weight.grad.norm().item() for i in (0, 2, 4)]
    np.testing.assert_allclose(norms, want, rtol=1e-12)


def test_character_data_as_indices_and_sampling_from_an_embedding_model():
    dm = CharTextDataModule(source="zen", seq_len=6, stride=5, batch_size=4, encoding="index")
    dm.setup()
    X, y = dm.eval_sets()["train"]
    assert X.dtype == torch.int64 and X.shape[1:] == (6,) and dm.input_shape == (6,)
    assert torch.equal(X[0, 1:], y[0, :-1])  # the target is the input shifted by one character
    one_hot = CharTextDataModule(source="zen", seq_len=6, stride=5, batch_size=4)
    one_hot.setup()
    assert torch.equal(one_hot.eval_sets()["train"][0].argmax(-1), X)
    model = SpecNetModule(layers=[{"type": "embedding", "num_embeddings": len(dm.vocab), "embedding_dim": 4},
                               {"type": "position_embedding"}],
                       task="classification", input_shape=[6], output_dim=len(dm.vocab))
    text = sample_text(model.net.eval(), dm, "The ", 10, seed=0)
    assert text.startswith("The ") and len(text) == 14
    with pytest.raises(ValueError, match="encoding must be"):
        CharTextDataModule(source="zen", encoding="bytes")
