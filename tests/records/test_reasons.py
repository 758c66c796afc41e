"""A holder's reasons when its own caption gives the verdict (issue 23, item 8): a claim's
evidence keeps the holder's own captions (only what their reasons read; another holder's
caption is not kept), so each caption's reason is its caption_* key with its parameters,
never the policy's English sentence; evidence stored before it kept captions has each
caption's reason read back from the holder view's reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kyodaku.desk.claims import evidence_from_line
from kyodaku.policy import Policy, RegistryView
from kyodaku.records.reasons import CAPTION_KEYS, caption_reason, evidence_reasons, match_reason
from tests.policy.test_policy_decide import JURISDICTIONS, ON, permit, reservation

NOW = datetime(2026, 6, 5, 1, 0, tzinfo=UTC)


def _caption(holder: str, work_id: str | None, kind: str = "names_work") -> dict[str, object]:
    return {"work_id": work_id, "holder": holder, "alias": "星空探偵", "text": "星空探偵", "kind": kind,
            "score": 1.0, "field": "caption"}


def _line(holder: str, score: float, captions, permits=(), reservations=()):  # type: ignore[no-untyped-def]
    """A decision's line as the scan writes it (the policy's verdict, matches and captions)."""
    view = RegistryView(tuple(permits), tuple(reservations), JURISDICTIONS)
    decision = Policy.load().decide([{"work_id": "w0003", "holder": holder, "score": score}], licensee="acme",
                                    use="training", on=ON, registry_view=view, captions=captions)
    return {"path": "item.png", **decision.to_dict()}


def _without_kind(msg: tuple[str, dict[str, object]]) -> tuple[str, dict[str, object]]:
    return msg[0], {k: v for k, v in msg[1].items() if k != "kind"}


CASES = {
    # a permit covers the matched work, not the work the caption names
    "names_unpermitted_work": ("jp-studio", 0.9, [_caption("jp-studio", "w0004")], [permit(works=("w0003",))], (),
                               "review", ["caption_no_permit"]),
    "asks_for_the_style": ("jp-studio", 0.9, [_caption("jp-studio", None, "asks_style")],
                           [permit(works=("w0003",))], (), "review", ["caption_no_permit"]),
    "reserved_work_named": ("us-studio", 0.9, [_caption("us-studio", "w0004")], [permit("us-studio", works=("w0003",))],
                            [reservation(works=("w0004",))], "review", ["caption_reserved"]),
    "permit_covers_both": ("jp-studio", 0.9, [_caption("jp-studio", "w0004")], [permit()], (),
                           "cleared", ["reason_permit", "caption_permit"]),
    "opt_out_not_reserved": ("us-studio", 0.1, [_caption("us-studio", "w0004")], (), (),
                             "cleared", ["reason_below_review", "caption_not_reserved"]),
    "holder_named_recorded": ("jp-studio", 0.9, [_caption("jp-studio", None, "names_holder")], [permit()], (),
                              "cleared", ["reason_permit", "caption_recorded_only"]),
}


@pytest.mark.parametrize("case", CASES)
def test_a_claims_evidence_gives_each_caption_reason_its_key(case):
    holder, score, captions, permits, reservations, verdict, keys = CASES[case]
    line = _line(holder, score, captions, permits, reservations)
    assert line["verdict"] == verdict, line["reason"]
    evidence = evidence_from_line(line, holder, ("w0003",), "scan decision 1", NOW)
    assert evidence["grounds"] == "your_works"
    # the evidence keeps the holder's captions, with only what their reasons read
    assert evidence["captions"] == [{k: c[k] for k in CAPTION_KEYS if k in c} for c in line["captions"]]
    assert all("text" not in c and "alias" not in c for c in evidence["captions"])
    got = evidence_reasons(evidence)
    assert [k for k, _ in got] == keys, evidence["reason"]
    # evidence stored before it kept captions: read back from the reason, the same keys
    old = {k: v for k, v in evidence.items() if k != "captions"}
    assert [k for k, _ in evidence_reasons(old)] == keys
    # the same key and parameters as the caption itself gives (its kind where the wording tells it)
    want = [match_reason(m) for m in line["matches"] if m["verdict"] == verdict] + \
        [caption_reason(c) for c in line["captions"] if c["verdict"] == verdict]
    assert [_without_kind(m) for m in got] == [_without_kind(m) for m in want]
    kinds = {"names_unpermitted_work": "names_work", "asks_for_the_style": "asks_style",
             "reserved_work_named": "names_work", "holder_named_recorded": "names_holder"}
    if case in kinds:
        assert got[-1][1]["kind"] == kinds[case]
    assert all(k != "reason_text" for k, _ in got)
    # from the kept captions, the caption's own key and parameters, its kind included
    assert got == want


def test_a_views_own_captions_are_used_when_it_has_them():
    line = _line("jp-studio", 0.9, [_caption("jp-studio", "w0004")], [permit(works=("w0003",))])
    [caption] = line["captions"]
    view = {"verdict": "review", "own_verdict": "review", "grounds": "your_works", "reason": "anything",
            "matches": line["matches"], "captions": line["captions"]}
    assert evidence_reasons(view) == [caption_reason(caption)]
    assert caption_reason(caption)[1]["kind"] == "names_work"


def test_a_reason_of_no_known_form_is_kept_as_written():
    other = {"verdict": "review", "own_verdict": "review", "grounds": "your_works",
             "reason": "held by hand", "matches": []}
    assert evidence_reasons(other) == [("reason_text", {"text": "held by hand"})]
    # text before a caption's reason that no match of the evidence explains is not dropped
    line = _line("jp-studio", 0.9, [_caption("jp-studio", "w0004")], [permit(works=("w0003",))])
    both = {**other, "reason": f"held by hand; {line['reason'].split('; the registry said')[0]}"}
    got = evidence_reasons(both)
    assert [k for k, _ in got] == ["reason_text", "caption_no_permit"]
    assert got[0] == ("reason_text", {"text": "held by hand"})


def test_a_caption_naming_another_holders_work_is_not_kept():
    """us-studio's caption sends the item to review; jp-studio's claim keeps only its own
    caption, and the reason it is shown names no one (other grounds)."""
    captions = [_caption("jp-studio", "w0004"), _caption("us-studio", "w0009")]
    line = _line("jp-studio", 0.9, captions, [permit(works=("w0003", "w0004"))], [reservation(works=("w0009",))])
    assert line["verdict"] == "review" and {c["holder"] for c in line["captions"]} == {"jp-studio", "us-studio"}
    evidence = evidence_from_line(line, "jp-studio", ("w0003",), "scan decision 1", NOW)
    assert [c["holder"] for c in evidence["captions"]] == ["jp-studio"]
    assert "us-studio" not in str(evidence) and "w0009" not in str(evidence)
    assert evidence["grounds"] == "other"
    assert evidence_reasons(evidence) == [("reason_other_review", {"own": "cleared"})]
