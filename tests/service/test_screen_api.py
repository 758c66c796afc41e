"""The guard at the desk (issue 20): operators screen outputs and prompts; the answer is
the scan's verdict with the matched works and evidence links; a permit granted or revoked
through the API counts for the next screening; bad uploads are 4xx and the server stays up."""

from __future__ import annotations

import io
import time

import pytest
from fastapi.testclient import TestClient

from kyodaku.records.store import Records
from kyodaku.service.app import create_app
from kyodaku.settings import Settings
from tests import art
from tests.desk.conftest import LICENSEE, desk  # noqa: F401  (the fixture)
from tests.service.conftest import web  # noqa: F401  (the fixture)


def _png(rgb) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


KUMO_COPY = _png(art.crop(art.artwork(402)))


def _screen(web, data: bytes, who: str = "operator", name: str = "out.png", **form):  # noqa: F811
    return web.client.post("/api/v1/screen/output", headers=web.api(who), files={"file": (name, data)}, data=form)


def test_an_operator_screens_an_output(web) -> None:  # noqa: F811
    r = _screen(web, KUMO_COPY, prompt="a harbour at dusk")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "blocked" and body["decision_id"] and body["reason"]
    work = body["works"][0]
    assert (work["work_id"], work["holder"], work["verdict"]) == ("w402", "kumo", "blocked")
    assert work["score"] > 0 and work["method"] and work["evidence_url"]
    decision = Records(web.desk.workspace.session).decision(body["decision_id"])
    assert decision.source == "screen" and "prompt" not in decision.line and decision.line["prompt_sha256"]
    # the holder of the matched work opens the evidence; another holder does not see it
    image = web.client.get(work["evidence_url"], headers=web.api("kumo"))
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content[:2] == b"\xff\xd8"
    assert web.client.get(work["evidence_url"], headers=web.api("hoshi")).status_code == 404
    # and reads the week's counts of its works
    weekly = web.client.get("/api/v1/screen/weekly", headers=web.api("kumo")).json()
    assert [(w["work_id"], w["blocked"]) for w in weekly] == [("w402", 1)]
    assert web.client.get("/api/v1/screen/weekly", headers=web.api("hoshi")).json() == []


def test_the_screen_routes_need_an_operator_key(web) -> None:  # noqa: F811
    assert web.client.post("/api/v1/screen/output", files={"file": ("a.png", KUMO_COPY)}).status_code == 401
    assert web.client.post("/api/v1/screen/prompt", json={"prompt": "x"}).status_code == 401
    assert _screen(web, KUMO_COPY, who="kumo").status_code == 403
    assert web.client.post("/api/v1/screen/prompt", json={"prompt": "x"}, headers=web.api("hoshi")).status_code == 403
    assert _screen(web, KUMO_COPY, who="auditor").status_code == 403


def test_a_permit_granted_and_revoked_through_the_api_changes_the_next_verdict(web) -> None:  # noqa: F811
    assert _screen(web, KUMO_COPY).json()["verdict"] == "blocked"
    r = web.client.post("/api/v1/holder/permits", headers=web.api("kumo"),
                        json={"licensee": LICENSEE, "use": "generation", "valid_from": "2026-01-01"})
    assert r.status_code in (200, 201), r.text
    time.sleep(1.1)  # the guard looks for registry changes at most once a second
    cleared = _screen(web, KUMO_COPY).json()
    assert cleared["verdict"] == "cleared" and cleared["works"][0]["permit_id"] == r.json()["id"]
    web.desk.clock.advance(minutes=1)
    revoked = web.client.post(f"/api/v1/holder/permits/{r.json()['id']}/revoke", headers=web.api("kumo"),
                              json={"note": "ended"})
    assert revoked.status_code == 200, revoked.text
    web.desk.clock.advance(days=1)  # permits count per day: revoked today, void from the next screening's day
    time.sleep(1.1)
    assert _screen(web, KUMO_COPY).json()["verdict"] == "blocked"


def test_the_prompt_route_names_registered_works(web) -> None:  # noqa: F811
    reg = web.desk.workspace.registry
    reg.set_aliases("w402", ["Harbour of Kumo"])
    time.sleep(1.1)
    r = web.client.post("/api/v1/screen/prompt", headers=web.api("operator"),
                        json={"prompt": "the Harbour of Kumo at night", "negative_prompt": "blurry"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "review" and body["decision_id"]
    assert any(c.get("work_id") == "w402" for c in body["captions"])
    clean = web.client.post("/api/v1/screen/prompt", headers=web.api("operator"), json={"prompt": "a quiet field"})
    assert clean.json()["verdict"] == "cleared"


@pytest.mark.parametrize("data", [b"", b"hello, not a picture", KUMO_COPY[: len(KUMO_COPY) // 3]],
                         ids=["empty", "not-media", "truncated"])
def test_unreadable_uploads_are_4xx_and_the_server_stays_up(web, data: bytes) -> None:  # noqa: F811
    r = _screen(web, data)
    assert r.status_code == 422, r.text
    assert r.json()["verdict"] == "error" and r.json()["detail"]
    assert web.client.get("/api/v1/me", headers=web.api("operator")).status_code == 200
    assert _screen(web, KUMO_COPY).status_code == 200


def test_oversized_uploads_are_413_and_the_server_stays_up(desk) -> None:  # noqa: F811
    settings = Settings(home=desk.workspace.home, database_url=desk.workspace.database_url, licensee=LICENSEE,
                        delivery_interval=0, max_upload_mb=1, screen_max_pixels=200 * 200)
    key = {"Authorization": f"Bearer {desk.service.add_api_key(desk.operator, 't')[1]}"}
    with TestClient(create_app(settings, workspace=desk.workspace, clock=desk.clock)) as c:
        big = c.post("/api/v1/screen/output", headers=key, files={"file": ("big.bin", b"\x00" * (2 << 20))})
        assert big.status_code == 413
        wide = c.post("/api/v1/screen/output", headers=key, files={"file": ("wide.png", KUMO_COPY)})
        assert wide.status_code == 413 and "KYODAKU_SCREEN_MAX_PIXELS" in wide.json()["detail"]
        assert c.get("/api/v1/me", headers=key).status_code == 200


def test_openapi_documents_the_screen_routes(web) -> None:  # noqa: F811
    paths = web.client.get("/api/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/screen/output"] and "post" in paths["/api/v1/screen/prompt"]
    assert "multipart/form-data" in paths["/api/v1/screen/output"]["post"]["requestBody"]["content"]
