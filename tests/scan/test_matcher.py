"""The matcher's decision between works that share query evidence: a work shown only in
part, inside the picture of another work shown whole, is explained by that other work."""

from __future__ import annotations

import numpy as np

from kyodaku.fingerprint.appearance import ALTERED_MAX, Appearance
from kyodaku.policy import default_policy
from kyodaku.scan.matcher import PART_INTACT, Match, _explain_parts, _shared_support

RULES = default_policy().matching
EXPLAINED_CAP = RULES.explained_cap


def _box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def _settle(*found: tuple[str, float, Appearance]) -> dict[str, Match]:
    matches = [Match(work_id, score, "orb", {"inliers": 100}) for work_id, score, _ in found]
    _explain_parts(matches, {work_id: a for work_id, _, a in found}, RULES)
    return {m.work_id: m for m in matches}


def test_a_work_shown_in_part_inside_another_shown_whole_is_explained_by_it():
    """A copy of a band of clouds: the registered night sky over the same clouds matches
    too, with its sky not shown (covered by the clouds' upper part)."""
    out = _settle(("clouds", 0.999, Appearance(0.0, 0.0, 40000, _box(0, 0, 800, 600))),
                  ("nightsky", 0.99, Appearance(0.0, 0.26, 25000, _box(100, 50, 700, 550))))
    assert out["clouds"].score == 0.999 and out["clouds"].explained_by is None
    assert out["nightsky"].score == EXPLAINED_CAP
    assert out["nightsky"].evidence["explained_by"] == "clouds"
    assert out["nightsky"].evidence["capped_as_explained"] is True


def test_a_work_shown_intact_inside_another_shown_intact_is_explained_by_it():
    """A registered rock texture that is also the lower part of a registered mountain
    scene: a copy of the scene shows the texture intact too, but only inside the scene,
    which the query shows intact around it.  The texture's pixels are the scene's."""
    out = _settle(("scene", 0.999, Appearance(0.0, 0.0, 32000, _box(0, 0, 1024, 579))),
                  ("texture", 0.997, Appearance(0.0, 0.0, 43000, _box(0, 0, 700, 579))))
    assert out["scene"].score == 0.999 and out["scene"].explained_by is None
    assert out["texture"].score == EXPLAINED_CAP and out["texture"].evidence["explained_by"] == "scene"
    # a copy of the texture alone: the scene's matching part is the texture's whole
    # footprint, and neither shows more than the other
    out = _settle(("texture", 0.999, Appearance(0.0, 0.0, 43000, _box(0, 0, 1024, 683))),
                  ("scene", 0.99, Appearance(0.0, 0.0, 14000, _box(0, 0, 1024, 683))))
    assert out["texture"].score == 0.999 and out["scene"].score == 0.99
    # a scene with a little of it covered is not intact: a figure inside it keeps its score
    out = _settle(("scene", 0.999, Appearance(0.0, 2 * PART_INTACT, 32000, _box(0, 0, 1024, 579))),
                  ("figure", 0.99, Appearance(0.0, 0.0, 3000, _box(400, 200, 520, 400))))
    assert out["figure"].score == 0.99 and out["figure"].explained_by is None


def test_a_figure_pasted_into_a_registered_scene_keeps_its_score():
    """Both registered: the scene is not shown whole (the figure covers part of it), and
    the figure's footprint does not contain the scene's."""
    out = _settle(("scene", 0.99, Appearance(0.0, 0.08, 40000, _box(0, 0, 800, 600))),
                  ("figure", 0.98, Appearance(0.0, 0.0, 6000, _box(300, 200, 420, 400))))
    assert out["scene"].score == 0.99 and out["figure"].score == 0.98
    assert out["scene"].explained_by is None and out["figure"].explained_by is None


def test_works_side_by_side_and_works_shown_alike_keep_their_scores():
    # two works pasted side by side: neither lies inside the other
    out = _settle(("left", 0.99, Appearance(0.0, 0.3, 20000, _box(0, 0, 400, 600))),
                  ("right", 0.99, Appearance(0.0, 0.0, 20000, _box(400, 0, 800, 600))))
    assert [m.score for m in out.values()] == [0.99, 0.99]
    # one inside the other, but not clearly less of it shown, and the other not intact
    out = _settle(("whole", 0.99, Appearance(0.0, 2 * PART_INTACT, 40000, _box(0, 0, 800, 600))),
                  ("part", 0.99, Appearance(0.01, 0.5 * ALTERED_MAX, 20000, _box(100, 100, 500, 500))))
    assert out["part"].score == 0.99 and out["part"].explained_by is None
    # the containing work is itself a variant: it explains nothing
    out = _settle(("variant", 0.99, Appearance(2 * ALTERED_MAX, 0.0, 40000, _box(0, 0, 800, 600))),
                  ("part", 0.99, Appearance(0.0, 0.3, 20000, _box(100, 100, 500, 500))))
    assert out["part"].score == 0.99


def test_a_work_outvoted_by_many_look_alike_references_is_still_verified(workspace, tmp_path):
    """Twelve registered crops of one busy background collect most of a query's index
    votes; a registered picture pasted small into that background gets fewer votes than
    any of them.  Candidates are verified in order of votes, so the shortlist must reach
    past them (it stopped at eight)."""
    from datetime import date

    from kyodaku.scan.pipeline import ScanOptions, check_file
    from tests import art

    background = art.artwork(60, size=(720, 960))
    for i in range(12):
        y, x = 20 * (i % 4), 25 * (i // 4)
        art.register_artwork(workspace, tmp_path, 100 + i, holder="scenery", rgb=background[y:y + 600, x:x + 800].copy())
    target = art.register_artwork(workspace, tmp_path, 61)
    query = tmp_path / "query.png"
    art.save(art.paste(art.artwork(61), background, scale=0.35, at=(300, 500)), query)
    result = check_file(workspace, query, ScanOptions("acme", "training", date(2026, 6, 1), workers=0))
    found = {m["work_id"]: m["score"] for m in result["matches"]}
    assert found.get(target, 0.0) >= 0.9, result["matches"]


def test_shared_support_counts_distinct_common_rows_like_intersect1d():
    rng = np.random.default_rng(7)
    supports = [rng.integers(0, 300, size=int(n)) for n in rng.integers(1, 120, size=9)]
    supports += [None, np.array([], np.int64), np.array([5, 5, 5, 299])]  # missing, empty, repeated rows
    shared = _shared_support(supports)
    for i, a in enumerate(supports):
        for j, b in enumerate(supports):
            expected = 0 if a is None or b is None else np.intersect1d(a, b).size
            assert shared[i, j] == expected
    assert _shared_support([None, None]).tolist() == [[0, 0], [0, 0]]
