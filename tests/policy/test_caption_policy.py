"""Captions in the consent decision: a caption naming an unpermitted work (or asking a
non-consenting holder's style) turns a clear into review; permits, opt-out without a
reservation and recorded-only kinds leave the verdict alone; nothing becomes laxer."""

from __future__ import annotations

import pytest

from kyodaku.policy import Policy, PolicyError, RegistryView
from kyodaku.signals import Signal, SignalReport
from tests.policy.test_policy_decide import JURISDICTIONS, ON, permit, reservation


def caption(holder="jp-studio", work_id="w0003", kind="names_work", score=1.0):  # type: ignore[no-untyped-def]
    return {"work_id": work_id, "holder": holder, "alias": "星空探偵", "text": "星空探偵", "kind": kind,
            "score": score, "field": "caption"}


def decide(captions, matches=(), permits=(), reservations=(), policy=None, signals=None):  # type: ignore[no-untyped-def]
    view = RegistryView(tuple(permits), tuple(reservations), JURISDICTIONS)
    return (policy or Policy.load()).decide(list(matches), licensee="acme", use="training", on=ON,
                                            registry_view=view, captions=captions, signals=signals)


def test_a_caption_naming_an_unpermitted_work_sends_a_clear_to_review():
    d = decide([caption()])
    assert d.verdict == "review" and d.permit_id is None
    assert d.reason.startswith("the caption names w0003 ('星空探偵'") and "no training permit" in d.reason
    assert "the registry said: no registered work matched" in d.reason
    [c] = d.captions
    assert c.verdict == "review" and c.to_json()["field"] == "caption"


def test_a_permitted_work_is_recorded_and_changes_nothing():
    d = decide([caption()], permits=[permit(works=("w0003",))])
    assert d.verdict == "cleared" and d.captions[0].verdict == "cleared"
    assert d.captions[0].permit_id == 12 and "permit 12" in d.captions[0].reason


def test_a_style_request_needs_a_permit_for_all_the_holders_works():
    style = caption(work_id=None, kind="asks_style")
    assert decide([style], permits=[permit(works=("w0003",))]).verdict == "review"
    assert decide([style], permits=[permit()]).verdict == "cleared"
    assert "asks for the style of jp-studio" in decide([style]).reason


def test_opt_out_holders_count_only_with_a_reservation():
    assert decide([caption("us-studio")]).verdict == "cleared"
    assert decide([caption("us-studio")], reservations=[reservation()]).verdict == "review"
    strict = Policy.from_dict({**Policy.packaged_data(), "captions": {"honour_opt_out": False}})
    assert decide([caption("us-studio")], policy=strict).verdict == "review"


def test_captions_never_make_a_verdict_laxer():
    copy = [{"work_id": "w0003", "holder": "jp-studio", "score": 0.9}]
    assert decide([caption()], matches=copy).verdict == "blocked"
    permitted = decide([caption(work_id="w9")], matches=copy, permits=[permit(works=("w0003",))])
    assert permitted.verdict == "review" and permitted.permit_id is None  # the permit covers the copy, not w9
    reserved = SignalReport([Signal("iptc", "training", "reserved", "DMI-PROHIBITED")])
    d = decide([caption()], signals=reserved)
    assert d.verdict == "blocked" and d.captions  # signals stay stricter, captions stay recorded


def test_recorded_only_kinds_and_scores():
    assert decide([caption(work_id=None, kind="names_holder")]).verdict == "cleared"
    loose = Policy.from_dict({**Policy.packaged_data(), "captions": {"min_score": 0.95}})
    d = decide([caption(score=0.9)], policy=loose)
    assert d.verdict == "cleared" and "recorded only" in d.captions[0].reason
    assert decide([caption(score=0.96)], policy=loose).verdict == "review"


def test_bad_caption_rules_are_refused(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text('{"captions": {"min_score": 2}}')
    with pytest.raises(PolicyError, match="captions"):
        Policy.load(bad)
    bad.write_text('{"captions": {"kinds": ["names_everything"]}}')
    with pytest.raises(PolicyError, match="captions"):
        Policy.load(bad)
    ok = tmp_path / "ok.json"
    ok.write_text('{"captions": {"kinds": ["names_work", "names_holder", "asks_style"]}}')
    assert decide([caption(work_id=None, kind="names_holder")], policy=Policy.load(ok)).verdict == "review"
