"""Helpers of SqlRegistry: ORM rows -> frozen records (call inside a session), row lookups."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, sessionmaker

from kyodaku.registry.base import (
    ALL_WORKS,
    USES,
    Alias,
    Holder,
    Media,
    NotFound,
    Permit,
    RegistryError,
    Reservation,
    Work,
    WorkScope,
)
from kyodaku.registry.models import HolderRow, MediaRow, PermitRow, ReservationRow, WorkRow


def holder_record(row: HolderRow) -> Holder:
    return Holder(row.id, row.slug, row.name, row.jurisdiction, row.created_at)


def media_record(row: MediaRow, work_id: str, holder: str) -> Media:
    return Media(
        id=row.id,
        work_id=work_id,
        holder=holder,
        sha256=row.sha256,
        path=row.path,
        original_name=row.original_name,
        kind=row.kind,
        size_bytes=row.size_bytes,
        fingerprinted_at=row.fingerprinted_at,
        fingerprint_error=row.fingerprint_error,
        created_at=row.created_at,
        fingerprint_note=row.fingerprint_note,
    )


def work_record(row: WorkRow) -> Work:
    return Work(
        id=row.id,
        work_id=row.work_id,
        holder=row.holder.slug,
        title=row.title,
        kind=row.kind,
        aliases=tuple(Alias(a.alias, a.lang) for a in row.aliases),
        media=tuple(media_record(m, row.work_id, row.holder.slug) for m in row.media),
        created_at=row.created_at,
    )


def permit_record(row: PermitRow) -> Permit:
    return Permit(
        id=row.id,
        holder=row.holder.slug,
        licensee=row.licensee,
        use=row.use,
        all_works=row.all_works,
        works=tuple(w.work_id for w in row.works),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        revoke_reason=row.revoke_reason,
    )


def reservation_record(row: ReservationRow) -> Reservation:
    return Reservation(
        id=row.id,
        holder=row.holder.slug,
        use=row.use,
        all_works=row.all_works,
        works=tuple(w.work_id for w in row.works),
        declared_at=row.declared_at,
        withdrawn_at=row.withdrawn_at,
    )


def check_use(use: str) -> None:
    if use not in USES:
        raise RegistryError(f"use must be 'training' or 'generation', got {use!r}")


def start_of_next_day(on: date) -> datetime:
    return datetime.combine(on + timedelta(days=1), time(0), tzinfo=UTC)


def holder_row(s: Session, slug: str) -> HolderRow:
    row = s.scalar(select(HolderRow).where(HolderRow.slug == slug))
    if row is None:
        raise NotFound(f"unknown holder {slug!r}")
    return row


def work_row(s: Session, work_id: str) -> WorkRow:
    row = s.scalar(select(WorkRow).where(WorkRow.work_id == work_id))
    if row is None:
        raise NotFound(f"unknown work {work_id!r}")
    return row


def scope_rows(s: Session, holder: HolderRow, works: WorkScope) -> tuple[bool, list[WorkRow]]:
    if isinstance(works, str):
        if works != ALL_WORKS:
            raise RegistryError(f"works must be '*' or a list of work ids, got {works!r}")
        return True, []
    ids = list(dict.fromkeys(works))
    if not ids:
        raise RegistryError("works: empty list (use '*' for all of the holder's works)")
    rows = s.scalars(select(WorkRow).where(WorkRow.work_id.in_(ids))).all()
    by_id = {r.work_id: r for r in rows}
    for wid in ids:
        row = by_id.get(wid)
        if row is None:
            raise NotFound(f"unknown work {wid!r}")
        if row.holder_id != holder.id:
            raise RegistryError(f"work {wid!r} belongs to {row.holder.slug!r}, not {holder.slug!r}")
    return False, [by_id[w] for w in sorted(ids)]


def _reject_nul(session: Session, _context: object, _instances: object) -> None:
    """Text with a NUL character is refused on every backend (PostgreSQL cannot store it;
    SQLite would, so the two would disagree)."""
    for obj in list(session.new) + list(session.dirty):
        for attr in sa_inspect(obj).mapper.column_attrs:
            value = getattr(obj, attr.key, None)
            if isinstance(value, str) and "\x00" in value:
                raise RegistryError(f"{attr.key}: text may not contain NUL characters")


def guard_sessions(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Install kyodaku's checks on a session factory (see :func:`_reject_nul`)."""
    event.listen(factory, "before_flush", _reject_nul)
    return factory
