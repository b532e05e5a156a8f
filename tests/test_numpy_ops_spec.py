"""The network spec: parsed from its YAML form with clear errors, and built identically by every builder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lightning_ffnn.network import build_network
from numpy_ops import build, flatten, spec as S
from numpy_ops.gradcheck import check_op

LAYERS = [{"type": "linear", "out_features": 5}, {"type": "activation", "name": "tanh"},
          {"type": "linear", "out_features": 3}]


def test_parse_and_round_trip():
    layers = S.parse(LAYERS)
    assert layers == [S.Linear(5), S.Activation("tanh"), S.Linear(3)]
    assert [layer.to_dict() for layer in layers] == [
        {"type": "linear", "out_features": 5}, {"type": "activation", "name": "tanh", "kwargs": {}},
        {"type": "linear", "out_features": 3}]
    assert S.parse([layer.to_dict() for layer in layers]) == layers
    assert S.mlp_spec([5], "tanh", 3) == layers


@pytest.mark.parametrize("item, message", [
    ({"out_features": 5}, r"layer 0: expected a mapping with a 'type'"),
    ({"type": "dense", "units": 5}, r"layer 0: unknown layer type 'dense'; expected one of"),
    ({"type": "linear", "width": 5}, r"layer 0 \(linear\): .*unexpected keyword argument 'width'"),
    ({"type": "linear", "out_features": 0}, r"linear: out_features must be an integer >= 1, got 0"),
    ({"type": "activation", "name": "sigmoidal"}, r"unknown activation 'sigmoidal'"),
])
def test_bad_layers_are_refused_naming_the_layer(item, message):
    with pytest.raises(ValueError, match=message):
        S.parse([item])


def test_shapes_follow_the_layers():
    layers = S.parse([{"type": "flatten"}, *LAYERS])
    assert S.shapes(layers, (1, 4, 2)) == [(1, 4, 2), (8,), (5,), (5,), (3,)]


@pytest.mark.parametrize("init", ["torch_default", "xavier_uniform", "kaiming_normal"])
def test_every_builder_starts_from_the_same_weights(init):
    pure = build(LAYERS, 4, np.random.default_rng(7), init=init).state_dict()
    for backend in ("numpy", "torch"):
        net = build_network(LAYERS, 4, backend, init=init, seed=7, dtype=torch.float64)
        theirs = net.state_dict()
        assert list(theirs) == list(pure), backend
        for k in pure:
            np.testing.assert_array_equal(theirs[k].numpy(), pure[k], err_msg=f"{backend} {k}")


def test_init_gain_for_an_activation_torch_has_no_gain_for_raises():
    with pytest.raises(ValueError, match=r"no gain defined for nonlinearity 'elu'"):
        build([{"type": "linear", "out_features": 3}, {"type": "activation", "name": "elu"}], 2,
              np.random.default_rng(0), init="kaiming_uniform")


def test_flatten_op_and_its_gradient():
    x = np.random.default_rng(0).standard_normal((2, 3, 2, 2))
    out, cache = flatten.forward(x)
    assert out.shape == (2, 12) and np.shares_memory(out, x)
    (dx,) = flatten.backward(out * 2, cache)
    np.testing.assert_array_equal(dx, 2 * x)
    assert check_op(flatten, [x])[0] < 1e-7


def test_every_layer_type_has_a_row_in_every_builder():
    # One place per layer type: each builder's table covers every spec class a config may name.
    from lightning_ffnn.network import MODULES
    from numpy_ops.network import NUMPY_LAYERS

    specs = set(S.LAYER_TYPES.values()) | {S.UserActivation, S.UserLinear}  # the user-op forms of two types
    assert specs == set(NUMPY_LAYERS), "numpy_ops.network.NUMPY_LAYERS"
    assert specs == set(MODULES), "lightning_ffnn.network.MODULES"


def test_a_spec_no_builder_knows_is_refused_by_name():
    from dataclasses import dataclass

    from lightning_ffnn.network import numpy_module

    @dataclass(frozen=True)
    class Mystery(S.LayerSpec):
        type = "mystery"

    with pytest.raises(ValueError, match="NUMPY_LAYERS"):
        build([Mystery()], 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="MODULES"):
        numpy_module(Mystery(), (3,), torch.float64)
