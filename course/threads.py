"""Keep NumPy's BLAS thread pool from fighting torch's intra-op pool.

A NumPy-backed layer calls BLAS for small matrix products inside a torch training step. Both
libraries keep a pool of busy-waiting threads, one per core; on a small machine the two pools
pre-empt each other and every step pays for it (see the README's "Threads" figures, measured by
``scripts/bench_threads.py``). The matrices in these labs are far too small to gain from
multi-threaded BLAS, so the entry points (``scripts/train.py``, the report, the benchmarks) run BLAS on one
thread; importing a module changes nothing.

threadpoolctl changes the limit at run time through each BLAS library's own API, so users need no
environment variables and the setting applies whichever BLAS NumPy was built with.
"""

from __future__ import annotations

from threadpoolctl import threadpool_info, threadpool_limits

_applied: int | None = None


def limit_blas_threads(n: int = 1) -> None:
    """Limit every BLAS library loaded in the process to ``n`` threads (idempotent)."""
    global _applied
    if _applied == n:
        return
    # scipy (erf, for the exact GELU) brings a BLAS of its own: load it first so the limit covers it.
    import scipy.special  # noqa: F401

    threadpool_limits(limits=n, user_api="blas")
    _applied = n


def blas_threads() -> list[int]:
    """The current thread count of each loaded BLAS library (for logs and tests)."""
    return [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
