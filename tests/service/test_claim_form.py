"""The claim form (issue 23, item 7): the works the output matched come pre-selected; a
warning in the page's language when the chosen work is not among them; field-level errors
in the page's language that keep the upload; operators' bulk actions, each claim audited
as a single action is."""

from __future__ import annotations

import re

import pytest

from kyodaku.audit import read_entries
from kyodaku.records.store import Records
from tests import art
from tests.service.conftest import csrf_of


def _claim_entries(web) -> list[dict]:
    path = web.desk.workspace.home / "audit" / "audit.jsonl"
    return [e["data"] for _, e in read_entries(path) if e["kind"] == "claim"]


@pytest.fixture
def kumo_ja(web, tmp_path):
    """kumo's staff on a Japanese desk, kumo holding a second work (w403) the output does
    not copy, and an output that copies w402."""
    art.register_artwork(web.desk.workspace, tmp_path, 403, holder="kumo")
    b = web.login("kumo-staff")
    b.get("/lang/ja")
    out = tmp_path / "gen.png"
    art.save(art.paste(art.artwork(402), art.artwork(90, (720, 960)), 0.5), out)
    return b, out


def _checked(html: str) -> set[str]:
    return set(re.findall(r'name="work_ids" value="([^"]+)" checked', html))


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden {name}"
    return m.group(1)


def test_no_work_chosen_answers_in_japanese_keeps_the_upload_and_preselects_the_match(web, kumo_ja):
    b, out = kumo_ja
    page = b.get("/claims")
    before = len(web.desk.service.claims(web.desk.kumo))
    with out.open("rb") as f:
        r = b.post("/claims", data={"csrf_token": csrf_of(page.text), "description": "うちの剣士", "step": "file"},
                   files={"file": ("gen.png", f, "image/png")})
    assert r.status_code == 422, r.text
    assert '<html lang="ja">' in r.text and "Field required" not in r.text
    assert "出力が複製している貴社の作品を 1 点以上選んでください。" in r.text  # beside the works, and listed
    assert 'id="err-work_ids"' in r.text
    assert _checked(r.text) == {"w402"} and "出力と一致（スコア" in r.text  # the match pre-selected
    assert "添付済み：gen.png" in r.text and "うちの剣士" in r.text  # the upload and the text kept
    assert len(web.desk.service.claims(web.desk.kumo)) == before  # nothing filed yet

    # the kept upload is kumo's alone: another holder's account cannot use its token
    pending = _hidden(r.text, "pending")
    other = web.login("hoshi-staff")
    stolen = other.post("/claims", data={"csrf_token": csrf_of(other.get("/claims").text), "pending": pending,
                                         "pending_name": "gen.png", "work_ids": ["w401"], "step": "file"})
    assert stolen.status_code == 422 and "attach it again" in stolen.text

    # the holder picks w403, which the output did not match: a warning, in Japanese, nothing filed
    data = {"csrf_token": csrf_of(r.text), "pending": pending, "pending_name": "gen.png", "work_ids": ["w403"],
            "description": "うちの剣士", "step": "file"}
    w = b.post("/claims", data=data)
    assert w.status_code == 200 and "出力は w403 に一致しませんでした（照合で一致したのは w402）" in w.text
    assert _checked(w.text) == {"w403"} and 'name="confirm"' in w.text
    assert len(web.desk.service.claims(web.desk.kumo)) == before

    # confirmed: filed for w403, with the kept upload and its evidence (w402 matched)
    done = b.post("/claims", data={**data, "csrf_token": csrf_of(w.text), "confirm": "1"})
    assert done.status_code == 303, done.text
    claim = web.desk.service.claims(web.desk.kumo)[-1]
    assert claim.work_ids == ("w403",) and claim.upload_name == "gen.png"
    assert [m["work_id"] for m in claim.evidence["matches"]][:1] == ["w402"]
    assert claim.evidence["claimed_works_matched"] == []
    gone = b.post("/claims", data={**data, "csrf_token": csrf_of(w.text), "work_ids": ["w402"]})
    assert gone.status_code == 422 and "もう一度添付してください" in gone.text  # the kept file went with the claim


def test_chosen_works_among_the_matched_file_at_once_and_check_only_checks(web, kumo_ja):
    b, out = kumo_ja
    b.get("/lang/en")
    page = b.get("/claims")
    with out.open("rb") as f:
        c = b.post("/claims", data={"csrf_token": csrf_of(page.text), "step": "check"},
                   files={"file": ("gen.png", f, "image/png")})
    assert c.status_code == 200 and _checked(c.text) == {"w402"} and "matched by the output (score" in c.text
    assert "Choose at least one" not in c.text  # checking is not filing
    r = b.post("/claims", data={"csrf_token": csrf_of(c.text), "pending": _hidden(c.text, "pending"),
                                "pending_name": "gen.png", "work_ids": ["w402"], "step": "file"})
    assert r.status_code == 303, r.text
    assert web.desk.service.claims(web.desk.kumo)[-1].evidence["claimed_works_matched"] == ["w402"]


def test_a_decision_claim_preselects_what_the_decision_matched(web, kumo_ja):
    b, _ = kumo_ja
    b.get("/lang/en")
    decision = Records(web.desk.workspace.session).decisions(web.desk.scan_id, holder="kumo")[0].id
    page = b.get(f"/claims?decision={decision}")
    assert _checked(page.text) == {"w402"} and f'name="decision_id" type="text" inputmode="numeric" value="{decision}"' \
        in page.text
    bad = b.post("/claims", data={"csrf_token": csrf_of(page.text), "decision_id": "12x", "work_ids": ["w402"],
                                  "step": "file"})
    assert bad.status_code == 422 and 'id="err-decision_id"' in bad.text and "is a number" in bad.text
    none = b.post("/claims", data={"csrf_token": csrf_of(page.text), "work_ids": ["w402"], "step": "file"})
    assert none.status_code == 422 and "Attach the output file, or give the id" in none.text
    r = b.post("/claims", data={"csrf_token": csrf_of(page.text), "decision_id": str(decision),
                                "work_ids": ["w402"], "step": "file"})
    assert r.status_code == 303, r.text


def test_operator_bulk_actions_each_audited_as_a_single_one(web):
    svc, desk = web.desk.service, web.desk
    decision = Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0].id
    ids = [svc.file_claim(desk.kumo, work_ids=["w402"], decision_id=decision, description=f"claim {i}").id
           for i in range(3)]
    op = web.login("ops")
    page = op.get("/claims")
    assert all(f'name="claim_ids" value="{i}"' in page.text for i in ids)
    r = op.post("/claims/bulk", data={"csrf_token": csrf_of(page.text), "action": "acknowledge",
                                      "claim_ids": [str(i) for i in ids[:2]]})
    assert r.status_code == 200, r.text
    assert [svc.claim(desk.operator, i).state for i in ids] == ["acknowledged", "acknowledged", "filed"]
    acks = [e for e in _claim_entries(web) if e.get("action") == "acknowledge"]
    assert sorted(e["claim"] for e in acks) == sorted(ids[:2]) and all(e["by"] == "ops" for e in acks)
    assert all(f"Claim {i}: now acknowledged." in r.text for i in ids[:2])

    # reject needs the claim under review and a note: the ones that cannot move say why
    svc.act(desk.operator, ids[0], "start_review")
    r = op.post("/claims/bulk", data={"csrf_token": csrf_of(r.text), "action": "reject", "note": "not a copy",
                                      "claim_ids": [str(i) for i in ids]})
    assert r.status_code == 200
    assert [svc.claim(desk.operator, i).state for i in ids] == ["rejected", "acknowledged", "filed"]
    assert f"Claim {ids[1]} not moved: it is acknowledged; this step needs it under review." in r.text
    assert f"Claim {ids[2]} not moved: it is filed; this step needs it under review." in r.text
    op.get("/lang/ja")
    ja = op.post("/claims/bulk", data={"csrf_token": csrf_of(r.text), "action": "start_review", "note": "",
                                       "claim_ids": [str(ids[0]), "999999"]})
    assert "申立て 999999 は操作できませんでした：その申立てはありません。" in ja.text
    assert f"申立て {ids[0]} は操作できませんでした：現在「棄却」です。" in ja.text
    op.get("/lang/en")
    rejects = [e for e in _claim_entries(web) if e.get("action") == "reject"]
    assert [e["claim"] for e in rejects] == [ids[0]] and rejects[0]["note"] == "not a copy"
    assert op.post("/claims/bulk", data={"csrf_token": csrf_of(r.text), "action": "uphold",
                                         "claim_ids": [str(ids[0])]}).status_code == 422
    # a holder may not: the form is not theirs
    holder = web.login("kumo-staff")
    assert holder.post("/claims/bulk", data={"csrf_token": csrf_of(holder.get("/claims").text),
                                             "action": "acknowledge", "claim_ids": [str(ids[2])]}).status_code == 403

    # the API's bulk action: the same, per claim
    api = web.client.post("/api/v1/operator/claims/actions", headers=web.api("operator"),
                          json={"action": "acknowledge", "claim_ids": [ids[2], ids[1], 999999]})
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["moved"] == 1 and [r["ok"] for r in body["results"]] == [True, False, False]
    assert body["results"][0]["state"] == "acknowledged"
    assert web.client.post("/api/v1/operator/claims/actions", headers=web.api("kumo"),
                           json={"action": "acknowledge", "claim_ids": [ids[2]]}).status_code == 403
