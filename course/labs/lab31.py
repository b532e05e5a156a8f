"""Lab 3.1 as its handout writes it: a class with one method per node of the graph, ``forward`` and ``backward``.

The function is `numpy_ops.graph_examples.lab_function` (tests check that the two agree); here each node is a
method, as in the lab's skeleton, and ``backward`` computes the Jacobian by hand, by reverse accumulation
through the stored nodes. Run ``python -m course.labs.lab31`` to print the lab's table of Y and Jacobians.
"""

from __future__ import annotations

import math

import numpy as np

#: The three points the lab evaluates.
POINTS = ((1.0, 1.0, 1.0), (2.0, 1.0, 3.0), (-1.0, -1.0, -3.0))


class LabGraph:
    """y = (y1, y2) = f(x1, x2, x3), node by node. ``forward(x)`` stores every node; ``backward()`` returns
    the Jacobian J of shape (2, 3), ``J[i, j] = d y_i / d x_j`` (rows y1, y2; columns x1, x2, x3)."""

    def function_z1(self, x1, x2):
        return 2 * x1 + x2

    def function_z2(self, x1, x3):
        return 3 * x1 * x3

    def function_z3(self, x3):
        return -x3

    def function_u1(self, z1):
        return math.sin(z1)

    def function_u2(self, x3, z2):
        return 2 * x3 + z2

    def function_u3(self, z1, z3):
        return 2 * z1 + z3

    def function_v1(self, u1, u3):
        return u1 - u3

    def function_v2(self, u2):
        return math.sin(-u2)

    def function_v3(self, u1, u3):
        return u1 * u3

    def function_y1(self, v1, v2):
        return v1**2 + v2**3

    def function_y2(self, v2, v3):
        return v2 * v3

    def forward(self, x) -> np.ndarray:
        """``x`` (3,) -> ``y`` (2,); every node is kept in ``self.nodes`` for ``backward``."""
        x1, x2, x3 = (float(v) for v in x)
        n = dict(x1=x1, x2=x2, x3=x3)
        n["z1"], n["z2"], n["z3"] = self.function_z1(x1, x2), self.function_z2(x1, x3), self.function_z3(x3)
        n["u1"], n["u2"] = self.function_u1(n["z1"]), self.function_u2(x3, n["z2"])
        n["u3"] = self.function_u3(n["z1"], n["z3"])
        n["v1"], n["v2"] = self.function_v1(n["u1"], n["u3"]), self.function_v2(n["u2"])
        n["v3"] = self.function_v3(n["u1"], n["u3"])
        n["y1"], n["y2"] = self.function_y1(n["v1"], n["v2"]), self.function_y2(n["v2"], n["v3"])
        self.nodes = n
        return np.array([n["y1"], n["y2"]])

    def backward(self) -> np.ndarray:
        """The Jacobian at the last ``forward``'s point: J (2, 3), row i = (dy_i/dx1, dy_i/dx2, dy_i/dx3).

        Reverse accumulation: seed the output y_i with 1, send the gradient back through each node with its
        local derivatives (chain rule), and add up what reaches x1, x2, x3."""
        # BEGIN SOLUTION jacobian
        return np.array([self._reverse(1.0, 0.0), self._reverse(0.0, 1.0)])
        # END SOLUTION

    def _reverse(self, g_y1: float, g_y2: float) -> tuple[float, float, float]:
        """(dL/dx1, dL/dx2, dL/dx3) for L = g_y1 y1 + g_y2 y2."""
        # BEGIN SOLUTION jacobian
        n = self.nodes
        g_v1 = g_y1 * 2 * n["v1"]
        g_v2 = g_y1 * 3 * n["v2"] ** 2 + g_y2 * n["v3"]
        g_v3 = g_y2 * n["v2"]
        g_u1 = g_v1 + g_v3 * n["u3"]
        g_u3 = -g_v1 + g_v3 * n["u1"]
        g_u2 = -g_v2 * math.cos(-n["u2"])
        g_z1 = g_u1 * math.cos(n["z1"]) + 2 * g_u3
        g_z2, g_z3 = g_u2, g_u3
        return (2 * g_z1 + 3 * n["x3"] * g_z2, g_z1, 3 * n["x1"] * g_z2 + 2 * g_u2 - g_z3)
        # END SOLUTION


def table(points=POINTS) -> str:
    """The lab's printout: X, Y and the Jacobian J^T (rows x1, x2, x3; columns y1, y2) at each point."""
    lines = []
    for x in points:
        g = LabGraph()
        y = g.forward(x)
        lines += [f"X = {list(x)}", f"Y = {np.array2string(y, precision=8, floatmode='fixed')}",
                  "J^T (rows x1, x2, x3; columns y1, y2):",
                  np.array2string(g.backward().T, precision=8, floatmode="fixed"), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
