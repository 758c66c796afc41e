"""The scan past one machine: the same matching on a Ray cluster (``kyodaku scan --ray``).

The executor is :class:`~kyodaku.scan.executor_ray.RayActors` (the contract of
:mod:`kyodaku.scan.executor`, why actors and not ``ray.data``); this module ships the scan
to it.  The reference set's files travel once through the object store (``ray.put``); each
actor unpacks them into a per-node folder named by their digest (written once per node
and reused) and runs the scan worker's initializer (passed in by the caller) on them.
Items whose media is a local file are sent as bytes, so the cluster's nodes need no shared
file system, only ``kyodaku[ray]`` installed.  Ray is imported only when used.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from kyodaku.corpus import Item
from kyodaku.scan.executor_ray import BATCH, PER_ACTOR, RayActors, RayUnavailable, cluster_cpus, connect

__all__ = ["BATCH", "PER_ACTOR", "RayUnavailable", "cluster_cpus", "connect", "ray_ordered_map", "ray_scan_map"]

T = TypeVar("T")
R = TypeVar("R")


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
    """``RayActors(...).map(...)`` (Ray must be connected): kept for callers."""
    yield from RayActors(workers, initializer=initializer, initargs=initargs, window=window).map(
        fn, items, on_crash=on_crash, item_timeout=item_timeout, ready=ready, batch=batch)


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


def init_worker_from_files(initializer: Callable[[str, str, Any], None], files: dict[str, bytes], digest: str,
                           fingerprints: str, index: str, rules: Any = None) -> None:
    """Actor initialiser: the scan worker's own ``initializer(fingerprints_dir, index_dir,
    rules)`` on the unpacked files, scoring under ``rules`` (the scan policy's
    :class:`~kyodaku.policy.MatchRules`)."""
    root = unpack_references(files, digest)
    initializer(str(root / fingerprints), str(root / index), rules)


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


def ray_scan_map(fn: Callable[[Item], dict[str, Any]], items: Iterable[Item], *,
                 initializer: Callable[[str, str, Any], None], fingerprints_dir: Path,
                 index_dir: Path, workers: int | None, on_crash: Callable[[Item, str], dict[str, Any]],
                 item_timeout: float | None, ready: Callable[[Item], dict[str, Any] | None] | None = None,
                 rules: Any = None) -> Iterator[tuple[Item, dict[str, Any]]]:
    """The scan's matching on the connected Ray cluster, ``workers`` actors (default: one
    per cluster CPU), each actor running ``initializer(fingerprints_dir, index_dir, rules)``
    on its unpacked copy of the reference set (put in the object store once)."""
    import ray

    files = reference_files(fingerprints_dir, index_dir)
    digest = files_digest(files)
    files_ref = ray.put(files)
    del files
    actors = RayActors(workers or cluster_cpus(), initializer=init_worker_from_files,
                       initargs=(initializer, files_ref, digest, Path(fingerprints_dir).name, Path(index_dir).name,
                                 rules))
    yield from actors.map(fn, _shippable(items), on_crash=on_crash, item_timeout=item_timeout, ready=ready)
