"""Initialisers against torch.nn.init: gains, theoretical bounds/stds (torch's own formulas and fans for
the (out, in) layout), empirical samples, nn.Linear's default init, reproducibility and dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from numpy_ops import INIT_SCHEMES, init_linear
from numpy_ops import init as I

SHAPE = (200, 800)  # (out, in): not square, so swapping fan_in and fan_out is caught


@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                                ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                                ("leaky_relu", 0), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    ours = I.calculate_gain(nonlinearity, param)
    ref = nn.init.calculate_gain(nonlinearity, param)
    assert ours == pytest.approx(ref, rel=1e-15), f"gain({nonlinearity}, {param}): {ours} vs torch {ref}"


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="no gain defined for nonlinearity 'swishy'"):
        I.calculate_gain("swishy")


def test_fans_follow_torch_for_out_in_layout():
    w = torch.empty(SHAPE)
    assert I.fans(SHAPE) == nn.init._calculate_fan_in_and_fan_out(w) == (800, 200)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        I.fans((5,))


def torch_gain(nonlinearity, a=None):
    return nn.init.calculate_gain(nonlinearity, a)


# scheme -> (numpy_ops sampler, torch in-place init, expected distribution from torch's documented formula)
# where the expectation is ("uniform", bound) or ("normal", std), computed with torch's fans and gains.
def torch_cases():
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(torch.empty(SHAPE))
    cases = {}
    for gain_name in ("linear", "relu", "tanh", "sigmoid", "leaky_relu"):
        g = torch_gain(gain_name)
        cases[f"xavier_uniform-{gain_name}"] = (
            lambda rng, g=g: I.xavier_uniform(rng, SHAPE, gain=g),
            lambda w, g=g: nn.init.xavier_uniform_(w, gain=g),
            ("uniform", g * math.sqrt(2.0 / (fan_in + fan_out)) * math.sqrt(3.0)))
        cases[f"xavier_normal-{gain_name}"] = (
            lambda rng, g=g: I.xavier_normal(rng, SHAPE, gain=g),
            lambda w, g=g: nn.init.xavier_normal_(w, gain=g),
            ("normal", g * math.sqrt(2.0 / (fan_in + fan_out))))
        for mode, fan in (("fan_in", fan_in), ("fan_out", fan_out)):
            kg = torch_gain(gain_name, 0)  # torch's kaiming default a=0
            cases[f"kaiming_uniform-{gain_name}-{mode}"] = (
                lambda rng, n=gain_name, m=mode: I.kaiming_uniform(rng, SHAPE, mode=m, nonlinearity=n),
                lambda w, n=gain_name, m=mode: nn.init.kaiming_uniform_(w, mode=m, nonlinearity=n),
                ("uniform", math.sqrt(3.0) * kg / math.sqrt(fan)))
            cases[f"kaiming_normal-{gain_name}-{mode}"] = (
                lambda rng, n=gain_name, m=mode: I.kaiming_normal(rng, SHAPE, mode=m, nonlinearity=n),
                lambda w, n=gain_name, m=mode: nn.init.kaiming_normal_(w, mode=m, nonlinearity=n),
                ("normal", kg / math.sqrt(fan)))
    cases["kaiming_uniform-leaky_relu-a0.2"] = (
        lambda rng: I.kaiming_uniform(rng, SHAPE, a=0.2),
        lambda w: nn.init.kaiming_uniform_(w, a=0.2),
        ("uniform", math.sqrt(3.0) * torch_gain("leaky_relu", 0.2) / math.sqrt(fan_in)))
    cases["uniform(-0.3,0.5)"] = (lambda rng: I.uniform(rng, SHAPE, -0.3, 0.5),
                                  lambda w: nn.init.uniform_(w, -0.3, 0.5), ("uniform", None))
    cases["normal(0.02)"] = (lambda rng: I.normal(rng, SHAPE, std=0.02),
                             lambda w: nn.init.normal_(w, std=0.02), ("normal", 0.02))
    return cases


CASES = torch_cases()


def check_sample(w, kind, param, who):
    """Empirical check with tolerances that shrink with the sample size n (about 5 standard errors)."""
    n = w.size
    if kind == "uniform":
        bound = param
        top = np.max(np.abs(w))
        assert top <= bound, f"{who}: max|w| {top} exceeds the bound {bound}"
        assert top > bound * (1 - 10 / n), f"{who}: max|w| {top} is far inside the bound {bound} (n={n})"
        std = bound / math.sqrt(3.0)
    else:
        std = param
    assert abs(np.mean(w)) < 5 * std / math.sqrt(n), f"{who}: mean {np.mean(w)} is not ~0 (std {std}, n={n})"
    assert np.std(w) == pytest.approx(std, rel=max(0.02, 5 / math.sqrt(n))), \
        f"{who}: sample std {np.std(w)} vs expected {std} (n={n})"


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_nn_init(case):
    ours_fn, torch_fn, (kind, param) = CASES[case]
    w = ours_fn(np.random.default_rng(0))
    assert w.shape == SHAPE and w.dtype == np.float64
    torch.manual_seed(0)
    wt = torch_fn(torch.empty(SHAPE, dtype=torch.float64)).numpy()
    if param is None:  # uniform(a, b): the interval itself
        assert -0.3 <= w.min() < -0.29 and 0.49 < w.max() <= 0.5, (w.min(), w.max())
        assert np.std(w) == pytest.approx(0.8 / math.sqrt(12), rel=0.02)
        assert np.std(w) == pytest.approx(np.std(wt), rel=0.03)
        return
    check_sample(w, kind, param, f"numpy_ops {case}")
    check_sample(wt, kind, param, f"torch {case}")  # the expected formula is torch's actual behaviour
    assert np.std(w) == pytest.approx(np.std(wt), rel=0.03), f"{case}: std {np.std(w)} vs torch {np.std(wt)}"


@pytest.mark.parametrize("in_features,out_features", [(800, 200), (3, 1000), (1, 64)])
def test_torch_default_matches_nn_linear(in_features, out_features):
    W, b = init_linear(np.random.default_rng(0), out_features, in_features, "torch_default")
    torch.manual_seed(0)
    layer = nn.Linear(in_features, out_features, dtype=torch.float64)
    assert W.shape == tuple(layer.weight.shape) and b.shape == tuple(layer.bias.shape)
    bound = 1.0 / math.sqrt(in_features)
    check_sample(W, "uniform", bound, "numpy_ops nn.Linear weight")
    check_sample(layer.weight.detach().numpy(), "uniform", bound, "torch nn.Linear weight")
    assert np.max(np.abs(b)) <= bound and np.max(np.abs(b)) > 0.9 * bound, f"bias range {np.abs(b).max()} vs {bound}"


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_linear_schemes(scheme, dtype):
    W, b = init_linear(np.random.default_rng(1), 300, 500, scheme, nonlinearity="tanh", dtype=dtype)
    assert W.shape == (300, 500) and b.shape == (300,)
    assert W.dtype == dtype and b.dtype == dtype, f"{scheme}: dtypes {W.dtype}, {b.dtype}, asked {np.dtype(dtype)}"
    if scheme != "torch_default":
        assert not b.any(), f"{scheme}: bias should be zero"
    fan_in, fan_out, g = 500, 300, 5.0 / 3.0
    expected = {
        "zeros": None,
        "uniform": ("uniform", 0.1),
        "normal": ("normal", 0.01),
        "xavier_uniform": ("uniform", g * math.sqrt(6 / (fan_in + fan_out))),
        "xavier_normal": ("normal", g * math.sqrt(2 / (fan_in + fan_out))),
        "kaiming_uniform": ("uniform", g * math.sqrt(3 / fan_in)),
        "kaiming_normal": ("normal", g / math.sqrt(fan_in)),
        "torch_default": ("uniform", 1 / math.sqrt(fan_in)),
    }[scheme]
    if expected is None:
        assert not W.any(), "zeros init produced non-zero weights"
    else:
        check_sample(W.astype(np.float64), *expected, f"init_linear {scheme}")


def test_init_linear_options_and_errors():
    W, _ = init_linear(np.random.default_rng(0), 100, 100, "uniform", uniform_bounds=(-0.5, 0.5))
    assert 0.49 < np.abs(W).max() <= 0.5
    W, _ = init_linear(np.random.default_rng(0), 200, 200, "normal", normal_std=0.1)
    assert np.std(W) == pytest.approx(0.1, rel=0.02)
    with pytest.raises(ValueError, match="unknown init scheme 'glorot'"):
        init_linear(np.random.default_rng(0), 2, 2, "glorot")
    with pytest.raises(ValueError, match="kaiming mode"):
        I.kaiming_uniform(np.random.default_rng(0), (2, 2), mode="fan_avg")
    with pytest.raises(ValueError, match="a < b"):
        I.uniform(np.random.default_rng(0), (2, 2), 1.0, 1.0)


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
def test_reproducible_for_the_same_seed(scheme):
    a = init_linear(np.random.default_rng(42), 7, 5, scheme)
    b = init_linear(np.random.default_rng(42), 7, 5, scheme)
    c = init_linear(np.random.default_rng(43), 7, 5, scheme)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y, err_msg=f"{scheme}: same seed, different weights")
    if scheme != "zeros":
        assert not np.array_equal(a[0], c[0]), f"{scheme}: different seeds gave identical weights"
