#!/usr/bin/env python
"""The local-descriptor (ORB) index at growing registry sizes, on real descriptors.

PDQ's index is measured on synthetic codes (``bench_index.py``); ORB descriptors are not
random (they cluster), so this benchmark uses real ones: the ORB reference descriptors
(``OrbMethod.reference``, ~700-1,000 per picture, mirrors included) of every query image
of the given eval sets, standing in for that many registered pictures.  For each size it
builds the index the reference set builds (:func:`kyodaku.scan.refset.new_index`: exact
FAISS flat below 20k vectors, IVF with ~200 vectors a list and 16 probes above) and, as
the baseline in the same process, an exact flat scan.  It then queries both with the
query descriptors (``OrbMethod.query``) of images of the first set, one image (~1,000
descriptors, k = 3) per call on one thread, as the scan does, and reports:

* build time (adds plus IVF training, on all threads);
* query p50 per image, as a ratio to the exact scan's;
* recall: the share of query descriptors whose nearest (1-NN) and third-nearest (3-NN)
  distances the index returns as small as the exact scan does;
* the index's bytes per million descriptors;
* ``--grown``: the same size reached from an IVF first built at 20k vectors, with the
  lists planned then (what a growing registry had before the index was re-planned as it
  grows, ``KNN_REGROW``).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_local_index.py evalsets/full evalsets/space-full \\
        --sizes 155k,1m --grown --work bench-out/local-index --out bench-out/local-index.json

Descriptors are extracted once per set into ``--work`` (``orb-<set>.npy``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import faiss
import numpy as np

from kyodaku.fingerprint.local import OrbMethod
from kyodaku.index import make_index
from kyodaku.media.images import load_image
from kyodaku.scan.pipeline import QUERY_MAX_SIDE
from kyodaku.scan.refset import KNN_FLAT_MAX, KNN_NPROBE, knn_lists, new_index


def _size(text: str) -> int:
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * mult)


def _images(set_dir: Path) -> list[Path]:
    return sorted(p for p in (set_dir / "queries" / "images").iterdir() if p.suffix in (".jpg", ".png"))


def reference_descriptors(set_dir: Path, work: Path) -> np.ndarray:
    cache = work / f"orb-{set_dir.name}.npy"
    if cache.exists():
        return np.load(cache)
    method, out = OrbMethod(), []
    for f in _images(set_dir):
        try:
            out.append(method.reference(load_image(f)).vectors)
        except Exception as exc:  # noqa: BLE001 - a file the set's builder broke on purpose: skip it
            print(f"skipped {f.name}: {exc}", file=sys.stderr)
    vectors = np.concatenate(out)
    work.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


def _timed_queries(index, queries: list[np.ndarray]) -> tuple[float, list]:
    index.query(queries[0][:50], 3)  # warm
    times, results = [], []
    for q in queries:
        t = time.perf_counter()
        results.append(index.query(q, 3))
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1000, results


def _build(index, vectors: np.ndarray, step: int | None = None) -> float:
    t = time.perf_counter()
    step = step or len(vectors)
    for a in range(0, len(vectors), step):
        index.add(vectors[a:a + step], np.arange(a, min(a + step, len(vectors)), dtype=np.int64))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", type=Path, nargs="+")
    ap.add_argument("--sizes", default="155k,1m", help="descriptor counts (k, m suffixes)")
    ap.add_argument("--queries", type=int, default=12, help="query images (of the first set)")
    ap.add_argument("--grown", action="store_true", help="also an IVF whose lists were planned at 20k vectors")
    ap.add_argument("--work", type=Path, default=Path("bench-out/local-index"))
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    threads = faiss.omp_get_max_threads()
    cv2.setNumThreads(1)
    pool = np.concatenate([reference_descriptors(s, a.work) for s in a.sets])
    method = OrbMethod()
    query_files = _images(a.sets[0])[:: max(1, len(_images(a.sets[0])) // a.queries)][: a.queries]
    queries = [method.query(load_image(f, max_side=QUERY_MAX_SIDE)).vectors for f in query_files]
    rows = []
    for n in (_size(s) for s in a.sizes.split(",")):
        if n > len(pool):
            print(f"{n:,} descriptors asked, {len(pool):,} extracted: skipped", file=sys.stderr)
            continue
        vectors = np.ascontiguousarray(pool[:n])
        faiss.omp_set_num_threads(1)
        exact = make_index("binary", 256, backend="faiss", structure="flat")
        _build(exact, vectors)
        exact_ms, truth = _timed_queries(exact, queries)
        variants = [("kyodaku", new_index(method, n), None)]
        if a.grown and n > KNN_FLAT_MAX:
            variants.append(("grown from 20k", make_index("binary", 256, backend="faiss", structure="ivf",
                                                           nlist=knn_lists(KNN_FLAT_MAX), nprobe=KNN_NPROBE),
                             KNN_FLAT_MAX))
        for name, index, step in variants:
            faiss.omp_set_num_threads(threads)
            build_s = _build(index, vectors, step)
            faiss.omp_set_num_threads(1)
            ms, got = _timed_queries(index, queries)
            d_true = np.concatenate([r.distances for r in truth])
            d_got = np.concatenate([r.distances for r in got])
            row = {"descriptors": n, "index": name, "structure": index.structure,
                   "nlist": index.params.get("nlist"), "build_s": round(build_s, 1),
                   "query_ms_p50": round(ms, 2), "exact_ms_p50": round(exact_ms, 2),
                   "ratio_vs_exact": round(ms / exact_ms, 4),
                   "recall_1nn": round(float((d_got[:, 0] <= d_true[:, 0]).mean()), 4),
                   "recall_3nn": round(float((d_got[:, 2] <= d_true[:, 2]).mean()), 4),
                   "bytes_per_1m": int(index.nbytes() / n * 1_000_000)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| descriptors | index | lists | build s | query p50 ms | vs exact | recall 1-NN | recall 3-NN |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['descriptors']:,} | {r['index']} | {r['nlist'] or '-'} | {r['build_s']} | {r['query_ms_p50']} "
              f"| {r['ratio_vs_exact']} | {r['recall_1nn']} | {r['recall_3nn']} |")
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
