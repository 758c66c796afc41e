"""C2PA training-and-data-mining assertions, read with c2pa-python.

Both the CAWG assertion (``cawg.training-mining``, CAWG TDM assertion 1.x) and
the legacy C2PA 1.x one (``c2pa.training-mining``) are read from the *active*
manifest. Their data look like::

    {"entries": {"cawg.ai_training": {"use": "notAllowed",
                                       "constraint_info": "..."}, ...}}

(CAWG 1.0 omitted the ``entries`` map by mistake, so a flat map of entries is
accepted too.) ``use`` is ``allowed`` / ``notAllowed`` / ``constrained``; the
CAWG spec says ``constrained`` "shall be treated as equivalent to notAllowed"
without further information, so both are ``reserved`` here.

Validation: c2pa-python reports ``validation_state`` ("Invalid", "Valid" or
"Trusted") and ``validation_status`` (failure codes). An ``Invalid`` store
(e.g. ``assertion.dataHash.mismatch`` after the pixels were edited) gives an
``unreadable`` signal naming the failure codes; the reservations it claims are
still reported (reserving is the safe side), its ``allowed`` entries are not.
A signer that is merely not on a trust list (``signingCredential.untrusted``,
state "Valid") is *not* a failure here: anyone may reserve their work, and the
detail says the signer was untrusted.

Any exception from the library becomes an ``unreadable`` signal; nothing
propagates and nothing becomes ``allowed``.
"""

from __future__ import annotations

import io
import json
import mmap
import os
from typing import Any

from kyodaku.signals.base import Signal, Status, Use

TDM_LABELS = ("cawg.training-mining", "c2pa.training-mining")

_ENTRY_USES: dict[str, Use] = {
    "ai_training": "training",
    "ai_generative_training": "generative_training",
    "data_mining": "data_mining",
    "ai_inference": "inference",
}
_USE_STATUS: dict[str, Status] = {"notallowed": "reserved", "constrained": "reserved", "allowed": "allowed"}
_TRUST_ONLY_CODES = frozenset({"signingCredential.untrusted"})

#: An embedded manifest store is a JUMBF superbox ("jumb") labelled "c2pa".
_MARKERS = (b"jumb", b"c2pa")


def has_c2pa_marker(data: bytes | bytearray | mmap.mmap) -> bool:
    """Cheap pre-check (~0.1 ms/MB): an embedded store has the bytes ``jumb`` and ``c2pa``."""
    return all(data.find(m) != -1 for m in _MARKERS)


def _unreadable(detail: str) -> list[Signal]:
    return [Signal("c2pa", "all", "unreadable", detail)]


def _base_label(label: str) -> str:
    # assertion labels may carry an instance suffix: "cawg.training-mining__1"
    return label.split("__", 1)[0]


def signals_from_store(store: dict[str, Any]) -> list[Signal]:
    """Signals from a manifest-store dict (``json.loads(Reader.json())``)."""
    active_label = store.get("active_manifest")
    manifests = store.get("manifests") or {}
    if not active_label or active_label not in manifests:
        return _unreadable("C2PA manifest store has no active manifest")
    manifest = manifests[active_label]

    state = store.get("validation_state")
    statuses = store.get("validation_status") or []
    codes = [str(s.get("code")) for s in statuses if isinstance(s, dict)]
    failures = [c for c in codes if c not in _TRUST_ONLY_CODES]
    invalid = state == "Invalid" or (state is None and bool(failures))
    untrusted = "signingCredential.untrusted" in codes
    signer = (manifest.get("signature_info") or {}).get("common_name") or "?"

    out: list[Signal] = []
    if invalid:
        out.append(Signal("c2pa", "all", "unreadable",
                          f"C2PA manifest failed validation ({state or 'no state'}): "
                          + ", ".join(failures or codes)))
    for assertion in manifest.get("assertions") or []:
        label = str(assertion.get("label", ""))
        if _base_label(label) not in TDM_LABELS:
            continue
        data = assertion.get("data")
        if not isinstance(data, dict):
            out.append(Signal("c2pa", "all", "unreadable", f"{label}: data is not a map"))
            continue
        entries = data.get("entries", data)
        if not isinstance(entries, dict) or not entries:
            out.append(Signal("c2pa", "all", "unreadable", f"{label}: no entries"))
            continue
        for key, entry in entries.items():
            use = _ENTRY_USES.get(str(key).split(".", 1)[-1], "all")
            raw = entry.get("use") if isinstance(entry, dict) else None
            status = _USE_STATUS.get(str(raw).lower()) if raw is not None else None
            if status is None:
                out.append(Signal("c2pa", "all", "unreadable", f"{label}: {key}: use={raw!r}"))
                continue
            if invalid and status != "reserved":
                continue  # an unvalidated manifest may reserve, never allow
            info = entry.get("constraint_info") or entry.get("constraints_info")
            detail = f"{label}: {key}={raw} (signer {signer}"
            detail += ", untrusted)" if untrusted else ")"
            if info:
                detail += f"; constraints: {info}"
            if invalid:
                detail += "; manifest failed validation"
            out.append(Signal("c2pa", use, status, detail))
    return out


def _c2pa() -> Any:  # the c2pa module: c2pa-python ships no type information
    """Import c2pa-python lazily: loading the native library costs ~45 ms."""
    import c2pa

    return c2pa


def read_c2pa(source: str | os.PathLike[str] | bytes | bytearray | memoryview,
              *, mime: str | None = None) -> list[Signal]:
    """C2PA signals of a file (path) or its bytes. Never raises."""
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source) if isinstance(source, memoryview) else source
            if not has_c2pa_marker(data):
                return []
            c2pa = _c2pa()
            reader = c2pa.Reader.try_create(mime or None, io.BytesIO(data))
        else:
            path = os.fspath(source)
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size == 0:
                    return []
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                    if not has_c2pa_marker(mm):
                        return []
                fh.seek(0)
                c2pa = _c2pa()
                reader = c2pa.Reader.try_create(mime or None, fh)
                if reader is None:
                    return []
                with reader:
                    store = json.loads(reader.json())
            return signals_from_store(store)
        if reader is None:
            return []
        with reader:
            store = json.loads(reader.json())
        return signals_from_store(store)
    except Exception as exc:  # noqa: BLE001 - readers never raise
        name = type(exc).__name__.lstrip("_")
        if "NotSupported" in name:
            # a format c2pa cannot read: "c2pa" bytes were a coincidence or an
            # unsupported container; we cannot tell, so review.
            return _unreadable(f"C2PA: unsupported format ({exc})")
        return _unreadable(f"C2PA manifest could not be read: {name}: {exc}")
