#!/usr/bin/env python3
"""Evaluate the video fingerprint on an evaluation set (see /work/shared/eval/README.md).

Fingerprints the set's registered episodes (``refs/v*.mp4``, the catalog's video works) and
its video queries, compares every query with every registered video (exact: the sets are
small), writes ``results.jsonl`` and scores it with ``score.py --media video``.

    .venv/bin/python benchmarks/eval_video.py /work/evalsets/small
    .venv/bin/python benchmarks/eval_video.py /work/evalsets/full --out /tmp/full-video.jsonl

Verdict: ``blocked`` when a match scores >= 0.5 and its work's holder gave the licensee
(``acme-video-ai``) no valid training permit, else ``cleared`` (the real permit logic lives
elsewhere; this is only enough to score ``false_clear``/``false_block``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kyodaku.fingerprint.base import Fingerprint
from kyodaku.media.types import MediaError
from kyodaku.video import VideoFrames

try:  # one thread per process: OpenMP spinning on a busy machine is slower, never faster
    import faiss

    faiss.omp_set_num_threads(1)
except ImportError:  # pragma: no cover
    pass

SCORE_PY = Path("/work/shared/eval/score.py")
LICENSEE = "acme-video-ai"
THRESHOLD = 0.5


def _fingerprint(args: tuple) -> tuple[str, Fingerprint | str, float]:
    path, is_query, cache, *rest = args
    features = rest[0] if rest else 200
    method = VideoFrames(threads=1, features=features)
    t0 = time.perf_counter()
    cfile = None
    if cache:
        st = os.stat(path)
        tag = f"{method.key}-f{features}-{'q' if is_query else 'r'}-{Path(path).stem}-{st.st_size}-{int(st.st_mtime)}"
        cfile = Path(cache) / f"{tag}.npz"
        if cfile.exists():
            d = np.load(cfile, allow_pickle=False)
            fp = Fingerprint(method.name, d["vectors"], d["points"], json.loads(str(d["info"])))
            return path, fp, 0.0
    try:
        fp = method.query_video(path) if is_query else method.reference_video(path)
    except MediaError as exc:
        return path, f"MediaError: {exc}", time.perf_counter() - t0
    dt = time.perf_counter() - t0
    if cfile is not None:
        cfile.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cfile, vectors=fp.vectors, points=fp.points, info=json.dumps(fp.info))
    return path, fp, dt


def permitted_holders(set_dir: Path, day: str = "2026-01-01") -> set[str]:
    out = set()
    p = set_dir / "permits.jsonl"
    if p.exists():
        for line in p.read_text().splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("licensee") == LICENSEE and r.get("use") == "training" and \
                    r.get("valid_from", "") <= day <= r.get("valid_until", "9999") and r.get("works") == "*":
                out.add(r["holder"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--out", type=Path, help="results.jsonl (default: /tmp/video-<set>.jsonl)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--cache", help="folder for fingerprints (reused when the file is unchanged)")
    ap.add_argument("--details", action="store_true", help="print every comparison's evidence")
    ap.add_argument("--features", type=int, default=200, help="ORB keypoints per frame")
    ap.add_argument("--no-resolve", action="store_true", help="keep overlapping weaker matches as they are")
    a = ap.parse_args()
    set_dir = a.set_dir.resolve()
    out = a.out or Path(f"/tmp/video-{set_dir.name}.jsonl")

    catalog = [json.loads(x) for x in (set_dir / "catalog.jsonl").read_text().splitlines() if x.strip()]
    videos = [c for c in catalog if c.get("kind") == "video"]
    holder = {c["work_id"]: c["holder"] for c in catalog}
    allowed = permitted_holders(set_dir)
    ref_paths = {c["work_id"]: str(set_dir / c["media"][0]) for c in videos}
    queries = sorted((set_dir / "queries" / "videos").glob("*.mp4"))

    t0 = time.perf_counter()
    jobs = [(p, False, a.cache, a.features) for p in ref_paths.values()] + \
        [(str(q), True, a.cache, a.features) for q in queries]
    with ProcessPoolExecutor(max(1, a.jobs)) as ex:
        done = {p: (fp, dt) for p, fp, dt in ex.map(_fingerprint, jobs)}
    t_fp = time.perf_counter() - t0
    refs = {w: done[p][0] for w, p in ref_paths.items() if isinstance(done[p][0], Fingerprint)}

    method = VideoFrames(features=a.features)
    t1 = time.perf_counter()
    n_cmp = 0
    with open(out, "w") as f:
        for q in queries:
            fp = done[str(q)][0]
            rel = str(q.relative_to(set_dir))
            if not isinstance(fp, Fingerprint):
                f.write(json.dumps({"path": rel, "verdict": "error", "error": fp, "matches": []}) + "\n")
                continue
            comps = {}
            for wid, rfp in refs.items():
                comps[wid] = method.compare(fp, rfp)
                n_cmp += 1
            if not a.no_resolve:
                comps = method.resolve(comps)
            matches = []
            for wid, c in comps.items():
                if a.details:
                    ev = dict(c.evidence)
                    print(f"{rel} {wid} {c.score:.3f} q={c.query_segment} r={c.ref_segment} {ev}")
                if c.score > 0.01:
                    matches.append({"work_id": wid, "score": c.score,
                                    "query_segment": list(c.query_segment) if c.query_segment else None,
                                    "ref_segment": list(c.ref_segment) if c.ref_segment else None,
                                    "evidence": dict(c.evidence)})
            matches.sort(key=lambda m: -m["score"])
            blocked = any(m["score"] >= THRESHOLD and holder.get(m["work_id"]) not in allowed for m in matches)
            f.write(json.dumps({"path": rel, "verdict": "blocked" if blocked else "cleared",
                                "matches": matches}) + "\n")
    t_cmp = time.perf_counter() - t1
    n_frames = sum(fp.info.get("frames", 0) for fp, _ in done.values() if isinstance(fp, Fingerprint))
    print(f"fingerprinted {len(jobs)} videos ({n_frames} frames) in {t_fp:.1f} s with {a.jobs} jobs; "
          f"{n_cmp} comparisons in {t_cmp:.1f} s ({1000 * t_cmp / max(1, n_cmp):.1f} ms each)")
    print(f"results: {out}")
    sys.stdout.flush()
    subprocess.run([sys.executable, str(SCORE_PY), str(set_dir), str(out), "--media", "video"], check=False)


if __name__ == "__main__":
    main()
