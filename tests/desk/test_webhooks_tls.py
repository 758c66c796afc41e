"""HTTPS webhooks go to the pinned (checked) address while TLS SNI and the certificate
check use the webhook's name (issue 18, finding 4).  A loopback TLS listener with a
certificate made here for ``hooks.kumo.example``."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from kyodaku.desk.webhook_target import post_pinned

NAME = "hooks.kumo.example"


def _certificate(tmp_path):
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_listener(tmp_path):
    cert, key = _certificate(tmp_path)
    seen: list[tuple[str | None, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append((sni[-1] if sni else None, self.headers["Host"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    sni: list[str | None] = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.sni_callback = lambda sock, name, c: sni.append(name)
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client_ctx = ssl.create_default_context(cafile=str(cert))
    yield server.server_port, seen, client_ctx
    server.shutdown()
    server.server_close()


def test_https_goes_to_the_pinned_address_with_the_name_for_sni_and_certificate(tls_listener):
    port, seen, ctx = tls_listener
    status = post_pinned(f"https://{NAME}:{port}/in", b"{}", {}, allow_private=True, timeout=5,
                         resolver=lambda host, p: ["127.0.0.1"], ssl_context=ctx)
    assert status == 204
    assert seen == [(NAME, f"{NAME}:{port}")]


def test_a_certificate_for_another_name_is_refused(tls_listener):
    port, seen, ctx = tls_listener
    with pytest.raises(ssl.SSLCertVerificationError):
        post_pinned(f"https://other.kumo.example:{port}/in", b"{}", {}, allow_private=True, timeout=5,
                    resolver=lambda host, p: ["127.0.0.1"], ssl_context=ctx)
    assert seen == []
