"""The pages: sign-in, CSRF on every form, a claim filed in the browser flow, the
operator's answer seen by the holder, Japanese and English, errors as pages."""

from __future__ import annotations

from tests import art
from tests.service.conftest import PASSWORD, csrf_of


def test_sign_in_needs_the_login_csrf_cookie_and_the_right_password(web):
    c = web.client
    assert c.get("/").status_code == 303 and c.get("/").headers["location"].startswith("/login")
    r = c.post("/login", data={"username": "kumo-staff", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403
    from fastapi.testclient import TestClient

    b = TestClient(c.app, follow_redirects=False)
    b.get("/login")
    token = b.cookies.get("kyodaku_login_csrf")
    bad = b.post("/login", data={"username": "kumo-staff", "password": "wrong password", "csrf_token": token})
    assert bad.status_code == 401 and "Wrong username or password" in bad.text
    assert "kyodaku_session" not in b.cookies


def test_form_posts_without_csrf_are_refused(web, tmp_path):
    b = web.login("kumo-staff")
    for path, data in (("/inquiries", {"corpus": "corpus-v1"}), ("/logout", {}),
                       ("/account/keys", {"label": "x"}), ("/permits", {"licensee": "x", "use": "training",
                                                                      "valid_from": "2026-01-01"})):
        assert b.post(path, data=data).status_code == 403, path
        assert b.post(path, data={**data, "csrf_token": "wrong"}).status_code == 403, path
    assert b.get("/inquiries").status_code == 200  # still signed in: nothing happened


def test_holder_files_a_claim_operator_answers_holder_sees_it(web, tmp_path):
    holder = web.login("kumo-staff")
    page = holder.get("/claims")
    assert page.status_code == 200 and 'name="work_ids" value="w402"' in page.text
    out = tmp_path / "gen.png"
    art.save(art.paste(art.artwork(402), art.artwork(90, (720, 960)), 0.5), out)
    with out.open("rb") as f:
        r = holder.post("/claims", data={"csrf_token": csrf_of(page.text), "work_ids": ["w402"],
                                         "description": "our swordsman"},
                        files={"file": ("gen.png", f, "image/png")})
    assert r.status_code == 303, r.text
    claim_url = r.headers["location"]
    shown = holder.get(claim_url).text
    assert "Evidence" in shown and "w402" in shown and 'alt="The output under claim"' in shown
    import base64
    import re

    uris = re.findall(r'<img src="data:image/jpeg;base64,([^"]+)"', shown)
    assert len(uris) >= 2 and all(base64.b64decode(u)[:2] == b"\xff\xd8" for u in uris)

    operator = web.login("ops")
    op_page = operator.get(claim_url)
    assert 'value="acknowledge"' in op_page.text
    for action, note in (("acknowledge", ""), ("start_review", ""), ("uphold", "a copy of w402")):
        r = operator.post(claim_url + "/act", data={"csrf_token": csrf_of(op_page.text), "action": action, "note": note})
        assert r.status_code == 303, r.text
    seen = holder.get(claim_url).text
    assert "upheld (output blocked)" in seen and "a copy of w402" in seen and "The output is blocked" in seen

    auditor = web.login("audit")
    assert auditor.post(claim_url + "/act", data={"csrf_token": csrf_of(auditor.get("/").text),
                                                  "action": "acknowledge"}).status_code == 403
    assert "Claims log" in auditor.get("/report").text


def test_japanese_pages_and_error_pages(web):
    b = web.login("kumo-staff")
    b.get("/lang/ja?next=/claims")
    b.cookies.set("kyodaku_lang", "ja")
    page = b.get("/claims")
    assert '<html lang="ja">' in page.text and "申立てを行う" in page.text
    missing = b.get("/claims/999999")
    assert missing.status_code == 404 and "見つかりません" in missing.text
    assert b.get("/inquiries/abc").status_code == 422


def test_works_page_shows_a_near_identical_registration_without_naming_the_other_holders_work(web, tmp_path):
    """kumo registers the picture hoshi registered as w401 (re-saved as JPEG): both
    holders see a conflict on their work without learning the other's work id; the
    operator sees which work it is, and a plain picture is flagged too plain."""
    import numpy as np
    from PIL import Image

    from kyodaku.desk import catalog
    from tests import art

    svc, d = web.desk.service, web.desk
    art.save(art.jpeg(art.artwork(401)), tmp_path / "same.jpg")
    mine = catalog.add_work(svc, d.kumo, title="Same picture", files=[tmp_path / "same.jpg"])
    blank = np.full((300, 300, 3), 250, np.uint8)
    Image.fromarray(blank).save(tmp_path / "blank.png")
    plain = catalog.add_work(svc, d.kumo, title="Blank", files=[tmp_path / "blank.png"])
    assert plain.media[0].fingerprint_note and "too plain" in plain.media[0].fingerprint_note
    assert mine.media[0].fingerprint_note is None
    kumo = catalog.lookalikes_by_work(svc, d.kumo)
    assert list(kumo) == [mine.work_id] and kumo[mine.work_id][0]["work"] is None
    assert kumo[mine.work_id][0]["conflict"] and kumo[mine.work_id][0]["distance"] <= 16
    assert catalog.lookalikes_by_work(svc, d.hoshi)["w401"][0]["work"] is None
    assert catalog.lookalikes_by_work(svc, d.operator)["w401"][0]["work"] == mine.work_id
    page = web.login("kumo-staff").get("/works").text
    assert "near-identical to a work registered by another holder" in page and "w401" not in page
    assert "too plain to be found in copies" in page
    assert f'href="#{mine.work_id}"' in web.login("ops").get("/works").text
    api = {w["work_id"]: w for w in web.client.get("/api/v1/works", headers=web.api("kumo")).json()}
    assert api[mine.work_id]["lookalikes"] == [{"work": None, "distance": kumo[mine.work_id][0]["distance"],
                                               "conflict": True}]
    assert "too plain" in api[plain.work_id]["media"][0]["note"]
    ops = {w["work_id"]: w for w in web.client.get("/api/v1/works", headers=web.api("operator")).json()}
    assert ops["w401"]["lookalikes"][0]["work"] == mine.work_id
