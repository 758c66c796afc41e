"""Running kyodaku on an evaluation set (the format of ``../shared/eval/README.md``):
register the set's holders, catalog and permits in a fresh workspace, scan its
``queries/`` folder, and write ``results.jsonl`` for the set's ``score.py``."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kyodaku.registry.importers import import_catalog, import_holders, import_permits
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from kyodaku.scan.references import fingerprint_pending
from kyodaku.workspace import Workspace

#: the licensee whose permits the evaluation sets model
EVAL_LICENSEE = "acme-video-ai"


@dataclass
class EvalRun:
    results: Path
    scan_seconds: float
    fingerprint_seconds: float
    files: int


def run_eval_set(set_dir: Path, work_dir: Path, *, workers: int | None = None, progress: bool = False,
                 on: date = date(2026, 1, 1)) -> EvalRun:
    import time

    set_dir, work_dir = Path(set_dir), Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    ws = Workspace.init(work_dir / "kyodaku-data")
    registry = ws.registry
    import_holders(registry, set_dir / "holders.jsonl")
    import_catalog(registry, ws, set_dir / "catalog.jsonl")
    import_permits(registry, set_dir / "permits.jsonl")
    t0 = time.perf_counter()
    fingerprint_pending(ws, progress=progress, workers=workers)
    t1 = time.perf_counter()
    results = work_dir / "results.jsonl"
    with open(results, "w", encoding="utf-8") as out:
        summary = scan_paths(ws, [set_dir / "queries"], ScanOptions(EVAL_LICENSEE, "training", on, workers), out=out)
    ws.dispose()
    return EvalRun(results, summary.seconds, t1 - t0, summary.total)


def find_shared_eval() -> Path | None:
    """``../shared/eval`` beside the repository (or $KYODAKU_EVAL_DIR)."""
    env = os.environ.get("KYODAKU_EVAL_DIR")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    candidates += [p / "shared" / "eval" for p in here.parents]
    candidates += [Path.cwd().parent / "shared" / "eval"]
    for c in candidates:
        if (c / "score.py").exists() and (c / "build_devset.py").exists():
            return c
    return None


def score_results(eval_dir: Path, set_dir: Path, results: Path, media: str | None = None) -> dict[str, Any]:
    """Score with the set's own ``score.py`` (imported, not re-implemented)."""
    spec = importlib.util.spec_from_file_location("kyodaku_eval_score", Path(eval_dir) / "score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    truth = module.load_jsonl(Path(set_dir) / "truth.jsonl")
    if media:
        truth = [t for t in truth if t["media"] == media]
    return module.score(truth, module.load_jsonl(results))
