"""The scan past one machine: the same matching on a Ray cluster (``kyodaku scan --ray``).

Why Ray actors and not ``ray.data``: a ``ray.data`` Dataset reads from datasources
(files, ``from_items`` of a list in memory); the scan's input is a Python stream of items
(folders, shards, manifests, resumable by id) that must stay in input order, bounded and
never materialised, and a worker that segfaults on a hostile file must cost that one item
an ``error`` line, not fail the Dataset (``ray.data`` retries the whole block, then
raises or drops it).  So this module keeps :func:`~kyodaku.scan.parallel.ordered_map`'s
contract on Ray: a pool of actors, each loading the reference set once, at most
``window`` items in flight, results in input order, a crashing item retried alone and
then reported, a stuck item timed out and its actor restarted.

The reference set's files travel once through the object store (``ray.put``); each
actor unpacks them into a per-node folder named by their digest (written once per node
and reused) and opens the :class:`~kyodaku.scan.refset.ReferenceSet` from there.  Items
whose media is a local file are sent as bytes, so the cluster's nodes need no shared
file system, only ``kyodaku[ray]`` installed.  Ray is imported only when used.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from kyodaku.corpus import Item
from kyodaku.scan.parallel import CRASHED, timed_out_reason

T = TypeVar("T")
R = TypeVar("R")

#: calls queued on one actor at a time (one running, one waiting: no idle gap)
PER_ACTOR = 2
#: items per actor call: each call costs the driver and Ray's daemons about the same
#: whatever it carries, so a few items ride together (a call that crashes or runs past
#: its time has its items retried one by one)
BATCH = 4


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


def ray_ordered_map(
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
    """:func:`~kyodaku.scan.parallel.ordered_map` on Ray actors (Ray must be connected).
    ``initargs`` may hold ``ObjectRef``s: each actor receives their values.  Up to
    ``batch`` (default :data:`BATCH`) consecutive items go in one actor call; a call that crashes its actor,
    raises or runs past ``item_timeout`` per item has each of its items run again alone
    (so a hostile item costs only itself)."""
    import ray
    from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError, WorkerCrashedError

    died = (RayActorError, WorkerCrashedError)
    workers, batch = max(1, workers), max(1, BATCH if batch is None else batch)
    window = window or workers * PER_ACTOR * batch * 2
    timed_out = timed_out_reason(item_timeout)
    crashed = CRASHED
    worker_cls = _worker_class()
    actors = [worker_cls.remote(initializer, *initargs) for _ in range(workers)]
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
                group[0].result = on_crash(group[0].item, f"unexpected error in the worker: {exc.cause!r}")
                group[0].done = True
            else:
                for entry in group:  # which item raised? each runs again alone
                    entry.crashed = True
        for entry in group:
            entry.ref = None

    def alive(actor: Any, limit: float = 60.0) -> None:
        """Wait (at most ``limit`` s) until ``actor`` answers: one just killed is being
        restarted, and a call sent to it meanwhile dies (on a loaded machine, twice)."""
        deadline = time.monotonic() + limit
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
                entry.result = on_crash(entry.item, crashed)
            except GetTimeoutError:
                ray.kill(actors[0], no_restart=False)
                entry.result = on_crash(entry.item, timed_out)
            except RayTaskError as exc:
                entry.result = on_crash(entry.item, f"unexpected error in the worker: {exc.cause!r}")
            break
        entry.done, entry.crashed = True, False

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
                        ray.kill(actors[a], no_restart=False)
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
            # the head ran past its time: kill its actor (Ray restarts it); a lone item
            # is reported as timed out, the items of a batch run again alone, and what
            # else the actor held comes back as crashed and is retried alone
            ray.kill(actors[head.actor], no_restart=False)
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
        for a in actors:
            ray.kill(a)


# ------------------------------------------------------------------ the scan on Ray
def reference_files(fingerprints_dir: Path, index_dir: Path) -> dict[str, bytes]:
    """The reference set's files, by path relative to the workspace home."""
    files: dict[str, bytes] = {}
    for base in (Path(fingerprints_dir), Path(index_dir)):
        for f in sorted(p for p in base.rglob("*") if p.is_file()):
            files[str(f.relative_to(base.parent))] = f.read_bytes()
    return files


def files_digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def unpack_references(files: dict[str, bytes], digest: str) -> Path:
    """Write the reference set's files into this node's temporary folder (once per node
    and reference set: a folder named by the digest is complete, it was renamed into
    place)."""
    root = Path(tempfile.gettempdir()) / f"kyodaku-refs-{digest[:24]}"
    if root.is_dir():
        return root
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    for name, data in files.items():
        dest = tmp / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    try:
        os.rename(tmp, root)
    except OSError:  # another actor on this node got there first
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return root


def init_worker_from_files(files: dict[str, bytes], digest: str, fingerprints: str, index: str,
                           rules: Any = None) -> None:
    """Actor initialiser: the scan worker's own initialiser, on the unpacked files, scoring
    under ``rules`` (the scan policy's :class:`~kyodaku.policy.MatchRules`)."""
    from kyodaku.scan.pipeline import _init_worker

    root = unpack_references(files, digest)
    _init_worker(str(root / fingerprints), str(root / index), rules)


def _shippable(items: Iterable[Item]) -> Iterator[Item]:
    """Items as the cluster can read them: a local file's media as bytes."""
    for item in items:
        if item.data is None and item.path is not None:
            try:
                data = Path(item.path).read_bytes()
            except OSError:
                yield item  # the worker reports why it cannot be read, as a local scan does
                continue
            item = replace(item, data=data)
        yield item


def ray_scan_map(fn: Callable[[Item], dict[str, Any]], items: Iterable[Item], *, fingerprints_dir: Path,
                 index_dir: Path, workers: int | None, on_crash: Callable[[Item, str], dict[str, Any]],
                 item_timeout: float | None, ready: Callable[[Item], dict[str, Any] | None] | None = None,
                 rules: Any = None) -> Iterator[tuple[Item, dict[str, Any]]]:
    """The scan's matching on the connected Ray cluster, ``workers`` actors (default: one
    per cluster CPU), scoring under ``rules`` (the scan policy's matching numbers); the
    reference set is put in the object store once."""
    import ray

    files = reference_files(fingerprints_dir, index_dir)
    digest = files_digest(files)
    files_ref = ray.put(files)
    del files
    yield from ray_ordered_map(fn, _shippable(items), workers=workers or cluster_cpus(),
                               initializer=init_worker_from_files,
                               initargs=(files_ref, digest, Path(fingerprints_dir).name, Path(index_dir).name,
                                         rules),
                               on_crash=on_crash, item_timeout=item_timeout, ready=ready)
