"""Nothing of another holder reaches a holder.  Two holders whose works both match one
item (a picture of both side by side): alpha has permits, bravo has none, so the item is
blocked for bravo's work.  Walked as alpha: every page, every API answer (JSON, CSV,
letter), the claim pages with their evidence images, and the webhook / email payloads
in the outbox table; none may carry bravo's slug, name, work id, title or reason text,
and alpha's own match is shown as "blocked on other grounds", not as its own block."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kyodaku.desk import DeskService, catalog
from kyodaku.desk.models import OutboxRow
from kyodaku.records.store import Records
from kyodaku.registry.importers import register_work
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from kyodaku.scan.references import fingerprint_pending
from kyodaku.service.app import create_app
from kyodaku.settings import Settings
from tests import art
from tests.desk.conftest import LICENSEE, PASSWORD, Clock
from tests.service.conftest import csrf_of
from tests.service.conftest import login as _login

BRAVO = {"slug": "bravo-pictures", "name": "Bravo Pictures KK", "work": "bw-9001", "title": "Secret Bravo Epic"}
BRAVO_REASON = f"has no training permit from {BRAVO['slug']}"


def forbidden_strings() -> list[str]:
    return [BRAVO["slug"], BRAVO["name"], BRAVO["work"], BRAVO["title"], BRAVO_REASON, "bravo", "Bravo"]


@pytest.fixture
def two_holders(workspace, tmp_path):
    reg = workspace.registry
    reg.add_holder("alpha-arts", "Alpha Arts", "JP")
    reg.add_holder(BRAVO["slug"], BRAVO["name"], "JP")
    a_ref, b_ref = tmp_path / "ref-a.png", tmp_path / "ref-b.png"
    art.save(art.artwork(601), a_ref)
    art.save(art.artwork(602), b_ref)
    register_work(reg, workspace, "alpha-arts", "Alpha Dawn", [a_ref], work_id="aw-1")
    register_work(reg, workspace, BRAVO["slug"], BRAVO["title"], [b_ref], work_id=BRAVO["work"])
    fingerprint_pending(workspace, progress=False, workers=0)
    for use in ("training", "generation"):
        reg.grant_permit("alpha-arts", LICENSEE, use, valid_from=date(2025, 1, 1), valid_until=date(2030, 12, 31))
    both = np.hstack([art.artwork(601), art.artwork(602)])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    art.save(both, corpus / "item-0001.png")
    art.save(both, tmp_path / "output.png")
    scan_paths(workspace, [corpus], ScanOptions(LICENSEE, "training", date(2026, 6, 1), workers=0),
               out=io.StringIO(), name="corpus-x")
    clock = Clock(datetime(2026, 6, 5, 1, 0, tzinfo=UTC))
    service = DeskService(workspace, licensee=LICENSEE, clock=clock, allow_private_webhooks=True)
    alpha = service.add_account("alpha-staff", "holder", password=PASSWORD, holders=["alpha-arts"],
                                email="a@example.org")
    bravo = service.add_account("bravo-staff", "holder", password=PASSWORD, holders=[BRAVO["slug"]],
                                email="b@example.org")
    service.add_webhook(alpha, "http://127.0.0.1:9/alpha")
    app = create_app(Settings(home=workspace.home, database_url=workspace.database_url, licensee=LICENSEE,
                              delivery_interval=0), workspace=workspace, clock=clock)
    app.state.desk = service
    return service, alpha, bravo, app, tmp_path / "output.png"


def _clean(where: str, text: str) -> None:
    for s in forbidden_strings():
        assert s not in text, f"{where} shows {s!r}"


def test_the_item_matched_both_holders_and_was_blocked_for_the_other_one(two_holders):
    service, *_ = two_holders
    (d,) = Records(service.workspace.session).decisions(Records(service.workspace.session).scans("corpus-x")[0].id)
    holders = {m["holder"]: m["verdict"] for m in d.line["matches"]}
    assert holders == {"alpha-arts": "cleared", BRAVO["slug"]: "blocked"}
    assert d.verdict == "blocked" and BRAVO_REASON in d.reason


def test_every_view_of_alpha_shows_nothing_of_bravo(two_holders):
    service, alpha, bravo, app, output = two_holders
    records = Records(service.workspace.session)
    (decision,) = records.decisions(records.scans("corpus-x")[0].id)
    inquiry = service.file_inquiry(alpha, corpus="corpus-x", question="did our work appear?")
    by_decision = service.file_claim(alpha, work_ids=["aw-1"], decision_id=decision.id, description="seen")
    by_upload = service.file_claim(alpha, work_ids=["aw-1"], upload=output, upload_name="output.png")
    service.file_inquiry(bravo, corpus="corpus-x")  # bravo's own events must stay bravo's
    service.act(service.add_account("ops", "operator", password=PASSWORD), by_upload.id, "acknowledge")

    key = service.add_api_key(alpha, "t")[1]
    api = TestClient(app, follow_redirects=False)
    auth = {"Authorization": f"Bearer {key}"}
    for path in ("/api/v1/me", "/api/v1/claims", f"/api/v1/claims/{by_decision.id}", f"/api/v1/claims/{by_upload.id}",
                 "/api/v1/inquiries", f"/api/v1/inquiries/{inquiry.id}", f"/api/v1/inquiries/{inquiry.id}/answer.csv",
                 f"/api/v1/inquiries/{inquiry.id}/letter.html", f"/api/v1/inquiries/{inquiry.id}/letter.html?lang=ja",
                 "/api/v1/works", "/api/v1/permits"):
        r = api.get(path, headers=auth)
        assert r.status_code == 200, (path, r.text)
        _clean(path, r.text)
    browser = _login(app, "alpha-staff")
    for path in ("/", "/claims", f"/claims/{by_decision.id}", f"/claims/{by_upload.id}", "/inquiries",
                 f"/inquiries/{inquiry.id}", f"/inquiries/{inquiry.id}/answer.csv", f"/inquiries/{inquiry.id}/letter",
                 "/works", "/permits", "/account"):
        r = browser.get(path)
        assert r.status_code == 200, (path, r.text)
        _clean(path, r.text)
    assert 'data:image/jpeg;base64,' in browser.get(f"/claims/{by_upload.id}").text  # evidence images shown

    # a claim filed from the page form (the same check of the upload)
    page = browser.get("/claims")
    with output.open("rb") as f:
        r = browser.post("/claims", data={"csrf_token": csrf_of(page.text), "work_ids": ["aw-1"]},
                         files={"file": ("gen.png", f, "image/png")})
    assert r.status_code == 303, r.text
    _clean("claim filed on the page", browser.get(r.headers["location"]).text)

    # alpha's verdict: the item is blocked, on grounds that are not alpha's works
    item = inquiry.answer["scans"][0]["items"][0]
    assert item["verdict"] == "blocked" and item["grounds"] == "other" and item["own_verdict"] == "cleared"
    assert item["reason"].startswith("blocked on other grounds")
    assert [w["work_id"] for w in item["works"]] == ["aw-1"]
    for claim in (by_decision, by_upload):
        ev = service.claim(alpha, claim.id).evidence
        assert ev["grounds"] == "other" and [m["work_id"] for m in ev["matches"]] == ["aw-1"]

    rows = list(csv.DictReader(io.StringIO(api.get(f"/api/v1/inquiries/{inquiry.id}/answer.csv", headers=auth).text)))
    assert [(r["work_id"], r["verdict"], r["work_verdict"], r["grounds"]) for r in rows] == \
        [("aw-1", "blocked", "cleared", "other")]
    letter = api.get(f"/api/v1/inquiries/{inquiry.id}/letter.html", headers=auth).text
    assert "(on other grounds)" in letter and "Alpha Dawn" in letter
    assert "(on other grounds)" in browser.get(f"/inquiries/{inquiry.id}").text

    # what webhooks and emails would carry: alpha's outbox rows
    with service.workspace.session() as s:
        alpha_id = service._holder_for(s, alpha, None).id
        payloads = [json.dumps(p, ensure_ascii=False) for p in
                    s.scalars(select(OutboxRow.payload).where(OutboxRow.holder_id == alpha_id))]
    assert len(payloads) >= 4
    for p in payloads:
        _clean("outbox payload", p)


def test_a_holder_whose_own_work_blocks_the_item_is_told_so(two_holders):
    service, alpha, bravo, _app, _output = two_holders
    inquiry = service.file_inquiry(bravo, corpus="corpus-x")
    item = inquiry.answer["scans"][0]["items"][0]
    assert item["verdict"] == "blocked" and item["grounds"] == "your_works" and item["own_verdict"] == "blocked"
    assert BRAVO_REASON in item["reason"] and "alpha" not in json.dumps(inquiry.answer)


def test_answers_stored_before_holder_views_are_scrubbed_when_read(two_holders):
    """An answer stored with the item's own reason (as main stored them) is shown without it."""
    from kyodaku.desk.models import InquiryRow

    service, alpha, *_ = two_holders
    inquiry = service.file_inquiry(alpha, corpus="corpus-x")
    with service.workspace.session() as s:
        row = s.get(InquiryRow, inquiry.id)
        answer = json.loads(json.dumps(row.answer))
        for scan in answer["scans"]:
            for it in scan["items"]:
                it.pop("grounds", None), it.pop("own_verdict", None)
                it["reason"] = f"no permit: {LICENSEE} {BRAVO_REASON} for {BRAVO['work']}"
        row.answer = answer
    shown = service.inquiry(alpha, inquiry.id)
    _clean("stored answer", json.dumps(shown.answer))
    assert shown.answer["scans"][0]["items"][0]["grounds"] == "other"
    assert catalog.list_works(service, alpha)[0].work_id == "aw-1"
