"""Batch norm, layer norm, embeddings, attention and residual blocks through the bridge, against PyTorch.

* ``torch.autograd.gradcheck`` (float64) of every bridged module: batch 1, odd sizes, a non-contiguous input,
  the causal mask, batch norm in training and in evaluation;
* the native twin with the same weights (``nn.BatchNorm1d/2d``, ``nn.LayerNorm``, ``nn.Embedding``,
  ``nn.MultiheadAttention``): output and every gradient to 1e-10, batch norm's running buffers too;
* state dicts move between the two backends and the pure-NumPy network, buffers included.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers import gpt_spec
from lightning_ffnn.layers_transformer import (NumpyAttention, NumpyBatchNorm1d, NumpyBatchNorm2d, NumpyEmbedding,
                                               NumpyLayerNorm, NumpyPositionEmbedding)
from lightning_ffnn.network import build_network, native_twin
from numpy_ops.network import build

F64 = torch.float64


def randomise(module: nn.Module, seed: int) -> nn.Module:
    """Every parameter (and batch norm's running statistics) random, so nothing passes by being 1 or 0."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.7)
        for name, b in module.named_buffers():
            if name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=g, dtype=b.dtype) + 0.5)
            elif name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=g, dtype=b.dtype))
    return module


def non_contiguous(x: torch.Tensor) -> torch.Tensor:
    wide = torch.zeros(*x.shape[:-1], 2 * x.shape[-1], dtype=x.dtype)
    wide[..., ::2] = x
    view = wide[..., ::2]
    assert not view.is_contiguous()
    return view


# name -> (module maker, input maker(generator)); all float64
CASES = {
    "batch_norm1d batch 3": (lambda: NumpyBatchNorm1d(4, dtype=F64),
                             lambda g: torch.randn(3, 4, generator=g, dtype=F64)),
    "batch_norm1d odd": (lambda: NumpyBatchNorm1d(5, momentum=0.3, dtype=F64),
                         lambda g: torch.randn(7, 5, generator=g, dtype=F64)),
    "batch_norm2d batch 1": (lambda: NumpyBatchNorm2d(3, dtype=F64),
                             lambda g: torch.randn(1, 3, 3, 5, generator=g, dtype=F64)),
    "batch_norm2d odd": (lambda: NumpyBatchNorm2d(2, dtype=F64),
                         lambda g: torch.randn(3, 2, 5, 3, generator=g, dtype=F64)),
    "layer_norm batch 1": (lambda: NumpyLayerNorm(5, dtype=F64),
                           lambda g: torch.randn(1, 5, generator=g, dtype=F64)),
    "layer_norm 2 axes": (lambda: NumpyLayerNorm((3, 5), dtype=F64),
                          lambda g: torch.randn(2, 3, 5, generator=g, dtype=F64)),
    "position_embedding": (lambda: NumpyPositionEmbedding(7, 3, dtype=F64),
                           lambda g: torch.randn(2, 5, 3, generator=g, dtype=F64)),
    "attention batch 1": (lambda: NumpyAttention(4, 2, dtype=F64),
                          lambda g: torch.randn(1, 3, 4, generator=g, dtype=F64)),
    "attention causal odd": (lambda: NumpyAttention(6, 3, causal=True, dtype=F64),
                             lambda g: torch.randn(3, 5, 6, generator=g, dtype=F64)),
    "attention causal one step": (lambda: NumpyAttention(3, 1, causal=True, dtype=F64),
                                  lambda g: torch.randn(2, 1, 3, generator=g, dtype=F64)),
}


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradcheck_input_and_every_parameter(case, layout, training):
    make_module, make_input = CASES[case]
    module = randomise(make_module(), 0).train(training)
    x = make_input(torch.Generator().manual_seed(1))
    if layout == "strided":
        x = non_contiguous(x)
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in module.parameters()]

    def fn(x, *ps):
        return torch.func.functional_call(module, dict(zip(names, ps)), (x,))

    assert torch.autograd.gradcheck(fn, (x.requires_grad_(), *params), eps=1e-6, atol=1e-7)


def test_embedding_gradcheck_and_integer_input():
    module = randomise(NumpyEmbedding(6, 3, dtype=F64), 0)
    idx = torch.tensor([[0, 5, 5], [2, 0, 1]])

    def fn(w):
        return torch.func.functional_call(module, {"weight": w}, (idx,))

    assert torch.autograd.gradcheck(fn, (module.weight.detach().clone().requires_grad_(),))
    assert torch.autograd.gradcheck(fn, (non_contiguous(module.weight.detach()).requires_grad_(),))


def run(module: nn.Module, x: torch.Tensor, dout: torch.Tensor) -> dict[str, torch.Tensor]:
    x = x.clone().requires_grad_(x.is_floating_point())
    out = module(x)
    params = dict(module.named_parameters())
    grads = torch.autograd.grad(out, [*params.values()] + ([x] if x.requires_grad else []), dout)
    result = {"output": out.detach(), **{f"grad of {n}": g for n, g in zip(params, grads)}}
    if x.requires_grad:
        result["grad of the input"] = grads[-1]
    result.update({f"buffer {n}": b.clone() for n, b in module.named_buffers()})
    return result


def assert_twins_agree(numpy_module: nn.Module, x: torch.Tensor, steps: int = 2) -> None:
    twin = native_twin(nn.Sequential(numpy_module).train(numpy_module.training))
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        out_shape = numpy_module(x).shape
        twin(x)  # the same forward on both sides: in training, batch norm's buffers move once in each
    for step in range(steps):
        dout = torch.randn(out_shape, generator=g, dtype=F64)
        a, b = run(numpy_module, x, dout), run(twin[0], x, dout)
        assert a.keys() == b.keys()
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=1e-10, atol=1e-10,
                                       msg=lambda m, key=key: f"{type(numpy_module).__name__}: {key} differs\n{m}")


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("case", sorted(CASES))
def test_native_twin_output_every_gradient_and_buffer(case, training):
    make_module, make_input = CASES[case]
    module = randomise(make_module(), 0).train(training)
    assert_twins_agree(module, make_input(torch.Generator().manual_seed(2)))


def test_embedding_twin():
    module = randomise(NumpyEmbedding(9, 4, dtype=F64), 0)
    assert isinstance(module.native(), nn.Embedding)
    assert_twins_agree(module, torch.randint(0, 9, (3, 5), generator=torch.Generator().manual_seed(0)))


def test_attention_twin_is_nn_multihead_attention_and_maps_match():
    module = randomise(NumpyAttention(6, 2, causal=True, dtype=F64), 0)
    twin = module.native()
    assert isinstance(twin, nn.MultiheadAttention)
    twin.load_state_dict(module.state_dict())
    x = torch.randn(2, 5, 6, dtype=F64)
    _, maps = nn.MultiheadAttention.forward(twin, x, x, x, attn_mask=torch.ones(5, 5, dtype=torch.bool).triu(1),
                                            average_attn_weights=False)
    torch.testing.assert_close(module.weights(x), maps, rtol=1e-10, atol=1e-12)


def test_batch_norm_running_statistics_follow_torch_over_many_steps():
    numpy_bn = NumpyBatchNorm1d(4, momentum=0.2, dtype=F64)
    torch_bn = nn.BatchNorm1d(4, momentum=0.2, dtype=F64)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        x = torch.randn(6, 4, generator=g, dtype=F64) * 3 + 1
        numpy_bn(x), torch_bn(x)
    for key, value in torch_bn.state_dict().items():
        torch.testing.assert_close(numpy_bn.state_dict()[key], value, rtol=1e-12, atol=1e-14)
    assert int(numpy_bn.num_batches_tracked) == 5


SPEC = [{"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1}, {"type": "batch_norm"},
        {"type": "activation", "name": "tanh"}, {"type": "flatten"}, {"type": "linear", "out_features": 6},
        {"type": "batch_norm", "momentum": 0.3}, {"type": "activation", "name": "sigmoid"}]
GPT = gpt_spec(vocab=7, dim=6, heads=3, hidden=12)


def test_state_dicts_move_between_backends_and_the_numpy_network_buffers_included():
    """A numpy-backend net trains two steps (its buffers move); its state dict, evaluated in the torch backend and
    in the pure-NumPy network, gives the same evaluation output (so a checkpoint carries the running statistics)."""
    x = torch.randn(4, 2, 5, 5, dtype=F64, generator=torch.Generator().manual_seed(0))
    net = build_network(SPEC, (2, 5, 5), "numpy", seed=1, dtype=F64)
    for _ in range(2):
        net(x).sum().backward()
    state = net.state_dict()
    assert int(state["1.num_batches_tracked"]) == 2 and not torch.all(state["1.running_var"] == 1)
    torch_net = build_network(SPEC, (2, 5, 5), "torch", seed=9, dtype=F64)
    torch_net.load_state_dict(state)
    numpy_net = build(SPEC, (2, 5, 5), np.random.default_rng(9))
    numpy_net.load_state_dict({k: v.numpy() for k, v in state.items()})
    net.eval(), torch_net.eval(), numpy_net.eval()
    expected = net(x).detach()
    torch.testing.assert_close(torch_net(x).detach(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(numpy_net.forward(x.numpy()), expected.numpy(), rtol=1e-12, atol=1e-12)
    assert set(numpy_net.state_dict()) == set(state)


def test_gpt_network_twin_and_numpy_network_agree():
    net = build_network(GPT, (5,), "numpy", seed=0, dtype=F64)
    twin = native_twin(net)
    same_seed = build_network(GPT, (5,), "torch", seed=0, dtype=F64)
    idx = torch.randint(0, 7, (3, 5), generator=torch.Generator().manual_seed(1))
    dout = torch.randn(3, 5, 7, dtype=F64)
    a, b, c = run(net, idx, dout), run(twin, idx, dout), run(same_seed, idx, dout)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(a[key], c[key], rtol=1e-10, atol=1e-10)
    numpy_net = build(GPT, (5,), np.random.default_rng(0))
    np.testing.assert_allclose(numpy_net.forward(idx.numpy()), a["output"].numpy(), rtol=1e-12, atol=1e-12)
    numpy_net.zero_grad()
    numpy_net.backward(dout.numpy())
    for (name, _), g in zip(numpy_net.named_parameters(), numpy_net.gradients()):
        np.testing.assert_allclose(g, a[f"grad of {name}"].numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
