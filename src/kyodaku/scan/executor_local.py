"""The :class:`~kyodaku.scan.executor.OrderedExecutor` on worker processes of this machine.

At most ``window`` items are in flight; when a worker process dies the pool is restarted
and the items that were in flight are retried one at a time, each in a pool of its own,
so only the file that really kills a worker becomes an error.
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

from kyodaku.scan.executor import CRASHED, timed_out_reason, unexpected_reason

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Ready(Future):
    """The result of an item that needs no worker (``ready``)."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.set_result([result])


def _run_batch(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    return [fn(item) for item in items]


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool whose worker hangs: kill its processes (Python 3.11 has no public way;
    3.14's ``terminate_workers`` does the same), then shut it down."""
    for proc in list(getattr(pool, "_processes", {}).values()):
        try:
            proc.kill()
        except Exception:  # noqa: BLE001 - already gone
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def _submit(pool: ProcessPoolExecutor, fn: Callable[[Any], Any], group: list[Any],
            pending: deque[tuple[list[Any], Future | None]]) -> bool:
    """Send ``group`` as one call; False when the pool is broken (the call is kept, unsent)."""
    try:
        pending.append((group, pool.submit(_run_batch, fn, group)))
        return True
    except BrokenProcessPool:
        pending.append((group, None))
        return False


class LocalProcesses:
    """``workers`` processes (``forkserver`` on POSIX), each running ``initializer(*initargs)``
    once.  ``workers == 0`` runs in this process: no isolation, no timeout, an exception
    in ``fn`` propagates (for tests and debugging).  ``window`` defaults to 8 calls per
    worker."""

    def __init__(self, workers: int, *, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = (), window: int | None = None) -> None:
        self.workers, self.initializer, self.initargs, self.window = workers, initializer, initargs, window

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, on_crash: Callable[[T, str], R],
            item_timeout: float | None = None, ready: Callable[[T], R | None] | None = None,
            batch: int | None = None) -> Iterator[tuple[T, R]]:
        if self.workers <= 0:
            yield from self._inline(fn, items, ready)
            return
        yield from self._pooled(fn, items, on_crash, item_timeout, ready, max(1, batch or 1))

    def _inline(self, fn: Callable[[T], R], items: Iterable[T],
                ready: Callable[[T], R | None] | None) -> Iterator[tuple[T, R]]:
        if self.initializer is not None:
            self.initializer(*self.initargs)
        for item in items:
            done = ready(item) if ready is not None else None
            yield item, fn(item) if done is None else done

    def _pooled(self, fn: Callable[[T], R], items: Iterable[T], on_crash: Callable[[T, str], R],
                item_timeout: float | None, ready: Callable[[T], R | None] | None,
                batch: int) -> Iterator[tuple[T, R]]:
        workers = self.workers
        window = self.window or workers * 8 * batch
        ctx = mp.get_context("forkserver" if os.name == "posix" else "spawn")
        timed_out = timed_out_reason(item_timeout)

        def new_pool(n: int = workers) -> ProcessPoolExecutor:
            return ProcessPoolExecutor(n, mp_context=ctx, initializer=self.initializer, initargs=self.initargs)

        def isolate(calls: Iterable[tuple[list[T], Future | None]]) -> Iterator[tuple[T, R]]:
            """Each item alone in a pool of its own."""
            for group, fut in calls:
                if isinstance(fut, _Ready):
                    yield group[0], fut.result()[0]
                    continue
                for it in group:
                    solo = new_pool(1)
                    job = solo.submit(fn, it)
                    try:
                        yield it, job.result(timeout=item_timeout)
                    except BrokenProcessPool:
                        yield it, on_crash(it, CRASHED)
                    except FutureTimeout as exc:
                        if job.done():  # fn itself raised a TimeoutError
                            yield it, on_crash(it, unexpected_reason(exc))
                        else:
                            _kill(solo)
                            yield it, on_crash(it, timed_out)
                    except Exception as exc:  # noqa: BLE001 - fn raised: reported, the run goes on
                        yield it, on_crash(it, unexpected_reason(exc))
                    finally:
                        solo.shutdown(wait=False, cancel_futures=True)

        pool = new_pool()
        # calls in input order: (their items, their future; None: not submitted, the pool broke)
        pending: deque[tuple[list[T], Future | None]] = deque()
        in_flight = 0
        source = iter(items)
        exhausted = False
        try:
            while True:
                broken = False
                buffer: list[T] = []
                while not broken and not exhausted and in_flight + len(buffer) < window:
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    done = ready(item) if ready is not None else None
                    if done is None:
                        buffer.append(item)
                        if len(buffer) >= batch:
                            broken = not _submit(pool, fn, buffer, pending)
                            in_flight, buffer = in_flight + len(buffer), []
                        continue
                    if buffer:
                        broken = not _submit(pool, fn, buffer, pending)
                        in_flight, buffer = in_flight + len(buffer), []
                    pending.append(([item], _Ready(done)))
                    in_flight += 1
                if buffer and not broken:
                    broken = not _submit(pool, fn, buffer, pending)
                    in_flight += len(buffer)
                if not pending:
                    return
                group, fut = pending[0]
                if not broken and fut is not None:
                    limit = item_timeout * len(group) if item_timeout else None
                    try:
                        results = fut.result(timeout=limit)
                    except BrokenProcessPool:
                        broken = True
                    except FutureTimeout as exc:
                        if fut.done():  # fn itself raised a TimeoutError
                            pending.popleft()
                            in_flight -= len(group)
                            yield from self._raised(group, exc, on_crash, isolate)
                            continue
                        _kill(pool)
                        broken = True
                        if len(group) == 1:
                            pending.popleft()
                            in_flight -= 1
                            yield group[0], on_crash(group[0], timed_out)
                    except Exception as exc:  # noqa: BLE001 - fn raised: reported, the run goes on
                        pending.popleft()
                        in_flight -= len(group)
                        yield from self._raised(group, exc, on_crash, isolate)
                        continue
                    else:
                        pending.popleft()
                        in_flight -= len(group)
                        yield from zip(group, results, strict=True)
                        continue
                # the pool is gone: retry what was in flight one by one, then carry on
                pool.shutdown(wait=False, cancel_futures=True)
                suspects = list(pending)
                pending.clear()
                in_flight = 0
                yield from isolate(suspects)
                pool = new_pool()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _raised(group: list[T], exc: BaseException, on_crash: Callable[[T, str], R],
                isolate: Callable[[Iterable[tuple[list[T], Future | None]]], Iterator[tuple[T, R]]],
                ) -> Iterator[tuple[T, R]]:
        """A call whose ``fn`` raised: a lone item is reported; a batch's items run again alone."""
        if len(group) == 1:
            yield group[0], on_crash(group[0], unexpected_reason(exc))
        else:
            yield from isolate([([it], None) for it in group])
