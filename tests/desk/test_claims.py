"""Claims: evidence attached on filing, the lifecycle with deadlines on an injected clock,
roles, tenancy, idempotent filing, and an upheld output blocked with its decision recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kyodaku.audit import AuditLog
from kyodaku.desk import Forbidden, InvalidTransition
from kyodaku.records.store import Records
from kyodaku.registry.base import NotFound, RegistryError
from tests import art


def _kumo_decision(desk) -> int:
    records = Records(desk.workspace.session)
    (d, *_) = records.decisions(desk.scan_id, holder="kumo")
    return d.id


def test_claim_on_a_recorded_decision_carries_evidence_and_deadline(desk):
    claim = desk.service.file_claim(desk.kumo, work_ids=["w402"], decision_id=_kumo_decision(desk),
                                    description="our character in their corpus")
    assert claim.state == "filed" and claim.holder == "kumo"
    ev = claim.evidence
    assert ev["verdict"] == "blocked" and ev["claimed_works_matched"] == ["w402"]
    assert ev["matches"][0]["work_id"] == "w402" and ev["matches"][0]["score"] >= 0.5
    assert all(m["holder"] == "kumo" for m in ev["matches"])
    # filed Friday 10:00 JST: two business days skip the weekend -> Tuesday 10:00 JST
    assert claim.due_at == datetime(2026, 6, 9, 1, 0, tzinfo=UTC)
    assert claim.next_actions("operator") == ["acknowledge"] and claim.next_actions("holder") == []


def test_claim_on_an_uploaded_output_is_checked_against_the_registry(desk, tmp_path):
    out = tmp_path / "generated.png"
    art.save(art.paste(art.artwork(402), art.artwork(77, (720, 960)), 0.6), out)
    claim = desk.service.file_claim(desk.kumo, work_ids=["w402"], upload=out, upload_name="generated.png")
    assert claim.subject_kind == "upload" and len(claim.upload_sha256) == 64
    assert claim.evidence["claimed_works_matched"] == ["w402"]
    assert claim.evidence["verdict"] == "blocked"  # kumo gave no generation permit
    assert (desk.workspace.home / "desk" / "uploads").is_dir()


def test_full_lifecycle_with_dispute_and_upheld_block(desk):
    svc, clock = desk.service, desk.clock
    claim = svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=_kumo_decision(desk))
    clock.advance(days=5)  # acknowledged after the 2-business-day deadline
    assert [c.id for c in svc.claims(desk.operator, overdue=True)] == [claim.id]
    claim = svc.act(desk.operator, claim.id, "acknowledge")
    assert claim.events[-1].late is True and claim.state == "acknowledged"
    assert claim.due_at == datetime(2026, 6, 19, 1, 0, tzinfo=UTC)  # decide within 14 days of filing
    claim = svc.act(desk.operator, claim.id, "start_review")
    with pytest.raises(RegistryError, match="note"):
        svc.act(desk.operator, claim.id, "reject")
    claim = svc.act(desk.operator, claim.id, "reject", "the output differs in pose and palette")
    assert claim.state == "rejected" and claim.resolution.startswith("the output differs")
    with pytest.raises(InvalidTransition, match="after"):
        svc.act(desk.operator, claim.id, "close")  # the holder may still dispute
    clock.advance(days=3)
    claim = svc.act(desk.kumo, claim.id, "dispute", "same face, same costume; see evidence")
    assert claim.state == "disputed" and claim.due_owner == "operator"
    claim = svc.act(desk.operator, claim.id, "resolve_uphold", "on second review, a copy")
    assert claim.state == "resolved" and claim.due_at is None
    blocking = Records(desk.workspace.session).decision(claim.evidence["blocking_decision_id"])
    assert blocking.source == "claim" and blocking.verdict == "blocked"
    assert blocking.line["matches"][0]["work_id"] == "w402"
    assert [e.to_state for e in claim.events] == ["filed", "acknowledged", "under_review", "rejected",
                                                 "disputed", "resolved"]
    assert all(claim.events[i].at <= claim.events[i + 1].at for i in range(len(claim.events) - 1))
    log = AuditLog.for_workspace(desk.workspace)
    assert log.path.read_text().count('"kind":"claim"') == 6
    with pytest.raises(InvalidTransition):
        svc.act(desk.operator, claim.id, "acknowledge")


def test_dispute_window_closes(desk):
    svc, clock = desk.service, desk.clock
    c = svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=_kumo_decision(desk))
    for action in ("acknowledge", "start_review"):
        svc.act(desk.operator, c.id, action)
    svc.act(desk.operator, c.id, "reject", "not a copy")
    clock.advance(days=15)
    with pytest.raises(InvalidTransition, match="closed"):
        svc.act(desk.kumo, c.id, "dispute", "late")
    assert svc.act(desk.operator, c.id, "close").state == "resolved"


def test_roles_and_tenancy(desk):
    svc = desk.service
    c = svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=_kumo_decision(desk))
    with pytest.raises(NotFound):
        svc.claim(desk.hoshi, c.id)  # another holder's claim does not exist for hoshi
    with pytest.raises(NotFound):
        svc.act(desk.hoshi, c.id, "dispute", "x")
    assert svc.claims(desk.hoshi) == [] and [x.id for x in svc.claims(desk.auditor)] == [c.id]
    with pytest.raises(Forbidden):
        svc.act(desk.kumo, c.id, "acknowledge")
    with pytest.raises(Forbidden):
        svc.act(desk.auditor, c.id, "acknowledge")
    with pytest.raises(Forbidden):
        svc.file_claim(desk.operator, work_ids=["w402"], decision_id=_kumo_decision(desk))
    with pytest.raises(NotFound):  # a holder cannot claim another holder's work ...
        svc.file_claim(desk.hoshi, work_ids=["w402"], decision_id=_kumo_decision(desk))
    with pytest.raises(NotFound):  # ... nor point at a decision that matched none of its works
        svc.file_claim(desk.hoshi, work_ids=["w401"], decision_id=_kumo_decision(desk))


def test_idempotent_filing(desk):
    svc = desk.service
    a = svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=_kumo_decision(desk), idempotency_key="k-1")
    b = svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=_kumo_decision(desk), idempotency_key="k-1")
    assert a.id == b.id and len(svc.claims(desk.kumo)) == 1
