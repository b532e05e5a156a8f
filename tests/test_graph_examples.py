"""numpy_ops.graph_examples: the lab's graph and the lecture's worked graphs, by hand-derived values."""

import numpy as np
import pytest

from numpy_ops import graph, graph_examples
from numpy_ops.gradcheck import numerical_gradient, rel_error


def test_topological_order_puts_parents_first():
    (x1, x2, x3), nodes = graph_examples.build_lab_graph([1.0, 1.0, 1.0])
    order = graph.topological_order(nodes["y2"])
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)], f"{parent} comes after its child {node}"
    assert order[-1] is nodes["y2"]
    assert "y1" not in {n.name for n in order}  # y2 does not depend on y1


def test_lab_jacobian_matches_central_differences():
    x = np.array([2.0, 1.0, 3.0])
    _, J = graph_examples.lab_jacobian(x)
    for i in range(2):
        numeric = numerical_gradient(lambda: graph_examples.lab_jacobian(x)[0][i], x)
        assert rel_error(J[i], numeric) < 1e-8


def test_sigmoid_neuron_local_derivatives_and_dfdw():
    leaves, nodes = graph_examples.build_named_graph(graph_examples.sigmoid_neuron_function, x=1.0, w=0.0, b=0.0)
    rows = {r["name"]: r for r in graph_examples.node_table(nodes["h6"])}
    # the lecture's table: value and local derivative of every node at x=1, w=0, b=0
    expected_local = {"h1": ("w", 1.0), "h2": ("h1", 1.0), "h3": ("h2", -1.0),
                      "h4": ("h3", 1.0), "h5": ("h4", 1.0), "h6": ("h5", -0.25)}
    for name, (parent, value) in expected_local.items():
        assert rows[name]["local"][parent] == pytest.approx(value), name
    assert float(nodes["h6"].value) == pytest.approx(0.5)
    grads = graph.backward(nodes["h6"])
    assert float(grads[leaves["w"]]) == pytest.approx(0.25)  # sigma'(0) * x
    assert float(grads[leaves["b"]]) == pytest.approx(0.25)
    assert float(grads[leaves["x"]]) == pytest.approx(0.0)   # sigma'(0) * w


def test_quadratic_graph_gradients():
    leaves, nodes = graph_examples.build_named_graph(graph_examples.quadratic_function, x=3.0, y=4.0)
    grads = graph.backward(nodes["f"])
    assert float(nodes["f"].value) == 42.0
    assert float(grads[leaves["x"]]) == 24.0  # 2xy
    assert float(grads[leaves["y"]]) == 10.0  # x^2 + 1


def test_array_graph_gradients_are_the_hand_derived_ones():
    rng = np.random.default_rng(0)
    x, y, z = (rng.standard_normal((3, 4)) for _ in range(3))
    leaves, nodes = graph_examples.build_named_graph(graph_examples.array_function, x=x, y=y, z=z)
    grads = graph.backward(nodes["c"])
    np.testing.assert_array_equal(grads[leaves["x"]], y)
    np.testing.assert_array_equal(grads[leaves["y"]], x)
    np.testing.assert_array_equal(grads[leaves["z"]], np.ones((3, 4)))
    assert float(nodes["c"].value) == pytest.approx(np.sum(x * y + z))


def test_lab_jacobian_wants_three_inputs():
    with pytest.raises(ValueError, match="3 inputs"):
        graph_examples.lab_jacobian([1.0, 2.0])
