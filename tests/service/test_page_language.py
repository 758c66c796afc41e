"""Reasons and times on pages in the page's language (issue 23, item 8): a verdict's
reason is shown from its message key (kyodaku.records.reasons), not as the policy's
English sentence; so are an unusable upload's refusal (kyodaku.desk.storage) and a claim
step's 409; times in the desk's time zone (JST) beside UTC; the answer CSV's reason_key."""

from __future__ import annotations

import csv
import html
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from kyodaku.desk.inquiries import CSV_COLUMNS
from kyodaku.records.reasons import evidence_reasons, match_reason
from kyodaku.records.store import Records
from tests.service.conftest import csrf_of


def test_every_reason_of_a_real_scan_has_a_message_key(web):
    records = Records(web.desk.workspace.session)
    keys = set()
    for d in records.decisions(web.desk.scan_id):
        for m in d.line["matches"]:
            key, params = match_reason(m)
            assert key != "reason_text", m["reason"]  # the policy's wording is known
            keys.add(key)
            named = ("holder",) if key == "reason_permit" else ("work", "holder")  # a permit of all works
            assert all(str(v) in m["reason"] for k, v in params.items() if k in named), (key, params)
    assert {"reason_no_permit_blocked", "reason_permit"} <= keys
    other = evidence_reasons({"verdict": "blocked", "own_verdict": "review", "grounds": "other",
                              "matches": [{"work_id": "w1", "verdict": "review", "reason": "x"}]})
    assert other == [("reason_other_blocked", {"own": "review"})]  # names no one


def test_claim_page_reason_and_times_in_japanese(web):
    desk = web.desk
    decision = Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0]
    claim = desk.service.file_claim(desk.kumo, work_ids=["w402"], decision_id=decision.id)
    b = web.login("kumo-staff")
    en = b.get(f"/claims/{claim.id}").text
    assert "no permit: acme-video-ai has no training permit from kumo for w402" in en
    assert f"Scan decision {decision.id}" in en
    b.get("/lang/ja")
    ja = b.get(f"/claims/{claim.id}").text
    assert "許諾なし：acme-video-ai は kumo から w402 の学習の許諾を得ていません" in ja
    assert f"スキャンの判定 {decision.id}" in ja
    assert "no permit" not in ja and "has no training permit" not in ja and "scan decision" not in ja
    # filed on a Friday 10:00 in Tokyo (01:00 UTC); due two business days later, shown both ways
    assert "2026-06-05 10:00 JST (2026-06-05 01:00 UTC)" in ja
    due = claim.due_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"{due:%Y-%m-%d %H:%M} JST ({claim.due_at:%Y-%m-%d %H:%M} UTC)" in ja
    listing = b.get("/claims").text
    assert "2026-06-05 10:00 JST (2026-06-05 01:00 UTC)" in listing


def test_inquiry_lists_summarise_in_the_pages_language(web):
    inq = web.desk.service.file_inquiry(web.desk.kumo, corpus="corpus-v1")
    b = web.login("kumo-staff")
    b.get("/lang/ja")
    for page in ("/", "/inquiries", f"/inquiries/{inq.id}"):
        text = b.get(page).text
        assert "記録されたスキャン 1 件で、貴社の作品に要確認以上で一致した項目 2 件" in text, page
        assert "item(s) with a match" not in text, page
    assert "(学習)" in b.get(f"/inquiries/{inq.id}").text and "(training)" not in b.get(f"/inquiries/{inq.id}").text
    assert "1 点の画像" in b.get("/works").text
    op = web.login("ops")
    assert "2 item(s) with a match of Kumo's works" in html.unescape(op.get("/inquiries").text)
    op.get("/lang/ja")
    for page in ("/report", f"/report/{web.desk.scan_id}"):
        assert "(学習)" in op.get(page).text and "(training)" not in op.get(page).text, page


def test_the_letter_in_japanese_reasons_times_and_print_style(web):
    inq = web.desk.service.file_inquiry(web.desk.kumo, corpus="corpus-v1")
    b = web.login("kumo-staff")
    b.get("/lang/ja")
    letter = b.get(f"/inquiries/{inq.id}/letter").text
    assert "許諾なし：acme-video-ai は kumo から w402 の学習の許諾を得ていません" in letter
    assert "no permit" not in letter
    assert "回答日時: 2026-06-05 10:00 JST (2026-06-05 01:00 UTC)" in letter  # not a raw ISO timestamp
    assert "T01:00:00" not in letter
    assert "@page" in letter and "@media print" in letter and "table-header-group" in letter
    api = web.client.get(f"/api/v1/inquiries/{inq.id}/letter.html?lang=ja", headers=web.api("kumo")).text
    assert "許諾なし：" in api
    # the inquiry's two columns are no longer both headed 判定
    page = b.get(f"/inquiries/{inq.id}").text
    assert '<th scope="col">判定</th>' in page and '<th scope="col">判定記録</th>' in page


def test_error_pages_speak_the_pages_language(web):
    b = web.login("kumo-staff")
    b.get("/lang/ja")
    forbidden = b.post("/claims/bulk", data={"csrf_token": csrf_of(b.get("/claims").text), "action": "acknowledge",
                                             "claim_ids": ["1"]})
    assert forbidden.status_code == 403
    assert "このアカウントではこの操作はできません。" in forbidden.text and "cannot do this" not in forbidden.text
    b.get("/lang/en")
    en = b.post("/claims/bulk", data={"csrf_token": csrf_of(b.get("/claims").text), "action": "acknowledge",
                                      "claim_ids": ["1"]})
    assert en.status_code == 403 and "a holder account cannot do this" in en.text


def test_an_unusable_upload_is_refused_in_the_pages_language(web, tmp_path):
    b = web.login("kumo-staff")
    b.get("/lang/ja")
    bad = tmp_path / "gen.png"
    bad.write_bytes(b"\x00 not a picture at all " * 40)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")

    def attach(path):
        page = b.get("/claims")
        with path.open("rb") as f:
            return b.post("/claims", data={"csrf_token": csrf_of(page.text), "work_ids": ["w402"], "step": "file"},
                          files={"file": (path.name, f, "image/png")})

    r = attach(bad)
    assert r.status_code == 422, r.text
    assert "gen.png：内容が画像でも動画でもありません" in r.text
    assert "not an image or video" not in r.text and "are read" not in r.text
    r = attach(empty)
    assert "empty.png：空のファイルです（0 バイト）。" in r.text and "empty file" not in r.text
    # a reference upload on the works page: the refusal page in Japanese as well
    page = b.get("/works")
    with bad.open("rb") as f:
        r = b.post("/works", data={"csrf_token": csrf_of(page.text), "title": "新作"},
                   files={"files": ("ref.png", f, "image/png")})
    assert r.status_code == 422, r.text
    assert "登録されませんでした： ref.png：内容が画像でも動画でもありません" in r.text
    assert "not registered" not in r.text and 'lang="en">登録' not in r.text
    # a body over the desk's cap, refused before it is read
    r = b.post("/inquiries", data={"csrf_token": csrf_of(page.text), "corpus": "corpus-v1",
                                   "question": "y" * (2 << 20)})
    assert r.status_code == 413 and "送信内容が大きすぎます（" in r.text and "request too large" not in r.text
    # the API keeps its English detail; an English page says it in English
    b.get("/lang/en")
    r = attach(bad)
    assert "gen.png: not an image or video by its contents" in html.unescape(r.text)


def test_a_step_the_claim_does_not_allow_is_refused_in_the_pages_language(web):
    desk = web.desk
    decision = Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0]
    claim = desk.service.file_claim(desk.kumo, work_ids=["w402"], decision_id=decision.id)
    op = web.login("ops")
    op.get("/lang/ja")
    page = op.get(f"/claims/{claim.id}").text
    r = op.post(f"/claims/{claim.id}/act", data={"csrf_token": csrf_of(page), "action": "start_review"})
    assert r.status_code == 409, r.text
    assert f"申立て {claim.id} は現在「受付済み」です。「審査を開始」は「確認済み」の申立てにのみ行えます。" in r.text
    assert "needs it" not in r.text and "start_review" not in r.text.split("<main")[-1]
    # the holder's dispute after its window: the deadline in JST beside UTC
    for step, note in (("acknowledge", ""), ("start_review", ""), ("reject", "理由")):
        desk.service.act(desk.operator, claim.id, step, note)
    due = desk.service.claim(desk.kumo, claim.id).due_at
    desk.clock.now = due + timedelta(days=1)
    b = web.login("kumo-staff")
    b.get("/lang/ja")
    page = b.get(f"/claims/{claim.id}").text
    r = b.post(f"/claims/{claim.id}/act", data={"csrf_token": csrf_of(page), "action": "dispute", "note": "異議"})
    assert r.status_code == 409, r.text
    local = due.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (f"この申立ての「異議を申し立てる」の期限は {local:%Y-%m-%d %H:%M} JST ({due:%Y-%m-%d %H:%M} UTC) "
            "に過ぎました。") in r.text
    assert "window to dispute closed" not in r.text
    api = web.client.post(f"/api/v1/holder/claims/{claim.id}/dispute", json={"note": "x"}, headers=web.api("kumo"))
    assert api.status_code == 409 and "the window to dispute closed" in api.json()["detail"]


def test_the_answer_csv_carries_each_reasons_message_key(web):
    inq = web.desk.service.file_inquiry(web.desk.kumo, corpus="corpus-v1")
    text = web.client.get(f"/api/v1/inquiries/{inq.id}/answer.csv", headers=web.api("kumo")).text
    rows = list(csv.DictReader(io.StringIO(text)))
    header = text.splitlines()[0].split(",")
    assert header == [*CSV_COLUMNS, "reason_key"]  # appended: the existing columns keep their places
    assert rows and all(r["reason_key"] for r in rows)
    blocked = [r for r in rows if r["work_verdict"] == "blocked"]
    assert blocked and {r["reason_key"] for r in blocked} == {"reason_no_permit_blocked"}
    assert all("has no training permit" in r["reason"] for r in blocked)  # the English reason stays
    page = web.login("kumo-staff").get(f"/inquiries/{inq.id}/answer.csv").text
    assert page.splitlines()[0].endswith(",reason_key")
