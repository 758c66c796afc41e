"""Webhooks cannot be turned against this machine or its network (issue 18, finding 4):
odd host spellings are refused at registration, delivery connects to the address that was
checked (never resolved again), and redirects are never followed.

All traffic here goes to listeners on 127.0.0.1; a refused delivery is refused before any
connection is made.
"""

from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from kyodaku.desk.models import DeliveryRow
from kyodaku.desk.outbox import deliver_pending
from kyodaku.desk.webhook_target import address_refusal, check_webhook_target
from kyodaku.records.store import Records
from kyodaku.registry.base import RegistryError

ODD_FORMS = [
    "http://127.1/x", "http://2130706433/x", "http://0x7f000001/x", "http://0177.0.0.1/x",
    "http://127.000.000.001/x", "http://127.0.0.1./x", "http://0x7f.1/x", "http://10.1/x",
    "http://example.123/x", "http://allowed.example.org@127.0.0.1/x", "http://user:pw@example.org/x",
    "http://user@example.org/x", "http://[::1%25lo]/x", "http://exa mple.org/x", "http://example.org\\@127.0.0.1/",
    "http://ex_ample.org/x", "http://example..org/x", "http://example.org:0/x", "http://example.org:99999/x",
    "http://[::1/x", "http://bücher.example/x",
]
PRIVATE_FORMS = [
    "http://localhost./x", "http://LOCALHOST/x", "http://foo.localhost/x", "http://printer.local/x",
    "http://intranet/x", "http://[::ffff:127.0.0.1]/x", "http://[::ffff:7f00:1]/x", "http://[::127.0.0.1]/x",
    "http://[fe80::1]/x", "http://[fc00::1]/x", "http://[2002:7f00:1::]/x", "http://[64:ff9b::a00:1]/x",
    "http://[::]/x", "http://0.0.0.0/x", "http://100.64.0.1/x", "http://192.168.1.1/x", "http://172.16.0.1/x",
    "http://224.0.0.1/x", "http://255.255.255.255/x", "http://198.18.0.1/x", "http://169.254.169.254/x",
]


@pytest.mark.parametrize("url", ODD_FORMS)
def test_odd_host_spellings_are_refused_even_where_private_is_allowed(url):
    for allow in (False, True):
        with pytest.raises(RegistryError, match="webhook"):
            check_webhook_target(url, allow_private=allow)


@pytest.mark.parametrize("url", PRIVATE_FORMS)
def test_private_targets_are_refused(url):
    with pytest.raises(RegistryError, match="private network|fully qualified|refused"):
        check_webhook_target(url)
    check_webhook_target(url, allow_private=True)  # tests and closed setups


def test_registration_refuses_them_for_holders(desk):
    for allow in (False, True):
        desk.service.allow_private_webhooks = allow
        for url in ODD_FORMS + ([] if allow else PRIVATE_FORMS):
            with pytest.raises(RegistryError):
                desk.service.add_webhook(desk.kumo, url)
                pytest.fail(f"registered {url} (allow_private={allow})")
    with desk.workspace.session() as s:
        from kyodaku.desk.models import WebhookRow

        assert s.scalars(select(WebhookRow)).all() == []


def test_the_reason_names_the_form():
    with pytest.raises(RegistryError, match=r"numeric form \(read as 127\.0\.0\.1\)"):
        check_webhook_target("http://2130706433/")
    with pytest.raises(RegistryError, match="user name or password"):
        check_webhook_target("https://hooks.example.org@127.0.0.1/")
    with pytest.raises(RegistryError, match="embeds the IPv4 address 127.0.0.1"):
        check_webhook_target("http://[::ffff:127.0.0.1]/")
    # a public name or address in canonical form passes (nothing is resolved at registration)
    check_webhook_target("https://hooks.example.org/kyodaku?x=1")
    check_webhook_target("https://93.184.216.34:8443/hook")
    check_webhook_target("https://[2606:4700:4700::1111]/hook")


@pytest.mark.parametrize("addr", [
    "127.0.0.1", "127.255.0.9", "10.0.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1",
    "100.127.255.254", "0.0.0.0", "0.1.2.3", "224.0.0.251", "239.1.1.1", "240.0.0.1", "255.255.255.255",
    "192.0.0.8", "192.0.2.1", "198.51.100.7", "203.0.113.9", "198.19.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "::ffff:10.0.0.1",
    "::ffff:8.8.8.8", "::10.0.0.1", "64:ff9b::7f00:1", "2002:a00:1::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "2001:db8::1", "100::1",
])
def test_refused_addresses(addr):
    assert address_refusal(ipaddress.ip_address(addr)) is not None


@pytest.mark.parametrize("addr", ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111",
                                  "2a00:1450:4001:80b::200e"])
def test_public_addresses(addr):
    assert address_refusal(ipaddress.ip_address(addr)) is None


class _Hits:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []


def _listener(status: int, location: str | None = None):
    hits = _Hits()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hits.requests.append(dict(self.headers))
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, hits


@pytest.fixture
def listeners():
    made = []

    def make(status: int, location: str | None = None):
        server, hits = _listener(status, location)
        made.append(server)
        return server.server_port, hits

    yield make
    for s in made:
        s.shutdown()
        s.server_close()


def _file_kumo_claim(desk) -> None:
    decision = Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0]
    desk.service.file_claim(desk.kumo, work_ids=["w402"], decision_id=decision.id)


def _last_errors(desk) -> list[str]:
    with desk.workspace.session() as s:
        return [d.last_error or "" for d in s.scalars(select(DeliveryRow).where(DeliveryRow.channel == "webhook"))]


def test_a_redirect_is_not_followed_even_where_private_is_allowed(desk, listeners):
    inner_port, inner = listeners(204)
    outer_port, outer = listeners(302, f"http://127.0.0.1:{inner_port}/internal")
    desk.service.allow_private_webhooks = True
    desk.service.add_webhook(desk.kumo, f"http://127.0.0.1:{outer_port}/hook")
    _file_kumo_claim(desk)
    assert deliver_pending(desk.workspace.session, desk.clock(), allow_private=True) == {"delivered": 0, "failed": 1}
    assert len(outer.requests) == 1 and inner.requests == []
    (error,) = _last_errors(desk)
    assert "302" in error and "redirects are not followed" in error and f":{inner_port}/internal" in error
    # retried later: still refused, still not followed
    desk.clock.advance(hours=1)
    assert deliver_pending(desk.workspace.session, desk.clock(), allow_private=True)["failed"] == 1
    assert inner.requests == []


def test_delivery_connects_to_the_resolved_address_with_the_name_as_host(desk, listeners):
    port, hits = listeners(204)
    asked: list[tuple[str, int]] = []

    def resolver(host: str, p: int) -> list[str]:
        asked.append((host, p))
        return ["127.0.0.1"]

    desk.service.allow_private_webhooks = True
    desk.service.add_webhook(desk.kumo, f"http://hooks.kumo.example:{port}/in?k=1")
    _file_kumo_claim(desk)
    assert deliver_pending(desk.workspace.session, desk.clock(), allow_private=True,
                           resolver=resolver) == {"delivered": 1, "failed": 0}
    assert asked == [("hooks.kumo.example", port)]  # resolved once
    (headers,) = hits.requests
    assert headers["Host"] == f"hooks.kumo.example:{port}"


@pytest.mark.parametrize("answer", [["127.0.0.1"], ["10.0.0.7"], ["93.184.216.34", "127.0.0.1"],
                                    ["::ffff:127.0.0.1"], ["not an address"], []])
def test_a_name_resolving_to_a_refused_address_is_not_connected_to(desk, listeners, answer):
    port, hits = listeners(204)
    desk.service.allow_private_webhooks = False
    desk.service.add_webhook(desk.kumo, f"http://hooks.kumo.example:{port}/in")
    _file_kumo_claim(desk)
    assert deliver_pending(desk.workspace.session, desk.clock(),
                           resolver=lambda host, p: list(answer)) == {"delivered": 0, "failed": 1}
    assert hits.requests == []
    (error,) = _last_errors(desk)
    assert "hooks.kumo.example" in error and ("refused address" in error or "resolve" in error
                                              or "no address" in error)


def test_odd_forms_stored_before_are_refused_at_delivery(desk, listeners):
    port, hits = listeners(204)
    from kyodaku.desk.models import WebhookRow

    with desk.workspace.session() as s:  # a row written before registration checked the form
        s.add(WebhookRow(holder_id=next(iter(desk.kumo.holder_ids)), url=f"http://127.1:{port}/x", secret="s"))
    _file_kumo_claim(desk)
    assert deliver_pending(desk.workspace.session, desk.clock(), allow_private=True)["failed"] == 1
    assert hits.requests == []
    assert "numeric form" in _last_errors(desk)[0]
