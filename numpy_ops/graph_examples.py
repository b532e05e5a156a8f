"""The lab's function (lab 3.1) and the lecture's worked graphs, built with `numpy_ops.graph`.

Each ``*_function`` uses only Python operators and the ``sin``/``exp`` it is given, so it builds a
graph of Nodes here and a torch autograd graph when called with tensors and ``torch.sin`` /
``torch.exp`` (`lightning_ffnn.labs.jacobian` does exactly that to check the engine against
autograd). `build_named_graph` names every node after the builder's variables, and `node_table`
lists them with their values, local derivatives and gradients. NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .graph import Node, backward, exp, jacobian, sin, topological_order

LAB_NODE_NAMES = ("z1", "z2", "z3", "u1", "u2", "u3", "v1", "v2", "v3", "y1", "y2")


def lab_function(x1: Any, x2: Any, x3: Any, sin: Callable = sin) -> dict[str, Any]:
    """Lab 3.1's function y = f(x1, x2, x3), node by node. Returns every node by its name."""
    z1 = 2 * x1 + x2
    z2 = 3 * x1 * x3
    z3 = -x3
    u1 = sin(z1)
    u2 = 2 * x3 + z2
    u3 = 2 * z1 + z3
    v1 = u1 - u3
    v2 = sin(-u2)
    v3 = u1 * u3
    y1 = v1**2 + v2**3
    y2 = v2 * v3
    return dict(z1=z1, z2=z2, z3=z3, u1=u1, u2=u2, u3=u3, v1=v1, v2=v2, v3=v3, y1=y1, y2=y2)


def build_lab_graph(x: Sequence[float]) -> tuple[list[Node], dict[str, Node]]:
    """The lab's graph at the point ``x = (x1, x2, x3)``.

    Returns:
        ``([x1, x2, x3], {"z1": ..., ..., "y2": ...})`` with every node named.
    """
    if len(x) != 3:
        raise ValueError(f"the lab's function takes 3 inputs (x1, x2, x3), got {len(x)}")
    inputs = [Node(v, name=f"x{i + 1}") for i, v in enumerate(x)]
    nodes = lab_function(*inputs)
    for name, node in nodes.items():
        node.named(name)
    return inputs, nodes


def lab_jacobian(x: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Value and Jacobian of the lab's function at ``x``.

    Returns:
        ``(y, J)``: ``y`` of shape (2,) = (y1, y2), and ``J`` of shape (2, 3) with
        ``J[i, j] = d y_i / d x_j`` (rows y, columns x; the lab prints ``J.T``).
    """
    inputs, nodes = build_lab_graph(x)
    outputs = [nodes["y1"], nodes["y2"]]
    y = np.array([float(n.value) for n in outputs])
    return y, jacobian(outputs, inputs)


def quadratic_function(x: Any, y: Any) -> dict[str, Any]:
    """The lecture's first graph, f(x, y) = x^2 y + y + 2, one operation per node."""
    n1 = x**2
    n2 = n1 * y
    n3 = n2 + y
    f = n3 + 2
    return dict(n1=n1, n2=n2, n3=n3, f=f)


def sigmoid_neuron_function(x: Any, w: Any, b: Any, exp: Callable = exp) -> dict[str, Any]:
    """f(x; w, b) = sigma(w x + b) split into the lecture's elementary nodes h1 ... h6."""
    h1 = w * x
    h2 = h1 + b
    h3 = -h2
    h4 = exp(h3)
    h5 = 1 + h4
    h6 = 1 / h5
    return dict(h1=h1, h2=h2, h3=h3, h4=h4, h5=h5, h6=h6)


def array_function(x: Any, y: Any, z: Any) -> dict[str, Any]:
    """The lecture's array graph: a = x * y (elementwise), b = a + z, c = sum(b)."""
    a = x * y
    b = a + z
    c = b.sum()
    return dict(a=a, b=b, c=c)


def build_named_graph(function: Callable[..., dict[str, Any]], **inputs: Any) -> tuple[dict[str, Node], dict[str, Node]]:
    """Run one of the ``*_function`` builders on named input nodes and name every node.

    ``build_named_graph(sigmoid_neuron_function, x=1.0, w=0.0, b=0.0)`` returns
    ``({"x": ..., "w": ..., "b": ...}, {"h1": ..., ..., "h6": ...})``.
    """
    leaves = {name: Node(value, name=name) for name, value in inputs.items()}
    nodes = function(**leaves)
    for name, node in nodes.items():
        node.named(name)
    return leaves, nodes


def node_table(output: Node) -> list[dict[str, Any]]:
    """One row per named node that ``output`` depends on, in topological order.

    Each row: ``name``, ``op``, ``value``, ``local`` (``{parent name: d node / d parent}`` for
    named parents, elementwise ops only) and ``grad`` (``d output / d node``). Constants and
    unnamed intermediate nodes are left out.
    """
    grads = backward(output)
    rows = []
    for node in topological_order(output):
        if not node.name or node.op == "const":
            continue
        local: dict[str, np.ndarray] = {}
        for parent, l in zip(node.parents, node.locals):
            if parent.name and parent.op != "const" and not callable(l):
                local[parent.name] = local.get(parent.name, 0.0) + l  # x * x: both edges go to x
        rows.append(dict(name=node.name, op=node.op, value=node.value, local=local, grad=grads[node]))
    return rows
