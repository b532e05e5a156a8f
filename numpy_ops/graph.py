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

The lab's function and the lecture's worked graphs, built with this engine, are in
`numpy_ops.graph_examples`. NumPy only: nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

#: The local derivative on one edge: an array (elementwise ops) or a vector-Jacobian product.
Local = np.ndarray | Callable[[np.ndarray], np.ndarray]


class Node:
    """One value in the graph.

    ``__array_ufunc__ = None`` makes NumPy step aside: ``ndarray * node`` then calls
    ``node.__rmul__`` and gives a Node, instead of an object array of Nodes, one per element.

    Args:
        value: a number or an array; stored as a float64 array (shape ``()`` for scalars).
        name: a label for printed tables (``"z1"``, ``"h3"``); empty for intermediate nodes.
        parents: the nodes this one was computed from (empty for inputs and constants).
        locals_: one local derivative per parent, see the module docstring.
        op: what computed this node (``"input"``, ``"const"``, ``"*"``, ``"sin"``, ...).
    """

    __array_ufunc__ = None

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
        if p == 0:  # x**0 = 1 for every x: the derivative is 0 (p * x**(p-1) would be 0 * inf at x = 0)
            local = np.zeros_like(self.value)
        else:
            local = p * self.value ** (p - 1)
        return Node(self.value**p, parents=(self,), locals_=(local,), op=f"**{p}")

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
    """All nodes ``output`` depends on, each one after all of its parents (``output`` last).

    A depth-first search with an explicit stack, not recursion: a chain of thousands of nodes
    (a long loop of ``x = x + 1``) would pass Python's recursion limit."""
    order: list[Node] = []
    visited: set[int] = {id(output)}
    # each entry: a node and an iterator over the parents still to visit
    stack: list[tuple[Node, Any]] = [(output, iter(output.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parent.parents)))
                break
        else:  # every parent is placed: the node can follow them
            stack.pop()
            order.append(node)
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

    # BEGIN HIDDEN jacobian
    grads: dict[Node, np.ndarray] = {output: seed}
    for node in reversed(topological_order(output)):
        g = grads[node]  # complete: every node that uses `node` came later in the order
        for k, parent in enumerate(node.parents):
            contribution = edge_gradient(node, k, g)
            grads[parent] = grads[parent] + contribution if parent in grads else contribution
    return grads
    # END HIDDEN


def edge_gradient(node: Node, k: int, grad: np.ndarray) -> np.ndarray:
    """The chain rule on one edge: what ``node``'s gradient ``grad`` sends back to its ``k``-th parent
    (``grad * local``, summed over broadcast axes, or the stored vector-Jacobian product)."""
    local, parent = node.locals[k], node.parents[k]
    return local(grad) if callable(local) else _unbroadcast(grad * local, parent.shape)


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
    # BEGIN HIDDEN jacobian
    J = np.zeros((len(outputs), len(inputs)))
    for i, y in enumerate(outputs):
        grads = backward(y)
        for j, x in enumerate(inputs):
            J[i, j] = grads[x] if x in grads else 0.0
    return J
    # END HIDDEN
