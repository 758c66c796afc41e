"""Notifications: an outbox written in the same transaction as the change it reports,
and a dispatcher that delivers it to webhooks (HMAC-SHA256 signed) and, when SMTP is
configured, by email.

A webhook request carries::

    X-Kyodaku-Event: claim.acknowledged
    X-Kyodaku-Delivery: 42
    X-Kyodaku-Signature: t=1764000000,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

Receivers check the signature with :func:`verify_signature` (and reject old ``t`` to stop
replays).  Failed deliveries are retried with exponential back-off; nothing is dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kyodaku.desk.models import AccountRow, DeliveryRow, OutboxRow, WebhookRow, account_holders
from kyodaku.desk.webhook_target import Resolver, check_webhook_target, post_pinned

__all__ = ["SmtpSettings", "check_webhook_target", "deliver_pending", "emit", "sign", "verify_signature"]

MAX_BACKOFF = timedelta(hours=6)
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str = "kyodaku@localhost"
    starttls: bool = True


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str, now: datetime | None = None,
                     tolerance: timedelta = timedelta(minutes=5)) -> bool:
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if now is not None and abs(now.timestamp() - t) > tolerance.total_seconds():
        return False
    return hmac.compare_digest(sign(secret, body, t), f"t={t},v1={parts.get('v1', '')}")


def emit(s: Session, event: str, holder_id: int | None, payload: dict[str, Any], now: datetime,
         email: bool = False) -> OutboxRow:
    """Record ``event`` and queue one delivery per webhook that should see it (the holder's
    own and the operator's), plus emails to the holder's accounts when ``email``."""
    row = OutboxRow(event=event, holder_id=holder_id, payload={"event": event, **payload}, created_at=now)
    hooks = s.scalars(select(WebhookRow).where(
        WebhookRow.active.is_(True),
        or_(WebhookRow.holder_id.is_(None), WebhookRow.holder_id == holder_id))).all()
    for h in hooks:
        row.deliveries.append(DeliveryRow(channel="webhook", webhook_id=h.id, target=h.url, next_attempt_at=now))
    if email and holder_id is not None:
        for addr in s.scalars(select(AccountRow.email).join(account_holders)
                              .where(account_holders.c.holder_id == holder_id, AccountRow.email.is_not(None))):
            row.deliveries.append(DeliveryRow(channel="email", target=addr, next_attempt_at=now))
    s.add(row)
    return row


def _post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool,
          resolver: Resolver | None) -> None:
    """POST to the address the name was resolved to and checked at (never re-resolved),
    refusing redirects (:mod:`kyodaku.desk.webhook_target`)."""
    post_pinned(url, body, headers, allow_private=allow_private, timeout=TIMEOUT_S, resolver=resolver)


def _mail(smtp: SmtpSettings, to: str, event: str, payload: dict[str, Any]) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = smtp.sender, to, f"[kyodaku] {event}"
    msg.set_content(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    with smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_S) as conn:
        if smtp.starttls:
            conn.starttls()
        if smtp.username:
            conn.login(smtp.username, smtp.password or "")
        conn.send_message(msg)


def deliver_pending(session_factory: Callable[[], Any], now: datetime, *, smtp: SmtpSettings | None = None,
                    limit: int = 100, allow_private: bool = False,
                    resolver: Resolver | None = None) -> dict[str, int]:
    """Try every delivery that is due; returns counts of ``delivered`` and ``failed``.
    Holders' webhooks must reach public addresses unless ``allow_private`` (the operator's
    own may be local).  Every webhook is resolved once (``resolver``, default the system's),
    connected to at the checked address, and a redirect is a failure, never followed."""
    counts = {"delivered": 0, "failed": 0}
    with session_factory() as s:
        due = s.scalars(select(DeliveryRow).where(DeliveryRow.delivered_at.is_(None),
                                                  DeliveryRow.next_attempt_at <= now)
                        .order_by(DeliveryRow.id).limit(limit)
                        # several server processes deliver at once: each takes rows the others
                        # have not locked (PostgreSQL; SQLite serialises writers anyway)
                        .with_for_update(skip_locked=True)).all()
        for d in due:
            body = json.dumps(d.outbox.payload, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
            try:
                if d.channel == "webhook":
                    hook = s.get(WebhookRow, d.webhook_id)
                    if hook is None or not hook.active:
                        raise RuntimeError("webhook removed or disabled")
                    _post(d.target, body, {"X-Kyodaku-Event": d.outbox.event, "X-Kyodaku-Delivery": str(d.id),
                                           "X-Kyodaku-Signature": sign(hook.secret, body, int(now.timestamp()))},
                          allow_private=allow_private or hook.holder_id is None, resolver=resolver)
                else:
                    if smtp is None:
                        raise RuntimeError("no SMTP settings (KYODAKU_SMTP_HOST)")
                    _mail(smtp, d.target, d.outbox.event, d.outbox.payload)
            except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
                d.attempts += 1
                d.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                d.next_attempt_at = now + min(timedelta(minutes=2 ** min(d.attempts, 12)), MAX_BACKOFF)
                counts["failed"] += 1
            else:
                d.attempts += 1
                d.delivered_at = now
                d.last_error = None
                counts["delivered"] += 1
    return counts
