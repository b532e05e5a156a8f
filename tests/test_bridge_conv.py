"""conv2d and dropout through the bridge beyond the op table (tests/op_table.py): a non-contiguous input, dropout
with its mask, the modules and their native twins, and whole CNNs of either backend with the same weights, state
dicts and native twins (1e-12 in float64, torch's defaults in float32)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lightning_ffnn.bridge import apply_op
from lightning_ffnn.layers_cnn import NumpyConv2d, NumpyDropout, ReplayDropout
from lightning_ffnn.network import build_network, native_twin
from numpy_ops.conv import conv2d
from numpy_ops.dropout import dropout, dropout_mask
from numpy_ops.network import build

def tolerances(dtype):
    return {"rtol": 1e-12, "atol": 1e-12} if dtype == torch.float64 else {}


def tensors(shape_list, dtype, seed=0, grad=True):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=g, dtype=dtype).requires_grad_(grad) for s in shape_list]


def compare(mine, theirs, inputs, dtype, what):
    """Outputs and the gradients of every input (same upstream gradient) of two functions of ``inputs``."""
    a_in = [t.detach().clone().requires_grad_() for t in inputs]
    b_in = [t.detach().clone().requires_grad_() for t in inputs]
    a, b = mine(*a_in), theirs(*b_in)
    torch.testing.assert_close(a, b, **tolerances(dtype), msg=lambda m: f"{what}: outputs differ\n{m}")
    up = torch.randn(a.shape, generator=torch.Generator().manual_seed(9), dtype=dtype)
    a.backward(up)
    b.backward(up)
    for i, (x, y) in enumerate(zip(a_in, b_in)):
        torch.testing.assert_close(x.grad, y.grad, **tolerances(dtype),
                                   msg=lambda m, i=i: f"{what}: gradient of input {i} differs\n{m}")


def test_conv_gradcheck_non_contiguous_input_and_batch_1():
    base, w, b = tensors([(1, 5, 3, 8), (2, 3, 3, 3), (2,)], torch.float64)
    x = base.detach().permute(0, 2, 1, 3).requires_grad_()  # (1, 3, 5, 8), not contiguous
    assert not x.is_contiguous()
    assert torch.autograd.gradcheck(lambda *t: apply_op(conv2d(1, "same"), *t), (x, w, b))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_dropout_gradcheck_and_twin_with_the_same_mask(dtype):
    mask = torch.from_numpy(dropout_mask(np.random.default_rng(0), (4, 6), 0.4, str(dtype).removeprefix("torch.")))
    x = torch.randn(4, 6, dtype=dtype)
    compare(lambda t: apply_op(dropout, t, mask), lambda t: t * mask, [x], dtype, "dropout")
    if dtype == torch.float64:
        assert torch.autograd.gradcheck(lambda t: apply_op(dropout, t, mask), (x.requires_grad_(),))


def test_dropout_mask_values_are_those_torch_dropout_multiplies_by():
    x = torch.ones(100, 100)
    scale = F.dropout(x, 0.3, training=True).unique()
    mask = torch.from_numpy(dropout_mask(np.random.default_rng(0), (100, 100), 0.3, np.float32)).unique()
    torch.testing.assert_close(mask, scale, rtol=0, atol=0)


def test_numpy_dropout_module_and_its_replaying_twin():
    layer = NumpyDropout(0.5, seed=0)
    twin = layer.native()
    assert isinstance(twin, ReplayDropout)
    with pytest.raises(RuntimeError, match="mask"):
        twin(torch.ones(2, 3))  # no mask drawn yet
    x = torch.randn(5, 7, dtype=torch.float64)
    torch.testing.assert_close(layer(x), twin(x), rtol=0, atol=0)
    again = NumpyDropout(0.5, seed=0)
    torch.testing.assert_close(again(x), layer.__class__(0.5, seed=0)(x), rtol=0, atol=0)  # seeded: reproducible
    layer.eval(), twin.eval()
    assert layer(x) is x and twin(x) is x


CNN = [{"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": "same"}, {"type": "activation", "name": "relu"},
       {"type": "max_pool2d", "kernel_size": 2}, {"type": "conv2d", "out_channels": 5, "kernel_size": 3, "stride": 2,
                                                 "padding": 1},
       {"type": "activation", "name": "tanh"}, {"type": "avg_pool2d", "kernel_size": 2, "stride": 1},
       {"type": "flatten"}, {"type": "dropout", "p": 0.3}, {"type": "linear", "out_features": 10}]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_cnn_numpy_backend_equals_its_native_twin_with_the_same_mask(dtype):
    net = build_network(CNN, (1, 16, 8), "numpy", seed=0, dtype=dtype)
    twin = native_twin(net)
    x = torch.randn(6, 1, 16, 8, dtype=dtype)
    y = torch.randint(0, 10, (6,))
    results = []
    for model in (net, twin):
        xi = x.clone().requires_grad_()
        loss = F.cross_entropy(model(xi), y)
        loss.backward()
        results.append([loss, xi.grad, *(p.grad for p in model.parameters())])
    for name, a, b in zip(["loss", "input grad", *dict(net.named_parameters())], *results):
        torch.testing.assert_close(a, b, **tolerances(dtype), msg=lambda m, name=name: f"{name} differs\n{m}")


def test_state_dicts_move_between_the_backends_and_numpy_network():
    numpy_net = build_network(CNN, (1, 16, 8), "numpy", seed=0, dtype=torch.float64)
    torch_net = build_network(CNN, (1, 16, 8), "torch", seed=0, dtype=torch.float64)
    pure = build(CNN, (1, 16, 8), np.random.default_rng(0))
    assert isinstance(numpy_net[0], NumpyConv2d) and isinstance(numpy_net[0], nn.Conv2d)
    for key, value in torch_net.state_dict().items():  # the same seed: the same initial weights everywhere
        torch.testing.assert_close(numpy_net.state_dict()[key], value, rtol=0, atol=0)
        np.testing.assert_array_equal(pure.state_dict()[key], value.numpy())
    torch_net.load_state_dict(numpy_net.state_dict())
    pure.load_state_dict(torch_net.state_dict())
    x = torch.randn(3, 1, 16, 8, dtype=torch.float64)
    for net in (numpy_net, torch_net):
        net.eval()
    pure.eval()
    torch.testing.assert_close(numpy_net(x), torch_net(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pure(x.numpy()), torch_net(x).detach().numpy(), rtol=1e-12, atol=1e-12)


def test_conv_layer_needs_an_image_layout():
    with pytest.raises(ValueError, match="image"):
        build_network(CNN, (128,), "numpy")
