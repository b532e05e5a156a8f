"""Activations: forward and hand-written derivative against torch (float64), stability at +-1000 in
float32 and float64, dtype preservation, and the op contract."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from numpy_ops import ACTIVATIONS, get_activation
from numpy_ops.activations import GELU

# name, constructor kwargs, torch equivalent
CASES = [
    ("identity", {}, lambda x: x),
    ("sigmoid", {}, torch.sigmoid),
    ("tanh", {}, torch.tanh),
    ("relu", {}, torch.relu),
    ("leaky_relu", {}, lambda x: F.leaky_relu(x, 0.01)),
    ("leaky_relu", {"negative_slope": 0.2}, lambda x: F.leaky_relu(x, 0.2)),
    ("elu", {}, lambda x: F.elu(x, 1.0)),
    ("elu", {"alpha": 0.5}, lambda x: F.elu(x, 0.5)),
    # torch's default softplus returns x itself above threshold=20 (an error of up to log1p(e^-20) ~ 2e-9);
    # numpy_ops is exact there, so the tight comparison switches the threshold off (see the test below).
    ("softplus", {}, lambda x: F.softplus(x, threshold=1e9)),
    ("swish", {}, lambda x: x * torch.sigmoid(x)),
    ("swish", {"beta": 1.7}, lambda x: x * torch.sigmoid(1.7 * x)),
    ("gelu", {}, lambda x: F.gelu(x, approximate="none")),
    ("gelu", {"approximate": "tanh"}, lambda x: F.gelu(x, approximate="tanh")),
]
IDS = [f"{n}{kw}" if kw else n for n, kw, _ in CASES]


@contextlib.contextmanager
def strict_fp():
    """Any overflow / invalid / divide-by-zero (as an FP error or a warning) fails the test.

    Underflow is allowed: exp(-1000) -> 0 is exactly the result the stable formulas rely on."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield


def torch_value_and_grad(fn, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xt = torch.tensor(x, requires_grad=True)
    y = fn(xt)
    (g,) = torch.autograd.grad(y.sum(), xt)
    return y.detach().numpy(), g.numpy()


def grid() -> np.ndarray:
    # A dense grid over [-30, 30] (0 included: torch's convention for the kinks), plus random points.
    rng = np.random.default_rng(0)
    return np.concatenate([np.linspace(-30, 30, 601), rng.standard_normal(200) * 3, [0.0, -0.0, 1e-300]])


@pytest.mark.parametrize("name,kwargs,torch_fn", CASES, ids=IDS)
def test_forward_and_derivative_match_torch_float64(name, kwargs, torch_fn):
    act = get_activation(name, **kwargs)
    x = grid()
    y_ref, d_ref = torch_value_and_grad(torch_fn, x)
    y, cache = act.forward(x)
    (dx,) = act.backward(np.ones_like(y), cache)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-13, err_msg=f"{act!r} forward vs torch")
    np.testing.assert_allclose(dx, d_ref, rtol=1e-12, atol=1e-13, err_msg=f"{act!r} backward vs torch")
    np.testing.assert_allclose(act.derivative(x), d_ref, rtol=1e-12, atol=1e-13, err_msg=f"{act!r}.derivative")


@pytest.mark.parametrize("name,kwargs,torch_fn", CASES, ids=IDS)
def test_backward_multiplies_upstream_gradient(name, kwargs, torch_fn):
    act = get_activation(name, **kwargs)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4)) * 2
    dout = rng.standard_normal((3, 4))
    xt = torch.tensor(x, requires_grad=True)
    (ref,) = torch.autograd.grad(torch_fn(xt), xt, torch.tensor(dout))
    out, cache = act.forward(x)
    (dx,) = act.backward(dout, cache)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, ref.numpy(), rtol=1e-12, atol=1e-13, err_msg=f"{act!r}")


def test_softplus_agrees_with_torch_default_threshold_within_its_own_error():
    x = np.array([-1000.0, -50.0, 19.0, 20.0, 20.5, 30.0, 1000.0])
    act = get_activation("softplus")
    y_ref, d_ref = torch_value_and_grad(F.softplus, x)
    np.testing.assert_allclose(act(x), y_ref, rtol=0, atol=3e-9)
    np.testing.assert_allclose(act.derivative(x), d_ref, rtol=0, atol=3e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kwargs,torch_fn", CASES, ids=IDS)
def test_stable_at_plus_minus_1000(name, kwargs, torch_fn, dtype):
    act = get_activation(name, **kwargs)
    x = np.array([-1000, -100, -30, -1, 0, 1, 30, 100, 1000], dtype=dtype)
    with strict_fp():
        y, cache = act.forward(x)
        (dx,) = act.backward(np.ones_like(y), cache)
        d = act.derivative(x)
    for what, a in (("forward", y), ("backward", dx), ("derivative", d)):
        assert a.dtype == dtype, f"{act!r} {what}: dtype {a.dtype}, input was {np.dtype(dtype)}"
        assert a.shape == x.shape, f"{act!r} {what}: shape {a.shape}, input was {x.shape}"
        assert np.all(np.isfinite(a)), f"{act!r} {what} not finite at {x[~np.isfinite(a)]}: {a}"
    # The limits are right too, not merely finite (torch is stable at +-1000 as well).
    ref_fn = F.softplus if name == "softplus" else torch_fn
    y_ref, d_ref = torch_value_and_grad(ref_fn, x.astype(np.float64))
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, y_ref, rtol=tol, atol=tol, err_msg=f"{act!r} forward at extremes")
    np.testing.assert_allclose(d, d_ref, rtol=tol, atol=tol, err_msg=f"{act!r} derivative at extremes")


@pytest.mark.parametrize("name,kwargs,torch_fn", CASES, ids=IDS)
def test_float32_matches_torch_float32(name, kwargs, torch_fn):
    act = get_activation(name, **kwargs)
    x = grid().astype(np.float32)
    y_ref, d_ref = torch_value_and_grad(torch_fn, x)
    y, cache = act.forward(x)
    (dx,) = act.backward(np.ones_like(y), cache)
    assert y.dtype == np.float32 and dx.dtype == np.float32, f"{act!r}: {y.dtype}, {dx.dtype}"
    # atol: float32 cancellation in 1 + tanh(.) near -5 leaves ~1e-6 absolute error (torch's too).
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=5e-6, err_msg=f"{act!r} float32 forward")
    np.testing.assert_allclose(dx, d_ref, rtol=1e-5, atol=5e-6, err_msg=f"{act!r} float32 derivative")


def test_registry_and_errors():
    assert set(ACTIVATIONS) == {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "swish",
                                "gelu", "gelu_tanh"}
    g = get_activation("gelu_tanh")
    assert isinstance(g, GELU) and g.approximate == "tanh"
    assert get_activation("gelu").approximate == "none"
    with pytest.raises(ValueError, match="unknown activation 'nope'"):
        get_activation("nope")
    with pytest.raises(ValueError, match="approximate"):
        GELU(approximate="fast")
    assert "negative_slope=0.2" in repr(get_activation("leaky_relu", negative_slope=0.2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_the_fast_forms_give_the_textbook_numbers_bit_for_bit(name, dtype):
    from numpy_ops.activations_fast import get_fast_activation

    kwargs = {"leaky_relu": {"negative_slope": 0.2}, "elu": {"alpha": 0.7}, "swish": {"beta": 1.5}}.get(name, {})
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(500) * 4, [-1000.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 1000.0]]).astype(dtype)
    dout = rng.standard_normal(x.shape).astype(dtype)
    slow, fast = get_activation(name, **kwargs), get_fast_activation(name, **kwargs)
    assert repr(slow) == repr(fast)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        (y1, c1), (y2, c2) = slow.forward(x), fast.forward(x)
        g1, g2 = slow.backward(dout, c1)[0], fast.backward(dout, c2)[0]
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(g1, g2)
    assert y2.dtype == g2.dtype == dtype
