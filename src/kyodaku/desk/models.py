"""SQLAlchemy models of the rights holders' desk: accounts, sessions, API keys, claims,
inquiries, and the notification outbox (portable: SQLite and PostgreSQL).

Schema changes go through an Alembic revision in ``registry/migrations/versions`` (one
migration history for the whole database).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kyodaku.registry.base import utcnow
from kyodaku.registry.models import Base, HolderRow, UTCDateTime

__all__ = [
    "AccountRow",
    "ApiKeyRow",
    "ClaimEventRow",
    "ClaimRow",
    "DeliveryRow",
    "InquiryRow",
    "LoginFailureRow",
    "OutboxRow",
    "SessionRow",
    "WebhookRow",
    "account_holders",
]

ROLES = ("holder", "operator", "auditor")

account_holders = Table(
    "account_holders",
    Base.metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("holder_id", ForeignKey("holders.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class AccountRow(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("role IN ('holder', 'operator', 'auditor')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(300))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    lang: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: no longer counted (wrong passwords are rows of ``login_failures``, per client)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    #: locked for every client until then (ACCOUNT_LOCK_AFTER wrong passwords from all clients)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    holders: Mapped[list[HolderRow]] = relationship(secondary=account_holders, order_by="HolderRow.slug")


class LoginFailureRow(Base):
    """One wrong password for an account from one client address (the peer of the TCP
    connection, never a forwarded-for header).  Sign-in is refused to a client that has
    too many of these for the account in the lock window, and to every client once the
    account has too many from all clients (:func:`kyodaku.desk.auth.authenticate`)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_account_client_at", "account_id", "client", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    client: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SessionRow(Base):
    """A signed-in browser: the cookie carries the token, the database only its SHA-256."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKeyRow(Base):
    """A REST API key: ``kyd_<prefix>_<secret>``; only the SHA-256 of the whole key is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


CLAIM_STATES = ("filed", "acknowledged", "under_review", "upheld", "rejected", "disputed", "resolved")
_STATE_CHECK = "state IN (" + ", ".join(f"'{s}'" for s in CLAIM_STATES) + ")"


class ClaimRow(Base):
    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint(_STATE_CHECK, name="state"),
        CheckConstraint("subject_kind IN ('upload', 'decision')", name="subject_kind"),
        Index("ix_claims_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id", ondelete="RESTRICT"), index=True)
    filed_by: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    #: a client-chosen key: the same claim sent twice (a retry) is stored once
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id", ondelete="RESTRICT"))
    upload_path: Mapped[str | None] = mapped_column(String(1000))
    upload_name: Mapped[str | None] = mapped_column(String(1000))
    upload_sha256: Mapped[str | None] = mapped_column(String(64))
    work_ids: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: when the next step is due (None once nothing is owed)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    holder: Mapped[HolderRow] = relationship(lazy="joined", innerjoin=True)
    events: Mapped[list[ClaimEventRow]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimEventRow.id"
    )


class ClaimEventRow(Base):
    __tablename__ = "claim_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: was the step taken after its deadline?
    late: Mapped[bool] = mapped_column(Boolean, default=False)

    claim: Mapped[ClaimRow] = relationship(back_populates="events")


class InquiryRow(Base):
    __tablename__ = "inquiries"
    __table_args__ = (CheckConstraint("state IN ('open', 'answered')", name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id", ondelete="RESTRICT"), index=True)
    filed_by: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id", ondelete="RESTRICT"))
    corpus: Mapped[str] = mapped_column(String(300))
    work_ids: Mapped[list[str]] = mapped_column(JSON)
    question: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16))
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    holder: Mapped[HolderRow] = relationship(lazy="joined", innerjoin=True)


class WebhookRow(Base):
    """Where state changes are posted (HMAC-SHA256 signed).  ``holder_id`` None: every
    event (the operator's own systems); otherwise that holder's events only."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("holders.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxRow(Base):
    """One event, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("holders.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    deliveries: Mapped[list[DeliveryRow]] = relationship(
        back_populates="outbox", cascade="all, delete-orphan", order_by="DeliveryRow.id"
    )


class DeliveryRow(Base):
    """One event to one webhook or mailbox, retried with back-off until delivered."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint("channel IN ('webhook', 'email')", name="channel"),
        Index("ix_deliveries_pending", "delivered_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(2000))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    outbox: Mapped[OutboxRow] = relationship(back_populates="deliveries")
