"""The streaming summary behind the report: one category per item and holder, exact
counts whatever the evidence caps, unreadable lines counted and named."""

from __future__ import annotations

import json

import pytest

from kyodaku.report.collect import HIST_BINS, ReportError, collect, first_item_id


def _m(work, holder, score, verdict, reason="", permit_id=None):
    m = {"work_id": work, "holder": holder, "score": score, "method": "orb", "verdict": verdict, "reason": reason,
         "evidence": {"inliers": 40, "mirrored": True, "pairs": [[1, 2]]}}
    if permit_id is not None:
        m["permit_id"] = permit_id
    return m


LINES = [
    {"path": "a.png", "verdict": "blocked", "reason": "no permit", "matches": [
        _m("w1", "kumo", 0.97, "blocked", "no permit: x"), _m("w2", "kumo", 0.5, "review", "possible copy"),
        _m("w9", "hoshi", 0.95, "cleared", "permit 3 (...)", permit_id=3)]},
    {"path": "b.png", "verdict": "review", "reason": "possible copy", "matches": [
        _m("w5", "sora", 0.5, "review", "possible copy (score 0.50); reserved: sora reserved training of w5 "
                                         "(reservation 2) and x has no training permit from sora for w5")]},
    {"path": "c.png", "verdict": "cleared", "reason": "opt-out", "matches": [
        _m("w5", "sora", 0.9, "cleared", "opt-out (US): sora has not reserved training of w5")]},
    {"path": "d.png", "verdict": "cleared", "reason": "no registered work matched (best score 0.10 < review 0.35)",
     "matches": [_m("w1", "kumo", 0.1, "cleared", "score 0.10 for w1 is below the review threshold 0.35")]},
    {"path": "e.png", "verdict": "blocked", "reason": "no permit", "matches": [_m("w1", "kumo", 1.0, "blocked")]},
    {"path": "f.png", "verdict": "blocked", "reason": "reserved by an embedded rights signal (c2pa: x)",
     "matches": [], "signals": [{"source": "c2pa", "use": "training", "status": "reserved", "detail": "x"}]},
    {"path": "g.png", "media": "image", "verdict": "error", "reason": "corrupt", "matches": []},
]


@pytest.fixture
def results(tmp_path):
    p = tmp_path / "results.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in LINES) + "not json\n\n{\"path\": 3}\n", encoding="utf-8")
    return p


def test_each_item_counts_once_per_holder_in_its_most_severe_category(results):
    r = collect(results, max_evidence=1)
    assert r.total == 7 and r.verdicts == {"blocked": 3, "review": 1, "cleared": 2, "error": 1}
    kumo, hoshi, sora = r.holders["kumo"], r.holders["hoshi"], r.holders["sora"]
    assert dict(kumo.items) == {"blocked": 2, "weak": 1} and kumo.matched == 2
    assert kumo.works == {"w1": 2}  # a.png's weaker w2 match is not counted, nor d.png's weak one
    assert dict(hoshi.items) == {"permitted": 1} and hoshi.permits == {3: 1}
    assert dict(sora.items) == {"review": 1, "not_reserved": 1} and sora.reserved == 1
    assert [e.item_id for e in kumo.evidence(5)] == ["a.png"] and kumo.evidence_total == 2  # capped at 1
    row = kumo.blocked_rows[0]
    assert (row.work_id, row.score, row.match_verdict) == ("w1", 0.97, "blocked")
    assert row.details == ["inliers 40", "mirrored yes"]  # scalars only
    assert r.unmatched == 2 and r.signal_items == 1 and r.signals == {("c2pa", "training", "reserved"): 1}
    assert [e.item_id for e in r.error_rows] == ["g.png"]
    assert r.histogram["blocked"][HIST_BINS - 1] == 2 and r.histogram["cleared"][2] == 1
    assert sum(map(sum, r.histogram.values())) == 5


def test_unreadable_lines_are_counted_and_named(results):
    r = collect(results)
    assert r.bad_lines == 2
    assert r.warnings[0].startswith("results.jsonl:8: unreadable result line")
    assert r.warnings[1].startswith("results.jsonl:10:")
    assert first_item_id(results) == "a.png"


def test_hand_edited_lines_of_odd_types_do_not_crash(tmp_path):
    odd = [{"path": "h.png", "verdict": "blocked", "media": ["x"], "matches": "nope", "signals": 5},
           {"path": "i.mp4", "verdict": "blocked", "matches": [
               {"work_id": ["w"], "holder": {"a": 1}, "score": float("nan"), "verdict": "blocked",
                "query_segment": [float("inf"), 1], "ref_segment": ["a", None], "evidence": [1]},
               {"work_id": "w2", "holder": "kumo", "score": 0.9, "verdict": "cleared", "permit_id": [1]}]}]
    p = tmp_path / "odd.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in odd), encoding="utf-8")
    r = collect(p)
    assert r.total == 2 and r.bad_lines == 0 and r.media == {"['x']": 1, "unknown": 1}
    row = r.holders["{'a': 1}"].blocked_rows[0]
    assert row.score is None and row.query_segment is None and row.ref_segment is None and row.details == []
    assert r.holders["kumo"].permits == {"[1]": 1}


def test_missing_results_is_a_report_error(tmp_path):
    with pytest.raises(ReportError):
        collect(tmp_path / "none.jsonl")
    assert first_item_id(tmp_path / "none.jsonl") is None


def test_evidence_is_chosen_in_bounded_memory(tmp_path):
    """A thousand blocks at 1.0 by path order, then the lines a person needs: a block at
    0.6, a blocked video, a review item; three rows hold them, and the picker never keeps
    more than twice its cap."""
    lines = [{"path": f"a{i:04d}.png", "media": "image", "verdict": "blocked",
              "matches": [_m("w1", "kumo", 1.0, "blocked")]} for i in range(1000)]
    lines += [{"path": "z-low.png", "media": "image", "verdict": "blocked",
               "matches": [_m("w1", "kumo", 0.6, "blocked")]},
              {"path": "z.mp4", "media": "video", "verdict": "blocked", "matches": [
                  {**_m("v1", "kumo", 1.0, "blocked"), "query_segment": [65.0, 70.5]}]},
              {"path": "z-review.png", "media": "image", "verdict": "review",
               "matches": [_m("w1", "kumo", 0.4, "review")]}]
    p = tmp_path / "many.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    kumo = collect(p, max_evidence=3).holders["kumo"]
    assert len(kumo.picker._pool) < 6
    assert [r.item_id for r in kumo.evidence(3)] == ["z-review.png", "z-low.png", "z.mp4"]
    assert kumo.evidence_total == 1003
    assert [r.item_id for r in kumo.evidence(1)] == ["z-review.png"]
    more = collect(p, max_evidence=5).holders["kumo"].evidence(5)
    assert [r.item_id for r in more] == ["z-review.png", "z-low.png", "a0000.png", "a0001.png", "z.mp4"]
