"""Lab 3.1: print the Jacobian of the lab's function, by the NumPy graph engine and by torch autograd.

Run from the repository root (after ``make setup``)::

    python scripts/jacobian.py             # the lab's table for X = [1,1,1], [2,1,3], [-1,-1,-3]
    python scripts/jacobian.py --nodes     # also every node's value and gradient, and the lecture's graphs
    python scripts/jacobian.py --x 0.5 -1 2
    python scripts/jacobian.py --draw graphs/   # the lab's and the lecture's graphs drawn, as PNGs
    python scripts/jacobian.py --tensorboard runs/graphs   # the same figures in TensorBoard (tag graph/...)

The NumPy Jacobian comes from one backward pass per output through `numpy_ops.graph`; the PyTorch
one from ``torch.autograd.functional.jacobian``. Both are float64 and agree to about 1e-15.
"""

import argparse

from lightning_ffnn.labs import jacobian


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--x", type=float, nargs=3, action="append", metavar=("X1", "X2", "X3"),
                        help="a point to evaluate (repeatable); default: the lab's three points")
    parser.add_argument("--nodes", action="store_true",
                        help="also print every node of the lab's graph and the lecture's worked graphs")
    parser.add_argument("--draw", metavar="DIR", nargs="?", const="graphs", default=None,
                        help="also draw the lab's and the lecture's graphs (nodes, values, gradients, the backward "
                             "pass on the edges) as PNGs into DIR (default: graphs)")
    parser.add_argument("--tensorboard", metavar="LOGDIR",
                        help="also log the drawn graphs to TensorBoard in LOGDIR (tags graph/<name>)")
    args = parser.parse_args()
    points = args.x or jacobian.LAB_POINTS

    print(jacobian.format_jacobian_table(jacobian.compare_lab_jacobians(points)))
    if args.nodes:
        for x in points:
            print(jacobian.format_lab_nodes(x), end="\n\n")
        print(jacobian.lecture_report())
    if args.draw is not None:
        from course.labs.graph_figures import save_figures

        for path in save_figures(args.draw):
            print(f"wrote {path}")
    if args.tensorboard is not None:
        from torch.utils.tensorboard import SummaryWriter

        from course.labs.graph_figures import log_to_tensorboard

        with SummaryWriter(args.tensorboard) as writer:
            tags = log_to_tensorboard(writer)
        print(f"logged {', '.join(tags)} to {args.tensorboard} (tensorboard --logdir {args.tensorboard})")


if __name__ == "__main__":
    main()
