"""Tamper-evident audit log: every scan and verdict, hash-chained and Ed25519-signed.

``AuditLog.for_workspace(ws).append_many("verdict", [...])`` to log; ``verify(path)`` (or
``kyodaku audit verify``) to check it.
"""

from kyodaku.audit.keys import (
    AuditKeyError,
    fingerprint,
    load_or_create_signing_key,
    load_public_key,
)
from kyodaku.audit.log import AuditLog, Problem, VerifyReport, read_entries, verify

__all__ = [
    "AuditKeyError",
    "AuditLog",
    "Problem",
    "VerifyReport",
    "fingerprint",
    "load_or_create_signing_key",
    "load_public_key",
    "read_entries",
    "verify",
]
