"""Index tests run FAISS on one OpenMP thread: the test machine has 2 cores shared with
other jobs, where OpenMP thread teams spin-wait and make small searches erratically slow."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _one_faiss_thread() -> Iterator[None]:
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)
