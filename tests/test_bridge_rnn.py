"""The RNN op through the bridge: gradcheck, golden twins against ``torch.nn.RNN``, truncation, state dicts.

* ``torch.autograd.gradcheck`` (float64) of `NumpyRNN` for T in (1, 2, 7), batch 1, with and without h0,
  tanh and relu (test points checked away from the relu kink), one and two layers, output "all" and "last".
* Golden twins: ``nn.RNN(batch_first=True)`` itself with the same weights: every hidden state, dL/dx, dL/dh0
  and every parameter gradient within 1e-12 in float64.
* Truncated BPTT against a torch loop that rebuilds h_t from ``h_{t-k}.detach()`` (`TorchRNN` with truncation).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lightning_ffnn.bridge import apply_op
from lightning_ffnn.layers_rnn import NumpyRNN, TorchRNN
from lightning_ffnn.network import build_network, native_twin
from numpy_ops.rnn import RNNOp

F64 = torch.float64


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def preactivations_far_from_zero(rnn: nn.RNN, x, h0, margin=1e-3) -> bool:
    """Every s_t of every layer farther than ``margin`` from 0 (relu's kink), so finite differences are fine."""
    inp = x
    with torch.no_grad():
        for l in range(rnn.num_layers):
            U, W = getattr(rnn, f"weight_ih_l{l}"), getattr(rnn, f"weight_hh_l{l}")
            b = getattr(rnn, f"bias_ih_l{l}") + getattr(rnn, f"bias_hh_l{l}")
            h, hs = h0[l], []
            for t in range(x.shape[1]):
                s = inp[:, t] @ U.T + b + h @ W.T
                if s.abs().min() <= margin:
                    return False
                h = torch.relu(s)
                hs.append(h)
            inp = torch.stack(hs, 1)
    return True


@pytest.mark.parametrize("T", [1, 2, 7])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("with_h0", [True, False])
@pytest.mark.parametrize("layers, output", [(1, "all"), (2, "last")])
def test_gradcheck_through_the_bridge(T, nonlinearity, with_h0, layers, output):
    for seed in range(T, T + 50):  # the first seed whose point is away from relu's kink (tanh: the first)
        torch.manual_seed(seed)
        rnn = NumpyRNN(3, 4, nonlinearity, layers, output, dtype=F64)
        x = torch.randn(1, T, 3, dtype=F64, generator=_gen(seed), requires_grad=True)
        h0 = torch.randn(layers, 1, 4, dtype=F64, generator=_gen(seed + 1), requires_grad=True) if with_h0 else None
        start = h0 if with_h0 else torch.zeros(layers, 1, 4, dtype=F64)
        if nonlinearity == "tanh" or preactivations_far_from_zero(rnn, x, start):
            break
    else:
        pytest.fail("no test point away from the relu kink in 50 seeds")
    params = [p.detach().clone().requires_grad_() for p in rnn._flat_weights]

    def f(x, *args):
        return apply_op(rnn.op, x, *args, *([] if with_h0 else [None]))

    assert torch.autograd.gradcheck(f, (x, *params, *([h0] if with_h0 else [])), eps=1e-6, atol=1e-7)


def twin_pair(layers, nonlinearity, seed=0):
    torch.manual_seed(seed)
    ours = NumpyRNN(3, 5, nonlinearity, layers, "all", dtype=F64)
    theirs = nn.RNN(3, 5, num_layers=layers, nonlinearity=nonlinearity, batch_first=True, dtype=F64)
    theirs.load_state_dict(ours.state_dict())  # same keys: weight_ih_l0, weight_hh_l0, bias_ih_l0, ...
    return ours, theirs


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("with_h0", [True, False])
def test_golden_twin_against_nn_rnn(nonlinearity, layers, with_h0):
    ours, theirs = twin_pair(layers, nonlinearity)
    g = _gen(1)
    x_data = torch.randn(4, 9, 3, dtype=F64, generator=g)
    h0_data = torch.randn(layers, 4, 5, dtype=F64, generator=g)
    dout = torch.randn(4, 9, 5, dtype=F64, generator=g)
    results = []
    for net in (ours, theirs):
        x = x_data.clone().requires_grad_()
        h0 = h0_data.clone().requires_grad_() if with_h0 else None
        out = net(x, h0)
        out = out[0] if isinstance(out, tuple) else out
        out.backward(dout)
        grads = {name: p.grad for name, p in net.named_parameters()}
        results.append({"states": out.detach(), "dL/dx": x.grad, "dL/dh0": h0.grad if with_h0 else None, **grads})
    for name, ref in results[1].items():
        mine = results[0][name]
        if ref is None:
            continue
        err = (mine - ref).abs().max().item()
        assert err < 1e-12, f"{name}: max |numpy - nn.RNN| = {err:.3g}"


def test_state_dicts_move_both_ways_with_nn_rnn():
    ours, theirs = twin_pair(2, "tanh")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    fresh = nn.RNN(3, 5, num_layers=2, batch_first=True, dtype=F64)
    ours.load_state_dict(fresh.state_dict())
    x = torch.randn(2, 4, 3, dtype=F64)
    torch.testing.assert_close(ours(x), fresh(x)[0], rtol=0, atol=1e-14)


@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_truncated_bptt_matches_a_detaching_torch_loop(k, layers, nonlinearity):
    torch.manual_seed(k)
    ours = NumpyRNN(3, 4, nonlinearity, layers, "all", truncation=k, dtype=F64)
    ref = ours.native()
    ref.load_state_dict(ours.state_dict())
    assert type(ref) is TorchRNN and ref.truncation == k
    g = _gen(2)
    x_data, h0_data = torch.randn(2, 7, 3, dtype=F64, generator=g), torch.randn(layers, 2, 4, dtype=F64, generator=g)
    dout = torch.randn(2, 7, 4, dtype=F64, generator=g)
    got = []
    for net in (ours, ref):
        x, h0 = x_data.clone().requires_grad_(), h0_data.clone().requires_grad_()
        out = net(x, h0)
        out.backward(dout)
        got.append([out.detach(), x.grad, h0.grad, *(p.grad for p in net.parameters())])
    for i, (a, b) in enumerate(zip(*got)):
        assert (a - b).abs().max().item() < 1e-12, f"entry {i}"
    # and the truncation is real: full BPTT gives another weight_hh gradient
    full = nn.RNN(3, 4, num_layers=layers, nonlinearity=nonlinearity, batch_first=True, dtype=F64)
    full.load_state_dict(ours.state_dict())
    full(x_data, h0_data)[0].backward(dout)
    assert (full.weight_hh_l0.grad - ours.weight_hh_l0.grad).abs().max() > 1e-6


def test_numpy_backend_network_equals_its_native_twin():
    """A whole spec (rnn -> per-step linear) built by both backends: same weights, states and gradients."""
    spec = [{"type": "rnn", "hidden_size": 6, "nonlinearity": "tanh"}, {"type": "linear", "out_features": 4}]
    nets = [build_network(spec, (5, 3), backend, seed=3, dtype=F64) for backend in ("numpy", "torch")]
    assert isinstance(nets[0][0], NumpyRNN) and type(nets[1][0]) is TorchRNN
    twin = native_twin(nets[0])
    x = torch.randn(2, 5, 3, dtype=F64, generator=_gen(0))
    outs = []
    for net in (*nets, twin):
        net.zero_grad()
        out = net(x)
        assert out.shape == (2, 5, 4)  # per-time-step logits
        out.square().sum().backward()
        outs.append([out.detach(), *(p.grad for p in net.parameters())])
    for other in outs[1:]:
        for a, b in zip(outs[0], other):
            assert (a - b).abs().max().item() < 1e-12


def test_output_last_is_the_final_state():
    rnn = NumpyRNN(2, 3, output="last", dtype=F64)
    x = torch.randn(4, 6, 2, dtype=F64)
    full = apply_op(RNNOp(), x, *rnn._flat_weights)
    torch.testing.assert_close(rnn(x), full[:, -1], rtol=0, atol=0)
