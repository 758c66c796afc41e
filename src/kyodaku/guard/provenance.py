"""Signed provenance of released outputs (issue 20, item 4; library part): a cleared
output signed with a C2PA manifest (``c2pa-python``) that says it was created by a
trained algorithm (IPTC digital source type ``trainedAlgorithmicMedia``) and carries a
kyodaku screening assertion (``org.kyodaku.screening``: decision id, verdict, registry
digest, time); :func:`verify_output` reads it back.

Signing takes a PEM certificate chain (signer first) and its PEM private key (ES256):
:meth:`SigningKey.load` reads and checks them (``KYODAKU_C2PA_CERT`` / ``KYODAKU_C2PA_KEY``;
server mode checks them at startup), :func:`sign_screened` signs a *cleared* screening's
output (a blocked, review or error one is never signed: :class:`NotSignable`).

``signature_valid`` means the manifest's signature and hashes hold for these bytes.
``trusted`` is checked only against the trust anchors given (``KYODAKU_C2PA_TRUST_ANCHORS``,
PEM root certificates): without anchors ``trust_checked`` is False and ``trusted`` False.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

__all__ = ["ASSERTION", "SIGNABLE", "TRAINED", "NotSignable", "SigningKey", "SigningKeyError", "Verified",
           "load_trust_anchors", "media_type", "sign_output", "sign_screened", "verify_output"]

ASSERTION = "org.kyodaku.screening"
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp", "mp4": "video/mp4",
         "gif": "image/gif", "tif": "image/tiff", "tiff": "image/tiff", "mov": "video/quicktime"}
#: the media types of the sniffed formats (kyodaku.media.sniff) a manifest can be embedded in
SIGNABLE = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif",
            "TIFF": "image/tiff", "ISOBMFF": "video/mp4"}
#: a status code that says only that the chain is not in a trust list
_UNTRUSTED = "signingCredential.untrusted"


def _mime(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    return _MIME.get(fmt, fmt if "/" in fmt else f"image/{fmt}")


class SigningKeyError(ValueError):
    """A signing certificate or key that is missing or does not load (the message says which)."""


class NotSignable(ValueError):
    """An output that is not signed: its verdict is not ``cleared``, or its format cannot
    carry a C2PA manifest."""


def media_type(data: bytes) -> str | None:
    """The media type of ``data`` when a C2PA manifest can be embedded in it, else None."""
    from kyodaku.media.sniff import SNIFF_BYTES, sniff_format

    return SIGNABLE.get(sniff_format(data[:SNIFF_BYTES]) or "")


def _read(path: Path, setting: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise SigningKeyError(f"{setting}={path}: cannot be read ({e.strerror or e})") from None


def _certificates(data: bytes, where: str) -> list[Any]:
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as e:
        raise SigningKeyError(f"{where}: no PEM certificates ({e})") from None
    return certs


@dataclass(frozen=True)
class SigningKey:
    """The operator's signing chain (PEM, signer first) and ES256 private key (PEM)."""

    cert_chain_pem: bytes = field(repr=False)
    private_key_pem: bytes = field(repr=False)

    @classmethod
    def load(cls, cert: str | Path, key: str | Path) -> SigningKey:
        """Read and check the chain and key (:class:`SigningKeyError` says what is wrong):
        PEM certificates, an unencrypted P-256 key whose public half is the first
        certificate's, a signer certificate valid now, and a trial signature."""
        from datetime import UTC, datetime

        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        chain, key_pem = _read(Path(cert), "KYODAKU_C2PA_CERT"), _read(Path(key), "KYODAKU_C2PA_KEY")
        certs = _certificates(chain, f"KYODAKU_C2PA_CERT={cert}")
        try:
            private = serialization.load_pem_private_key(key_pem, password=None)
        except (ValueError, TypeError) as e:
            raise SigningKeyError(f"KYODAKU_C2PA_KEY={key}: not an unencrypted PEM private key ({e})") from None
        if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
            raise SigningKeyError(f"KYODAKU_C2PA_KEY={key}: not a P-256 (ES256) key")
        pub = serialization.PublicFormat.SubjectPublicKeyInfo
        if (certs[0].public_key().public_bytes(serialization.Encoding.DER, pub)
                != private.public_key().public_bytes(serialization.Encoding.DER, pub)):
            raise SigningKeyError(f"KYODAKU_C2PA_KEY={key} is not the key of the first certificate in "
                                  f"KYODAKU_C2PA_CERT={cert}")
        now = datetime.now(UTC)
        if not certs[0].not_valid_before_utc <= now <= certs[0].not_valid_after_utc:
            raise SigningKeyError(f"KYODAKU_C2PA_CERT={cert}: the signer certificate is not valid now "
                                  f"({certs[0].not_valid_before_utc:%Y-%m-%d} to "
                                  f"{certs[0].not_valid_after_utc:%Y-%m-%d})")
        signing = cls(chain, key_pem)
        try:
            signing.sign(_TRIAL_PNG, "png", {"trial": True})
        except Exception as e:  # noqa: BLE001 - c2pa raises its own errors (e.g. a self-signed signer): all mean 'does not load'
            raise SigningKeyError(f"KYODAKU_C2PA_CERT={cert}: c2pa does not sign with this chain ({e})") from None
        return signing

    def sign(self, src: bytes | str | Path, fmt: str, assertion: dict[str, Any], title: str = "output") -> bytes:
        return sign_output(src, fmt, assertion, cert_chain_pem=self.cert_chain_pem,
                           private_key_pem=self.private_key_pem, title=title)


def load_trust_anchors(path: str | Path) -> bytes:
    """The PEM root certificates of ``KYODAKU_C2PA_TRUST_ANCHORS`` (checked to parse)."""
    data = _read(Path(path), "KYODAKU_C2PA_TRUST_ANCHORS")
    _certificates(data, f"KYODAKU_C2PA_TRUST_ANCHORS={path}")
    return data


def sign_screened(result: Any, data: bytes, signing: SigningKey, title: str = "output") -> tuple[bytes, str]:
    """``data`` (the screened output's bytes) signed with the screening assertion of
    ``result`` (a :class:`~kyodaku.guard.screen.ScreenResult`): decision id, verdict,
    registry digest, time; and its media type.  Only a ``cleared`` one is signed."""
    if result.verdict != "cleared":
        raise NotSignable(f"decision {result.decision_id} is {result.verdict}: only a cleared output is signed")
    mime = media_type(data)
    if mime is None:
        raise NotSignable("this format cannot carry a C2PA manifest (PNG, JPEG, WebP, GIF, TIFF and MP4 can)")
    at = result.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if result.at is not None else None
    assertion = {"decision_id": result.decision_id, "verdict": result.verdict,
                 "registry_digest": result.registry_digest, "at": at}
    return signing.sign(data, mime, assertion, title=title), mime


def sign_output(src: bytes | str | Path, fmt: str, assertion: dict[str, Any], *, cert_chain_pem: bytes,
                private_key_pem: bytes, title: str = "output") -> bytes:
    """The output's bytes with a signed C2PA manifest (see the module)."""
    import c2pa

    from kyodaku import __version__

    data = src if isinstance(src, bytes) else Path(src).read_bytes()
    manifest = {
        "claim_generator_info": [{"name": "kyodaku", "version": str(__version__)}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": TRAINED}]}},
            {"label": ASSERTION, "data": dict(assertion)},
        ],
    }
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, cert_chain_pem,
                                                        private_key_pem, None))
    out = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        builder.sign(signer, _mime(fmt), io.BytesIO(data), out)
    return out.getvalue()


def _trial_png() -> bytes:
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x00\x00\x00\x00")
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


_TRIAL_PNG = _trial_png()


@dataclass(frozen=True)
class Verified:
    signature_valid: bool
    trusted: bool
    assertion: dict[str, Any] | None
    digital_source_type: str | None
    problems: list[str] = field(default_factory=list)
    #: was trust checked (trust anchors given)?
    trust_checked: bool = False


def verify_output(path: str | Path, fmt: str | None = None, trust_anchors: bytes | None = None) -> Verified:
    """What the file's active C2PA manifest says, whether its signature holds, and (with
    ``trust_anchors``, PEM root certificates) whether its signer chains to one of them."""
    import c2pa

    p = Path(path)
    data = p.read_bytes()
    context = None
    if trust_anchors:
        context = c2pa.Context.from_dict({"verify": {"verify_trust": True},
                                          "trust": {"trust_anchors": trust_anchors.decode("ascii")}})
    try:
        mime = media_type(data) or _mime(fmt or p.suffix)
        reader = (c2pa.Reader(mime, io.BytesIO(data), context=context) if context is not None
                  else c2pa.Reader(mime, io.BytesIO(data)))
        with reader:
            report = json.loads(reader.json())
    except Exception as e:  # noqa: BLE001 - no manifest, or one c2pa cannot read: either way not verified
        return Verified(False, False, None, None, [f"no readable C2PA manifest: {e}"], bool(trust_anchors))
    codes = [s.get("code", "") for s in report.get("validation_status") or []]
    problems = [c for c in codes if c != _UNTRUSTED]
    manifest = (report.get("manifests") or {}).get(report.get("active_manifest") or "", {})
    assertion, source = None, None
    for a in manifest.get("assertions") or []:
        if a.get("label") == ASSERTION:
            assertion = a.get("data")
        elif str(a.get("label", "")).startswith("c2pa.actions"):
            for act in (a.get("data") or {}).get("actions") or []:
                source = act.get("digitalSourceType") or source
    valid = report.get("validation_state") in ("Valid", "Trusted") and not problems
    trusted = bool(trust_anchors) and valid and report.get("validation_state") == "Trusted"
    return Verified(valid, trusted, assertion, source, problems, bool(trust_anchors))
