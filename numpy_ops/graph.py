"""A small computational-graph engine with reverse accumulation, in NumPy (Lab 3.1).

Each `Node` holds a value (a scalar or an array, always float64) and, for every parent it was
computed from, the *local derivative* of the node with respect to that parent. Backpropagation
visits the nodes in reverse topological order and applies the chain rule edge by edge::

    grad[parent] += local_derivative(node -> parent) applied to grad[node]

Two kinds of local derivative are stored, and the difference is the one design point here:

* elementwise ops (``+ - * / ** sin cos exp log``) store the local derivative itself, an array
  broadcastable to the node's shape; the chain rule is then an elementwise product
  (``grad[node] * local``), summed back over any broadcast axes. For scalars this is the plain
  number students write in the lecture's tables (e.g. ``d sin(z)/dz = cos(z)``).
* ops that mix elements (``sum``, ``@``) would need a full Jacobian matrix; they store instead
  the function ``upstream gradient -> parent gradient`` (the vector-Jacobian product).

`backward(output)` returns the gradient of one scalar output with respect to every node;
`jacobian(outputs, inputs)` runs one backward pass per output.

The builders at the bottom express the lab's function and the lecture's worked graphs as named
nodes. They are written only with Python operators and a ``sin``/``exp`` passed in, so the very
same code also runs on torch tensors (`lightning_ffnn.labs.jacobian` does exactly that to check
this engine against autograd). NumPy only: nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: The local derivative on one edge: an array (elementwise ops) or a vector-Jacobian product.
Local = np.ndarray | Callable[[np.ndarray], np.ndarray]


class Node:
    """One value in the graph.

    Args:
        value: a number or an array; stored as a float64 array (shape ``()`` for scalars).
        name: a label for printed tables (``"z1"``, ``"h3"``); empty for intermediate nodes.
        parents: the nodes this one was computed from (empty for inputs and constants).
        locals_: one local derivative per parent, see the module docstring.
        op: what computed this node (``"input"``, ``"const"``, ``"*"``, ``"sin"``, ...).
    """

    def __init__(self, value: Any, name: str = "", parents: Sequence[Node] = (),
                 locals_: Sequence[Local] = (), op: str = "input"):
        if len(parents) != len(locals_):
            raise ValueError(f"{op}: got {len(parents)} parents but {len(locals_)} local derivatives")
        self.value = np.asarray(value, dtype=np.float64)
        self.name = name
        self.parents = tuple(parents)
        self.locals = tuple(locals_)
        self.op = op

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def named(self, name: str) -> Node:
        """Set the node's label and return the node (for ``z1 = (2 * x1 + x2).named("z1")``)."""
        self.name = name
        return self

    def __repr__(self) -> str:
        label = f"{self.name}=" if self.name else ""
        return f"Node({label}{self.value!r}, op={self.op!r})"

    # ---- elementwise arithmetic: forward value and local derivatives side by side ----

    def __add__(self, other: Any) -> Node:
        other = as_node(other)
        return Node(self.value + other.value, parents=(self, other), locals_=(_ONE, _ONE), op="+")

    def __sub__(self, other: Any) -> Node:
        other = as_node(other)
        return Node(self.value - other.value, parents=(self, other), locals_=(_ONE, -_ONE), op="-")

    def __mul__(self, other: Any) -> Node:
        other = as_node(other)
        # d(ab)/da = b and d(ab)/db = a
        return Node(self.value * other.value, parents=(self, other),
                    locals_=(other.value, self.value), op="*")

    def __truediv__(self, other: Any) -> Node:
        other = as_node(other)
        a, b = self.value, other.value
        return Node(a / b, parents=(self, other), locals_=(1.0 / b, -a / b**2), op="/")

    def __neg__(self) -> Node:
        return Node(-self.value, parents=(self,), locals_=(-_ONE,), op="neg")

    def __pow__(self, p: float) -> Node:
        if isinstance(p, Node):
            raise TypeError("Node ** Node is not supported: the exponent must be a constant number")
        return Node(self.value**p, parents=(self,), locals_=(p * self.value ** (p - 1),), op=f"**{p}")

    # `2 * x` lands here (int cannot multiply a Node): wrap the constant and reuse the rules above
    def __radd__(self, other: Any) -> Node:
        return as_node(other) + self

    def __rsub__(self, other: Any) -> Node:
        return as_node(other) - self

    def __rmul__(self, other: Any) -> Node:
        return as_node(other) * self

    def __rtruediv__(self, other: Any) -> Node:
        return as_node(other) / self

    # ---- ops that mix elements: they store a vector-Jacobian product ----

    def sum(self) -> Node:
        """Sum of all elements, a scalar node. Each element's local derivative is 1."""
        shape = self.shape
        return Node(self.value.sum(), parents=(self,),
                    locals_=(lambda g: np.broadcast_to(g, shape).copy(),), op="sum")

    def __matmul__(self, other: Any) -> Node:
        """Matrix product of 2-D nodes: ``(n, k) @ (k, m) -> (n, m)``."""
        other = as_node(other)
        a, b = self.value, other.value
        if a.ndim != 2 or b.ndim != 2:
            raise ValueError(f"@ needs two 2-D nodes, got shapes {a.shape} and {b.shape}")
        # for C = A @ B with upstream gradient G: dA = G @ B^T, dB = A^T @ G
        return Node(a @ b, parents=(self, other),
                    locals_=(lambda g: g @ b.T, lambda g: a.T @ g), op="@")

    def __rmatmul__(self, other: Any) -> Node:
        return as_node(other) @ self


_ONE = np.float64(1.0)


def as_node(x: Any) -> Node:
    """``x`` itself if it is a Node, otherwise a constant node holding ``x``."""
    return x if isinstance(x, Node) else Node(x, name=f"{x}", op="const")


# ---- elementary functions ----

def sin(x: Node) -> Node:
    return Node(np.sin(x.value), parents=(x,), locals_=(np.cos(x.value),), op="sin")


def cos(x: Node) -> Node:
    return Node(np.cos(x.value), parents=(x,), locals_=(-np.sin(x.value),), op="cos")


def exp(x: Node) -> Node:
    out = np.exp(x.value)
    return Node(out, parents=(x,), locals_=(out,), op="exp")


def log(x: Node) -> Node:
    return Node(np.log(x.value), parents=(x,), locals_=(1.0 / x.value,), op="log")


# ---- reverse accumulation ----

def topological_order(output: Node) -> list[Node]:
    """All nodes ``output`` depends on, each one after all of its parents (``output`` last)."""
    order: list[Node] = []
    visited: set[int] = set()

    def visit(node: Node) -> None:
        if id(node) in visited:
            return
        visited.add(id(node))
        for parent in node.parents:
            visit(parent)
        order.append(node)

    visit(output)
    return order


def backward(output: Node, seed: Any = None) -> dict[Node, np.ndarray]:
    """Gradient of ``output`` with respect to every node it depends on.

    Args:
        output: the node to differentiate; a scalar unless ``seed`` is given.
        seed: the upstream gradient ``d L / d output``, same shape as ``output`` (default 1).

    Returns:
        ``{node: d output / d node}``, each gradient with the node's shape. Nodes used twice
        (``u1`` feeds both ``v1`` and ``v3`` in the lab) get the sum of both paths.
    """
    if seed is None:
        if output.value.ndim != 0:
            raise ValueError(f"backward() without a seed needs a scalar output, got shape {output.shape}")
        seed = 1.0
    seed = np.asarray(seed, dtype=np.float64)
    if seed.shape != output.shape:
        raise ValueError(f"seed has shape {seed.shape} but the output has shape {output.shape}")

    grads: dict[Node, np.ndarray] = {output: seed}
    for node in reversed(topological_order(output)):
        g = grads[node]  # complete: every node that uses `node` came later in the order
        for parent, local in zip(node.parents, node.locals):
            contribution = local(g) if callable(local) else _unbroadcast(g * local, parent.shape)
            grads[parent] = grads[parent] + contribution if parent in grads else contribution
    return grads


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes NumPy broadcast, so it gets back the parent's ``shape``.

    (``2 * x`` with ``x`` of shape (3, 4): the constant 2 was broadcast to (3, 4), so its
    gradient is the sum of all twelve.)"""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def jacobian(outputs: Sequence[Node], inputs: Sequence[Node]) -> np.ndarray:
    """``J[i, j] = d outputs[i] / d inputs[j]`` for scalar nodes, one backward pass per output.

    Returns an array of shape ``(len(outputs), len(inputs))`` (rows are outputs, as in
    ``torch.autograd.functional.jacobian``). An input an output does not depend on gives 0.
    """
    for kind, nodes in (("output", outputs), ("input", inputs)):
        for node in nodes:
            if node.value.ndim != 0:
                raise ValueError(f"jacobian() wants scalar nodes; {kind} {node!r} has shape {node.shape}")
    J = np.zeros((len(outputs), len(inputs)))
    for i, y in enumerate(outputs):
        grads = backward(y)
        for j, x in enumerate(inputs):
            J[i, j] = grads[x] if x in grads else 0.0
    return J


# ---- the lab's function and the lecture's graphs ----
# Each `*_function` uses only operators and the `sin`/`exp` it is given, so it builds a graph of
# Nodes here and a torch autograd graph when called with tensors and torch.sin / torch.exp.

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
