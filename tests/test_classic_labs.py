"""Perceptron, polynomial curve fitting and the activation figure (pure NumPy labs)."""

import subprocess
import sys

import numpy as np
import pytest

from course.labs import classic
from numpy_ops import perceptron, polyfit

# ---- perceptron ----


def test_perceptron_separates_the_lecture_points():
    r = perceptron.fit_perceptron(classic.LECTURE_X, classic.LECTURE_Y)
    assert r.converged and r.mistakes_per_epoch[-1] == 0
    margins = classic.LECTURE_Y * (classic.LECTURE_X @ r.w + r.b)
    assert np.all(margins > 0), f"w={r.w}, b={r.b} leaves margins {margins}"
    # from w = 0, b = 0, in the given order: (3,-3) and (1,1) are corrected, then an epoch is clean
    np.testing.assert_array_equal(r.w, [-2.0, 4.0])
    assert (r.b, r.n_updates, r.epochs) == (0.0, 2, 2)


def test_perceptron_never_converges_on_xor():
    r = perceptron.fit_perceptron(classic.XOR_X, classic.XOR_Y, max_epochs=50)
    assert not r.converged
    assert r.epochs == 50  # stopped by the cap
    assert min(r.mistakes_per_epoch) > 0
    assert np.mean(perceptron.predict(classic.XOR_X, r.w, r.b) == classic.XOR_Y) < 1.0


def test_perceptron_rejects_labels_other_than_plus_minus_one():
    with pytest.raises(ValueError, match="-1 or \\+1"):
        perceptron.fit_perceptron(classic.XOR_X, np.array([0, 1, 1, 0]))


def test_perceptron_lab_table_and_figures(tmp_path):
    out = classic.run_perceptron_lab(tmp_path, max_epochs=20)
    assert "| lecture example | yes | 2 | 2 |" in out["table"]
    assert "no (cap 20 epochs)" in out["table"]
    assert all(p.exists() and p.stat().st_size > 0 for p in out["paths"].values())
    assert set(out["paths"]) == {"perceptron_lecture", "perceptron_xor"}


# ---- polynomial fitting ----


def test_design_matrix_columns_are_powers():
    Phi = polyfit.design_matrix(np.array([0.5, 2.0]), 3)
    np.testing.assert_array_equal(Phi, [[1, 0.5, 0.25, 0.125], [1, 2, 4, 8]])


def test_cubic_is_recovered_exactly_without_noise():
    x = np.linspace(0, 1, 10)
    w_true = np.array([0.5, -1.0, 2.0, 3.0])
    np.testing.assert_allclose(polyfit.fit_polynomial(x, polyfit.predict_polynomial(x, w_true), 3), w_true,
                               atol=1e-10)


def test_order_nine_interpolates_the_ten_points():
    x, t = polyfit.sin_data(10, 0.3, seed=0)
    w = polyfit.fit_polynomial(x, t, 9)
    assert polyfit.rms_error(x, t, w) < 1e-8


def test_ridge_solves_bishops_normal_equations():
    # the gradient of 1/2 ||Phi w - t||^2 + lambda/2 ||w||^2 vanishes at the ridge solution
    x, t = polyfit.sin_data(10, 0.3, seed=0)
    for ln_lam in (-18.0, 0.0):
        w = polyfit.fit_polynomial(x, t, 9, ln_lam)
        Phi = polyfit.design_matrix(x, 9)
        grad = Phi.T @ (Phi @ w - t) + np.exp(ln_lam) * w
        assert np.max(np.abs(grad)) < 1e-8 * max(1.0, np.max(np.abs(Phi.T @ t))), ln_lam


def test_polyfit_lab_ridge_shrinks_and_orders_behave(tmp_path):
    out = classic.run_polyfit_lab(tmp_path)
    w_free, w_18, w_0 = (out["ridge"][k] for k in (None, -18.0, 0.0))
    norms = [np.linalg.norm(w) for w in (w_free, w_18, w_0)]
    assert norms[0] > norms[1] > norms[2], norms  # more lambda, smaller coefficients
    assert norms[0] > 1e3 and norms[2] < 2.0
    train = {k: v[0] for k, v in out["rms"].items()}
    assert train["M = 0"] > train["M = 1"] > train["M = 3"] > train["M = 9"]
    assert train["M = 9"] < 1e-8
    _, _, test = out["rms_by_order"]
    assert test[3] < test[0]  # a cubic generalises better than a constant
    assert out["tables"]["coefficients"].count("\n") == 2 + 9  # header, rule, w0* ... w9*
    assert set(out["paths"]) == {"polyfit_orders", "polyfit_ridge", "polyfit_rms"}


# ---- activations ----


@pytest.mark.parametrize("name", classic.ACTIVATION_NAMES)
def test_activation_derivatives_match_central_differences(name):
    from numpy_ops.activations import get_activation

    act = get_activation(name)
    x = np.linspace(-4.0, 4.0, 81)
    x = x[np.abs(x) > 1e-3]  # off the kink at 0 (ReLU, leaky ReLU, ELU)
    h = 1e-5
    numeric = (act.fn(x + h) - act.fn(x - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(x), numeric, rtol=1e-6, atol=1e-8, err_msg=name)


def test_activation_figure_is_saved(tmp_path):
    out = classic.activation_figure(tmp_path)
    assert out["paths"]["activations"].stat().st_size > 0
    assert len(out["figures"]["activations"].axes) == len(classic.ACTIVATION_NAMES)


def test_classic_labs_never_import_torch():
    code = ("import sys, course.labs.classic, numpy_ops.perceptron, numpy_ops.polyfit, numpy_ops.graph; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
