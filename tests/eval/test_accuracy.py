"""Accuracy floor on a real evaluation set: ../shared/eval/build_devset.py --scale small
(real artwork from Debian packages, cached after the first build) scanned through the
whole product path (import, fingerprint, scan, consent policy) and scored by the set's own
score.py.  A regression below these floors cannot land.

The floors sit below what the small set measures (README: muAP 0.97, false_clear 0.007) so
that noise does not fail CI, and above what plain PDQ gets (muAP 0.37, false_clear 0.66).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kyodaku.report.evalset import find_shared_eval, run_eval_set, score_results

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


def _small_set(eval_dir: Path) -> Path:
    """Build the small dev set once per version of build_devset.py (cached)."""
    script = eval_dir / "build_devset.py"
    digest = hashlib.sha256(script.read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kyodaku" / f"devset-small-0-{digest}"
    if (cache / "SET.json").exists():
        return cache
    tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run([sys.executable, str(script), "--out", str(tmp), "--scale", "small", "--seed", "0"],
                   check=True, stdout=subprocess.DEVNULL)
    if cache.exists():
        shutil.rmtree(tmp)
    else:
        tmp.rename(cache)
    return cache


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> dict:
    eval_dir = _eval_dir()
    set_dir = _small_set(eval_dir)
    run = run_eval_set(set_dir, tmp_path_factory.mktemp("eval"))
    return score_results(eval_dir, set_dir, run.results)


def test_every_query_has_a_result_and_none_is_an_error(scored: dict) -> None:
    assert scored["missing_results"] == 0
    assert scored["errors"] == 0


def test_accuracy_floor(scored: dict) -> None:
    assert scored["muAP"] >= MUAP_FLOOR, scored
    assert scored["false_clear"] <= FALSE_CLEAR_CEILING, scored
    assert scored["false_block"] <= FALSE_BLOCK_CEILING, scored


def test_video_segments_are_localised(scored: dict) -> None:
    assert scored["video_localized"] is not None and scored["video_localized"] >= VIDEO_LOCALIZED_FLOOR, scored
