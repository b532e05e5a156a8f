"""Lab 3.1: the computational graph and its Jacobian, by hand (`numpy_ops.graph`) and by torch autograd.

The function of the lab and the lecture's graphs are defined once, in `numpy_ops.graph_examples`, with
Python operators only. Here the same builders run on float64 torch tensors, so every comparison
is between two differentiation engines on one definition of the function, not between two
transcriptions of it. Run ``python scripts/jacobian.py`` to print the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from numpy_ops import graph, graph_examples

#: The three points the lab evaluates.
LAB_POINTS = ((1.0, 1.0, 1.0), (2.0, 1.0, 3.0), (-1.0, -1.0, -3.0))


def torch_lab_jacobian(x: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Value and Jacobian of the lab's function by autograd, in float64.

    Returns:
        ``(y, J)`` like `numpy_ops.graph_examples.lab_jacobian`: ``y`` (2,), ``J`` (2, 3), rows y, columns x.
    """
    def f(x: torch.Tensor) -> torch.Tensor:
        nodes = graph_examples.lab_function(x[0], x[1], x[2], sin=torch.sin)
        return torch.stack([nodes["y1"], nodes["y2"]])

    x = torch.tensor(x, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(f, x)
    return f(x).numpy(), J.numpy()


def compare_lab_jacobians(points: Sequence[Sequence[float]] = LAB_POINTS) -> list[dict[str, np.ndarray]]:
    """For each point: ``x``, ``y``, ``numpy`` and ``torch`` Jacobians (2, 3) and their ``max_diff``."""
    rows = []
    for x in points:
        y, J_np = graph_examples.lab_jacobian(x)
        y_torch, J_torch = torch_lab_jacobian(x)
        rows.append(dict(x=np.asarray(x, dtype=np.float64), y=y, y_torch=y_torch, numpy=J_np, torch=J_torch,
                         max_diff=float(np.max(np.abs(J_np - J_torch)))))
    return rows


def _fmt(a: np.ndarray, indent: str = "    ") -> str:
    text = np.array2string(np.asarray(a), precision=8, suppress_small=False, floatmode="fixed",
                           max_line_width=120)
    return indent + text.replace("\n", "\n" + indent)


def format_jacobian_table(rows: list[dict[str, np.ndarray]]) -> str:
    """The lab's table as text: X, Y, NumPy and PyTorch Jacobians (both orientations), max difference."""
    lines = ["Lab 3.1: Jacobian of y = (y1, y2) with respect to x = (x1, x2, x3), float64",
             "J[i, j] = dy_i/dx_j (rows y, columns x); the lab prints J^T (rows x, columns y).", ""]
    for r in rows:
        lines += [
            f"X = {np.array2string(r['x'], precision=1)}",
            f"Y = {np.array2string(r['y'], precision=8, floatmode='fixed')}",
            "NumPy graph Jacobian J (rows y1, y2; columns x1, x2, x3):", _fmt(r["numpy"]),
            "NumPy graph Jacobian J^T, as the lab prints it (rows x1, x2, x3; columns y1, y2):", _fmt(r["numpy"].T),
            "PyTorch autograd Jacobian J (rows y1, y2; columns x1, x2, x3):", _fmt(r["torch"]),
            f"max |J_numpy - J_torch| = {r['max_diff']:.3e}",
            "",
        ]
    return "\n".join(lines)


# ---- gradients of every named node, by the engine and by autograd ----

def numpy_node_gradients(function: Callable[..., dict[str, Any]], output: str,
                         inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """``{name: d output / d node}`` for every input and named node, by `numpy_ops.graph`."""
    leaves, nodes = graph_examples.build_named_graph(function, **inputs)
    grads = graph.backward(nodes[output])
    named = {**leaves, **nodes}
    return {name: np.asarray(grads.get(node, np.zeros(node.shape))) for name, node in named.items()}


def torch_node_gradients(function: Callable[..., dict[str, Any]], output: str, inputs: dict[str, Any],
                         **torch_fns: Callable) -> dict[str, np.ndarray]:
    """The same as `numpy_node_gradients` by torch autograd (float64); ``torch_fns`` replaces the
    builder's ``sin``/``exp`` with torch's. Intermediate gradients come from ``retain_grad``."""
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in inputs.items()}
    nodes = function(**leaves, **torch_fns)
    for t in nodes.values():
        t.retain_grad()
    nodes[output].backward()
    named = {**leaves, **nodes}
    return {k: (t.grad if t.grad is not None else torch.zeros_like(t)).detach().numpy() for k, t in named.items()}


def _array_inputs(seed: int = 0, shape: tuple[int, int] = (3, 4)) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape) for name in ("x", "y", "z")}


#: The lecture's worked graphs: builder, output node, input values, torch replacements for sin/exp.
LECTURE_GRAPHS: dict[str, tuple[Callable, str, dict[str, Any], dict[str, Callable]]] = {
    "f(x, y) = x^2 y + y + 2 at x=3, y=4": (
        graph_examples.quadratic_function, "f", dict(x=3.0, y=4.0), {}),
    "f(x; w, b) = sigma(w x + b) at x=1, w=0, b=0": (
        graph_examples.sigmoid_neuron_function, "h6", dict(x=1.0, w=0.0, b=0.0), dict(exp=torch.exp)),
    "c = sum(x * y + z) on 3x4 arrays": (
        graph_examples.array_function, "c", _array_inputs(), {}),
}


def compare_node_gradients(title: str) -> dict[str, float]:
    """Max |NumPy - torch| of ``d output / d node`` for every named node of a lecture graph."""
    function, output, inputs, torch_fns = LECTURE_GRAPHS[title]
    ours = numpy_node_gradients(function, output, inputs)
    theirs = torch_node_gradients(function, output, inputs, **torch_fns)
    return {name: float(np.max(np.abs(ours[name] - theirs[name]))) for name in ours}


def format_node_table(function: Callable[..., dict[str, Any]], output: str, inputs: dict[str, Any]) -> str:
    """Each named node of a scalar graph: operation, value, local derivatives, backpropagated gradient."""
    leaves, nodes = graph_examples.build_named_graph(function, **inputs)
    lines = [f"{'node':>5} {'op':>6} {'value':>11}  {'local derivatives':<30} d{output}/d(node)"]
    for row in graph_examples.node_table(nodes[output]):
        # (+ 0.0 below prints h3 = -0 as 0)
        local = ", ".join(f"d{row['name']}/d{p} = {float(v):.4g}" for p, v in row["local"].items())
        lines.append(f"{row['name']:>5} {row['op']:>6} {float(row['value']) + 0.0:11.6f}  {local:<30} "
                     f"{float(row['grad']):.6f}")
    return "\n".join(lines)


def format_array_example(title: str = "c = sum(x * y + z) on 3x4 arrays") -> str:
    """The array graph: gradients by hand (dc/dx = y, dc/dy = x, dc/dz = 1) against autograd."""
    function, output, inputs, torch_fns = LECTURE_GRAPHS[title]
    ours = numpy_node_gradients(function, output, inputs)
    theirs = torch_node_gradients(function, output, inputs, **torch_fns)
    lines = [title + ":  dc/dx = y, dc/dy = x, dc/dz = ones"]
    for name in ("x", "y", "z", "a", "b"):
        lines.append(f"  dc/d{name}: shape {ours[name].shape}, max |NumPy - torch| = "
                     f"{np.max(np.abs(ours[name] - theirs[name])):.1e}")
    lines.append(f"  dc/dx == y exactly: {np.array_equal(ours['x'], inputs['y'])}; "
                 f"dc/dz == 1 exactly: {np.array_equal(ours['z'], np.ones((3, 4)))}")
    return "\n".join(lines)


def lecture_report() -> str:
    """The lecture's two scalar graphs as node tables, the array graph, and a NumPy-vs-torch check of all."""
    parts = []
    for title, (function, output, inputs, _) in list(LECTURE_GRAPHS.items())[:2]:
        parts += [title, format_node_table(function, output, inputs),
                  f"max |NumPy - torch| over all nodes: {max(compare_node_gradients(title).values()):.1e}", ""]
    parts.append(format_array_example())
    return "\n".join(parts)


def format_lab_nodes(x: Sequence[float]) -> str:
    """Value of every node of the lab's graph at ``x`` and its gradients dy1/d(node), dy2/d(node)."""
    inputs = dict(zip(("x1", "x2", "x3"), (float(v) for v in x)))
    g1 = numpy_node_gradients(graph_examples.lab_function, "y1", inputs)
    g2 = numpy_node_gradients(graph_examples.lab_function, "y2", inputs)
    leaves, nodes = graph_examples.build_named_graph(graph_examples.lab_function, **inputs)
    lines = [f"Nodes of the lab's graph at X = {list(x)}",
             f"{'node':>5} {'value':>13} {'dy1/d(node)':>13} {'dy2/d(node)':>13}"]
    for name, node in {**leaves, **nodes}.items():
        lines.append(f"{name:>5} {float(node.value):13.8f} {float(g1[name]):13.8f} {float(g2[name]):13.8f}")
    return "\n".join(lines)
