"""The course labs that are not Lightning training runs: small experiments, their tables and figures."""

from lightning_ffnn.threads import limit_blas_threads

# The labs train tiny networks with NumPy; a multi-threaded BLAS only adds thread hand-offs, which on a
# busy 2-core machine made numpy_ops' trainer 3-15x slower (README, "Threads"). threadpoolctl, not torch.
limit_blas_threads()
