"""The API refuses webhook targets that spell an address oddly or point inside (issue 18,
finding 4) with a 422 naming why, and stores nothing."""

from __future__ import annotations

from sqlalchemy import select

from kyodaku.desk.models import WebhookRow


def test_api_refuses_odd_and_private_webhook_targets(web):
    for url, why in (("http://127.1/x", "numeric form"), ("http://2130706433/x", "numeric form"),
                     ("http://0x7f000001/x", "numeric form"), ("http://localhost./x", "this machine"),
                     ("http://hooks.kumo.example@127.0.0.1/x", "user name or password"),
                     ("http://[::ffff:10.0.0.1]/x", "embeds the IPv4 address 10.0.0.1")):
        r = web.client.post("/api/v1/holder/webhooks", headers=web.api("kumo"), json={"url": url})
        assert r.status_code == 422, (url, r.text)
        assert why in r.json()["detail"], (url, r.text)
    with web.desk.workspace.session() as s:
        assert s.scalars(select(WebhookRow)).all() == []
    r = web.client.post("/api/v1/holder/webhooks", headers=web.api("kumo"),
                        json={"url": "https://hooks.kumo.example/in"})
    assert r.status_code == 201, r.text


def test_an_operator_webhook_may_be_local_but_not_spelt_oddly(web):
    # found by schemathesis: "http://[" answered 500 (the audit entry could not read it)
    for url in ("http://[", "http://127.1/x", "http://ops@127.0.0.1/x"):
        r = web.client.post("/api/v1/operator/webhooks", headers=web.api("operator"), json={"url": url})
        assert r.status_code == 422, (url, r.text)
    with web.desk.workspace.session() as s:
        assert s.scalars(select(WebhookRow)).all() == []
    r = web.client.post("/api/v1/operator/webhooks", headers=web.api("operator"),
                        json={"url": "http://127.0.0.1:9000/in"})
    assert r.status_code == 201, r.text
