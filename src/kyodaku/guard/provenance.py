"""Signed provenance of released outputs (issue 20, item 4; library part): a cleared
output signed with a C2PA manifest (``c2pa-python``) that says it was created by a
trained algorithm (IPTC digital source type ``trainedAlgorithmicMedia``) and carries a
kyodaku screening assertion (``org.kyodaku.screening``: decision id, verdict, registry
digest, time); :func:`verify_output` reads it back.

Signing takes a PEM certificate chain (signer first) and its PEM private key (ES256).
``signature_valid`` means the manifest's signature and hashes hold for these bytes; a
chain that is in no C2PA trust list is reported (``trusted`` False), not failed.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ASSERTION", "TRAINED", "Verified", "sign_output", "verify_output"]

ASSERTION = "org.kyodaku.screening"
TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp", "mp4": "video/mp4"}
#: a status code that says only that the chain is not in a trust list
_UNTRUSTED = "signingCredential.untrusted"


def _mime(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    return _MIME.get(fmt, fmt if "/" in fmt else f"image/{fmt}")


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


@dataclass(frozen=True)
class Verified:
    signature_valid: bool
    trusted: bool
    assertion: dict[str, Any] | None
    digital_source_type: str | None
    problems: list[str] = field(default_factory=list)


def verify_output(path: str | Path, fmt: str | None = None) -> Verified:
    """What the file's active C2PA manifest says, and whether its signature holds."""
    import c2pa

    p = Path(path)
    data = p.read_bytes()
    try:
        with c2pa.Reader(_mime(fmt or p.suffix), io.BytesIO(data)) as reader:
            report = json.loads(reader.json())
    except Exception as e:  # no manifest, or one that cannot be read
        return Verified(False, False, None, None, [f"no readable C2PA manifest: {e}"])
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
    return Verified(valid, _UNTRUSTED not in codes and valid, assertion, source, problems)
