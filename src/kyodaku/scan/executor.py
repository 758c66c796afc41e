"""One contract for running the scan's work on many workers, and its two backends.

An :class:`OrderedExecutor` maps ``fn`` over a stream of items and yields ``(item,
result)`` **in input order**, with these promises, whatever the backend:

- **bounded**: at most ``window`` items are taken from the input ahead of the one being
  yielded (a million-file corpus is never held in memory);
- **crash isolation**: a worker that dies (a decoder segfaulting on a hostile file) costs
  only the item that kills it: the items that were in flight with it run again alone, and
  the one that kills a worker again gets ``on_crash(item, CRASHED)``; the run goes on;
- **timeouts**: an item that runs longer than ``item_timeout`` seconds gets
  ``on_crash(item, timed_out_reason(item_timeout))`` and its worker is replaced;
- **errors**: an exception raised by ``fn`` in a worker gets ``on_crash(item,
  unexpected_reason(exc))``;
- **batching**: up to ``batch`` consecutive items may ride in one call to a worker; a call
  that crashes, raises or runs past ``item_timeout`` per item has each of its items run
  again alone, so a batch never changes an item's result;
- **ready**: ``ready(item)``, when given, is asked first in the caller's process; a result
  it returns (a cache hit) is used as is, the item never reaches a worker and keeps its
  place in the order and in the window.

The backends: :class:`~kyodaku.scan.executor_local.LocalProcesses` (a process pool on this
machine) and :class:`~kyodaku.scan.executor_ray.RayActors` (actors on a Ray cluster).  Both
take the worker's initializer and its arguments explicitly (each worker runs it once), so
no backend knows what the scan's workers load.  ``tests/scan/test_executor.py`` runs one
suite against both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: the reason given to ``on_crash`` for an item whose worker died while running it
CRASHED = "the worker process crashed while reading this file"


def timed_out_reason(item_timeout: float | None) -> str:
    """The reason given to ``on_crash`` for an item that ran past ``item_timeout`` s."""
    return f"timed out after {item_timeout:g} s (the file may be hostile or the decoder stuck)" if item_timeout else ""


def unexpected_reason(exc: BaseException) -> str:
    """The reason given to ``on_crash`` for an item whose ``fn`` raised ``exc`` in a worker."""
    return f"unexpected error in the worker: {exc!r}"


class OrderedExecutor(Protocol):
    """A pool of workers that keeps the contract in this module's docstring."""

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, on_crash: Callable[[T, str], R],
            item_timeout: float | None = None, ready: Callable[[T], R | None] | None = None,
            batch: int | None = None) -> Iterator[tuple[T, R]]:
        """Yield ``(item, fn(item))`` in input order (``fn`` and the items must pickle)."""
        ...
