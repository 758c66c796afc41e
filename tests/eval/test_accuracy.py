"""Accuracy floor on a real evaluation set: ../shared/eval/build_devset.py --scale small
(real artwork from Debian packages, cached after the first build) scanned through the
whole product path (import, fingerprint, scan, consent policy) and scored by the set's own
score.py.  A regression below these floors cannot land.

The floors sit below what the small set measures (docs/benchmarks.md: muAP 0.998,
false_clear 0.000) so that noise does not fail CI, and above what plain PDQ gets (muAP 0.37,
false_clear 0.66).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.evalset import find_shared_eval, run_eval_set, score_results

MUAP_FLOOR = 0.93
FALSE_CLEAR_CEILING = 0.03
FALSE_BLOCK_CEILING = 0.02
VIDEO_LOCALIZED_FLOOR = 0.8

pytestmark = pytest.mark.timeout(1500)


def _eval_dir() -> Path:
    found = find_shared_eval()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("../shared/eval (build_devset.py, score.py) is missing: the accuracy floor cannot be checked")
        pytest.skip("../shared/eval not found (set KYODAKU_EVAL_DIR)")
    return found


def _small_set(eval_dir: Path, cross_modal: bool = False) -> Path:
    """Build the small dev set (``cross_modal``: with ``--cross-modal``) once per version
    of build_devset.py (cached)."""
    script = eval_dir / "build_devset.py"
    digest = hashlib.sha256(script.read_bytes()).hexdigest()[:12]
    name = f"devset-small{'-cross' if cross_modal else ''}-0-{digest}"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kyodaku" / name
    if (cache / "SET.json").exists():
        return cache
    tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run([sys.executable, str(script), "--out", str(tmp), "--scale", "small", "--seed", "0"]
                   + (["--cross-modal"] if cross_modal else []), check=True, stdout=subprocess.DEVNULL)
    if cache.exists():
        shutil.rmtree(tmp)
    else:
        tmp.rename(cache)
    return cache


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    eval_dir = _eval_dir()
    set_dir = _small_set(eval_dir)
    work = tmp_path_factory.mktemp("eval")
    run = run_eval_set(set_dir, work)
    return {"set": set_dir, "work": work, "results": run.results,
            "score": score_results(eval_dir, set_dir, run.results)}


@pytest.fixture(scope="module")
def scored(evaluated: dict) -> dict:
    return evaluated["score"]


def test_every_query_has_a_result_and_none_is_an_error(scored: dict) -> None:
    assert scored["missing_results"] == 0
    assert scored["errors"] == 0


def test_accuracy_floor(scored: dict) -> None:
    assert scored["muAP"] >= MUAP_FLOOR, scored
    assert scored["false_clear"] <= FALSE_CLEAR_CEILING, scored
    assert scored["false_block"] <= FALSE_BLOCK_CEILING, scored


def test_video_segments_are_localised(scored: dict) -> None:
    assert scored["video_localized"] is not None and scored["video_localized"] >= VIDEO_LOCALIZED_FLOOR, scored


def test_the_set_as_webdataset_shards_gets_the_same_verdicts(evaluated: dict, tmp_path) -> None:
    """The queries written as WebDataset shards (KEY.png|jpg|mp4 + KEY.txt + KEY.json, as
    img2dataset writes them) are decided exactly as the files were."""
    import io
    import json
    from datetime import date

    import webdataset as wds

    from benchmarks.evalset import EVAL_LICENSEE
    from kyodaku.scan.pipeline import ScanOptions, scan_paths
    from kyodaku.workspace import Workspace

    files = sorted(p for p in (evaluated["set"] / "queries").rglob("*") if p.is_file())
    shards = [tmp_path / f"shard-{i:03d}.tar" for i in range(4)]
    writers = [wds.TarWriter(str(s)) for s in shards]
    for n, f in enumerate(files):
        writers[n % 4].write({"__key__": f.stem, f.suffix.lstrip("."): f.read_bytes(), "txt": "fan art",
                              "json": {"url": f"https://example.invalid/{f.name}"}})
    for w in writers:
        w.close()
    ws = Workspace.open(evaluated["work"] / "kyodaku-data")
    out = io.StringIO()
    scan_paths(ws, shards, ScanOptions(EVAL_LICENSEE, "training", date(2026, 1, 1)), out=out)
    ws.dispose()
    as_shards = {json.loads(x)["path"].rsplit("#", 1)[1]: json.loads(x)["verdict"] for x in out.getvalue().splitlines()}
    as_files = {json.loads(x)["path"].rsplit("/", 1)[1].rsplit(".", 1)[0]: json.loads(x)["verdict"]
                for x in evaluated["results"].read_text().splitlines()}
    assert len(as_shards) == len(files) and as_shards == as_files
