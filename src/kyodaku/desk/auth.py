"""Accounts, passwords, browser sessions and API keys of the desk.

- Passwords: argon2id (``argon2-cffi``'s defaults, rehashed when those change).
- Sessions: a random token in an HttpOnly cookie; the database keeps only its SHA-256
  and the session's CSRF token (forms echo it back; see :mod:`kyodaku.service.pages`).
- API keys: ``kyd_<prefix>_<secret>`` shown once; the database keeps the prefix (to find
  the row) and the SHA-256 of the whole key (keys are 256-bit random, so a fast hash is
  enough); revocable.

An :class:`Actor` is who is asking: role and the holders it acts for.  Every query in
:mod:`kyodaku.desk.service` is filtered by it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kyodaku.desk.models import ROLES, AccountRow, ApiKeyRow, LoginFailureRow, SessionRow
from kyodaku.registry.base import Conflict, NotFound, RegistryError
from kyodaku.registry.models import HolderRow
from kyodaku.registry.names import check_identifier

__all__ = ["Actor", "Forbidden", "actor_of", "hash_password", "new_api_key", "new_session", "verify_password"]

SESSION_TTL = timedelta(hours=12)
#: wrong passwords for an account from one client address before that client is locked
#: out of it, counted over (and locked for) LOCK_FOR
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
#: wrong passwords for an account from all clients together (within LOCK_FOR) before it is
#: locked for everyone for LOCK_FOR
ACCOUNT_LOCK_AFTER = 50
_HASHER = PasswordHasher()
#: verified against when the username is unknown, so both paths take as long
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


class Forbidden(RegistryError):
    """The actor may see this but not do that (HTTP 403)."""


@dataclass(frozen=True)
class Actor:
    account_id: int
    username: str
    role: str
    display_name: str
    holder_ids: frozenset[int] = frozenset()
    holder_slugs: tuple[str, ...] = ()
    lang: str = "en"

    @property
    def sees_everything(self) -> bool:
        """Operators and auditors see every holder's records; holders only their own."""
        return self.role in ("operator", "auditor")

    def can_see_holder(self, holder_id: int) -> bool:
        return self.sees_everything or holder_id in self.holder_ids

    def own_holder(self, holder: str | None = None) -> str:
        """The holder this holder account acts for in a request: ``holder`` if it is one of
        its own (else "not found"), or its only one when none is named."""
        self.require("holder")
        if holder is None:
            if len(self.holder_slugs) != 1:
                raise RegistryError("this account acts for several holders: name one")
            return self.holder_slugs[0]
        if holder not in self.holder_slugs:
            raise NotFound(f"no holder {holder!r}")
        return holder

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"a {self.role} account cannot do this (needs: {', '.join(roles)})")


def actor_of(row: AccountRow) -> Actor:
    return Actor(row.id, row.username, row.role, row.display_name,
                 frozenset(h.id for h in row.holders), tuple(h.slug for h in row.holders), row.lang or "en")


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise RegistryError("a password needs at least 10 characters")
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def create_account(s: Session, username: str, role: str, *, display_name: str | None = None,
                   password: str | None = None, holders: tuple[str, ...] = (), email: str | None = None,
                   lang: str = "en") -> AccountRow:
    check_identifier(username, "username")
    if len(username) > 100:
        raise RegistryError("a username has at most 100 characters")
    if role not in ROLES:
        raise RegistryError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "holder" and not holders:
        raise RegistryError("a holder account acts for at least one holder (--holder SLUG)")
    if role != "holder" and holders:
        raise RegistryError(f"an {role} account sees every holder; do not name holders for it")
    if s.scalar(select(AccountRow.id).where(AccountRow.username == username)) is not None:
        raise Conflict(f"account {username!r} already exists")
    rows = []
    for slug in holders:
        h = s.scalar(select(HolderRow).where(HolderRow.slug == slug))
        if h is None:
            raise NotFound(f"no holder {slug!r}")
        rows.append(h)
    row = AccountRow(username=username, role=role, display_name=display_name or username, email=email,
                     password_hash=hash_password(password) if password else None, lang=lang, holders=rows)
    s.add(row)
    s.flush()
    return row


def _failures(s: Session, account_id: int, since: datetime, client: str | None = None) -> int:
    q = select(func.count()).select_from(LoginFailureRow).where(LoginFailureRow.account_id == account_id,
                                                                 LoginFailureRow.at > since)
    if client is not None:
        q = q.where(LoginFailureRow.client == client)
    return s.scalar(q) or 0


def client_key(address: str | None) -> str:
    """The client a lock applies to: an IPv4 address, or the /64 of an IPv6 address (one
    subscriber's network, where an attacker gets many addresses for free)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return (address or "unknown")[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def authenticate(s: Session, username: str, password: str, now: datetime,
                 client: str = "unknown") -> AccountRow | None:
    """The account if the password is right and sign-in is not locked for ``client``.

    ``client`` is the address the request came from (the TCP peer, never a forwarded-for
    header; IPv6 counted per /64, see :func:`client_key`).  Locks: LOCK_AFTER wrong passwords for an account from one client within
    LOCK_FOR lock that client out of that account (even the right password is refused)
    until the oldest of them is LOCK_FOR old, while the owner signing in from elsewhere is
    not affected; ACCOUNT_LOCK_AFTER wrong passwords from all clients together within
    LOCK_FOR lock the account for everyone for LOCK_FOR (a guess spread over many
    addresses).  Attempts while locked are not counted; a success clears that client's
    failures."""
    client = client_key(client)
    row = s.scalar(select(AccountRow).where(AccountRow.username == username))
    ok = verify_password(row.password_hash if row is not None else None, password)
    if row is None or row.disabled_at is not None:
        return None
    since = now - LOCK_FOR
    s.execute(delete(LoginFailureRow).where(LoginFailureRow.account_id == row.id, LoginFailureRow.at <= since))
    if row.locked_until is not None and now < row.locked_until:
        return None
    if _failures(s, row.id, since, client) >= LOCK_AFTER:
        return None
    if not ok:
        s.add(LoginFailureRow(account_id=row.id, client=client, at=now))
        s.flush()
        if _failures(s, row.id, since) >= ACCOUNT_LOCK_AFTER:
            row.locked_until = now + LOCK_FOR
        return None
    s.execute(delete(LoginFailureRow).where(LoginFailureRow.account_id == row.id, LoginFailureRow.client == client))
    row.failed_logins, row.locked_until = 0, None
    if _HASHER.check_needs_rehash(row.password_hash or ""):
        row.password_hash = _HASHER.hash(password)
    return row


def new_session(s: Session, account: AccountRow, now: datetime) -> tuple[str, str]:
    """Start a session; returns (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    s.add(SessionRow(account_id=account.id, token_hash=_sha256(token), csrf_token=csrf, created_at=now,
                     expires_at=now + SESSION_TTL))
    return token, csrf


def session_account(s: Session, token: str, now: datetime) -> tuple[AccountRow, str] | None:
    """The account and CSRF token of a live session cookie, or None."""
    row = s.scalar(select(SessionRow).where(SessionRow.token_hash == _sha256(token)))
    if row is None or row.expires_at <= now:
        return None
    account = s.get(AccountRow, row.account_id)
    if account is None or account.disabled_at is not None:
        return None
    return account, row.csrf_token


def end_session(s: Session, token: str) -> None:
    row = s.scalar(select(SessionRow).where(SessionRow.token_hash == _sha256(token)))
    if row is not None:
        s.delete(row)


def new_api_key(s: Session, account: AccountRow, label: str, now: datetime) -> tuple[ApiKeyRow, str]:
    """A new API key; the key itself is returned once and never stored."""
    prefix = secrets.token_hex(6)
    key = f"kyd_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKeyRow(account_id=account.id, prefix=prefix, key_hash=_sha256(key), label=label, created_at=now)
    s.add(row)
    s.flush()
    return row, key


def api_key_account(s: Session, key: str) -> AccountRow | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "kyd":
        return None
    row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == parts[1]))
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _sha256(key)):
        return None
    account = s.get(AccountRow, row.account_id)
    return account if account is not None and account.disabled_at is None else None
