"""Email notifications through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import json

import pytest

from kyodaku.desk.outbox import SmtpSettings, deliver_pending
from kyodaku.records.store import Records

aiosmtpd = pytest.importorskip("aiosmtpd.controller")


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler API
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def test_claim_events_are_emailed_to_the_holders_accounts(desk):
    import socket

    with socket.socket() as probe:  # a free loopback port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        desk.service.smtp = SmtpSettings("127.0.0.1", port, starttls=False, sender="desk@acme.example")
        desk.service.email = True
        d = Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0]
        claim = desk.service.file_claim(desk.kumo, work_ids=["w402"], decision_id=d.id)
        assert deliver_pending(desk.workspace.session, desk.clock(), smtp=desk.service.smtp) == \
            {"delivered": 1, "failed": 0}
    finally:
        controller.stop()
    ((sender, to, content),) = inbox.messages
    assert sender == "desk@acme.example" and to == ["k@example.org"]  # kumo-staff's address
    text = content.decode("utf-8")
    assert "Subject: [kyodaku] claim.filed" in text
    body = text.split("\n\n", 1)[1] if "\n\n" in text else text.split("\r\n\r\n", 1)[1]
    assert json.loads(body)["claim"] == claim.id
