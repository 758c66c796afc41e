#!/usr/bin/env python3
"""Cost of storing registered videos as keyframes for image queries (issue 19, item 5):
ms per image query against a reference set without the episodes' keyframes and against
the same references with them, one process, one thread, alternating query by query.

    PYTHONPATH=src python benchmarks/bench_episode_stills.py BEFORE_WORK AFTER_WORK SET_DIR \\
        [--limit N] [--out FILE]

BEFORE_WORK and AFTER_WORK are benchmarks/eval_set.py --work folders of the same set:
one fingerprinted by a kyodaku that stored no keyframes (c934daa and before), one by
this one.  Both are matched by this kyodaku's matcher, so the difference is what the
keyframes cost: a larger local-feature index and more candidates to verify.  It also
prints the reference pictures each set holds and the ORB index size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from kyodaku.fingerprint.store import is_keyframe
from kyodaku.media.images import load_image
from kyodaku.scan.matcher import Matcher
from kyodaku.scan.refset import ReferenceSet
from kyodaku.scan.threads import one_thread_per_query
from kyodaku.workspace import Workspace


def _matcher(work: Path) -> tuple[Matcher, dict]:
    ws = Workspace.open(work / "kyodaku-data")
    refs = ReferenceSet(ws.fingerprints_dir, ws.index_dir)
    store = refs.stores["pdq"]
    frames = sum(is_keyframe(r) for r in store.refs)
    facts = {"pictures": len(store) - frames, "keyframes": frames,
             "orb_vectors": refs.stores["orb"].n_vectors if "orb" in refs.stores else 0}
    return Matcher(refs), facts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    one_thread_per_query()
    (before, facts_before), (after, facts_after) = _matcher(a.before), _matcher(a.after)
    rows = [json.loads(x) for x in (a.set_dir / "truth.jsonl").read_text().splitlines()]
    images = [a.set_dir / r["query"] for r in rows if r["media"] == "image"]
    step = max(1, len(images) // a.limit) if a.limit else 1
    images = images[::step][: a.limit or None]
    times: dict[str, list[float]] = {"before": [], "after": []}
    for path in images:
        image = load_image(path, max_side=1024)
        for name, matcher in (("before", before), ("after", after)):
            t0 = time.perf_counter()
            matcher.match_image(image)
            times[name].append(1000 * (time.perf_counter() - t0))
    p50 = {k: statistics.median(v) for k, v in times.items()}
    result = {"images": len(images), "before": facts_before, "after": facts_after,
              "ms_p50_before": round(p50["before"], 1), "ms_p50_after": round(p50["after"], 1),
              "ms_mean_before": round(statistics.fmean(times["before"]), 1),
              "ms_mean_after": round(statistics.fmean(times["after"]), 1),
              "ratio_p50_after_to_before": round(p50["after"] / p50["before"], 2)}
    print(json.dumps(result, indent=1))
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
