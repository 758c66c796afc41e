"""Cross-tenant access on every endpoint: hoshi's key and hoshi's browser session try
each route with kumo's ids and get 403 or 404; lists never show kumo's records.  The
routes are enumerated from the app, so a new endpoint without a case here fails."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.routing import APIRoute

from kyodaku.desk import catalog
from kyodaku.records.store import record_screening
from tests.service.conftest import LICENSEE, csrf_of, kumo_decision

# a body each write route accepts when the caller is allowed (so a refusal is tenancy,
# not validation)
JSON_BODIES = {
    "/api/v1/holder/claims/{claim_id}/dispute": {"note": "x"},
    "/api/v1/holder/permits/{permit_id}/revoke": {"note": "x"},
    "/api/v1/holder/works/{work_id}/aliases": {"aliases": ["x"]},
    "/api/v1/holder/works/{work_id}/keywords": {"lang": "en", "keywords": ["x"]},
    "/api/v1/operator/claims/{claim_id}/actions": {"action": "acknowledge", "note": ""},
}
# routes with no id of another tenant in them: checked by the list assertions below
NO_TENANT_IDS = {
    "/api/v1/me", "/api/v1/claims", "/api/v1/inquiries", "/api/v1/works", "/api/v1/permits",
    "/api/v1/holder/claims", "/api/v1/holder/claims/upload", "/api/v1/holder/inquiries", "/api/v1/holder/works",
    "/api/v1/holder/permits", "/api/v1/holder/webhooks", "/api/v1/operator/overdue", "/api/v1/operator/webhooks",
    "/api/v1/operator/deliveries/run", "/api/v1/operator/claims/actions",
    "/api/v1/auditor/scans", "/api/v1/auditor/claims-log",
    "/api/v1/auditor/scans/{scan_id}/report",  # not a holder's record: holders get 403 (asserted below)
    "/api/v1/screen/prompt", "/api/v1/screen/output", "/api/v1/screen/weekly",  # asserted below
}


@pytest.fixture
def kumo_ids(web):
    d = web.desk
    claim = d.service.file_claim(d.kumo, work_ids=["w402"], decision_id=kumo_decision(d))
    inquiry = d.service.file_inquiry(d.kumo, corpus="corpus-v1")
    permit = catalog.grant_permit(d.service, d.kumo, licensee=LICENSEE, use="generation", valid_from=date(2026, 1, 1))
    key_id, _ = d.service.add_api_key(d.kumo, "kumo's")
    keywords = catalog.add_keyword_set(d.service, d.kumo, "w402", "en", ["kumo keyword"])
    with d.workspace.session() as s:  # a screening that matched kumo's work (its evidence is kumo's)
        screened = record_screening(s, {"path": "gen.png", "verdict": "blocked", "media": "image", "matches": [
            {"work_id": "w402", "holder": "kumo", "score": 1.0, "verdict": "blocked", "method": "pdq"}]},
            licensee=LICENSEE, at=d.service.clock())
    return {"set_id": keywords.id, "decision_id": screened, "index": 0, "claim_id": claim.id,
            "inquiry_id": inquiry.id, "work_id": "w402", "permit_id": permit.id, "key_id": key_id,
            "scan_id": d.scan_id}


def app_routes(app) -> list[tuple[str, set[str]]]:
    """(path, methods) of every route, through included routers (FastAPI includes them lazily)."""
    out = []
    for r in app.routes:
        if isinstance(r, APIRoute):
            out.append((r.path, set(r.methods)))
        elif hasattr(r, "include_context"):
            prefix = r.include_context.prefix
            out.extend((prefix + x.path, set(x.methods)) for x in r.original_router.routes if isinstance(x, APIRoute))
    return out


def _fill(path: str, ids: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


def test_every_api_route_refuses_another_tenants_ids(web, kumo_ids):
    checked = 0
    for path, methods in app_routes(web.client.app):
        if not path.startswith("/api/v1") or path in NO_TENANT_IDS:
            continue
        assert "{" in path, f"{path}: add it to NO_TENANT_IDS or give it a case"
        for method in methods:
            r = web.client.request(method, _fill(path, kumo_ids), headers=web.api("hoshi"),
                                   json=JSON_BODIES.get(path))
            assert r.status_code in (403, 404), f"{method} {path}: {r.status_code} {r.text[:200]}"
            checked += 1
    assert checked >= 8


def test_lists_show_only_the_callers_records(web, kumo_ids):
    for path in ("/api/v1/claims", "/api/v1/inquiries", "/api/v1/works", "/api/v1/permits"):
        rows = web.client.get(path, headers=web.api("hoshi")).json()
        assert all(r.get("holder") == "hoshi" for r in rows), path
    assert web.client.get(f"/api/v1/auditor/scans/{kumo_ids['scan_id']}/report", headers=web.api("hoshi")).status_code == 403
    assert web.client.get("/api/v1/operator/overdue", headers=web.api("hoshi")).status_code == 403
    assert web.client.post("/api/v1/operator/deliveries/run", headers=web.api("hoshi")).status_code == 403
    assert web.client.post("/api/v1/operator/claims/actions", headers=web.api("hoshi"),
                           json={"action": "acknowledge", "claim_ids": [kumo_ids["claim_id"]]}).status_code == 403
    assert web.client.post("/api/v1/screen/prompt", headers=web.api("hoshi"), json={"prompt": "x"}).status_code == 403
    assert web.client.post("/api/v1/screen/output", headers=web.api("hoshi"),
                           files={"file": ("x.png", b"x", "image/png")}).status_code == 403
    weekly = web.client.get("/api/v1/screen/weekly", headers=web.api("hoshi")).json()
    assert all(r["holder"] == "hoshi" for r in weekly), weekly
    assert any(r["holder"] == "kumo" for r in web.client.get("/api/v1/screen/weekly", headers=web.api("kumo")).json())
    r = web.client.post("/api/v1/holder/claims", headers=web.api("hoshi"),
                        json={"decision_id": kumo_decision(web.desk), "work_ids": ["w402"]})
    assert r.status_code == 404
    r = web.client.post("/api/v1/holder/inquiries", headers=web.api("hoshi"),
                        json={"corpus": "corpus-v1", "work_ids": ["w402"]})
    assert r.status_code == 404
    r = web.client.post("/api/v1/holder/webhooks", headers=web.api("hoshi"),
                        json={"url": "http://127.0.0.1:9/x", "holder": "kumo"})
    assert r.status_code == 404


PAGE_POSTS = {
    "/claims/{claim_id}/act": {"action": "dispute", "note": "x"},
    "/works/{work_id}/aliases": {"aliases": "x"},
    "/works/{work_id}/keywords": {"lang": "en", "keywords": "x, y"},
    "/works/{work_id}/keywords/{set_id}/remove": {},
    "/permits/{permit_id}/revoke": {"reason": "x"},
    "/account/keys/{key_id}/revoke": {},
}


def test_every_page_refuses_another_tenants_ids(web, kumo_ids):
    browser = web.login("hoshi-staff")
    csrf = csrf_of(browser.get("/claims").text)
    checked = 0
    for path, methods in app_routes(web.client.app):
        if path.startswith("/api") or "{" not in path or path.startswith("/lang/"):
            continue
        for method in methods:
            if method == "GET":
                r = browser.get(_fill(path, kumo_ids))
            else:
                r = browser.post(_fill(path, kumo_ids), data={**PAGE_POSTS[path], "csrf_token": csrf})
            assert r.status_code in (403, 404), f"{method} {path}: {r.status_code}"
            checked += 1
    assert checked >= 8
    assert "kumo" not in browser.get("/claims").text.split("</header>", 1)[1].replace("kumo-staff", "")
