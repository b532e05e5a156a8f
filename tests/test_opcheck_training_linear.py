"""A user's linear op (``x @ W.T + b``, W stored (out, in)) trains in place of the project's, as an activation does:
in the NumPy network, through the bridge under the gradient-parity check (right: it trains; wrong: the run stops
with the checker's hint), and its parameters match nn.Linear's, so the twin and checkpoints are the same."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

from lightning_ffnn.callbacks import GradientParityCheck, GradientParityError
from lightning_ffnn.layers import NumpyUserLinear
from lightning_ffnn.models import SpecNetModule
from lightning_ffnn.user_ops import explain_user_ops
from numpy_ops import network as np_network
from numpy_ops import spec as S
from test_opcheck_training import fit_on_xor

AFFINE = """
    import numpy as np

    def affine_forward(x, w, b):
        return x @ w.T + b, (x, w)

    def affine_backward(dout, cache):
        x, w = cache
        return dout @ w, dout.T @ x, dout.sum(axis=0)

    def twice_db_forward(x, w, b):
        return affine_forward(x, w, b)

    def twice_db_backward(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        return dx, dw, 2 * db          # a factor 2 on the bias gradient
"""


@pytest.fixture
def ops_file(tmp_path):
    path = tmp_path / "my_layers.py"
    path.write_text(textwrap.dedent(AFFINE))
    return path


def _layers(op: str) -> list[dict]:
    return [{"type": "linear", "out_features": 3, "op": op}, {"type": "activation", "name": "tanh"}]


def _xor_run(op: str, callback) -> SpecNetModule:
    return fit_on_xor(_layers(op), callback, max_epochs=2)


def test_spec_of_a_user_linear_op(ops_file):
    layer = S.parse_layer({"type": "linear", "out_features": 3, "op": f"{ops_file}:affine"})
    assert isinstance(layer, S.UserLinear) and layer.out_features == 3 and layer.path == f"{ops_file}:affine"
    assert S.parse_layer(layer.to_dict()) == layer  # the YAML form round-trips
    with pytest.raises(ValueError, match="no such file"):
        S.parse_layer({"type": "linear", "out_features": 3, "op": "nowhere.py:affine"})


def test_a_user_linear_op_trains_in_the_numpy_network_like_the_projects(ops_file):
    x = np.random.default_rng(1).normal(size=(5, 4))
    mine = np_network.build(_layers(f"{ops_file}:affine"), 4, np.random.default_rng(0))
    ours = np_network.build([{"type": "linear", "out_features": 3}, {"type": "activation", "name": "tanh"}], 4,
                            np.random.default_rng(0))
    np.testing.assert_allclose(mine.forward(x), ours.forward(x), rtol=0, atol=1e-15)


def test_a_right_user_linear_op_trains_under_the_parity_check(ops_file):
    check = GradientParityCheck(every_n_steps=1)
    model = _xor_run(f"{ops_file}:affine", check)
    assert isinstance(model.net[0], NumpyUserLinear)
    assert set(dict(model.net[0].named_parameters())) == {"weight", "bias"}  # nn.Linear's names and layout
    assert model.net[0].weight.shape == (3, 2)
    assert check.last and check.last["max"] < 1e-12
    assert explain_user_ops(model.net) == ""
    native = model.net[0].native()
    native.load_state_dict(model.net[0].state_dict())
    x = torch.randn(6, 2, dtype=torch.float64)
    torch.testing.assert_close(model.net[0](x), native(x), rtol=0, atol=1e-14)


def test_a_wrong_user_linear_op_stops_training_with_the_checkers_hint(ops_file):
    with pytest.raises(GradientParityError) as info:
        _xor_run(f"{ops_file}:twice_db", GradientParityCheck(every_n_steps=1))
    message = str(info.value)
    assert f"layer 0 ({ops_file}:twice_db) fails `python scripts/check_op.py {ops_file}:twice_db --like linear`" in message
    assert "HINT: b: off by a constant factor 2" in message
