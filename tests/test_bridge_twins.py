"""Golden twins: a network of bridged (NumPy-backed) layers against the same network of native layers.

With identical weights, the two must agree on the output, the loss, EVERY parameter gradient and the
input gradient: to 1e-12 in float64 (the maths is the same, only rounding order may differ) and to
``torch.testing.assert_close``'s defaults in float32. The native twin is built two ways, with
`native_twin(net)` and with ``build_mlp(..., backend="torch")`` from the same seed, for every
activation, the three losses and one or two hidden layers.

Then state dicts: NumpyLinear <-> nn.Linear, and numpy-backend build_mlp <-> torch-backend build_mlp
<-> `numpy_ops.network.mlp` have the same keys and layouts and load into one another.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lightning_ffnn.layers import ACTIVATION_NAMES, LOSS_MODULES, NumpyActivation, NumpyLinear, torch_activation
from lightning_ffnn.network import build_mlp, native_twin
from numpy_ops.network import mlp

IN_FEATURES, BATCH = 6, 7

# name -> (number of outputs, target maker (generator, batch) -> target)
TASKS = {
    "softmax_cross_entropy": (10, lambda g, n: torch.randint(0, 10, (n,), generator=g)),
    "mse": (1, lambda g, n: torch.randn(n, 1, generator=g, dtype=torch.float64)),
    "bce_with_logits": (1, lambda g, n: torch.randint(0, 2, (n, 1), generator=g).to(torch.float64)),
}
HIDDEN = {"h1": [8], "h2": [8, 5]}


def tolerances(dtype: torch.dtype) -> dict:
    return {"rtol": 1e-12, "atol": 1e-12} if dtype == torch.float64 else {}


def run(net: nn.Module, loss_fn: nn.Module, x: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
    """Forward, loss, backward; every intermediate the twins are compared on."""
    x = x.clone().requires_grad_()
    net.zero_grad(set_to_none=True)
    out = net(x)
    loss = loss_fn(out, target)
    loss.backward()
    result = {"output": out.detach(), "loss": loss.detach(), "input grad": x.grad}
    for name, p in net.named_parameters():
        assert p.grad is not None, f"no gradient reached parameter {name}"
        result[f"grad of {name}"] = p.grad
    return result


def assert_same(a: dict, b: dict, names: tuple[str, str], dtype: torch.dtype, context: str) -> None:
    assert a.keys() == b.keys(), f"{context}: compared different things {sorted(a)} vs {sorted(b)}"
    for key in a:
        assert a[key].dtype == b[key].dtype == dtype, f"{context}, {key}: dtypes {a[key].dtype} / {b[key].dtype}"
        torch.testing.assert_close(
            a[key], b[key], **tolerances(dtype),
            msg=lambda m, key=key: f"{context}: {key} differs between {names[0]} and {names[1]}\n{m}",
        )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("hidden", HIDDEN, ids=list(HIDDEN))
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_bridged_network_equals_native_twins(activation, task, hidden, dtype):
    n_out, make_target = TASKS[task]
    sizes = [IN_FEATURES, *HIDDEN[hidden], n_out]
    context = f"{activation}, {task}, sizes {sizes}, {dtype}"
    g = torch.Generator().manual_seed(len(sizes) * 100 + ACTIVATION_NAMES.index(activation))
    x = torch.randn(BATCH, IN_FEATURES, generator=g, dtype=torch.float64).to(dtype)
    target = make_target(g, BATCH)
    target = target.to(dtype) if target.is_floating_point() else target
    numpy_loss, native_loss = LOSS_MODULES[task]

    net = build_mlp(sizes, activation=activation, backend="numpy", seed=5, dtype=dtype)
    twins = {
        "native_twin(net)": native_twin(net),
        "build_mlp(backend='torch')": build_mlp(sizes, activation=activation, backend="torch", seed=5, dtype=dtype),
    }
    assert any(isinstance(m, NumpyActivation) for m in net) == (len(sizes) > 2)
    assert all(type(m) is NumpyLinear for m in net[::2]), "the numpy backend must use bridged linear layers"
    bridged = run(net, numpy_loss(), x, target)
    for twin_name, twin in twins.items():
        assert not any(isinstance(m, (NumpyLinear, NumpyActivation)) for m in twin), f"{twin_name} is not native"
        for (k, v), (k2, v2) in zip(net.state_dict().items(), twin.state_dict().items(), strict=True):
            assert k == k2 and torch.equal(v, v2), f"{context}: {twin_name} starts from other weights ({k}, {k2})"
        assert_same(bridged, run(twin, native_loss(), x, target), ("bridged", twin_name), dtype, context)


def test_twins_would_notice_a_wrong_gradient(monkeypatch):
    """The comparison can fail: a backward that is off by 1e-9 in one place is caught in float64."""
    import numpy_ops.layers

    original = numpy_ops.layers.LinearOp.backward

    def slightly_wrong(self, dout, cache):
        dx, dW, db = original(self, dout, cache)
        return dx, dW, (db + 1e-9 if db is not None else None)

    net = build_mlp([3, 4, 2], activation="tanh", backend="numpy", dtype=torch.float64)
    twin = native_twin(net)
    x, target = torch.randn(5, 3, dtype=torch.float64), torch.tensor([0, 1, 1, 0, 1])
    monkeypatch.setattr(numpy_ops.layers.LinearOp, "backward", slightly_wrong)
    bridged = run(net, LOSS_MODULES["softmax_cross_entropy"][0](), x, target)
    with pytest.raises(AssertionError, match="grad of 0.bias differs"):
        assert_same(bridged, run(twin, nn.CrossEntropyLoss(), x, target), ("bridged", "native"),
                    torch.float64, "sabotaged")


def test_every_activation_has_a_native_twin():
    from lightning_ffnn.layers import TORCH_ACTIVATIONS
    from numpy_ops.activations import ACTIVATIONS

    assert set(TORCH_ACTIVATIONS) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_twin_matches_in_value_and_derivative(name):
    """Each NumpyActivation against its `torch_activation` twin, over a wide range including large |x|."""
    x = torch.cat([torch.linspace(-30, 30, 121, dtype=torch.float64), torch.tensor([-1e3, -0.3, 0.3, 1e3],
                                                                                    dtype=torch.float64)])
    x = x[x.abs() > 1e-9]  # no kinks
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = NumpyActivation(name)(a), torch_activation(name)(b)
    torch.testing.assert_close(ya, yb, rtol=1e-12, atol=1e-12, msg=lambda m: f"{name} value\n{m}")
    ya.backward(torch.ones_like(ya))
    yb.backward(torch.ones_like(yb))
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-12, atol=1e-12, msg=lambda m: f"{name} derivative\n{m}")


# ---------------------------------------------------------------------------------------------------- state dicts


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_numpy_linear_state_dict_is_nn_linear_state_dict(bias):
    torch.manual_seed(0)
    bridged, native = NumpyLinear(4, 3, bias=bias), nn.Linear(4, 3, bias=bias)
    sd_b, sd_n = bridged.state_dict(), native.state_dict()
    assert list(sd_b) == list(sd_n) == (["weight", "bias"] if bias else ["weight"])
    assert {k: v.shape for k, v in sd_b.items()} == {k: v.shape for k, v in sd_n.items()}
    assert sd_b["weight"].shape == (3, 4), "weight layout must be (out, in), as nn.Linear stores it"
    x = torch.randn(5, 4)
    assert not torch.allclose(bridged(x), native(x)), "test setup: the two layers should start different"

    bridged.load_state_dict(sd_n)
    torch.testing.assert_close(bridged(x), native(x))
    torch.manual_seed(1)
    other = NumpyLinear(4, 3, bias=bias)
    native.load_state_dict(other.state_dict())
    torch.testing.assert_close(native(x), other(x))


def _torch_sd(sd: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in sd.items()}


@pytest.mark.parametrize("init", ["torch_default", "kaiming_uniform", "xavier_normal"])
@pytest.mark.parametrize("hidden", HIDDEN.values(), ids=list(HIDDEN))
def test_state_dicts_interchange_between_numpy_torch_and_pure_numpy(hidden, init):
    sizes, act = [IN_FEATURES, *hidden, 3], "tanh"
    dt = torch.float64
    bridged = build_mlp(sizes, act, backend="numpy", init=init, seed=1, dtype=dt)
    native = build_mlp(sizes, act, backend="torch", init=init, seed=2, dtype=dt)
    pure = mlp(sizes, act, rng=np.random.default_rng(3), init=init)
    sd_b, sd_n, sd_p = bridged.state_dict(), native.state_dict(), pure.state_dict()

    # Same keys, in the same order, with the same layouts.
    assert list(sd_b) == list(sd_n) == list(sd_p), (list(sd_b), list(sd_n), list(sd_p))
    for k in sd_b:
        assert sd_b[k].shape == sd_n[k].shape == sd_p[k].shape, f"{k}: {sd_b[k].shape} {sd_n[k].shape} {sd_p[k].shape}"

    x = torch.randn(4, IN_FEATURES, dtype=dt, generator=torch.Generator().manual_seed(0))
    outs = {"bridged": bridged(x), "native": native(x), "pure": torch.from_numpy(pure(x.numpy()))}
    assert not torch.allclose(outs["bridged"], outs["native"]) and not torch.allclose(outs["native"], outs["pure"]), \
        "test setup: the three networks should start with different weights"

    # pure NumPy -> bridged and native; then native -> pure (np.asarray of a CPU torch state dict).
    bridged.load_state_dict(_torch_sd(sd_p))
    native.load_state_dict(_torch_sd(sd_p))
    ref = torch.from_numpy(pure(x.numpy()))
    torch.testing.assert_close(bridged(x), ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(native(x), ref, rtol=1e-12, atol=1e-12)

    fresh_native = build_mlp(sizes, act, backend="torch", init=init, seed=9, dtype=dt)
    pure.load_state_dict(fresh_native.state_dict())
    bridged.load_state_dict(fresh_native.state_dict())
    torch.testing.assert_close(torch.from_numpy(pure(x.numpy())), fresh_native(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(bridged(x), fresh_native(x), rtol=1e-12, atol=1e-12)

    # bridged -> native
    native.load_state_dict(build_mlp(sizes, act, backend="numpy", init=init, seed=4, dtype=dt).state_dict())
    bridged.load_state_dict(build_mlp(sizes, act, backend="numpy", init=init, seed=4, dtype=dt).state_dict())
    torch.testing.assert_close(bridged(x), native(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("init", ["torch_default", "kaiming_uniform", "uniform"])
def test_same_seed_same_weights_in_every_backend(init):
    """build_mlp (both backends) and numpy_ops' mlp draw the same weights from the same seed."""
    sizes, act = [5, 7, 4, 2], "relu"
    sd_b = build_mlp(sizes, act, backend="numpy", init=init, seed=11, dtype=torch.float64).state_dict()
    sd_n = build_mlp(sizes, act, backend="torch", init=init, seed=11, dtype=torch.float64).state_dict()
    sd_p = mlp(sizes, act, rng=np.random.default_rng(11), init=init).state_dict()
    for k in sd_p:
        assert torch.equal(sd_b[k], sd_n[k]), f"{k}: numpy and torch backends differ"
        np.testing.assert_array_equal(sd_b[k].numpy(), sd_p[k], err_msg=f"{k}: build_mlp vs numpy_ops mlp")
