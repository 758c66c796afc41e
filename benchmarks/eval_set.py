#!/usr/bin/env python3
"""Accuracy of kyodaku on an evaluation set built by ../shared/eval/build_devset.py.

    python benchmarks/eval_set.py /path/to/devset [--work DIR] [--workers N]

Registers the set in a fresh workspace, scans its queries/, writes results.jsonl and
prints score.py's figures (muAP, recall at P99, false clear/block, per transform).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks.evalset

from benchmarks.evalset import find_shared_eval, run_eval_set, score_results  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--work", type=Path, help="where the workspace and results go (default: a temp folder)")
    ap.add_argument("--workers", type=int)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    work = a.work or Path(tempfile.mkdtemp(prefix="kyodaku-eval-"))
    run = run_eval_set(a.set_dir, work, workers=a.workers, progress=True)
    eval_dir = find_shared_eval()
    if eval_dir is None:
        raise SystemExit(f"results in {run.results}; ../shared/eval/score.py not found to score them")
    s = score_results(eval_dir, a.set_dir, run.results)
    if a.json:
        print(json.dumps(s, indent=1))
    else:
        for k in ("queries", "positives", "errors", "muAP", "recall_at_p99", "false_clear", "false_block",
                  "review_share", "video_localized"):
            print(f"{k:>16}: {s[k]}")
        for k, v in s["per_transform"].items():
            print(f"{k:>24} {v['positives']:>5} {v['recall_at_p99_threshold']} {v['false_matches_at_p99_threshold']}")
    print(f"files={run.files} scan={run.scan_seconds:.1f}s ({run.files / run.scan_seconds:.1f} files/s) "
          f"fingerprint_refs={run.fingerprint_seconds:.1f}s results={run.results}")


if __name__ == "__main__":
    main()
