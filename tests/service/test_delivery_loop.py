"""The running service delivers notifications by itself (lifespan loop), signed."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient

from kyodaku.desk.outbox import verify_signature
from kyodaku.service.app import create_app
from kyodaku.settings import Settings
from tests.desk.test_inquiries_and_notifications import receiver  # noqa: F401  (the fixture)
from tests.service.conftest import LICENSEE, kumo_decision


def test_server_delivers_webhooks_in_the_background(desk, receiver):  # noqa: F811
    url, recv = receiver
    recv.fail_first = 0
    _, secret = desk.service.add_webhook(desk.operator, url)
    settings = Settings(home=desk.workspace.home, database_url=desk.workspace.database_url, licensee=LICENSEE,
                        delivery_interval=0.2)
    key = desk.service.add_api_key(desk.kumo, "t")[1]
    with TestClient(create_app(settings, workspace=desk.workspace, clock=desk.clock)) as client:
        r = client.post("/api/v1/holder/claims", headers={"Authorization": f"Bearer {key}"},
                        json={"decision_id": kumo_decision(desk), "work_ids": ["w402"]})
        assert r.status_code == 201
        deadline = time.monotonic() + 10
        while not recv.got and time.monotonic() < deadline:
            time.sleep(0.1)
    assert recv.got, "the service did not deliver the webhook"
    headers, body = recv.got[0]
    assert json.loads(body)["event"] == "claim.filed" and json.loads(body)["holder"] == "kumo"
    assert verify_signature(secret, body, headers["X-Kyodaku-Signature"])
