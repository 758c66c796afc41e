"""Inquiries answered from a scan made in the test; CSV and letter; webhooks signed and
retried; accounts, sessions and API keys."""

from __future__ import annotations

import csv
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from kyodaku.desk.inquiries import answer_csv, answer_letter
from kyodaku.desk.models import DeliveryRow
from kyodaku.desk.outbox import deliver_pending, verify_signature
from kyodaku.registry.base import NotFound
from tests.desk.conftest import LICENSEE, PASSWORD


def test_inquiry_answer_matches_the_scan(desk):
    inq = desk.service.file_inquiry(desk.kumo, corpus="corpus-v1", question="was our catalog used?")
    assert inq.state == "answered"
    (scan,) = inq.answer["scans"]
    assert scan["licensee"] == LICENSEE and scan["use"] == "training" and scan["scan_date"] == "2026-06-01"
    assert scan["files_scanned"] == 4 and scan["matched_items"] == 2
    assert scan["counts"] == {"matched": 2, "blocked": 2, "review": 0, "permitted": 0, "not_reserved": 0, "weak": 0}
    assert scan["works_matched"] == {"w402": 2}
    assert scan["permits_in_force"] == []
    assert sorted(i["item"].rsplit("/", 1)[-1] for i in scan["items"]) == ["kumo_copy.png", "kumo_copy2.jpg"]
    # hoshi's copy was cleared by its permit, and the answer says which permit
    h = desk.service.file_inquiry(desk.hoshi, corpus="corpus-v1")
    (hs,) = h.answer["scans"]
    assert hs["counts"]["permitted"] == 1 and hs["matched_items"] == 1 and len(hs["permits_in_force"]) == 1
    assert hs["items"][0]["works"][0]["permit_id"] == hs["permits_in_force"][0]["permit_id"]
    with pytest.raises(NotFound):
        desk.service.inquiry(desk.hoshi, inq.id)
    none = desk.service.file_inquiry(desk.kumo, corpus="no-such-corpus")
    assert none.answer["scans"] == [] and "no recorded scan" in none.answer["summary"]


def test_inquiry_csv_and_letter(desk):
    inq = desk.service.file_inquiry(desk.kumo, corpus="corpus-v1", work_ids=["w402"],
                                    question="<script>alert(1)</script>")
    rows = list(csv.DictReader(io.StringIO("".join(answer_csv(desk.service, desk.kumo, inq.id)))))
    assert len(rows) == 2 and {r["work_id"] for r in rows} == {"w402"} and {r["verdict"] for r in rows} == {"blocked"}
    html = answer_letter(desk.service, desk.kumo, inq.id, lang="ja")
    assert "照会への回答" in html and "kumo_copy.png" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    with pytest.raises(NotFound):
        answer_letter(desk.service, desk.hoshi, inq.id)


class _Receiver(BaseHTTPRequestHandler):
    got: list[tuple[dict[str, str], bytes]] = []
    fail_first = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(500)
            self.end_headers()
            return
        type(self).got.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    _Receiver.got, _Receiver.fail_first = [], 1
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()


def test_webhooks_are_signed_and_retried(desk, receiver):
    url, recv = receiver
    hook_id, secret = desk.service.add_webhook(desk.kumo, url)
    _, other_secret = desk.service.add_webhook(desk.hoshi, url + "?hoshi")
    from kyodaku.records.store import Records

    d = Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0]
    claim = desk.service.file_claim(desk.kumo, work_ids=["w402"], decision_id=d.id)
    desk.service.act(desk.operator, claim.id, "acknowledge")
    first = deliver_pending(desk.workspace.session, desk.clock(), allow_private=True)
    assert first == {"delivered": 1, "failed": 1}  # the receiver fails once
    desk.clock.advance(minutes=1)
    assert deliver_pending(desk.workspace.session, desk.clock(), allow_private=True) == {"delivered": 0, "failed": 0}  # backing off
    desk.clock.advance(minutes=5)
    assert deliver_pending(desk.workspace.session, desk.clock(), allow_private=True) == {"delivered": 1, "failed": 0}
    events = sorted(json.loads(b)["event"] for _, b in recv.got)
    assert events == ["claim.acknowledged", "claim.filed"]  # hoshi's hook saw none of kumo's events
    for headers, body in recv.got:
        assert verify_signature(secret, body, headers["X-Kyodaku-Signature"])
        assert not verify_signature(other_secret, body, headers["X-Kyodaku-Signature"])
        assert not verify_signature(secret, body + b" ", headers["X-Kyodaku-Signature"])
    with desk.workspace.session() as s:
        rows = s.scalars(select(DeliveryRow)).all()
        assert all(r.delivered_at is not None for r in rows if r.channel == "webhook")


def test_passwords_sessions_and_api_keys(desk):
    svc = desk.service
    assert svc.login("kumo-staff", "wrong password!") is None and svc.login("nobody", PASSWORD) is None
    actor, token, csrf = svc.login("kumo-staff", PASSWORD)
    assert actor.holder_slugs == ("kumo",) and len(csrf) >= 32
    assert svc.session_actor(token)[0].username == "kumo-staff"
    desk.clock.advance(hours=13)
    assert svc.session_actor(token) is None  # expired
    _, token, _ = svc.login("kumo-staff", PASSWORD)
    svc.logout(token)
    assert svc.session_actor(token) is None
    key_id, key = svc.add_api_key(actor, "ci")
    assert svc.api_key_actor(key).username == "kumo-staff"
    assert svc.api_key_actor(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    svc.revoke_api_key(actor, key_id)
    assert svc.api_key_actor(key) is None
    with pytest.raises(NotFound):
        svc.revoke_api_key(desk.hoshi, key_id)
    # five wrong passwords lock the account for 15 minutes, even against the right one
    for _ in range(5):
        assert svc.login("hoshi-staff", "not the password") is None
    assert svc.login("hoshi-staff", PASSWORD) is None
    desk.clock.advance(minutes=16)
    assert svc.login("hoshi-staff", PASSWORD) is not None
    with desk.workspace.session() as s:
        from kyodaku.desk.models import AccountRow, ApiKeyRow

        assert all(r.password_hash.startswith("$argon2id$") for r in s.scalars(select(AccountRow)))
        assert key not in {r.key_hash for r in s.scalars(select(ApiKeyRow))}


def test_holders_webhooks_cannot_target_this_machine_or_private_networks(desk, receiver):
    from kyodaku.registry.base import RegistryError

    desk.service.allow_private_webhooks = False
    for url in ("http://127.0.0.1:8000/x", "http://localhost/x", "http://10.1.2.3/x", "http://[::1]/x",
                "http://169.254.169.254/latest/meta-data", "ftp://example.org/x"):
        with pytest.raises(RegistryError):
            desk.service.add_webhook(desk.kumo, url)
    # a hook registered while allowed (or a name that now resolves to loopback) is refused at delivery
    url, recv = receiver
    desk.service.allow_private_webhooks = True
    desk.service.add_webhook(desk.kumo, url.replace("127.0.0.1", "localhost"))
    from kyodaku.records.store import Records

    decision = Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0]
    desk.service.file_claim(desk.kumo, work_ids=["w402"], decision_id=decision.id)
    assert deliver_pending(desk.workspace.session, desk.clock()) == {"delivered": 0, "failed": 1}
    assert recv.got == []
    desk.service.add_webhook(desk.operator, url)  # the operator's own systems may be local
