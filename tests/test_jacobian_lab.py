"""Lab 3.1: the NumPy graph engine against the lab's printed numbers and against torch autograd."""

import numpy as np
import pytest
import torch

from lightning_ffnn.labs import jacobian
from numpy_ops import graph_examples

# The lab's printed Y for its three points.
LAB_Y = {
    (1.0, 1.0, 1.0): (24.49047994, 0.67661701),
    (2.0, 1.0, 3.0): (64.08711522, -6.07866752),
    (-1.0, -1.0, -3.0): (8.17038442, -0.05974457),
}
# The lab's printed NumPy Jacobian at (2, 1, 3), rows x, columns y (i.e. J^T). Rounded in the
# lab by about 1e-3, so it is compared with that tolerance; torch is the exact reference.
LAB_JT_213 = np.array([[45.24827007, 25.74870621],
                       [27.3203119, 0.06141661],
                       [-24.26659743, 23.64693485]])


@pytest.mark.parametrize("x", list(LAB_Y))
def test_y_matches_the_lab(x):
    y, _ = graph_examples.lab_jacobian(x)
    np.testing.assert_allclose(y, LAB_Y[x], atol=5e-9)


def test_jacobian_matches_the_labs_printed_values():
    _, J = graph_examples.lab_jacobian((2.0, 1.0, 3.0))
    assert J.shape == (2, 3)
    np.testing.assert_allclose(J.T, LAB_JT_213, atol=1e-3)


def test_numpy_and_torch_jacobians_agree():
    for row in jacobian.compare_lab_jacobians():
        np.testing.assert_allclose(row["y"], row["y_torch"], rtol=0, atol=1e-12)
        assert row["max_diff"] <= 1e-12, f"X={row['x']}: NumPy {row['numpy']} vs torch {row['torch']}"


@pytest.mark.parametrize("output", ["y1", "y2"])
def test_every_lab_node_gradient_matches_torch(output):
    inputs = dict(x1=2.0, x2=1.0, x3=3.0)
    ours = jacobian.numpy_node_gradients(graph_examples.lab_function, output, inputs)
    theirs = jacobian.torch_node_gradients(graph_examples.lab_function, output, inputs, sin=torch.sin)
    assert set(ours) == {"x1", "x2", "x3", *graph_examples.LAB_NODE_NAMES}
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-12, err_msg=f"d{output}/d{name}")


@pytest.mark.parametrize("title", list(jacobian.LECTURE_GRAPHS))
def test_lecture_graphs_match_torch(title):
    diffs = jacobian.compare_node_gradients(title)
    assert max(diffs.values()) <= 1e-12, diffs


def test_table_lists_both_orientations_and_differences():
    text = jacobian.format_jacobian_table(jacobian.compare_lab_jacobians())
    assert "rows x1, x2, x3; columns y1, y2" in text and "rows y1, y2; columns x1, x2, x3" in text
    assert "64.08711522" in text and "-6.07866752" in text
    assert text.count("max |J_numpy - J_torch|") == 3
    report = jacobian.lecture_report()
    assert "0.250000" in report and "dh6/dh5 = -0.25" in report
