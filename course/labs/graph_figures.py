"""The computational graph drawn: every node's name, operation, value and gradient, the backward pass on the edges.

Lab 3.1's function and the lecture's worked graphs (`numpy_ops.graph_examples`) drawn with matplotlib alone (no
graphviz, no system package). Columns are depths: inputs and constants on the left, the output on the right.
Each box reads ``name [op]``, ``value`` and ``grad`` (d output / d node); each edge points forward (parent to
child) and carries, in red, what the backward pass sends back along it (``grad of the child * local
derivative``, `numpy_ops.graph.edge_gradient`). Arrays are summarised by shape and sum.

`graph_figure` draws any graph; `lecture_figures` the lab's and the lecture's; `graph_section` puts them in
the report (a `Section` of `lightning_ffnn.labs.report`); `log_to_tensorboard` logs them to a SummaryWriter;
`save_figures` writes PNGs (``python scripts/jacobian.py --draw``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from numpy_ops import graph, graph_examples
from numpy_ops.graph import Node

#: Each drawn graph: key -> (title, builder, output node name, inputs).
LECTURE_POINT = dict(x=3.0, y=4.0)
GRAPHS: dict[str, tuple[str, Any, str, dict[str, Any]]] = {
    "lab_y1": ("Lab 3.1: y1 at x = (2, 1, 3)", graph_examples.lab_function, "y1", dict(x1=2.0, x2=1.0, x3=3.0)),
    "lab_y2": ("Lab 3.1: y2 at x = (2, 1, 3)", graph_examples.lab_function, "y2", dict(x1=2.0, x2=1.0, x3=3.0)),
    "quadratic": ("f(x, y) = x^2 y + y + 2 at x = 3, y = 4", graph_examples.quadratic_function, "f", LECTURE_POINT),
    "sigmoid_neuron": ("f(x; w, b) = sigma(w x + b) at x = 1, w = 0, b = 0", graph_examples.sigmoid_neuron_function,
                       "h6", dict(x=1.0, w=0.0, b=0.0)),
    "array": ("a = x * y, b = a + z, c = sum(b) on 2x3 arrays", graph_examples.array_function, "c",
              dict(x=np.arange(1.0, 7.0).reshape(2, 3), y=np.full((2, 3), 0.5), z=np.ones((2, 3)))),
}


def fmt(value: np.ndarray) -> str:
    """A number as ``0.25`` (4 significant digits), an array as ``2x3 sum 10.5`` (``2x3 all 1`` when constant)."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        return f"{float(a) + 0.0:.4g}"
    shape = "x".join(map(str, a.shape))
    if a.size and np.all(a == a.flat[0]):
        return f"{shape} all {float(a.flat[0]) + 0.0:.4g}"
    return f"{shape} sum {float(a.sum()) + 0.0:.4g}"


def label(node: Node) -> str:
    """A node's name: its own, a constant's value, or its operation for unnamed intermediate nodes."""
    if node.op == "const":
        return fmt(node.value)
    return node.name or f"({node.op})"


def layout(order: Sequence[Node]) -> dict[int, tuple[float, float]]:
    """``{id(node): (x, y)}``: x is the depth (longest path from an input), y spreads each column over [0, 1].
    Constants sit one column left of the node that uses them."""
    depth: dict[int, int] = {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
    for node in order:  # a constant is drawn next to its (first) user
        for p in node.parents:
            if p.op == "const":
                depth[id(p)] = depth[id(node)] - 1
    columns: dict[int, list[Node]] = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    pos = {}
    for d, nodes in columns.items():
        for i, node in enumerate(nodes):
            pos[id(node)] = (float(d), (i + 1) / (len(nodes) + 1))
    return pos


def _free_spot(placed: list[tuple[float, float]], start: tuple[float, float], end: tuple[float, float]
               ) -> tuple[float, float]:
    """Where on the edge ``start -> end`` its label goes: the first of a few points along it (the middle first) that
    is clear of the labels already ``placed`` (two edges leaving one node would otherwise label the same spot)."""
    (x0, y0), (x1, y1) = start, end
    spots = [(x0 + t * (x1 - x0), y0 + t * (y1 - y0)) for t in (0.55, 0.4, 0.7, 0.3, 0.8)]
    spot = next((p for p in spots if all(abs(p[0] - q[0]) > 0.3 or abs(p[1] - q[1]) > 0.06 for q in placed)),
                spots[0])
    placed.append(spot)
    return spot


def graph_figure(output: Node, title: str = "") -> Figure:
    """The graph ``output`` depends on, with values, gradients d output / d node and the backward pass on edges."""
    grads = graph.backward(output) if output.value.ndim == 0 else graph.backward(output, np.ones(output.shape))
    order = graph.topological_order(output)
    pos = layout(order)
    n_cols = 1 + int(max(x for x, _ in pos.values()))
    n_rows = max(sum(1 for x, _ in pos.values() if x == c) for c in range(n_cols))
    # About 1.6 in a column: at the report's page width (1100 px) the figure is shown near 1:1, so 9-pt text reads
    # as 9 pt (at 2.3 in a column a 7-column graph was shrunk to half, and its text to about 6 px).
    fig = Figure(figsize=(max(6.0, 1.6 * n_cols), max(3.5, 1.1 * n_rows + 1.2)))
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.88)
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(-0.02, 1.04)
    ax.axis("off")
    ax.set_title(title + "\nboxes: name [op], value, grad = d out/d node;\nred on an edge: the gradient it carries "
                 "back", fontsize=10)
    placed: list[tuple[float, float]] = []
    for node in order:
        for k, parent in enumerate(node.parents):
            (x0, y0), (x1, y1) = pos[id(parent)], pos[id(node)]
            ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=10, color="0.6",
                                         shrinkA=30, shrinkB=38, linewidth=0.8))
            if parent.op != "const":
                back = graph.edge_gradient(node, k, grads[node])
                x, y = _free_spot(placed, (x0, y0), (x1, y1))
                ax.text(x, y, fmt(back), color="tab:red", fontsize=8.5,
                        ha="center", va="center", gid=f"edge:{label(parent)}<-{label(node)}",
                        bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.85))
    for node in order:
        x, y = pos[id(node)]
        if node.op == "const":
            ax.text(x, y, label(node), ha="center", va="center", fontsize=9.5, color="0.35", gid=f"const:{label(node)}")
            continue
        kind = "input" if not node.parents else node.op
        text = f"{label(node)} [{kind}]\nvalue {fmt(node.value)}\ngrad {fmt(grads[node])}"
        color = "#dbe9f6" if not node.parents else "#fde9c9" if node is output else "#eeeeee"
        ax.text(x, y, text, ha="center", va="center", fontsize=9, gid=f"node:{label(node)}",
                bbox=dict(boxstyle="round,pad=0.3", fc=color, ec="0.4"))
    return fig


def figure_for(key: str) -> Figure:
    """One of `GRAPHS`, built and drawn."""
    title, function, output, inputs = GRAPHS[key]
    _, nodes = graph_examples.build_named_graph(function, **inputs)
    return graph_figure(nodes[output], title)


def lecture_figures() -> dict[str, Figure]:
    """Every graph of `GRAPHS`, by key."""
    return {key: figure_for(key) for key in GRAPHS}


def node_texts(fig: Figure) -> dict[str, str]:
    """``{gid: text}`` of a drawn graph's nodes (``node:h6``), constants and edges (``edge:w<-h1``): what it shows."""
    return {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}


def save_figures(out_dir: str | Path, dpi: int = 110) -> list[Path]:
    """Write every graph as ``<out_dir>/graph_<key>.png``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, fig in lecture_figures().items():
        path = out / f"graph_{key}.png"
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    return paths


def log_to_tensorboard(writer, step: int = 0) -> list[str]:
    """Log every graph to a ``torch.utils.tensorboard.SummaryWriter`` (or any writer with ``add_figure``) as
    ``graph/<key>``; returns the tags."""
    tags = []
    for key, fig in lecture_figures().items():
        writer.add_figure(f"graph/{key}", fig, global_step=step, close=False)
        tags.append(f"graph/{key}")
    return tags


def graph_section(s, opts=None) -> None:
    """The drawn graphs as a report section (``s`` a `lightning_ffnn.labs.report.Section`; ``opts`` unused)."""
    s.add("Each graph below is drawn from the engine's own nodes (`numpy_ops.graph`): every box gives the node's "
          "name and operation, its value, and its gradient d out/d node after one backward pass; the number in "
          "red on each edge is what the backward pass sends along it (the child's gradient times the local "
          "derivative). Where a node feeds two others (u1 in the lab), its gradient is the sum of its edges.")
    for key, fig in lecture_figures().items():
        s.figure(fig, f"graph_{key}", GRAPHS[key][0] + ": the computational graph, forward values and gradients.")
