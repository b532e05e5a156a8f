"""Sequential / mlp against a torch twin: state_dict keys and layouts, weights moving both ways, and
forward/backward (output, loss, every parameter gradient, input gradient) in float64 to 1e-12."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from numpy_ops import LOSSES, Layer, Sequential, get_activation, linear, mlp

TORCH_ACT = {
    "identity": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01), "elu": nn.ELU, "softplus": nn.Softplus, "swish": nn.SiLU,
    "gelu": nn.GELU, "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
}
TORCH_LOSS = {"softmax_cross_entropy": F.cross_entropy, "mse": F.mse_loss,
              "bce_with_logits": F.binary_cross_entropy_with_logits}
SIZES = [5, 8, 6, 3]


def torch_twin(sizes, activation, output_activation=None, dtype=torch.float64):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, dtype=dtype))
        act = output_activation if i == len(sizes) - 2 else activation
        if act is not None:
            layers.append(TORCH_ACT[act]())
    return nn.Sequential(*layers)


def targets(loss_name, n, c, rng):
    if loss_name == "softmax_cross_entropy":
        y = rng.integers(0, c, n)
        return y, torch.from_numpy(y)
    y = rng.standard_normal((n, c)) if loss_name == "mse" else rng.uniform(0, 1, (n, c))
    return y, torch.from_numpy(y.copy())


@pytest.mark.parametrize("output_activation", [None, "sigmoid"])
@pytest.mark.parametrize("activation", list(TORCH_ACT))
def test_state_dict_keys_and_layouts_match_nn_sequential(activation, output_activation):
    net = mlp(SIZES, activation, rng=np.random.default_rng(0), output_activation=output_activation)
    twin = torch_twin(SIZES, activation, output_activation)
    ours, theirs = net.state_dict(), twin.state_dict()
    assert list(ours) == list(theirs), f"keys {list(ours)} vs torch {list(theirs)}"
    for k in ours:
        assert ours[k].shape == tuple(theirs[k].shape), f"{k}: {ours[k].shape} vs torch {tuple(theirs[k].shape)}"
    assert [l.op.name == "linear" for l in net.layers] == [isinstance(m, nn.Linear) for m in twin]


def test_weights_move_both_ways_with_identical_outputs():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, SIZES[0]))
    net = mlp(SIZES, "tanh", rng=rng)
    twin = torch_twin(SIZES, "tanh")
    # torch -> numpy (a torch state dict loads as is)
    net.load_state_dict(twin.state_dict())
    with torch.no_grad():
        ref = twin(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net(x), ref, rtol=1e-13, atol=1e-14, err_msg="after loading torch weights")
    # numpy -> torch, zero-copy
    net2 = mlp(SIZES, "tanh", rng=np.random.default_rng(2))
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in net2.state_dict().items()})
    with torch.no_grad():
        ref2 = twin(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net2(x), ref2, rtol=1e-13, atol=1e-14, err_msg="after loading numpy weights")
    assert not np.allclose(ref, ref2), "the two weight sets should give different outputs"


@pytest.mark.parametrize("n", [1, 9])
@pytest.mark.parametrize("loss_name", list(TORCH_LOSS))
@pytest.mark.parametrize("activation", list(TORCH_ACT))
def test_forward_backward_match_torch_twin(activation, loss_name, n):
    rng = np.random.default_rng(zlib.crc32(f"{activation}/{loss_name}/{n}".encode()))  # stable across runs
    net = mlp(SIZES, activation, rng=rng)
    twin = torch_twin(SIZES, activation)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    x = rng.standard_normal((n, SIZES[0]))
    y, y_t = targets(loss_name, n, SIZES[-1], rng)
    loss_op = LOSSES[loss_name]

    net.zero_grad()
    out = net.forward(x)
    loss, cache = loss_op.forward(out, y)
    dout = loss_op.backward(np.ones(()), cache)[0]
    dx = net.backward(dout)

    xt = torch.tensor(x, requires_grad=True)
    out_t = twin(xt)
    loss_t = TORCH_LOSS[loss_name](out_t, y_t)
    loss_t.backward()

    where = f"{activation} / {loss_name} / N={n}"
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-13, err_msg=f"output, {where}")
    assert float(loss) == pytest.approx(loss_t.item(), rel=1e-12, abs=1e-14), f"loss, {where}"
    grads = dict(zip([k for k, _ in net.named_parameters()], net.gradients()))
    for k, p in twin.named_parameters():
        np.testing.assert_allclose(grads[k], p.grad.numpy(), rtol=1e-12, atol=1e-13, err_msg=f"d loss/d {k}, {where}")
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-13, err_msg=f"d loss/d input, {where}")


def test_gradients_accumulate_until_zero_grad():
    rng = np.random.default_rng(3)
    net = mlp([3, 4, 2], "relu", rng=rng)
    x, dout = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    net.forward(x)
    net.backward(dout)
    once = [g.copy() for g in net.gradients()]
    net.forward(x)
    net.backward(dout)
    for g, g1 in zip(net.gradients(), once):
        np.testing.assert_allclose(g, 2 * g1, rtol=1e-15)
    net.zero_grad()
    assert all(not g.any() for g in net.gradients())


def bad_states(net):
    good = net.state_dict()
    missing = {k: v for k, v in good.items() if k != "2.bias"}
    unexpected = {**good, "3.weight": np.zeros((1, 1))}
    renamed = {("1.weight" if k == "0.weight" else k): v for k, v in good.items()}
    wrong_shape = {**good, "4.weight": good["4.weight"].T.copy()}  # last layer: earlier ones would load first
    transposed_first = {**good, "0.weight": good["0.weight"].T.copy()}
    return [
        ("missing", missing, KeyError, r"missing keys \['2.bias'\]"),
        ("unexpected", unexpected, KeyError, r"unexpected keys \['3.weight'\]"),
        ("renamed", renamed, KeyError, r"missing keys \['0.weight'\], unexpected keys \['1.weight'\]"),
        ("wrong_shape", wrong_shape, ValueError, r"'4.weight' has shape \(6, 3\), the network expects \(3, 6\)"),
        ("transposed_first", transposed_first, ValueError, r"'0.weight' has shape \(5, 8\)"),
    ]


@pytest.mark.parametrize("case", ["missing", "unexpected", "renamed", "wrong_shape", "transposed_first"])
def test_bad_state_dict_raises_clearly_and_loads_nothing(case):
    net = mlp(SIZES, "relu", rng=np.random.default_rng(4))
    before = net.state_dict()
    # Scale every entry so that any partial load would be visible.
    _, state, exc, msg = next(c for c in bad_states(net) if c[0] == case)
    state = {k: v * 3 + 1 for k, v in state.items()}
    with pytest.raises(exc, match=msg):
        net.load_state_dict(state)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=f"{case}: {k} was changed by a failed load")


def test_load_state_dict_works_in_place():
    net = mlp(SIZES, "relu", rng=np.random.default_rng(5))
    arrays = net.parameters()
    new = {k: np.full_like(v, 0.5) for k, v in net.state_dict().items()}
    net.load_state_dict(new)
    assert all(a is b for a, b in zip(arrays, net.parameters())), "load must keep the parameter arrays"
    assert all((p == 0.5).all() for p in arrays)
    new["0.weight"][...] = 9  # and must not alias the given arrays
    assert not (net.parameters()[0] == 9).any()


@pytest.mark.parametrize("activation", list(TORCH_ACT))
def test_float32_preserved_through_forward_and_backward(activation):
    rng = np.random.default_rng(6)
    net = mlp(SIZES, activation, rng=rng, dtype=np.float32)
    assert net.dtype == np.float32 and all(p.dtype == np.float32 for p in net.parameters())
    x = rng.standard_normal((4, SIZES[0])).astype(np.float32)
    out = net.forward(x)
    loss, cache = LOSSES["softmax_cross_entropy"].forward(out, np.array([0, 1, 2, 0]))
    dx = net.backward(LOSSES["softmax_cross_entropy"].backward(np.ones((), np.float32), cache)[0])
    assert out.dtype == loss.dtype == dx.dtype == np.float32, (out.dtype, loss.dtype, dx.dtype)
    assert all(g.dtype == np.float32 for g in net.gradients())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_op_contract_and_dtypes(dtype):
    rng = np.random.default_rng(7)
    x, W, b = (rng.standard_normal(s).astype(dtype) for s in [(4, 3), (2, 3), (2,)])
    out, cache = linear.forward(x, W, b)
    np.testing.assert_allclose(out, x @ W.T + b, rtol=1e-6)
    grads = linear.backward(np.ones_like(out), cache)
    assert len(grads) == linear.n_inputs == 3
    for g, a in zip(grads, (x, W, b)):
        assert g.shape == a.shape and g.dtype == dtype, f"grad {g.shape} {g.dtype} for input {a.shape} {a.dtype}"
    with pytest.raises(ValueError, match=r"input of shape \(4, 3\) does not fit a weight of shape \(2, 4\)"):
        linear.forward(x, np.zeros((2, 4), dtype), b)
    with pytest.raises(TypeError, match="dtype"):
        linear.forward(x.astype(np.float16), W, b)


def test_constructors_validate():
    with pytest.raises(ValueError, match="mlp sizes"):
        mlp([3])
    with pytest.raises(ValueError, match="mlp sizes"):
        mlp([3, 0, 2])
    seq = Sequential(Layer(linear, {"weight": np.zeros((2, 3)), "bias": np.zeros(2)}), Layer(get_activation("relu")))
    assert "(0): LinearOp() [weight=(2, 3), bias=(2,)]" in repr(seq) and "(1): ReLU()" in repr(seq)
