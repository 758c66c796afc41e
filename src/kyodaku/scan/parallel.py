"""An ordered, bounded parallel map over worker processes that survives crashing workers.

``ordered_map`` keeps at most ``window`` items in flight (a million-file corpus is never
held in memory), yields results in input order, and when a worker process dies (a decoder
crashing on a hostile file) it restarts the pool and retries the items that were in
flight one at a time, so only the file that really kills a worker becomes an error.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Ready(Future):
    """The result of an item that needs no worker (``ready``)."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.set_result(result)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool whose worker hangs: kill its processes (Python 3.11 has no public way;
    3.14's ``terminate_workers`` does the same), then shut it down."""
    for proc in list(getattr(pool, "_processes", {}).values()):
        try:
            proc.kill()
        except Exception:  # noqa: BLE001 - already gone
            pass
    pool.shutdown(wait=False, cancel_futures=True)


#: the error reasons of an item whose worker crashed, or that ran past its time
CRASHED = "the worker process crashed while reading this file"


def timed_out_reason(item_timeout: float | None) -> str:
    return f"timed out after {item_timeout:g} s (the file may be hostile or the decoder stuck)" if item_timeout else ""


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    on_crash: Callable[[T, str], R],
    window: int | None = None,
    item_timeout: float | None = None,
    ready: Callable[[T], R | None] | None = None,
) -> Iterator[tuple[T, R]]:
    """Yield ``(item, fn(item))`` in input order.

    A worker that dies takes the items in flight with it: each is retried alone, and the
    one that kills a worker again gets ``on_crash(item, reason)``.  An item that takes
    longer than ``item_timeout`` seconds (a decoder hanging on a hostile file) gets
    ``on_crash`` too, and its worker is killed.  ``workers == 0`` runs in this process
    (no isolation, no timeout; for tests and debugging).

    ``ready(item)``, when given, is asked first (in this process): a result it returns
    (a cache hit) is used as is and the item never reaches a worker; it keeps its place
    in the order and in the window."""
    if workers <= 0:
        if initializer is not None:
            initializer(*initargs)
        for item in items:
            done = ready(item) if ready is not None else None
            yield item, fn(item) if done is None else done
        return
    window = window or workers * 8
    ctx = mp.get_context("forkserver" if os.name == "posix" else "spawn")
    timed_out = timed_out_reason(item_timeout)

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=ctx, initializer=initializer, initargs=initargs)

    def isolate(suspects: list[tuple[T, Future | None]]) -> Iterator[tuple[T, R]]:
        for it, fut in suspects:
            if isinstance(fut, _Ready):
                yield it, fut.result()
                continue
            solo = ProcessPoolExecutor(1, mp_context=ctx, initializer=initializer, initargs=initargs)
            try:
                yield it, solo.submit(fn, it).result(timeout=item_timeout)
            except BrokenProcessPool:
                yield it, on_crash(it, CRASHED)
            except FutureTimeout:
                _kill(solo)
                yield it, on_crash(it, timed_out)
            finally:
                solo.shutdown(wait=False, cancel_futures=True)

    pool = new_pool()
    pending: deque[tuple[T, Future | None]] = deque()
    source = iter(items)
    exhausted = False
    try:
        while True:
            broken = False
            while not exhausted and len(pending) < window:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                done = ready(item) if ready is not None else None
                if done is not None:
                    pending.append((item, _Ready(done)))
                    continue
                try:
                    pending.append((item, pool.submit(fn, item)))
                except BrokenProcessPool:
                    pending.append((item, None))
                    broken = True
                    break
            if not pending:
                return
            if not broken and pending[0][1] is not None:
                item, fut = pending[0]
                try:
                    result = fut.result(timeout=item_timeout)
                except FutureTimeout:
                    pending.popleft()
                    _kill(pool)
                    yield item, on_crash(item, timed_out)
                    broken = True
                except BrokenProcessPool:
                    broken = True
                else:
                    pending.popleft()
                    yield item, result
                    continue
            # the pool is gone: retry what was in flight one by one, then carry on
            pool.shutdown(wait=False, cancel_futures=True)
            suspects = list(pending)
            pending.clear()
            yield from isolate(suspects)
            pool = new_pool()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
