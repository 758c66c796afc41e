"""The workspace's Ed25519 audit signing key.

``HOME/keys/audit-ed25519.pem`` holds the private key (PKCS8 PEM, unencrypted, mode 0600),
``HOME/keys/audit-ed25519.pub.pem`` the public key (SubjectPublicKeyInfo PEM) that an
auditor can be given on its own.  Both are created on first use; creation is atomic and
safe against concurrent first users (the key is written to a temporary file and hard-linked
into place, so a process that loses the race simply loads the winner's key).
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "AuditKeyError",
    "fingerprint",
    "key_paths",
    "load_or_create_signing_key",
    "load_public_key",
    "public_pem",
    "sign",
    "verify_signature",
    "workspace_public_key",
]

KEYS_DIR = "keys"
PRIVATE_KEY_FILE = "audit-ed25519.pem"
PUBLIC_KEY_FILE = "audit-ed25519.pub.pem"


class AuditKeyError(RuntimeError):
    """The audit key is missing, unreadable or not an Ed25519 key."""


def key_paths(home: str | Path) -> tuple[Path, Path]:
    """(private key path, public key path) of the workspace at ``home``."""
    folder = Path(home) / KEYS_DIR
    return folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE


def _create_exclusive(path: Path, data: bytes, mode: int) -> bool:
    """Write ``data`` to ``path`` atomically unless it exists; True when this call created it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # atomic, and fails when the file exists (unlike rename)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)


def _load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise AuditKeyError(f"cannot read the audit key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"{path} is not an Ed25519 private key")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_or_create_signing_key(home: str | Path) -> Ed25519PrivateKey:
    """The workspace's signing key, generated (and its public half published) on first use."""
    private_path, public_path = key_paths(home)
    if not private_path.exists():
        private_path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(private_path.parent, 0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _create_exclusive(private_path, pem, 0o600)
    key = _load_private(private_path)
    if not public_path.exists():
        _create_exclusive(public_path, public_pem(key.public_key()), 0o644)
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (a private key PEM is accepted too)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"cannot read the public key {path}: {exc.strerror or exc}") from exc
    try:
        if b"PRIVATE KEY" in data:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise AuditKeyError(f"{path} is not a PEM key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError(f"{path} is not an Ed25519 key")
    return key


def workspace_public_key(home: str | Path) -> Ed25519PublicKey:
    """The public key of the workspace at ``home`` (from the private key when present); never creates one."""
    private_path, public_path = key_paths(home)
    if private_path.exists():
        return _load_private(private_path).public_key()
    if public_path.exists():
        return load_public_key(public_path)
    raise AuditKeyError(f"no audit key in {private_path.parent} (nothing has been logged yet?)")


def fingerprint(key: Ed25519PublicKey) -> str:
    """``SHA256:<base64>`` of the raw 32-byte public key (the form ssh-keygen -l prints)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode("ascii")


def verify_signature(key: Ed25519PublicKey, signature_b64: object, message: bytes) -> bool:
    if not isinstance(signature_b64, str):
        return False
    try:
        key.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True
