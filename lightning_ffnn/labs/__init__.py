"""The course labs that are not Lightning training runs: small experiments, their tables and figures.

Importing them changes nothing in the process. Their entry points (``python -m lightning_ffnn.labs.scratch``,
``python -m lightning_ffnn.labs.classic``, `lightning_ffnn.labs.report.build_report`) limit NumPy's BLAS to one
thread first (`lightning_ffnn.threads.limit_blas_threads`): the labs train tiny networks, where a multi-threaded
BLAS only adds thread hand-offs (on a busy 2-core machine it made numpy_ops' trainer 3-15x slower; README, "Threads").
"""
