"""The audit outbox: an audit entry is committed in the same database transaction as the
change it records, and the signed file log is appended from those rows afterwards.

A change (a claim filed, a permit granted, an API key revoked...) calls :func:`record` in
its own session, so the change and its entry are durable together or not at all.  After
the commit, :func:`drain` appends every row not yet in ``HOME/audit/audit.jsonl`` to the
log, in id order, and marks each with the seq and hash it got there.  A crash between the
commit and the append leaves rows pending; the next drain (a desk or CLI command that opens
the workspace, ``kyodaku serve`` starting, ``kyodaku audit verify``) appends them.

Exactly once, with several processes draining at once and a crash at any point:

1. A drain holds the log's ``flock`` throughout (:meth:`~kyodaku.audit.log.AuditLog.locked`),
   so drains, and the scanner's own appends, take turns.
2. Under the lock it first settles rows a crashed drain left *claimed* (seq and hash set,
   not ``logged``): a row whose entry is in the file at its seq with its hash is marked
   logged; any other is released to be appended again.
3. It then claims the pending rows: computes their signed entries at the log's end and
   commits each row's seq and hash *before* writing them to the file.
4. It writes the entries (fsync, then the signed head) and commits ``logged``.

A crash before 3 commits leaves the rows pending; between 3 and 4's write, claimed but not
in the file (released by the next drain's step 2); after the write, claimed and in the file
(marked by step 2).  The file never gets a row twice, and no committed row is left out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from kyodaku.audit.log import AuditLog, _normalise
from kyodaku.registry.base import utcnow
from kyodaku.registry.models import Base, UTCDateTime

if TYPE_CHECKING:
    from kyodaku.workspace import Workspace

__all__ = ["AuditOutboxRow", "drain", "drain_quietly", "drain_workspace", "pending_count", "record", "recorded"]

log = logging.getLogger("kyodaku.audit")

#: rows appended per file write (one fsync each)
BATCH = 500
_FLAG = "kyodaku_audit"

SessionFactory = Callable[[], AbstractContextManager[Session]]


class AuditOutboxRow(Base):
    """One audit entry, committed with the change it records; ``seq``/``hash`` are its place
    in the file log once claimed, ``logged`` once it is there."""

    __tablename__ = "audit_outbox"
    __table_args__ = (Index("ix_audit_outbox_logged", "logged", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: when the change was made (its transaction's clock)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    seq: Mapped[int | None] = mapped_column(BigInteger)
    hash: Mapped[str | None] = mapped_column(String(64))
    logged: Mapped[bool] = mapped_column(Boolean, default=False)


def record(s: Session, kind: str, data: dict[str, Any], at: datetime | None = None) -> AuditOutboxRow:
    """Add the audit entry of a change to the change's own session (committed with it)."""
    if not isinstance(kind, str) or not kind or len(kind) > 32:
        raise ValueError("audit entry kind must be a non-empty string of at most 32 characters")
    row = AuditOutboxRow(kind=kind, data=_normalise(data), at=at or utcnow(), logged=False)
    s.add(row)
    s.info[_FLAG] = True
    return row


def recorded(s: Session) -> bool:
    """Did this session record an audit entry (so a drain is due after its commit)?"""
    return bool(s.info.pop(_FLAG, False))


def pending_count(sessions: SessionFactory) -> int:
    """Rows committed but not yet marked as in the file log."""
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(AuditOutboxRow)
                            .where(AuditOutboxRow.logged.is_(False))) or 0)


def _settle_claimed(s: Session, writer: Any) -> None:
    """Rows a drain claimed and did not mark (it crashed or failed): logged when the file
    holds their entry, else released to be appended again."""
    claimed = s.scalars(select(AuditOutboxRow).where(AuditOutboxRow.seq.is_not(None),
                                                     AuditOutboxRow.logged.is_(False))
                        .order_by(AuditOutboxRow.seq)).all()
    if not claimed:
        return
    found = writer.hashes_from(min(int(r.seq) for r in claimed if r.seq is not None))
    for r in claimed:
        if found.get(int(r.seq)) == r.hash:  # type: ignore[arg-type]
            r.logged = True
        else:
            r.seq, r.hash = None, None
    s.flush()


def drain(sessions: SessionFactory, audit_log: AuditLog | Callable[[], AuditLog]) -> int:
    """Append every committed, not yet logged row to the file log, exactly once; returns how
    many were appended.  Touches no file when nothing is pending."""
    if not pending_count(sessions):
        return 0
    target = audit_log if isinstance(audit_log, AuditLog) else audit_log()
    appended = 0
    settled = False
    with target.locked() as writer:
        while True:
            with sessions() as s:  # settle, then claim: one commit
                if not settled:
                    _settle_claimed(s, writer)
                    settled = True
                rows = s.scalars(select(AuditOutboxRow).where(AuditOutboxRow.seq.is_(None))
                                 .order_by(AuditOutboxRow.id).limit(BATCH)).all()
                entries = writer.prepare([(r.kind, r.data) for r in rows])
                for r, e in zip(rows, entries, strict=True):
                    r.seq, r.hash = e["seq"], e["hash"]
                ids = [r.id for r in rows]
            if not ids:
                break
            writer.write(entries)
            with sessions() as s:
                s.execute(update(AuditOutboxRow).where(AuditOutboxRow.id.in_(ids)).values(logged=True))
            appended += len(ids)
            if len(ids) < BATCH:
                break
    return appended


def drain_quietly(sessions: SessionFactory, audit_log: AuditLog | Callable[[], AuditLog]) -> int:
    """:func:`drain` after a change was committed: a failure to append (a full disk, a log
    cut at its end) is logged, not raised, because the change and its entry are already
    durable; the entry stays pending, is appended by the next drain, and ``kyodaku audit
    verify`` reports it until then."""
    try:
        return drain(sessions, audit_log)
    except Exception as exc:  # noqa: BLE001 - reported; the rows stay pending
        log.warning("audit entries are committed but not yet in the audit log: %s", exc)
        return 0


def drain_workspace(workspace: Workspace, *, quiet: bool = False) -> int:
    """Drain the workspace's pending audit entries into ``HOME/audit/audit.jsonl``."""
    home = Path(workspace.home)
    args = (workspace.session, lambda: AuditLog.for_home(home))
    return drain_quietly(*args) if quiet else drain(*args)
