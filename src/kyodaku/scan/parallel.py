"""An ordered, bounded parallel map over worker processes that survives crashing workers.

``ordered_map`` keeps at most ``window`` items in flight (a million-file corpus is never
held in memory), yields results in input order, and when a worker process dies (a decoder
crashing on a hostile file) it restarts the pool and retries the items that were in
flight one at a time, so only the file that really kills a worker becomes an error.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import multiprocessing as mp

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    on_crash: Callable[[T, str], R],
    window: int | None = None,
) -> Iterator[tuple[T, R]]:
    """Yield ``(item, fn(item))`` in input order.  ``workers == 0`` runs in this process
    (no crash isolation; for tests and debugging)."""
    if workers <= 0:
        if initializer is not None:
            initializer(*initargs)
        for item in items:
            yield item, fn(item)
        return
    window = window or workers * 8
    ctx = mp.get_context("forkserver" if os.name == "posix" else "spawn")

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=ctx, initializer=initializer, initargs=initargs)

    pool = new_pool()
    pending: deque[tuple[T, Future | None]] = deque()
    source = iter(items)
    exhausted = False

    def isolate(suspects: list[T]) -> Iterator[tuple[T, R]]:
        # a worker died; every item in flight failed with it.  Retry each alone.
        for it in suspects:
            solo = new_pool()
            try:
                yield it, solo.submit(fn, it).result()
            except BrokenProcessPool:
                yield it, on_crash(it, "the worker process crashed while reading this file")
            finally:
                solo.shutdown(wait=False, cancel_futures=True)

    try:
        while True:
            broken = False
            while not exhausted and len(pending) < window:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                try:
                    pending.append((item, pool.submit(fn, item)))
                except BrokenProcessPool:
                    pending.append((item, None))
                    broken = True
                    break
            if not pending:
                return
            if not broken:
                item, fut = pending[0]
                try:
                    result = fut.result() if fut is not None else None
                except BrokenProcessPool:
                    broken = True
                else:
                    if fut is not None:
                        pending.popleft()
                        yield item, result
                        continue
                    broken = True
            pool.shutdown(wait=False, cancel_futures=True)
            suspects = [it for it, _ in pending]
            pending.clear()
            yield from isolate(suspects)
            pool = new_pool()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
