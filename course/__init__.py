"""course: everything of lightning-ffnn that needs NumPy but no torch.

It sits between the hand-written math (`numpy_ops`) and the Lightning package (`lightning_ffnn`), and imports
only from `numpy_ops` and itself:

* `course.datasets` -- strict readers, deterministic generators and figures of the labs' data sets;
* `course.opcheck`  -- the checker and grader for users' own backward passes;
* `course.labs`     -- the labs that are not Lightning runs (sine, XOR and flower, MNIST MLPs, classic) and the
  report's NumPy sections;
* `course.tables`, `course.threads`, `course.plots` -- Markdown tables, BLAS thread limits, run figures.

A student who only checks a backward or runs a NumPy lab installs NumPy, not torch.
"""
