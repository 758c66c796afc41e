"""Reasons and times on pages in the page's language (issue 23, item 8, in part): a
verdict's reason is shown from its message key (kyodaku.records.reasons), not as the
policy's English sentence; times in the desk's time zone (JST) beside UTC."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

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
