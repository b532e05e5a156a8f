"""The course labs that are not Lightning training runs: small experiments, their tables and figures.

Importing them changes nothing in the process. Their entry points (``python -m course.labs.scratch``,
``python -m course.labs.classic``, `lightning_ffnn.labs.report.build_report`) limit NumPy's BLAS to one
thread first (`course.threads.limit_blas_threads`): the labs train tiny networks, where a multi-threaded
BLAS only adds thread hand-offs (docs/speed.md).
"""
