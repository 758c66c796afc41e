"""C2PA manifests written with c2pa-python's Builder, signed with a test
certificate chain (ES256 CA + leaf with the emailProtection EKU) made here."""

from __future__ import annotations

import datetime
import io
import json

import pytest

c2pa = pytest.importorskip("c2pa")
pytest.importorskip("cryptography")

from cryptography import x509  # noqa: E402 - after the importorskip
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402 - after the importorskip
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402 - after the importorskip
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402 - after the importorskip
from PIL import Image  # noqa: E402 - after the importorskip

from kyodaku.signals import read_signals  # noqa: E402 - after the importorskip
from kyodaku.signals.c2pa_reader import read_c2pa, signals_from_store  # noqa: E402 - after the importorskip


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kyodaku tests")])


def _key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                         crl_sign=ca, encipher_only=False, decipher_only=False)


@pytest.fixture(scope="module")
def signer_pem() -> tuple[bytes, bytes]:
    """(certificate chain PEM leaf-first, leaf private key PEM)."""
    now = datetime.datetime.now(datetime.UTC)
    days = datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("kyodaku test CA")).issuer_name(_name("kyodaku test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - days).not_valid_after(now + 30 * days)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(_key_usage(sign=False, ca=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(_name("kyodaku test signer")).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - days).not_valid_after(now + 30 * days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign=True, ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    key = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return chain, key


def _jpeg(color=(200, 30, 30), size=(96, 96)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _sign(signer_pem, label: str, entries: dict) -> bytes:
    chain, key = signer_pem
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, None))
    manifest = {
        "claim_generator_info": [{"name": "kyodaku-tests", "version": "0"}],
        "title": "test.jpg",
        "assertions": [
            # c2pa-rs requires the first action to be c2pa.created/opened
            {"label": "c2pa.actions", "data": {"actions": [{
                "action": "c2pa.created",
                "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}},
            {"label": label, "data": {"entries": entries}},
        ],
    }
    out = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        builder.sign(signer, "image/jpeg", io.BytesIO(_jpeg()), out)
    return out.getvalue()


def test_cawg_not_allowed_reserves(signer_pem):
    data = _sign(signer_pem, "cawg.training-mining", {"cawg.ai_training": {"use": "notAllowed"}})
    report = read_signals(data, mime="image/jpeg")
    sig = report.reservation_for("training")
    assert sig is not None and sig.source == "c2pa" and sig.use == "training"
    assert "cawg.ai_training=notAllowed" in sig.detail
    assert report.reservation_for("generation") is None
    assert report.unreadable() == []


def test_legacy_c2pa_constrained_reserves(signer_pem):
    data = _sign(signer_pem, "c2pa.training-mining",
                 {"c2pa.ai_generative_training": {"use": "constrained", "constraint_info": "ask me"}})
    report = read_signals(data, mime="image/jpeg")
    sig = report.reservation_for("training")
    assert sig is not None and sig.use == "generative_training" and sig.status == "reserved"
    assert "ask me" in sig.detail
    assert report.unreadable() == []


def test_allowed_is_allowed_and_inference_reserves_generation(signer_pem, tmp_path):
    data = _sign(signer_pem, "cawg.training-mining", {
        "cawg.ai_training": {"use": "allowed"},
        "cawg.ai_generative_training": {"use": "allowed"},
        "cawg.data_mining": {"use": "allowed"},
        "cawg.ai_inference": {"use": "notAllowed"},
    })
    path = tmp_path / "signed.jpg"
    path.write_bytes(data)
    report = read_signals(path)  # path form, mime detected by the library
    assert report.reservation_for("training") is None
    assert {s.use for s in report.signals if s.status == "allowed"} == {
        "training", "generative_training", "data_mining"}
    gen = report.reservation_for("generation")
    assert gen is not None and gen.use == "inference"


def test_tampered_pixels_fail_validation(signer_pem):
    data = bytearray(_sign(signer_pem, "cawg.training-mining", {"cawg.ai_training": {"use": "allowed"}}))
    sos = data.rfind(b"\xff\xda")  # start of the main image's scan, after the manifest
    assert sos > data.find(b"c2pa") > 0
    data[sos + 40] ^= 0x01
    report = read_signals(bytes(data), mime="image/jpeg")
    bad = report.unreadable()
    assert len(bad) == 1 and "dataHash.mismatch" in bad[0].detail
    assert [s for s in report.signals if s.status == "allowed"] == []  # never allowed from an invalid store


def test_tampered_reservation_still_reserves(signer_pem):
    data = bytearray(_sign(signer_pem, "cawg.training-mining", {"cawg.ai_training": {"use": "notAllowed"}}))
    data[data.rfind(b"\xff\xda") + 40] ^= 0x01
    report = read_signals(bytes(data), mime="image/jpeg")
    assert report.unreadable() and report.reservation_for("training") is not None


def test_no_manifest_no_signals(tmp_path):
    assert read_signals(_jpeg(), mime="image/jpeg").signals == []
    p = tmp_path / "plain.jpg"
    p.write_bytes(_jpeg())
    assert read_signals(p).signals == []
    assert read_c2pa(b"") == []


def test_corrupt_store_is_unreadable_not_exception(signer_pem):
    data = _sign(signer_pem, "cawg.training-mining", {"cawg.ai_training": {"use": "allowed"}})
    i = data.find(b"jumb")
    broken = data[:i + 200] + b"\xff" * 50 + data[i + 250:]  # garbage inside the JUMBF boxes
    sigs = read_c2pa(broken, mime="image/jpeg")
    assert [s.status for s in sigs] == ["unreadable"]
    # an assertion edited in place: hashed-URI mismatch, store Invalid, nothing allowed
    edited = data.replace(b"allowed", b"allowex")
    sigs = read_c2pa(edited, mime="image/jpeg")
    assert sigs and all(s.status != "allowed" for s in sigs)
    assert any("hashedURI.mismatch" in s.detail for s in sigs if s.status == "unreadable")
    # unknown format that merely contains the marker bytes: review, not an exception
    sigs = read_c2pa(b"jumb c2pa " * 10)
    assert [s.status for s in sigs] == ["unreadable"]


def test_store_json_variants():
    store = {"active_manifest": "m", "manifests": {"m": {"assertions": [
        {"label": "cawg.training-mining__1", "data": {"cawg.data_mining": {"use": "notAllowed"}}},
        {"label": "cawg.training-mining", "data": {"entries": {"cawg.ai_training": {"use": "maybe"}}}},
    ]}}, "validation_state": "Valid"}
    sigs = signals_from_store(store)
    assert [(s.use, s.status) for s in sigs] == [("data_mining", "reserved"), ("all", "unreadable")]
    assert signals_from_store({"manifests": {}})[0].status == "unreadable"
    json.dumps([s.__dict__ for s in sigs])
