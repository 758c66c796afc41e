#!/usr/bin/env python3
"""Scan throughput: kyodaku against a plain PDQ scan of the same files, in one process.

    python benchmarks/bench_scan.py /path/to/devset [--every K] [--limit N] [--out bench.json]

Baseline ("plain PDQ", as Meta's HMA does it): decode with Pillow, pdqhash.compute,
look the hash up among the references' 8 dihedral PDQ hashes (FAISS IndexBinaryFlat,
Hamming <= 31).  kyodaku: the scan's per-file work (safe decode, PDQ + ORB fingerprints,
index votes, RANSAC verification, consent decision).  Both on one core (OpenCV, FAISS
and OpenBLAS threads set to 1, as in a scan's workers), on the set's query images, passes interleaved baseline / kyodaku /
baseline so that machine noise hits both; the ratio is what to read.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import cv2
import faiss
import numpy as np
import pdqhash
from PIL import Image

from kyodaku.media.images import load_image
from kyodaku.policy.decide import default_policy
from kyodaku.registry.importers import import_catalog, import_holders, import_permits
from kyodaku.scan.matcher import Matcher
from kyodaku.scan.references import fingerprint_pending, open_reference_set
from kyodaku.workspace import Workspace


def plain_pdq_index(set_dir: Path) -> faiss.IndexBinaryFlat:
    index = faiss.IndexBinaryFlat(256)
    for line in (set_dir / "catalog.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["kind"] != "image":
            continue
        rgb = np.asarray(Image.open(set_dir / row["media"][0]).convert("RGB"))
        hashes, _ = pdqhash.compute_dihedral(rgb)
        index.add(np.packbits(np.asarray(hashes, np.uint8), axis=1))
    return index


def plain_pdq_pass(files: list[Path], index: faiss.IndexBinaryFlat) -> float:
    t0 = time.perf_counter()
    for f in files:
        rgb = np.asarray(Image.open(f).convert("RGB"))
        bits, _ = pdqhash.compute(rgb)
        index.range_search(np.packbits(np.asarray(bits, np.uint8))[None, :], 32)
    return time.perf_counter() - t0


def kyodaku_pass(files: list[Path], matcher: Matcher, view) -> float:
    policy = default_policy()
    t0 = time.perf_counter()
    for f in files:
        matches = matcher.match_image(load_image(f))
        policy.decide([m.to_json() for m in matches], licensee="acme-video-ai", use="training",
                      on=date(2026, 1, 1), registry_view=view)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--every", type=int, default=1,
                    help="scan every K-th query image: an even sample of the set (its first images are all copies, "
                         "the negatives come last)")
    ap.add_argument("--limit", type=int, default=0, help="scan only the first N query images (after --every)")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)
    try:  # as a scan's workers do (OpenBLAS too); absent in checkouts before it
        from kyodaku.scan.threads import one_thread_per_query

        one_thread_per_query()
    except ImportError:
        pass
    files = sorted(p for p in (a.set_dir / "queries" / "images").iterdir() if p.suffix in (".jpg", ".png"))
    files = files[:: max(1, a.every)]
    if a.limit:
        files = files[: a.limit]
    work = Path(tempfile.mkdtemp(prefix="kyodaku-bench-"))
    ws = Workspace.init(work / "kyodaku-data")
    import_holders(ws.registry, a.set_dir / "holders.jsonl")
    import_catalog(ws.registry, ws, a.set_dir / "catalog.jsonl")
    import_permits(ws.registry, a.set_dir / "permits.jsonl")
    fingerprint_pending(ws, progress=False)
    matcher = Matcher(open_reference_set(ws))
    view = default_policy().view_from_registry(ws.registry, "acme-video-ai", "training", date(2026, 1, 1))
    baseline_index = plain_pdq_index(a.set_dir)
    # warm the page cache and both code paths
    plain_pdq_pass(files[:20], baseline_index)
    kyodaku_pass(files[:20], matcher, view)
    b1 = plain_pdq_pass(files, baseline_index)
    k = kyodaku_pass(files, matcher, view)
    b2 = plain_pdq_pass(files, baseline_index)
    base = (b1 + b2) / 2
    n = len(files)
    result = {
        "files": n,
        "every": a.every,
        "limit": a.limit,
        "plain_pdq_files_per_s": round(n / base, 1),
        "kyodaku_files_per_s": round(n / k, 1),
        "throughput_ratio": round(base / k, 3),
        "plain_pdq_ms_per_file": round(base / n * 1000, 2),
        "kyodaku_ms_per_file": round(k / n * 1000, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "references": {name: len(s) for name, s in matcher.refs.stores.items()},
    }
    print("| | files/s (one core) | ms/file |\n|---|---|---|")
    print(f"| plain PDQ (decode + pdqhash + lookup) | {result['plain_pdq_files_per_s']} | {result['plain_pdq_ms_per_file']} |")
    print(f"| kyodaku scan (PDQ + ORB + verify + policy) | {result['kyodaku_files_per_s']} | {result['kyodaku_ms_per_file']} |")
    print(f"throughput ratio kyodaku / plain PDQ: {result['throughput_ratio']} ({n} files)")
    if a.out:
        a.out.write_text(json.dumps(result, indent=1))
    ws.dispose()


if __name__ == "__main__":
    sys.exit(main())
