"""Batch norm and layer norm in NumPy alone: central differences (float64, h = 1e-5), the running statistics,
evaluation mode, and the errors. No torch here (the twins are in test_bridge_transformer.py).

Batch norm's dx sums to zero over each channel, so some entries are near-cancelling sums: they are compared with
`scaled_error` (the error against the largest entry), the parameters with the elementwise `rel_error`.
"""

from __future__ import annotations

import numpy as np
import pytest

from numpy_ops import spec as S
from numpy_ops.gradcheck import check_op, numerical_gradient, scaled_error
from numpy_ops.network import build
from numpy_ops.norm import BatchNormOp, LayerNormOp


def bn_inputs(rng, shape):
    C = shape[1]
    return [rng.normal(size=shape), rng.normal(size=C), rng.normal(size=C), rng.normal(size=C),
            rng.uniform(0.5, 2.0, C)]


def strided(a):
    """The same values as a non-contiguous view."""
    buf = np.zeros((*a.shape[:-1], 2 * a.shape[-1]))
    buf[..., ::2] = a
    return buf[..., ::2]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(3, 1), (5, 3), (7, 4), (1, 3, 2, 3), (3, 2, 5, 3)])
def test_batch_norm_gradients_match_central_differences(training, shape):
    rng = np.random.default_rng(1)
    inputs = bn_inputs(rng, shape)
    errors = check_op(BatchNormOp(training), inputs, wrt=[0, 1, 2], seed=7, error=scaled_error)
    assert max(errors) < 1e-8, errors


def test_batch_norm_non_contiguous_input_gives_the_same_output_and_gradient():
    rng = np.random.default_rng(2)
    x, *rest = bn_inputs(rng, (6, 5))
    op, dout = BatchNormOp(True), rng.normal(size=(6, 5))
    out_a, cache_a = op.forward(x, *rest[:2], rest[2].copy(), rest[3].copy())
    out_b, cache_b = op.forward(strided(x), *rest[:2], rest[2].copy(), rest[3].copy())
    np.testing.assert_allclose(out_a, out_b, rtol=0, atol=1e-14)
    for a, b in zip(op.backward(dout, cache_a)[:3], op.backward(dout, cache_b)[:3]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)


def test_batch_norm_training_normalises_by_the_batch_and_updates_the_running_statistics():
    rng = np.random.default_rng(3)
    x = rng.normal(3.0, 2.0, size=(8, 4))
    mean, var = np.full(4, 0.5), np.full(4, 2.0)
    out, _ = BatchNormOp(True, momentum=0.25).forward(x, np.ones(4), np.zeros(4), mean, var)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(0), x.var(0) / (x.var(0) + 1e-5), rtol=1e-12)
    # torch's rule: the running variance takes the unbiased batch variance (ddof=1)
    np.testing.assert_allclose(mean, 0.75 * 0.5 + 0.25 * x.mean(0), rtol=1e-14)
    np.testing.assert_allclose(var, 0.75 * 2.0 + 0.25 * x.var(0, ddof=1), rtol=1e-14)


def test_batch_norm_evaluation_uses_the_running_statistics_and_leaves_them_alone():
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=3)
    mean, var = rng.normal(size=3), rng.uniform(0.5, 2, 3)
    out, _ = BatchNormOp(False).forward(x, w, b, mean.copy(), var.copy())
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5) * w + b, rtol=1e-13)
    before = (mean.copy(), var.copy())
    BatchNormOp(False).forward(x, w, b, mean, var)
    assert np.array_equal(mean, before[0]) and np.array_equal(var, before[1])
    # an example's output does not depend on the rest of the batch
    np.testing.assert_allclose(BatchNormOp(False).forward(x[:1], w, b, mean, var)[0], out[:1], rtol=1e-14)


@pytest.mark.parametrize("ndim, shape", [(1, (1, 4)), (1, (3, 5, 7)), (2, (2, 3, 5)), (1, (4, 1, 3))])
def test_layer_norm_gradients_match_central_differences(ndim, shape):
    rng = np.random.default_rng(5)
    norm_shape = shape[-ndim:]
    inputs = [rng.normal(size=shape), rng.normal(size=norm_shape), rng.normal(size=norm_shape)]
    errors = check_op(LayerNormOp(ndim), inputs, seed=3, error=scaled_error)
    assert max(errors) < 1e-8, errors


def test_layer_norm_keeps_examples_independent():
    rng = np.random.default_rng(6)
    x, w, b = rng.normal(size=(4, 6)), rng.normal(size=6), rng.normal(size=6)
    op = LayerNormOp()
    np.testing.assert_allclose(op(x[2:3], w, b), op(x, w, b)[2:3], rtol=1e-14)
    np.testing.assert_allclose(op(x, np.ones(6), np.zeros(6)).mean(1), 0, atol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: BatchNormOp(True).forward(np.ones((1, 3)), np.ones(3), np.ones(3), np.ones(3), np.ones(3)),
     "more than one value per channel"),
    (lambda: BatchNormOp(True).forward(np.ones((2, 3, 4)), np.ones(3), np.ones(3), np.ones(3), np.ones(3)),
     "(batch, features) or"),
    (lambda: BatchNormOp(True).forward(np.ones((2, 3)), np.ones(4), np.ones(4), np.ones(3), np.ones(3)),
     "weight and bias of shape (3,)"),
    (lambda: BatchNormOp(momentum=1.5), "momentum must be in [0, 1]"),
    (lambda: LayerNormOp(1).forward(np.ones(3), np.ones(3), np.ones(3)), "needs a batch axis"),
    (lambda: LayerNormOp(1).forward(np.ones((2, 3)), np.ones(2), np.ones(2)), "weight and bias of shape (3,)"),
])
def test_bad_input_names_what_is_wrong(call, message):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert message in str(info.value)


def test_numpy_network_carries_running_statistics_and_switches_to_evaluation():
    spec = [{"type": "linear", "out_features": 4}, {"type": "batch_norm", "momentum": 0.5},
            {"type": "activation", "name": "sigmoid"}, {"type": "linear", "out_features": 2}]
    net = build(spec, 3, np.random.default_rng(0))
    state = net.state_dict()
    assert {"1.running_mean", "1.running_var", "1.num_batches_tracked"} <= set(state)
    x = np.random.default_rng(1).normal(size=(6, 3))
    net.forward(x)
    assert net.state_dict()["1.num_batches_tracked"] == 1
    assert not np.array_equal(net.state_dict()["1.running_mean"], state["1.running_mean"])
    net.eval()
    first = net.forward(x[:2])
    frozen = net.state_dict()
    np.testing.assert_array_equal(net.forward(x[:2]), first)
    assert all(np.array_equal(frozen[k], v) for k, v in net.state_dict().items())
    # the buffers load back with the parameters
    other = build(spec, 3, np.random.default_rng(5))
    other.load_state_dict(frozen)
    other.eval()
    np.testing.assert_array_equal(other.forward(x[:2]), first)


def test_numpy_network_with_batch_norm_gradients_match_central_differences():
    spec = [{"type": "linear", "out_features": 5}, {"type": "batch_norm"}, {"type": "activation", "name": "tanh"},
            {"type": "linear", "out_features": 5}, {"type": "layer_norm"}, {"type": "linear", "out_features": 2}]
    net = build(spec, 3, np.random.default_rng(0))
    x, r = np.random.default_rng(1).normal(size=(4, 3)), np.random.default_rng(2).normal(size=(4, 2))
    net.zero_grad()
    net.forward(x)
    net.backward(r)
    for (name, p), g in zip(net.named_parameters(), net.gradients()):
        num = numerical_gradient(lambda: float((net.forward(x) * r).sum()), p)
        # the first layer's bias has a zero gradient: batch norm subtracts any constant shift again
        assert np.abs(g - num).max() < 1e-8 * max(np.abs(num).max(), 1e-2), name


def test_spec_round_trip_and_shapes():
    layers = S.parse([{"type": "batch_norm", "momentum": 0.2}, {"type": "layer_norm", "ndim": 2}])
    assert [layer.to_dict() for layer in layers] == [{"type": "batch_norm", "momentum": 0.2, "eps": 1e-5},
                                                      {"type": "layer_norm", "ndim": 2, "eps": 1e-5}]
    assert S.shapes(layers, (3, 4, 4))[-1] == (3, 4, 4)
    with pytest.raises(ValueError, match="batch_norm takes"):
        S.shapes(layers[:1], (3, 4))
