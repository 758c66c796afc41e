"""One query, one thread: the native libraries the matcher calls (OpenBLAS under NumPy,
OpenMP under FAISS, OpenCV's pool) run each call on the calling thread.

A scan is parallel across worker processes; the desk and the guard serve requests from
threads.  A team of native threads per call only adds contention there: a NumPy product
of 24 x 2,000 floats (the matcher's shared-support count) took 19 ms with OpenBLAS's two
threads on the loaded 2-core box and 0.07 ms with one, and a query image's whole match
370 ms vs 230 ms (docs/benchmarks.md, "One thread per query").  Results do not change.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits

_done = False


def one_thread_per_query() -> None:
    """Limit OpenBLAS / OpenMP / OpenCV to one thread in this process (idempotent).

    Called where a process matches files: a scan's workers, the in-process ``kyodaku
    check`` and the server's guard and desk."""
    global _done
    if _done:
        return
    import cv2

    cv2.setNumThreads(1)
    try:
        import faiss

        faiss.omp_set_num_threads(1)
    except ImportError:  # pragma: no cover - faiss is a dependency
        pass
    threadpool_limits(limits=1)  # every BLAS and OpenMP library loaded in this process
    _done = True
