"""numpy_ops.graph: the engine against central differences, its order, its edge cases."""

import numpy as np
import pytest

from numpy_ops import graph
from numpy_ops.gradcheck import numerical_gradient, rel_error
from numpy_ops.graph import Node


def _engine_vs_central_differences(build, *shapes, seed=0):
    """Relative error of backward() against central differences, for each input of ``build``."""
    rng = np.random.default_rng(seed)
    values = [rng.uniform(0.5, 1.5, s) for s in shapes]  # positive: log and / are safe
    nodes = [Node(v) for v in values]
    grads = graph.backward(build(*nodes))

    def f():
        return float(build(*(Node(v) for v in values)).value)

    return [rel_error(grads[n], numerical_gradient(f, v)) for n, v in zip(nodes, values)]


@pytest.mark.parametrize("name, build, shapes", [
    ("add/sub/mul/div", lambda a, b: ((a * b - a / b + 3) * a).sum(), [(3, 4), (3, 4)]),
    ("broadcast", lambda a, b: (a * b + 2 * a - b).sum(), [(3, 4), (1, 4)]),
    ("scalar with array", lambda a, s: (a / s - s * a).sum(), [(2, 3), ()]),
    ("pow/sin/cos/exp/log", lambda a: (graph.sin(a) ** 3 + graph.cos(a) * graph.exp(-a) + graph.log(a) ** 2).sum(),
     [(5,)]),
    ("matmul", lambda a, b: graph.sin(a @ b).sum(), [(3, 4), (4, 2)]),
    ("reused node", lambda a: (a * a * a - a).sum(), [(4,)]),
])
def test_engine_matches_central_differences(name, build, shapes):
    errors = _engine_vs_central_differences(build, *shapes)
    assert max(errors) < 1e-8, f"{name}: relative errors {errors}"


def test_errors_say_what_was_expected():
    with pytest.raises(ValueError, match="scalar output"):
        graph.backward(Node(np.ones(3)))
    with pytest.raises(ValueError, match="2-D"):
        Node(np.ones(3)) @ Node(np.ones(3))


def test_a_chain_of_3000_nodes_backpropagates():
    # The recursive topological sort passed Python's recursion limit (1000) here.
    x = Node(1.0)
    y = x
    for _ in range(3000):
        y = y * 1.001 + 0.0
    grads = graph.backward(y)
    assert float(grads[x]) == pytest.approx(1.001**3000, rel=1e-12)
    assert graph.topological_order(y)[0] is x


def test_ndarray_times_node_is_a_node():
    a = np.arange(3.0)
    x = Node(np.ones(3), name="x")
    for result in (a * x, a + x, a - x, a / x, a[None] @ Node(np.ones((3, 2)))):
        assert isinstance(result, Node), f"got {type(result).__name__} {getattr(result, 'dtype', '')}"
    grads = graph.backward((a * x).sum())
    np.testing.assert_array_equal(grads[x], a)


@pytest.mark.parametrize("x0", [0.0, 2.0, -1.5])
def test_derivative_of_x_to_the_zero_is_zero(x0):
    x = Node(x0)
    with np.errstate(all="raise"):  # no 0 * inf on the way
        g = graph.backward(x**0)[x]
    assert float(g) == 0.0


def test_topological_order_of_a_diamond_lists_each_node_once():
    x = Node(2.0, name="x")
    a, b = x * 3, x + 1
    y = a * b + a
    order = graph.topological_order(y)
    assert len(order) == len({id(n) for n in order})
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]
    assert float(graph.backward(y)[x]) == pytest.approx(6 * 2 + 6)  # d(3x(x+1) + 3x)/dx = 6x + 6
