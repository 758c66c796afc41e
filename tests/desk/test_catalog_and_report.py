"""A holder's catalog and permits through the desk (tenancy, audit), and the auditor's
corpus report and claims log."""

from __future__ import annotations

from datetime import date

import pytest

from kyodaku.desk import Forbidden, catalog
from kyodaku.desk.report import claims_log, corpus_report
from kyodaku.records.store import Records
from kyodaku.registry.base import NotFound
from tests import art
from tests.desk.conftest import LICENSEE


def test_holder_manages_only_its_own_catalog_and_permits(desk, tmp_path):
    svc = desk.service
    ref = tmp_path / "new.png"
    art.save(art.artwork(450), ref)
    work = catalog.add_work(svc, desk.kumo, title="雲の剣士", files=[ref], aliases=["Kumo no Kenshi@ja-Latn"])
    assert work.holder == "kumo" and work.media[0].fingerprinted_at is not None
    work = catalog.set_aliases(svc, desk.kumo, work.work_id, ["くものけんし@ja", "Cloud Swordsman@en"])
    assert [a.text for a in work.aliases] == ["くものけんし", "Cloud Swordsman"]
    with pytest.raises(NotFound):
        catalog.set_aliases(svc, desk.hoshi, work.work_id, ["stolen"])
    assert {w.holder for w in catalog.list_works(svc, desk.hoshi)} == {"hoshi"}
    assert {w.holder for w in catalog.list_works(svc, desk.auditor)} == {"hoshi", "kumo"}
    permit = catalog.grant_permit(svc, desk.kumo, licensee=LICENSEE, use="generation", works=[work.work_id],
                                  valid_from=date(2026, 1, 1))
    assert permit.holder == "kumo" and permit.works == (work.work_id,)
    with pytest.raises(NotFound):
        catalog.grant_permit(svc, desk.kumo, licensee=LICENSEE, use="training", works=["w401"],
                             valid_from=date(2026, 1, 1))  # hoshi's work
    with pytest.raises(NotFound):
        catalog.revoke_permit(svc, desk.hoshi, permit.id, "not mine")
    with pytest.raises(Forbidden):
        catalog.revoke_permit(svc, desk.operator, permit.id, "operators do not revoke holders' permits")
    with pytest.raises(Forbidden):
        catalog.add_work(svc, desk.auditor, title="x", files=[ref])
    revoked = catalog.revoke_permit(svc, desk.kumo, permit.id, "licence ended")
    assert revoked.revoked_at is not None
    assert [p.id for p in catalog.list_permits(svc, desk.kumo)] == [permit.id]


def test_auditor_report_and_claims_log(desk):
    svc = desk.service
    report = corpus_report(svc, desk.auditor, desk.scan_id)
    assert report["files"] == 4 and report["totals"]["blocked"] == 2 and report["kept"] == 2
    cov = {h["holder"]: h for h in report["consent_coverage"]}
    assert cov["kumo"]["blocked"] == 2 and cov["kumo"]["cleared_by_permit"] == 0
    assert cov["hoshi"]["cleared"] == 1 and cov["hoshi"]["cleared_by_permit"] == 1
    with pytest.raises(Forbidden):
        corpus_report(svc, desk.kumo, desk.scan_id)
    d = Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0]
    c = svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=d.id)
    desk.clock.advance(hours=20)
    svc.act(desk.operator, c.id, "acknowledge")
    desk.clock.advance(hours=30)
    svc.act(desk.operator, c.id, "start_review")
    svc.act(desk.operator, c.id, "uphold", "a copy")
    log = claims_log(svc, desk.auditor)
    assert log["count"] == 1 and log["claims"][0]["hours_to_acknowledge"] == 20.0
    assert log["claims"][0]["hours_to_decision"] == 50.0 and log["median_hours_to_decision"] == 50.0
