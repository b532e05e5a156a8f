"""What grading a class costs: a generated class of N students, each in its own sandboxed process.

Run from the repository root::

    python scripts/bench_grading.py --students 20 --jobs 1          # the cost of one submission
    python scripts/bench_grading.py --students 200 --jobs 2         # a class of 200 on two cores

Each student's file holds one op (``--op sigmoid``: a class; ``--op linear``: a CS231n affine pair); every
fourth one has a wrong gradient, so FAIL rows (and their hints) are timed too. Prints the wall-clock time, the
time per submission and the isolation that ran. Nothing is written outside a temporary folder.
"""

import argparse
import tempfile
import textwrap
import time
from pathlib import Path

from course.grading import Settings, grade_class
from course.opcheck.teacher import guess_reference, submissions_in

SIGMOID = """
    import numpy as np

    class Sigmoid:
        def forward(self, x):
            s = 1 / (1 + np.exp(-x))
            return s, (s,)

        def backward(self, dout, cache):
            (s,) = cache
            return ({sign}dout * s * (1 - s),)
"""
AFFINE = """
    def affine_forward(x, w, b):
        return x @ w.T + b, (x, w)

    def affine_backward(dout, cache):
        x, w = cache
        return dout @ w, {dw}, dout.sum(0)
"""


def write_class(folder: Path, students: int, op: str) -> None:
    for i in range(students):
        wrong = i % 4 == 3
        text = SIGMOID.format(sign="-" if wrong else "") if op == "sigmoid" else \
            AFFINE.format(dw="x.T @ dout" if wrong else "dout.T @ x")
        (folder / f"student_{i:03d}.py").write_text(textwrap.dedent(text))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", type=int, default=20)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--op", choices=("sigmoid", "linear"), default="sigmoid")
    p.add_argument("--no-namespaces", action="store_true", help="without the namespaces' hardening")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_class(folder, args.students, args.op)
        settings = Settings(guess=guess_reference)
        start = time.perf_counter()
        rows, isolation = grade_class(submissions_in(folder), settings, jobs=args.jobs, hide=[folder],
                                       isolate=not args.no_namespaces)
        took = time.perf_counter() - start
    passed = sum(r.result == "PASS" for r in rows)
    print(f"{args.students} students ({args.op}), --jobs {args.jobs}: {took:.1f} s, "
          f"{took / args.students:.3f} s per submission; {passed} PASS, {len(rows) - passed} other")
    print(f"isolation: {isolation}")


if __name__ == "__main__":
    main()
