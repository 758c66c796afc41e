#!/usr/bin/env python3
"""Cost of matching video queries against registered pictures as well as registered
videos (issue 19), on an evaluation set already scanned by benchmarks/eval_set.py.

    PYTHONPATH=src python benchmarks/bench_crossmedia.py WORK_DIR SET_DIR [--limit N]

WORK_DIR is eval_set.py's --work folder (its workspace holds the set's references).
For each video query, in one process, one after the other: the video method alone (what
a video query cost before), then kyodaku.scan.crossmedia.match_video (the video method
and the query's keyframes against the registered pictures).  Prints ms per second of
video for both, their ratio, and keyframes per second of query video.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from kyodaku.fingerprint.registry import video_methods
from kyodaku.scan.crossmedia import match_video
from kyodaku.scan.matcher import Matcher
from kyodaku.scan.refset import ReferenceSet
from kyodaku.video.keyframes import video_keyframes
from kyodaku.workspace import Workspace


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work", type=Path)
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    ws = Workspace.open(a.work / "kyodaku-data")
    matcher = Matcher(ReferenceSet(ws.fingerprints_dir, ws.index_dir))
    rows = [json.loads(x) for x in (a.set_dir / "truth.jsonl").read_text().splitlines()]
    videos = [a.set_dir / r["query"] for r in rows if r["media"] == "video"]
    if a.limit:
        videos = videos[: a.limit]
    before = after = seconds = 0.0
    keyframes = 0
    for path in videos:
        t0 = time.perf_counter()
        fps = {m.name: matcher.methods[m.name].query_video(path) for m in video_methods()
               if m.name in matcher.refs.indexes}
        matcher.match_fingerprints(fps)
        t1 = time.perf_counter()
        match_video(matcher, path)
        t2 = time.perf_counter()
        before, after = before + t1 - t0, after + t2 - t1
        kfs, info = video_keyframes(path)
        keyframes += len(kfs)
        seconds += float(info.get("duration") or 0.0)
    print(json.dumps({"videos": len(videos), "video_seconds": round(seconds, 1),
                      "ms_per_video_second_before": round(1000 * before / seconds, 1),
                      "ms_per_video_second_after": round(1000 * after / seconds, 1),
                      "ratio_after_to_before": round(after / before, 2),
                      "query_keyframes_per_second": round(keyframes / seconds, 2)}, indent=1))


if __name__ == "__main__":
    main()
