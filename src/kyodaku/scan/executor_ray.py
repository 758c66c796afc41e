"""The :class:`~kyodaku.scan.executor.OrderedExecutor` on Ray actors (``kyodaku scan --ray``).

Why actors and not ``ray.data``: a ``ray.data`` Dataset reads from datasources (files,
``from_items`` of a list in memory); the scan's input is a Python stream of items that
must stay in input order, bounded and never materialised, and a worker that segfaults on a
hostile file must cost that one item an ``error`` line, not fail the Dataset (``ray.data``
retries the whole block, then raises or drops it).  So: a pool of actors, each running the
initializer once, at most ``window`` items in flight, results in input order, a crashing
item retried alone and then reported, a stuck item timed out and its actor restarted.
Ray is imported only when used.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from kyodaku.scan.executor import CRASHED, timed_out_reason, unexpected_reason

T = TypeVar("T")
R = TypeVar("R")

#: calls queued on one actor at a time (one running, one waiting: no idle gap)
PER_ACTOR = 2
#: items per actor call: each call costs the driver and Ray's daemons about the same
#: whatever it carries, so a few items ride together (a call that crashes or runs past
#: its time has its items retried one by one)
BATCH = 4
#: seconds to wait for a restarted actor to answer before sending it work
RESTART_WAIT = 120.0


class RayUnavailable(RuntimeError):
    """Ray is not installed or the cluster cannot be reached."""


def connect(address: str) -> bool:
    """Join the Ray cluster at ``address`` (``auto``: the one ``RAY_ADDRESS`` or ``ray
    start`` on this machine names, else a new local instance).  True when this call
    started Ray (the caller shuts it down)."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--ray needs Ray: pip install 'kyodaku[ray]'") from None
    _check_reachable(address)
    if ray.is_initialized():
        return False
    try:
        ray.init(address=None if address == "auto" else address, include_dashboard=False,
                 log_to_driver=False, logging_level="warning")
    except Exception as exc:  # noqa: BLE001 - ConnectionError, ValueError, RuntimeError ...
        raise RayUnavailable(f"cannot join the Ray cluster at {address!r}: {exc}") from None
    return True


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a ``HOST:PORT`` that nothing answers (``ray.init`` would retry for minutes)."""
    if address == "auto" or address.startswith("ray://") or ":" not in address:
        return
    import socket

    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as exc:
        raise RayUnavailable(f"cannot join the Ray cluster at {address!r}: nothing answers there ({exc})") from None


def cluster_cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _worker_class() -> Any:
    import ray

    @ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)
    class MapWorker:
        def __init__(self, initializer: Callable[..., None] | None, *initargs: Any) -> None:
            if initializer is not None:
                initializer(*initargs)

        def run(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
            return [fn(item) for item in items]

        def ready(self) -> bool:
            return True

    return MapWorker


class _Entry:
    __slots__ = ("item", "ref", "actor", "result", "done", "crashed", "group")

    def __init__(self, item: Any) -> None:
        self.item = item
        self.ref: Any = None
        self.actor = -1
        self.result: Any = None
        self.done = False
        self.crashed = False
        #: the entries sent in the same call (sharing ``ref``)
        self.group: list[_Entry] = []


def _in_flight(pending: Iterable[_Entry]) -> list[list[_Entry]]:
    """The calls in flight, each once (its entries share one ref)."""
    calls: dict[int, list[_Entry]] = {}
    for e in pending:
        if e.ref is not None:
            calls.setdefault(id(e.group), e.group)
    return list(calls.values())


class RayActors:
    """``workers`` actors on the connected Ray cluster, each running ``initializer(*initargs)``
    once (``initargs`` may hold ``ObjectRef``s: each actor receives their values).
    ``batch`` defaults to :data:`BATCH`, ``window`` to two calls of a batch per actor slot."""

    def __init__(self, workers: int, *, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = (), window: int | None = None) -> None:
        self.workers, self.initializer, self.initargs, self.window = max(1, workers), initializer, initargs, window

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, on_crash: Callable[[T, str], R],
            item_timeout: float | None = None, ready: Callable[[T], R | None] | None = None,
            batch: int | None = None) -> Iterator[tuple[T, R]]:
        import ray
        from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError, WorkerCrashedError

        died = (RayActorError, WorkerCrashedError)
        workers, batch = self.workers, max(1, BATCH if batch is None else batch)
        window = self.window or workers * PER_ACTOR * batch * 2
        timed_out = timed_out_reason(item_timeout)
        worker_cls = _worker_class()
        actors = [worker_cls.remote(self.initializer, *self.initargs) for _ in range(workers)]
        load = [0] * workers
        pending: deque[_Entry] = deque()
        source = iter(items)
        exhausted = False

        def collect(group: list[_Entry]) -> None:
            """Fetch a finished call's results (its ref is ready)."""
            load[group[0].actor] -= 1
            try:
                for entry, result in zip(group, ray.get(group[0].ref), strict=True):
                    entry.result, entry.done = result, True
            except died:
                for entry in group:
                    entry.crashed = True
            except RayTaskError as exc:
                if len(group) == 1:
                    group[0].result = on_crash(group[0].item, unexpected_reason(exc.cause))
                    group[0].done = True
                else:
                    for entry in group:  # which item raised? each runs again alone
                        entry.crashed = True
            for entry in group:
                entry.ref = None

        def alive(actor: Any) -> None:
            """Wait (at most :data:`RESTART_WAIT` s) until ``actor`` answers: one just killed
            is being restarted (and runs the initializer again), and a call sent to it
            meanwhile dies or has its time eaten by the restart (on a loaded machine)."""
            deadline = time.monotonic() + RESTART_WAIT
            while True:
                try:
                    ray.get(actor.ready.remote(), timeout=max(0.1, deadline - time.monotonic()))
                    return
                except died:
                    if time.monotonic() >= deadline:
                        return
                    time.sleep(0.05)
                except GetTimeoutError:
                    return

        def restart(a: int) -> None:
            """Kill actor ``a`` (Ray restarts it) and wait until it answers again."""
            ray.kill(actors[a], no_restart=False)
            alive(actors[a])

        def solo(entry: _Entry) -> None:
            """Run a suspect alone on actor 0 (nothing else in flight).  A first death may be
            the actor just killed (a kill is asynchronous), so the item dies twice to be
            reported as crashing its worker."""
            for attempt in (1, 2):
                alive(actors[0])
                ref = actors[0].run.remote(fn, [entry.item])
                try:
                    entry.result = ray.get(ref, timeout=item_timeout)[0]
                except died:
                    if attempt == 1:
                        continue
                    entry.result = on_crash(entry.item, CRASHED)
                except GetTimeoutError:
                    restart(0)
                    entry.result = on_crash(entry.item, timed_out)
                except RayTaskError as exc:
                    entry.result = on_crash(entry.item, unexpected_reason(exc.cause))
                break
            entry.done, entry.crashed = True, False

        for actor in actors:  # started and initialised: no item's time goes on an actor's start
            alive(actor)
        try:
            head_deadline: float | None = None
            head_id = -1
            while True:
                while not exhausted and len(pending) < window:
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    entry = _Entry(item)
                    done = ready(item) if ready is not None else None
                    if done is not None:
                        entry.result, entry.done = done, True
                    pending.append(entry)
                todo = [e for e in pending if not (e.done or e.crashed or e.ref is not None)]
                for start in range(0, len(todo), batch):  # submit in input order while an actor has room
                    a = min(range(workers), key=load.__getitem__)
                    if load[a] >= PER_ACTOR:
                        break
                    group = todo[start:start + batch]
                    ref = actors[a].run.remote(fn, [e.item for e in group])
                    for e in group:
                        e.ref, e.actor, e.group = ref, a, group
                    load[a] += 1
                if not pending:
                    return
                head = pending[0]
                if head.done:
                    pending.popleft()
                    yield head.item, head.result
                    continue
                if head.crashed:
                    # an actor died: let everything in flight finish (a call still running
                    # past its time is stuck: its actor is restarted and its items join the
                    # suspects), then run the suspects one by one, nothing else in flight
                    calls = _in_flight(pending)
                    refs = [g[0].ref for g in calls]
                    if refs:
                        limit = item_timeout * max(len(g) for g in calls) if item_timeout else None
                        ray.wait(refs, num_returns=len(refs), timeout=limit)
                        finished = set(ray.wait(refs, num_returns=len(refs), timeout=0)[0])
                        stuck = [g for g in calls if g[0].ref not in finished]
                        for g in calls:
                            if g[0].ref in finished:
                                collect(g)
                        for a in {g[0].actor for g in stuck}:
                            restart(a)
                        for g in stuck:
                            load[g[0].actor] -= 1
                            for e in g:
                                e.ref, e.crashed = None, True
                    for e in pending:
                        if e.crashed:
                            solo(e)
                    continue
                if id(head) != head_id:
                    head_id = id(head)
                    head_deadline = time.monotonic() + item_timeout * len(head.group or [head]) if item_timeout else None
                calls = _in_flight(pending)
                refs = [g[0].ref for g in calls]
                wait_s = None if head_deadline is None else max(0.0, head_deadline - time.monotonic())
                ready_refs, _ = ray.wait(refs, num_returns=1, timeout=wait_s)
                if ready_refs:
                    finished = set(ray.wait(refs, num_returns=len(refs), timeout=0)[0])
                    for g in calls:
                        if g[0].ref in finished:
                            collect(g)
                    continue
                # the head ran past its time: restart its actor; a lone item is reported as
                # timed out, the items of a batch run again alone, and what else the actor
                # held comes back as crashed and is retried alone
                restart(head.actor)
                load[head.actor] -= 1
                group = head.group
                for e in group:
                    e.ref = None
                if len(group) == 1:
                    head.result, head.done = on_crash(head.item, timed_out), True
                else:
                    for e in group:
                        e.crashed = True
        finally:
            for actor in actors:
                ray.kill(actor)
