"""C2PA: sign a cleared output with a certificate made here, verify it, tamper one byte,
verification fails."""

from __future__ import annotations

import datetime as dt
import io

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from kyodaku.guard.provenance import TRAINED, sign_output, verify_output


def _usage(sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=sign_certs, crl_sign=sign_certs,
                         encipher_only=False, decipher_only=False)


def _chain() -> tuple[bytes, bytes]:
    """An ES256 root and signer: c2pa wants a CA-issued leaf (not self-signed) with
    digitalSignature and an EKU such as emailProtection."""
    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kyodaku test")])

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("root")).issuer_name(name("root"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(_usage(True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(name("signer")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return (leaf.public_bytes(pem) + ca.public_bytes(pem),
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def test_sign_verify_and_one_tampered_byte_fails(tmp_path) -> None:
    chain, key = _chain()
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(buf, "PNG")
    assertion = {"decision_id": 7, "verdict": "cleared", "registry_digest": "ab" * 32, "at": "2026-12-04T16:00:00Z"}
    signed = sign_output(buf.getvalue(), "png", assertion, cert_chain_pem=chain, private_key_pem=key)
    out = tmp_path / "out.png"
    out.write_bytes(signed)
    ok = verify_output(out)
    assert ok.signature_valid and not ok.trusted, ok.problems
    assert ok.assertion == assertion and ok.digital_source_type == TRAINED
    bad = bytearray(signed)
    bad[len(bad) // 2] ^= 1
    out.write_bytes(bytes(bad))
    tampered = verify_output(out)
    assert not tampered.signature_valid and tampered.problems
    plain = tmp_path / "plain.png"
    plain.write_bytes(buf.getvalue())
    assert not verify_output(plain).signature_valid


def test_kyodaku_verify_checks_the_signature_and_the_recorded_decision(workspace, tmp_path) -> None:
    from typer.testing import CliRunner

    from kyodaku.cli.main import app
    from kyodaku.guard.screen import Guard

    decision = Guard(workspace, "acme-video-ai").screen_prompt("a quiet lake at dawn")
    assert decision.verdict == "cleared"
    chain, key = _chain()
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(buf, "PNG")
    env = {"KYODAKU_HOME": None, "KYODAKU_DATABASE_URL": workspace.database_url, "KYODAKU_MODE": None,
           "COLUMNS": "200"}
    run = CliRunner()
    for decision_id, verdict, code in ((decision.decision_id, "cleared", 0), (decision.decision_id, "blocked", 1),
                                       (10**6, "cleared", 1)):
        out = tmp_path / f"{decision_id}-{verdict}.png"
        out.write_bytes(sign_output(buf.getvalue(), "png", {"decision_id": decision_id, "verdict": verdict},
                                    cert_chain_pem=chain, private_key_pem=key))
        result = run.invoke(app, ["verify", str(out), "--home", str(workspace.home)], env=env)
        assert result.exit_code == code, result.output
