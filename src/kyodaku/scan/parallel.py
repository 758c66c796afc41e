"""``ordered_map``: the :mod:`kyodaku.scan.executor` contract on local worker processes,
as one function (kept for its callers; the executor is
:class:`~kyodaku.scan.executor_local.LocalProcesses`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from kyodaku.scan.executor import CRASHED, timed_out_reason, unexpected_reason
from kyodaku.scan.executor_local import LocalProcesses, default_workers

__all__ = ["CRASHED", "default_workers", "ordered_map", "timed_out_reason", "unexpected_reason"]

T = TypeVar("T")
R = TypeVar("R")


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
    batch: int | None = None,
) -> Iterator[tuple[T, R]]:
    """Yield ``(item, fn(item))`` in input order on ``workers`` local processes (``0``: in
    this process, no isolation); see :mod:`kyodaku.scan.executor` for the promises."""
    yield from LocalProcesses(workers, initializer=initializer, initargs=initargs, window=window).map(
        fn, items, on_crash=on_crash, item_timeout=item_timeout, ready=ready, batch=batch)
