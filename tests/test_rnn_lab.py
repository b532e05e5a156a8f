"""The RNN lab: the tiny RNN's BPTT three ways, the gradient-norm curves, the delayed-recall data and training."""

from __future__ import annotations

import numpy as np

from lightning_ffnn.labs import rnn as lab


def test_formula_sweep_and_autograd_agree_on_the_tiny_rnn():
    r = lab.bptt_three_ways(seed=0)
    T = r.delta_formula.shape[0]
    assert r.delta_formula.shape == (4, 4, 2)
    np.testing.assert_allclose(r.delta_formula, r.delta_autograd, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.delta_formula.sum(axis=0), r.ds_sweep, rtol=0, atol=1e-12)
    assert np.all(r.delta_formula[np.triu_indices(T, 1)] == 0)  # delta_{t,k} = 0 for k > t
    for way in ("sweep", "autograd"):
        np.testing.assert_allclose(r.dU["formula"], r.dU[way], rtol=0, atol=1e-12)
    delta_md, dU_md = lab.three_ways_tables(r)
    assert delta_md.count("sum over t") == T and len(dU_md.splitlines()) == 2 + 6


def test_gradient_norms_vanish_below_one_and_grow_above():
    small, large = lab.gradient_norms("tanh", 0.5, T=30), lab.gradient_norms("relu", 2.0, T=30)
    assert small[0] == 1.0 and small[-1] < 1e-8 and np.all(np.diff(small) < 0)
    assert large[-1] > 10


def test_recall_data_shows_the_answer_first_and_asks_last():
    x, y = lab.recall_data(np.random.default_rng(0), 50, delay=6, K=4)
    assert x.shape == (50, 7, 5)
    np.testing.assert_array_equal(x[:, 0, :4].argmax(1), y)
    assert np.all(x[:, :, :4].sum(2) == 1) and np.all(x[:, -1, 4] == 1) and np.all(x[:, :-1, 4] == 0)


def test_short_delay_is_learned():
    r = lab.delayed_recall(2, hidden=16, steps=150)
    assert r["accuracy"] > 0.9, r
