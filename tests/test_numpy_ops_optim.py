"""SGD and Adam against torch.optim step for step: float64, 100 steps, same parameters and gradient
sequence, max abs difference <= 1e-12; float32 stays float32; state_dict round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from numpy_ops import OPTIMIZERS, SGD, Adam

SGD_SETTINGS = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.5),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True),
    dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.05),
]
ADAM_SETTINGS = [
    dict(),  # the defaults: 1e-3, (0.9, 0.999), 1e-8
    dict(lr=0.05),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.02, betas=(0.0, 0.5), weight_decay=0.01),
]
CASES = [("sgd", s) for s in SGD_SETTINGS] + [("adam", s) for s in ADAM_SETTINGS]
IDS = [f"{n}-{s}" for n, s in CASES]
TORCH = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


def problem(seed=0, dtype=np.float64):
    """Two parameters and a fixed quadratic 0.5 |A p - c|^2 (per parameter) giving their gradients."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)]
    mats = [(rng.standard_normal((p.size, p.size)) / p.size).astype(dtype) for p in params]
    targets = [rng.standard_normal(p.size).astype(dtype) for p in params]

    def quadratic_grads(ps):
        return [(A.T @ (A @ p.reshape(-1) - c)).reshape(p.shape) for p, A, c in zip(ps, mats, targets)]

    return params, quadratic_grads


def run_both(name, settings, grad_source, steps=100, dtype=np.float64):
    params, quadratic_grads = problem(dtype=dtype)
    ours = [p.copy() for p in params]
    theirs = [torch.tensor(p) for p in params]
    opt = OPTIMIZERS[name](ours, **settings)
    topt = TORCH[name](theirs, **settings)
    noise = np.random.default_rng(123)
    ids = [id(p) for p in ours]
    for _ in range(steps):
        if grad_source == "quadratic":  # each side's gradient from its own current parameters
            g_ours = quadratic_grads(ours)
            g_theirs = quadratic_grads([t.numpy() for t in theirs])
        else:  # one seeded random sequence, fed to both
            g_ours = [noise.standard_normal(p.shape).astype(dtype) for p in params]
            g_theirs = [g.copy() for g in g_ours]
        for t, g in zip(theirs, g_theirs):
            t.grad = torch.from_numpy(g)
        opt.step(g_ours)
        topt.step()
    assert [id(p) for p in opt.params] == ids, "the optimizer must update the given arrays in place"
    return ours, [t.numpy() for t in theirs]


@pytest.mark.parametrize("grad_source", ["quadratic", "random"])
@pytest.mark.parametrize("name,settings", CASES, ids=IDS)
def test_follows_torch_step_for_step(name, settings, grad_source):
    ours, theirs = run_both(name, settings, grad_source)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        diff = np.max(np.abs(a - b))
        assert diff <= 1e-12, f"{name}{settings} ({grad_source}): param {i} differs from torch by {diff:.2e}"
        assert not np.array_equal(a, problem()[0][i]), "parameters never moved"


@pytest.mark.parametrize("name,settings", CASES, ids=IDS)
def test_float32_stays_float32(name, settings):
    ours, theirs = run_both(name, settings, "random", steps=20, dtype=np.float32)
    opt = OPTIMIZERS[name](ours, **settings)
    opt.step([np.ones_like(p) for p in ours])
    opt.step([np.ones_like(p) for p in ours])
    for p in ours:
        assert p.dtype == np.float32, f"{name}: parameter became {p.dtype}"
    for s in opt.state:
        for k, v in s.items():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32, f"{name}: state {k!r} is {v.dtype}"


def test_adam_defaults_match_torch():
    opt = Adam([np.zeros(1)])
    d = torch.optim.Adam([torch.zeros(1)]).defaults
    assert (opt.lr, (opt.beta1, opt.beta2), opt.eps, opt.weight_decay) == (d["lr"], d["betas"], d["eps"],
                                                                           d["weight_decay"])


def test_full_batch_gd_is_plain_sgd():
    p = np.array([1.0, -2.0])
    SGD([p], lr=0.5).step([np.array([0.2, 0.4])])
    np.testing.assert_array_equal(p, [0.9, -2.2])


@pytest.mark.parametrize("name,settings", [CASES[3], CASES[-2]], ids=[IDS[3], IDS[-2]])
def test_state_dict_round_trip_continues_the_same_trajectory(name, settings):
    params, grads_of = problem()
    a = [p.copy() for p in params]
    opt_a = OPTIMIZERS[name](a, **settings)
    for _ in range(10):
        opt_a.step(grads_of(a))
    saved = opt_a.state_dict()
    snapshot = [{k: np.copy(v) for k, v in s.items()} for s in saved["state"]]
    b = [p.copy() for p in a]
    opt_b = OPTIMIZERS[name](b, **settings)
    opt_b.load_state_dict(saved)
    for _ in range(10):
        opt_a.step(grads_of(a))
        opt_b.step(grads_of(b))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y, err_msg="resumed optimizer diverged from the original")
    # Loading must not tie the optimizer's state to the dict it was given (a saved checkpoint).
    for s, snap in zip(saved["state"], snapshot):
        for k in snap:
            np.testing.assert_array_equal(s[k], snap[k], err_msg=f"stepping changed the loaded state dict's {k!r}")


def test_validation():
    with pytest.raises(ValueError, match="learning rate"):
        SGD([np.zeros(1)], lr=0)
    with pytest.raises(ValueError, match="Nesterov"):
        SGD([np.zeros(1)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        SGD([np.zeros(1)], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        Adam([np.zeros(1)], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="2 gradients for 1 parameters"):
        SGD([np.zeros(1)], lr=0.1).step([np.zeros(1), np.zeros(1)])
