#!/usr/bin/env python
"""The Hamming-embedding local-feature index (``kyodaku.index.hamming``) against the
binary IVF the reference set builds today, on real ORB descriptors, in one process.

Pictures.  Every query image of the given eval sets is one registered picture: its ORB
reference descriptors (``OrbMethod.reference``: ~1,000 a picture, mirrors included), as
``bench_local_index.py`` does.  Past that, more distinct pictures are made from the same
images by a random crop (55-90 % of each side, random place) and downscale (0.6-1.0),
described again with ``OrbMethod.reference``: real descriptors of real art, near-copies
of other registered pictures (as keyframes of one episode are).  Descriptors are
extracted once into ``--work`` (``he-<set>.npy`` / ``he-aug-<n>-<seed>.npy`` plus
``*-counts.npy``; plain .npy files).

Queries: ``OrbMethod.query`` descriptors (~1,000 a picture, k = 3) of ``--queries``
images of the first set, one image per call on one thread (``faiss.omp_set_num_threads(1)``).
Per picture count it reports, for each index:

* RAM bytes per picture (``nbytes()``; for ``he`` after save + load, i.e. with the full
  descriptors memory-mapped on disk, which ``disk_nbytes()`` reports apart);
* build time (adds plus training, all threads);
* query p50 / p95 per image and the ratio of p50 to the IVF's;
* recall against an exact flat scan: the share of query descriptors whose 1st / 3rd
  neighbour distance is as small as the exact one (``bench_local_index.py``'s measure),
  and ``vote recall``: the share of exact 3-NN within the ORB vote radius (64 bits: the
  neighbours the matcher counts) that the index returns.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_he_index.py /work/evalsets/xsmall \\
        /work/evalsets/xfull --pictures 2000,10000 --work bench-out/he --out bench-out/he.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import faiss
import numpy as np

from kyodaku.fingerprint.local import OrbMethod
from kyodaku.index import make_index
from kyodaku.index.hamming import HammingIndex
from kyodaku.media.images import load_image
from kyodaku.media.types import LoadedImage
from kyodaku.scan.pipeline import QUERY_MAX_SIDE
from kyodaku.scan.refset import new_index

VOTE_RADIUS = OrbMethod.vote_radius
#: crops made per batch of augmented pictures (cached per batch and seed)
AUGMENT = 5400


def _images(set_dir: Path) -> list[Path]:
    return sorted(p for p in (set_dir / "queries" / "images").iterdir() if p.suffix in (".jpg", ".png"))


def _cached(work: Path, name: str, make) -> tuple[np.ndarray, np.ndarray]:
    vec, cnt = work / f"{name}.npy", work / f"{name}-counts.npy"
    if vec.exists() and cnt.exists():
        return np.load(vec), np.load(cnt)
    out = [v for v in make() if len(v)]
    work.mkdir(parents=True, exist_ok=True)
    vectors, counts = np.concatenate(out), np.array([len(v) for v in out], np.int64)
    np.save(vec, vectors)
    np.save(cnt, counts)
    return vectors, counts


def set_pictures(set_dir: Path, work: Path) -> tuple[np.ndarray, np.ndarray]:
    def make():
        method = OrbMethod()
        for f in _images(set_dir):
            try:
                yield method.reference(load_image(f)).vectors
            except Exception as exc:  # noqa: BLE001 (a file the set builder broke on purpose)
                print(f"skipped {f.name}: {exc}", file=sys.stderr)
    return _cached(work, f"he-{set_dir.name}", make)


def augmented_pictures(files: list[Path], n: int, seed: int, work: Path) -> tuple[np.ndarray, np.ndarray]:
    def make():
        method, rng = OrbMethod(), np.random.default_rng(seed)
        for i in range(n):
            try:
                rgb = load_image(files[int(rng.integers(len(files)))]).rgb
            except Exception:  # noqa: BLE001 (unreadable on purpose: skip it)
                continue
            h, w = rgb.shape[:2]
            ch, cw = int(h * rng.uniform(0.55, 0.9)), int(w * rng.uniform(0.55, 0.9))
            y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            s = rng.uniform(0.6, 1.0)
            crop = cv2.resize(np.ascontiguousarray(rgb[y:y + ch, x:x + cw]),
                              (max(32, int(cw * s)), max(32, int(ch * s))), interpolation=cv2.INTER_AREA)
            yield method.reference(LoadedImage(rgb=crop)).vectors
            if i % 1000 == 999:
                print(f"augmented {i + 1}/{n}", file=sys.stderr, flush=True)
    return _cached(work, f"he-aug-{n}-{seed}", make)


def _timed_queries(index, queries: list[np.ndarray]) -> tuple[float, float, list]:
    index.query(queries[0][:50], 3)  # warm (and merge pending rows)
    times, results = [], []
    for q in queries:
        t = time.perf_counter()
        results.append(index.query(q, 3))
        times.append(time.perf_counter() - t)
    return float(np.percentile(times, 50)) * 1000, float(np.percentile(times, 95)) * 1000, results


def _recalls(truth: list, got: list) -> dict[str, float]:
    d_true = np.concatenate([r.distances for r in truth])
    d_got = np.concatenate([r.distances for r in got])
    l_true = np.concatenate([r.labels for r in truth])
    l_got = np.concatenate([r.labels for r in got])
    within = d_true <= VOTE_RADIUS
    found = (l_true[:, :, None] == l_got[:, None, :]).any(axis=2)
    return {"recall_1nn": round(float((d_got[:, 0] <= d_true[:, 0]).mean()), 4),
            "recall_3nn": round(float((d_got[:, 2] <= d_true[:, 2]).mean()), 4),
            "vote_recall": round(float(found[within].mean()), 4)}


def _picture_votes(results: list, ends: np.ndarray) -> list[dict[int, int]]:
    """Per query image: votes per picture (distinct query descriptors with one of their
    3 neighbours in it within the vote radius), as the matcher counts them."""
    out = []
    for r in results:
        ok = (r.labels >= 0) & (r.distances <= VOTE_RADIUS)
        q = np.repeat(np.arange(r.labels.shape[0]), r.labels.shape[1])[ok.ravel()]
        pic = np.searchsorted(ends, r.labels.ravel()[ok.ravel()], side="right")
        pairs = np.unique(pic.astype(np.int64) * (1 << 20) + q)
        pics, votes = np.unique(pairs >> 20, return_counts=True)
        out.append(dict(zip(pics.tolist(), votes.tolist())))
    return out


def _picture_recall(truth: list, got: list, ends: np.ndarray) -> dict[str, float]:
    """Top-1 picture by votes the same as the exact scan's, and the share of the exact
    top-5 pictures' votes the index keeps (what geometric verification gets to work on)."""
    same, kept = [], []
    for t, g in zip(_picture_votes(truth, ends), _picture_votes(got, ends)):
        if not t:
            continue
        top = sorted(t, key=lambda p: -t[p])[:5]
        same.append(bool(g) and max(g, key=lambda p: g[p]) == top[0])
        kept.append(sum(g.get(p, 0) for p in top) / sum(t[p] for p in top))
    return {"top_picture_same": round(float(np.mean(same)), 3), "top5_votes_kept": round(float(np.mean(kept)), 3)}


def _he_params(text: str) -> dict:
    out = {}
    for part in filter(None, text.split(",")):
        key, value = part.split("=")
        out[key] = int(value)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", type=Path, nargs="+")
    ap.add_argument("--pictures", default="2000,10000", help="registered picture counts")
    ap.add_argument("--queries", type=int, default=20, help="query images (of the first set)")
    ap.add_argument("--he", action="append", default=[],
                    help="HammingIndex parameters, e.g. nlist1=256,nlist2=256,ma=3,sig_bits=64 (repeatable)")
    ap.add_argument("--ivf-train-max", type=int, default=300_000,
                    help="k-means sample of the baseline IVF (the reference set uses 1M: 6 min at 16k lists)")
    ap.add_argument("--no-ivf", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("bench-out/he"))
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    threads = faiss.omp_get_max_threads()
    cv2.setNumThreads(1)
    parts, files = [set_pictures(s, a.work) for s in a.sets], [f for s in a.sets for f in _images(s)]
    most = max(int(s) for s in a.pictures.split(","))
    have = sum(len(c) for _, c in parts)
    seed = a.seed
    while most > have:  # batches of AUGMENT crops (some crops have no keypoints)
        parts.append(augmented_pictures(files, AUGMENT, seed, a.work))
        have, seed = have + len(parts[-1][1]), seed + 1
    pool = np.concatenate([v for v, _ in parts])
    ends = np.cumsum(np.concatenate([c for _, c in parts]))
    method = OrbMethod()
    qfiles = _images(a.sets[0])[:: max(1, len(_images(a.sets[0])) // a.queries)][: a.queries]
    queries = [method.query(load_image(f, max_side=QUERY_MAX_SIDE)).vectors for f in qfiles]
    configs = [_he_params(t) for t in a.he] or [{}]
    rows = []
    for pics in (int(s) for s in a.pictures.split(",")):
        n = int(ends[pics - 1])
        vectors = np.ascontiguousarray(pool[:n])
        labels = np.arange(n, dtype=np.int64)
        faiss.omp_set_num_threads(threads)
        exact = make_index("binary", 256, backend="faiss", structure="flat")
        exact.add(vectors, labels)
        truth = [exact.query(q, 3) for q in queries]  # all threads: only the truth
        del exact
        variants = []
        if not a.no_ivf:
            variants.append(("ivf (refset.new_index)", lambda n=n: new_index(method, n), {}))
        for p in configs:
            variants.append(("he " + ",".join(f"{k}={v}" for k, v in p.items()), lambda p=p: HammingIndex("binary", 256, **p), p))
        ivf_ms = None
        for name, make, _ in variants:
            faiss.omp_set_num_threads(threads)
            index = make()
            if name.startswith("ivf") and getattr(index, "params", {}).get("train_max"):
                index.params["train_max"] = min(index.params["train_max"], a.ivf_train_max)
            t = time.perf_counter()
            index.add(vectors, labels)
            build_s = time.perf_counter() - t
            mapped = 0
            with tempfile.TemporaryDirectory(dir=a.work) as tmp:
                if isinstance(index, HammingIndex):
                    index.save(Path(tmp) / "he")
                    index = HammingIndex.load(Path(tmp) / "he")
                    mapped = index.mapped_nbytes()
                faiss.omp_set_num_threads(1)
                p50, p95, got = _timed_queries(index, queries)
                ram = index.nbytes()
            if name.startswith("ivf"):
                ivf_ms = p50
            row = {"pictures": pics, "descriptors": n, "index": name, "build_s": round(build_s, 1),
                   "query_ms_p50": round(p50, 2), "query_ms_p95": round(p95, 2),
                   "p50_vs_ivf": round(p50 / ivf_ms, 3) if ivf_ms else None,
                   "ram_bytes_per_picture": int(ram / pics), "mapped_bytes_per_picture": int(mapped / pics),
                   **_recalls(truth, got), **_picture_recall(truth, got, ends)}
            if isinstance(index, HammingIndex):  # untrained (fewer than train_size added): exact
                row["he_params"], row["he_trained"] = index.params, index.trained
            if name.startswith("ivf"):
                row["ivf_nlist"], row["ivf_train_max"] = index.params.get("nlist"), index.params.get("train_max")
            rows.append(row)
            print(json.dumps(row), flush=True)
            del index
    print("\n| pictures | index | build s | p50 ms | p95 ms | p50 vs IVF | RAM B/picture | mapped B/picture "
          "| recall 1-NN | 3-NN | vote recall | top picture same | top-5 votes kept |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['pictures']:,} | {r['index']} | {r['build_s']} | {r['query_ms_p50']} | {r['query_ms_p95']} "
              f"| {r['p50_vs_ivf'] or '-'} | {r['ram_bytes_per_picture']:,} | {r['mapped_bytes_per_picture']:,} "
              f"| {r['recall_1nn']} | {r['recall_3nn']} | {r['vote_recall']} | {r['top_picture_same']} "
              f"| {r['top5_votes_kept']} |")
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
