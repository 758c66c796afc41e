#!/usr/bin/env python3
"""Corpus scale: throughput per core on a WebDataset corpus, peak memory at N and 10N
items (it must not grow with the corpus), and Ray with 1 vs 2 workers.

    python benchmarks/bench_corpus.py /path/to/evalset [--items 10000] [--small 1000]
        [--repeat 10] [--ray-items 300] [--out bench-out/corpus.json]

The corpus: the set's query images as WebDataset shards (1000 samples each, ``KEY.jpg``
or ``KEY.png`` + ``KEY.json``), repeated to ``--items`` with distinct re-encodings
(JPEG at another quality, one pixel changed) so every item's content hash differs.

Passes, in one process, each in a fresh scan of the same workspace:

1. ``--small`` items, cache emptied first (every item fingerprinted);
2. all ``--items`` items, cache emptied first (every item fingerprinted): items/s per core;
3. the ``--items`` shards listed ``--repeat`` times: 10N items streamed through the scan,
   every one a cache hit (fingerprinting 10N real items does not fit the time of a
   shared 2-core machine; this pass exercises the streaming path, the result writing and
   the audit log at 10N, not the workers);
4. Ray (a local instance started here, 2 CPUs): ``--ray-items`` items with 1 worker,
   then 2, then 1 again, cache off; the ratio is 2-worker throughput over the mean of the
   1-worker passes, over each whole pass and in the steady state (first result to last:
   without starting the actors and loading the reference set into them).

Peak memory is sampled from ``/proc`` every 0.2 s: the main process's RSS, the largest
worker's RSS, and the sum over the main process and all its descendants (workers,
forkserver); Ray's own daemons are not counted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

from kyodaku.registry.importers import import_catalog, import_holders, import_permits
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from kyodaku.scan.references import fingerprint_pending
from kyodaku.workspace import Workspace

SHARD_SIZE = 1000
PAGE = os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------ the corpus
def variant(data: bytes, round_: int) -> tuple[bytes, str]:
    """Round 0: the file as it is; later rounds: a distinct JPEG re-encoding."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    rgb = np.asarray(img).copy()
    rgb[0, 0] = (round_ * 37) % 256, (round_ * 91) % 256, round_ % 256
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=max(60, 96 - round_ * 2))
    return buf.getvalue(), "jpg"


def build_corpus(set_dir: Path, n: int, dest: Path) -> list[Path]:
    files = sorted(p for p in (set_dir / "queries" / "images").iterdir() if p.suffix in (".jpg", ".png"))
    dest.mkdir(parents=True, exist_ok=True)
    shards: list[Path] = []
    tar: tarfile.TarFile | None = None
    for i in range(n):
        if i % SHARD_SIZE == 0:
            if tar is not None:
                tar.close()
            shards.append(dest / f"shard-{i // SHARD_SIZE:05d}.tar")
            tar = tarfile.open(shards[-1], "w")
        src = files[i % len(files)]
        round_ = i // len(files)
        data, ext = (src.read_bytes(), src.suffix[1:]) if round_ == 0 else variant(src.read_bytes(), round_)
        key = f"{i:08d}"
        for name, payload in ((f"{key}.{ext}", data),
                              (f"{key}.json", json.dumps({"source": src.name, "round": round_}).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))  # type: ignore[union-attr]
    if tar is not None:
        tar.close()
    return shards


# ------------------------------------------------------------------ memory
def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        return 0


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    return kids


class MemorySampler:
    """Peak RSS of this process, of its largest descendant, and of the whole tree."""

    def __init__(self, every: float = 0.2) -> None:
        self.every = every
        self.main = self.worker = self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            kids = _children()
            tree, todo = [], list(kids.get(me, []))
            while todo:
                p = todo.pop()
                tree.append(p)
                todo.extend(kids.get(p, []))
            main = _rss(me)
            workers = [_rss(p) for p in tree]
            self.main = max(self.main, main)
            self.worker = max([self.worker, *workers])
            self.total = max(self.total, main + sum(workers))
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def mib(self) -> dict[str, float]:
        return {"main_mib": round(self.main / 2**20, 1), "largest_worker_mib": round(self.worker / 2**20, 1),
                "tree_mib": round(self.total / 2**20, 1)}


# ------------------------------------------------------------------ passes
def scan_pass(ws: Workspace, paths: list[Path], out: Path, **options: object) -> dict[str, object]:
    opts = ScanOptions("acme-video-ai", "training", date(2026, 1, 1), **options)  # type: ignore[arg-type]
    with MemorySampler() as mem, open(out, "w") as f:
        t0 = time.perf_counter()
        summary = scan_paths(ws, paths, opts, out=f)
        seconds = time.perf_counter() - t0
    return {"items": summary.total, "seconds": round(seconds, 2), "items_per_s": round(summary.total / seconds, 2),
            "verdicts": dict(summary.verdicts), "cache": summary.cache, **mem.mib()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--ray-items", type=int, default=300)
    ap.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    ap.add_argument("--work", type=Path, help="keep the workspace and corpus here (default: a temporary folder)")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    work = a.work or Path(tempfile.mkdtemp(prefix="kyodaku-bench-corpus-"))
    work.mkdir(parents=True, exist_ok=True)
    ws = Workspace.init(work / "kyodaku-data")
    if not ws.registry.list_media():
        import_holders(ws.registry, a.set_dir / "holders.jsonl")
        import_catalog(ws.registry, ws, a.set_dir / "catalog.jsonl")
        import_permits(ws.registry, a.set_dir / "permits.jsonl")
    fingerprint_pending(ws, progress=False)
    t0 = time.perf_counter()
    shards = build_corpus(a.set_dir, a.items, work / "corpus")
    built = time.perf_counter() - t0
    from kyodaku.scan.parallel import default_workers

    workers = a.workers or default_workers()
    result: dict[str, object] = {"items": a.items, "workers": workers, "cpus": os.cpu_count(),
                                 "corpus_build_s": round(built, 1), "shards": len(shards)}

    def fresh_cache() -> None:
        shutil.rmtree(ws.home / "cache", ignore_errors=True)

    small_shards = build_corpus(a.set_dir, a.small, work / "corpus-small") if a.small % SHARD_SIZE else \
        shards[: a.small // SHARD_SIZE]
    fresh_cache()
    result["small"] = scan_pass(ws, small_shards, work / "small.jsonl", workers=workers)
    print("small", result["small"], flush=True)
    fresh_cache()
    full = scan_pass(ws, shards, work / "full.jsonl", workers=workers)
    full["items_per_s_per_core"] = round(full["items_per_s"] / workers, 2)  # type: ignore[operator]
    result["full"] = full
    print("full", full, flush=True)
    result["repeated_cache_hits"] = scan_pass(ws, shards * a.repeat, work / "repeated.jsonl", workers=workers)
    print("repeated", result["repeated_cache_hits"], flush=True)
    (work / "repeated.jsonl").unlink()

    if a.ray_items:
        import ray

        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
        ray_shards = shards[: max(1, -(-a.ray_items // SHARD_SIZE))]
        from itertools import islice

        from kyodaku.corpus import iter_items
        from kyodaku.scan.pipeline import Scanner

        def ray_pass(n_workers: int) -> tuple[float, float]:
            """(items/s over the whole pass, items/s from the first result to the last:
            the steady state, without starting the actors and loading the references)."""
            scanner = Scanner(ws, ScanOptions("acme-video-ai", "training", date(2026, 1, 1), workers=n_workers,
                                              cache=False, ray="auto"))
            t = time.perf_counter()
            stamps = [time.perf_counter() for _ in scanner.run(islice(iter_items(ray_shards), a.ray_items))]
            return len(stamps) / (stamps[-1] - t), (len(stamps) - 1) / (stamps[-1] - stamps[0])

        one_a, two, one_b = ray_pass(1), ray_pass(2), ray_pass(1)
        ray.shutdown()
        result["ray"] = {"items": a.ray_items, "one_worker_items_per_s": [round(one_a[0], 2), round(one_b[0], 2)],
                         "two_workers_items_per_s": round(two[0], 2),
                         "speedup_2_vs_1": round(two[0] / ((one_a[0] + one_b[0]) / 2), 3),
                         "steady_one_worker_items_per_s": [round(one_a[1], 2), round(one_b[1], 2)],
                         "steady_two_workers_items_per_s": round(two[1], 2),
                         "steady_speedup_2_vs_1": round(two[1] / ((one_a[1] + one_b[1]) / 2), 3)}
        print("ray", result["ray"], flush=True)

    print(json.dumps(result, indent=1))
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, indent=1))
    ws.dispose()


if __name__ == "__main__":
    sys.exit(main())
