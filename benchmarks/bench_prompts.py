"""Prompt screening by keyword sets on the labelled list tests/guard/data/prompt_cases.jsonl:
precision, recall and milliseconds per prompt (kyodaku.guard.keywords, a fresh SQLite
workspace).  Run: .venv/bin/python benchmarks/bench_prompts.py"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from kyodaku.guard.keywords import keyword_hits
from kyodaku.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "tests" / "guard" / "data"


def load_registry(ws: Workspace) -> None:
    spec = json.loads((DATA / "keyword_sets.json").read_text(encoding="utf-8"))
    for slug, name in spec["holders"]:
        ws.registry.add_holder(slug, name, "JP")
    for w in spec["works"]:
        ws.registry.add_work(w["holder"], w["title"], "image", work_id=w["work_id"])
        for k in w["keywords"]:
            ws.registry.add_keyword_set(w["work_id"], k["lang"], k["keywords"])


def evaluate(ws: Workspace) -> dict[str, float]:
    cases = [json.loads(line) for line in (DATA / "prompt_cases.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    tp = fp = fn = 0
    t0 = time.perf_counter()
    wrong = []
    for c in cases:
        got = {h.work_id for h in keyword_hits(ws.registry, c["prompt"], c.get("negative_prompt", ""))}
        want = set(c["expect"])
        tp += len(got & want)
        fp += len(got - want)
        fn += len(want - got)
        if got != want:
            wrong.append((c["prompt"], sorted(want), sorted(got)))
    ms = (time.perf_counter() - t0) * 1000 / len(cases)
    return {"cases": len(cases), "precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn),
            "ms_per_prompt": ms, "wrong": wrong}  # type: ignore[dict-item]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "home")
        try:
            load_registry(ws)
            evaluate(ws)  # warm the cache
            r = evaluate(ws)
        finally:
            ws.dispose()
    print(f"cases {r['cases']}  precision {r['precision']:.3f}  recall {r['recall']:.3f}  "
          f"{r['ms_per_prompt']:.2f} ms per prompt")
    for prompt, want, got in r["wrong"]:  # type: ignore[union-attr]
        print(f"  wrong: {prompt!r} expected {want} got {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
