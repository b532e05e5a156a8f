"""A user's own activation, from a file, trains in place; a wrong one stops the run with the checker's hint."""

from __future__ import annotations

import textwrap

import lightning as L
import pytest

from helpers_training import run_fit, skip_figures
from lightning_ffnn.callbacks import GradientParityCheck, GradientParityError
from lightning_ffnn.datamodules import XORDataModule
from lightning_ffnn.layers import NumpyUserActivation
from lightning_ffnn.models import SpecNetModule, data_settings
from lightning_ffnn.user_ops import explain_user_ops
from numpy_ops import spec as S

SIGMOIDS = """
    import numpy as np

    class MySigmoid:
        def forward(self, x):
            s = 1 / (1 + np.exp(-x))
            return s, (x, s)

        def backward(self, dout, cache):
            x, s = cache
            return (dout * s * (1 - s),)

    class WrongSigmoid(MySigmoid):
        like = "sigmoid"

        def backward(self, dout, cache):
            x, s = cache
            return (dout * x * (1 - x),)   # sigmoid'(x) written with x
"""


@pytest.fixture
def ops_file(tmp_path):
    path = tmp_path / "my_ops.py"
    path.write_text(textwrap.dedent(SIGMOIDS))
    return path


def test_spec_forms_of_a_user_activation(ops_file):
    short = S.mlp_spec([3], f"{ops_file}:MySigmoid@sigmoid", 2)[1]
    assert isinstance(short, S.UserActivation) and short.name == "sigmoid" and short.path == f"{ops_file}:MySigmoid"
    inferred = S.parse_layer({"type": "activation", "name": f"{ops_file}:MySigmoid"})  # the name says sigmoid
    assert inferred == short
    from_like_attr = S.parse_layer({"type": "activation", "name": f"{ops_file}:WrongSigmoid"})
    assert from_like_attr.name == "sigmoid"
    assert S.parse_layer(short.to_dict()) == short  # the YAML form round-trips
    assert S.following_nonlinearity([S.Linear(3), short], 0) == "sigmoid"  # the init gain is the reference's
    with pytest.raises(ValueError, match="no such file"):
        S.parse_layer({"type": "activation", "name": "nowhere.py:X@sigmoid"})


def test_trains_with_a_user_file_activation_from_the_command_line(ops_file, tmp_path, monkeypatch):
    skip_figures(monkeypatch)
    results = run_fit("xor", tmp_path, "--model.backend", "numpy", "--model.dtype", "float64",
                      "--model.activation", f"{ops_file}:MySigmoid@sigmoid", "--trainer.max_epochs", "2",
                      "--trainer.check_val_every_n_epoch", "1", "--parity.every_n_steps", "1")
    assert len(results["epochs"]) == 2


def fit_on_xor(layers: list[dict], callback, max_epochs: int = 1) -> SpecNetModule:
    """A float64 numpy-backend network of ``layers`` trained on XOR in batches of 4 with ``callback`` (a parity
    check), no logs or evaluation."""
    data = XORDataModule(batch_size=4, dtype="float64")
    model = SpecNetModule(backend="numpy", dtype="float64", layers=layers, **data_settings(data))
    trainer = L.Trainer(max_epochs=max_epochs, callbacks=[callback], logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                        limit_val_batches=0)
    trainer.fit(model, datamodule=data)
    return model


def _xor_run(activation_file: str, callback) -> SpecNetModule:
    return fit_on_xor([{"type": "linear", "out_features": 3}, {"type": "activation", "name": activation_file}],
                      callback)


def test_a_right_user_op_in_the_layer_list_trains_under_the_parity_check(ops_file):
    check = GradientParityCheck(every_n_steps=1)
    model = _xor_run(f"{ops_file}:MySigmoid", check)
    assert isinstance(model.net[1], NumpyUserActivation)
    assert check.last and check.last["max"] < 1e-12
    assert explain_user_ops(model.net) == ""


def test_a_wrong_user_op_stops_training_with_the_checkers_hint(ops_file):
    with pytest.raises(GradientParityError) as info:
        _xor_run(f"{ops_file}:WrongSigmoid", GradientParityCheck(every_n_steps=1))
    message = str(info.value)
    assert "gradient parity check failed at epoch 0, global step 0" in message
    assert f"layer 1 ({ops_file}:WrongSigmoid) fails `python scripts/check_op.py" in message
    assert "HINT: x: the output used where the input belongs" in message
