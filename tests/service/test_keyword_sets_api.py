"""Holders edit their works' keyword sets over the API; another holder's are not theirs."""

from __future__ import annotations


def test_a_holder_adds_lists_and_removes_keyword_sets_of_own_works_only(web):
    c = web.client
    w = "w402"
    r = c.post(f"/api/v1/holder/works/{w}/keywords", headers=web.api("kumo"),
               json={"lang": "en", "keywords": ["Harbour", "night clouds"]})
    assert r.status_code == 201, r.text
    kset = r.json()
    assert kset["keywords"] == ["harbour", "night clouds"] and kset["holder"] == "kumo"
    assert [k["id"] for k in c.get(f"/api/v1/holder/works/{w}/keywords", headers=web.api("kumo")).json()] == [kset["id"]]
    assert c.get(f"/api/v1/holder/works/{w}/keywords", headers=web.api("hoshi")).status_code == 404
    assert c.post(f"/api/v1/holder/works/{w}/keywords", headers=web.api("hoshi"),
                  json={"lang": "en", "keywords": ["x"]}).status_code == 404
    assert c.delete(f"/api/v1/holder/works/{w}/keywords/{kset['id']}", headers=web.api("hoshi")).status_code == 404
    assert c.delete(f"/api/v1/holder/works/{w}/keywords/{kset['id']}", headers=web.api("kumo")).status_code == 200
    assert c.get(f"/api/v1/holder/works/{w}/keywords", headers=web.api("kumo")).json() == []
    assert c.delete(f"/api/v1/holder/works/{w}/keywords/{kset['id']}", headers=web.api("kumo")).status_code == 404
    assert web.desk.workspace.registry.list_keyword_sets() == []
    from kyodaku.audit.outbox import AuditOutboxRow

    with web.desk.workspace.session() as s:
        audited = [(r.data["event"], r.data["by"]) for r in s.query(AuditOutboxRow).filter_by(kind="keywords")]
    assert audited == [("added", "kumo-staff"), ("removed", "kumo-staff")]
