"""The LSTM and GRU ops through the bridge: gradcheck, golden twins against ``nn.LSTM`` / ``nn.GRU``, state dicts.

* ``torch.autograd.gradcheck`` (float64) of `NumpyLSTM` / `NumpyGRU` for T in (1, 2, 7), batch 1 and odd sizes,
  a non-contiguous input, with and without initial states, one and two layers, output "all" and "last".
* Golden twins: torch's own modules with the same weights: every hidden state, dL/dx, dL/dh0 (dL/dc0) and every
  parameter gradient within 1e-10 in float64.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lightning_ffnn.bridge import apply_op
from lightning_ffnn.layers_gated import NumpyGRU, NumpyLSTM, TorchGRU, TorchLSTM
from lightning_ffnn.network import build_network, native_twin

F64 = torch.float64
KINDS = {"lstm": (NumpyLSTM, nn.LSTM, 2), "gru": (NumpyGRU, nn.GRU, 1)}  # ours, torch's, number of states


def _gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("T", [1, 2, 7])
@pytest.mark.parametrize("with_states", [True, False])
@pytest.mark.parametrize("layers, output, N, D, H", [(1, "all", 1, 3, 4), (2, "last", 3, 5, 3)])
def test_gradcheck_through_the_bridge(kind, T, with_states, layers, output, N, D, H):
    ours, _, n_states = KINDS[kind]
    torch.manual_seed(T)
    net = ours(D, H, layers, output, dtype=F64)
    g = _gen(T)
    x = torch.randn(N, T, 2 * D, dtype=F64, generator=g)[..., ::2].requires_grad_()  # every other feature: strided
    assert not x.is_contiguous()
    states = [torch.randn(layers, N, H, dtype=F64, generator=g, requires_grad=True) for _ in range(n_states)]
    params = [p.detach().clone().requires_grad_() for p in net._flat_weights]

    def f(x, *args):
        return apply_op(net.op, x, *args, *([] if with_states else [None] * n_states))

    assert torch.autograd.gradcheck(f, (x, *params, *(states if with_states else [])), eps=1e-6, atol=1e-7)


def twin_pair(kind, layers, seed=0):
    ours, theirs, _ = KINDS[kind]
    torch.manual_seed(seed)
    a = ours(3, 5, layers, "all", dtype=F64)
    b = theirs(3, 5, num_layers=layers, batch_first=True, dtype=F64)
    b.load_state_dict(a.state_dict())  # same keys: weight_ih_l0, weight_hh_l0, bias_ih_l0, ...
    return a, b


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("with_states", [True, False])
def test_golden_twin_against_torch(kind, layers, with_states):
    ours, theirs = twin_pair(kind, layers)
    n_states = KINDS[kind][2]
    g = _gen(1)
    x_data = torch.randn(4, 9, 3, dtype=F64, generator=g)
    state_data = [torch.randn(layers, 4, 5, dtype=F64, generator=g) for _ in range(n_states)]
    dout = torch.randn(4, 9, 5, dtype=F64, generator=g)
    results = []
    for net in (ours, theirs):
        x = x_data.clone().requires_grad_()
        states = [s.clone().requires_grad_() for s in state_data] if with_states else []
        if net is ours:
            out = net(x, *states)
        else:
            out = net(x, (tuple(states) if kind == "lstm" else states[0]) if with_states else None)[0]
        out.backward(dout)
        grads = {name: p.grad for name, p in net.named_parameters()}
        results.append({"states": out.detach(), "dL/dx": x.grad,
                        **{f"dL/d{n}": s.grad for n, s in zip(("h0", "c0"), states)}, **grads})
    assert results[0].keys() == results[1].keys()
    for name, ref in results[1].items():
        err = (results[0][name] - ref).abs().max().item()
        assert err < 1e-10, f"{name}: max |numpy - nn.{kind.upper()}| = {err:.3g}"


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_state_dicts_move_both_ways(kind):
    ours, theirs = twin_pair(kind, 2)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    fresh = KINDS[kind][1](3, 5, num_layers=2, batch_first=True, dtype=F64)
    ours.load_state_dict(fresh.state_dict())
    x = torch.randn(2, 4, 3, dtype=F64)
    torch.testing.assert_close(ours(x), fresh(x)[0], rtol=0, atol=1e-14)
    back = KINDS[kind][1](3, 5, num_layers=2, batch_first=True, dtype=F64)
    back.load_state_dict(ours.state_dict())
    torch.testing.assert_close(back(x)[0], ours(x), rtol=0, atol=1e-14)


@pytest.mark.parametrize("kind, native", [("lstm", TorchLSTM), ("gru", TorchGRU)])
@pytest.mark.parametrize("output", ["all", "last"])
def test_numpy_backend_network_equals_its_native_twin(kind, native, output):
    """A whole spec (gated layer -> linear) built by both backends: same weights, outputs and gradients."""
    spec = [{"type": kind, "hidden_size": 6, "num_layers": 2, "output": output},
            {"type": "linear", "out_features": 4}]
    nets = [build_network(spec, (5, 3), backend, seed=3, dtype=F64) for backend in ("numpy", "torch")]
    assert isinstance(nets[0][0], KINDS[kind][0]) and type(nets[1][0]) is native
    twin = native_twin(nets[0])
    assert type(twin[0]) is native
    x = torch.randn(2, 5, 3, dtype=F64, generator=_gen(0))
    outs = []
    for net in (*nets, twin):
        net.zero_grad()
        out = net(x)
        assert out.shape == ((2, 5, 4) if output == "all" else (2, 4))
        out.square().sum().backward()
        outs.append([out.detach(), *(p.grad for p in net.parameters())])
    for other in outs[1:]:
        for a, b in zip(outs[0], other):
            assert (a - b).abs().max().item() < 1e-12


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_one_layer_states_of_shape_batch_hidden(kind):
    ours, theirs = twin_pair(kind, 1)
    n_states = KINDS[kind][2]
    x = torch.randn(2, 4, 3, dtype=F64)
    states = [torch.randn(2, 5, dtype=F64) for _ in range(n_states)]
    native = ours.native()
    native.load_state_dict(ours.state_dict())
    torch.testing.assert_close(ours(x, *states), native(x, *states), rtol=0, atol=1e-14)
