"""``SqlRegistry``: the :class:`~kyodaku.registry.base.Registry` on SQLAlchemy (SQLite, PostgreSQL).

Only portable SQL: no SQLite pragmas or functions here (the workspace sets those up).
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased, selectinload, sessionmaker

from kyodaku.audit import outbox as audit_outbox
from kyodaku.audit import registry as audit_entries
from kyodaku.registry._orm import check_use, guard_sessions, holder_row, scope_rows, start_of_next_day, work_row
from kyodaku.registry._orm import holder_record as _holder
from kyodaku.registry._orm import media_record as _media
from kyodaku.registry._orm import permit_record as _permit
from kyodaku.registry._orm import reservation_record as _reservation
from kyodaku.registry._orm import work_record as _work
from kyodaku.registry.base import (
    ALL_WORKS,
    WORK_KINDS,
    Alias,
    Conflict,
    Holder,
    KeywordSet,
    Lookalike,
    Media,
    NotFound,
    Permit,
    PermitEvent,
    Registry,
    RegistryError,
    Reservation,
    Work,
    WorkScope,
    utcnow,
)
from kyodaku.registry.models import (
    AliasRow,
    HolderRow,
    KeywordSetRow,
    LookalikeRow,
    MediaRow,
    PermitEventRow,
    PermitRow,
    ReservationRow,
    WorkRow,
)
from kyodaku.registry.names import check_identifier, visible_text

__all__ = ["SqlRegistry"]

_WORK_NUMBER = re.compile(r"^w(\d+)$")


def keyword_list(keywords: Iterable[str]) -> list[str]:
    """A keyword set as stored: each keyword NFKC, case-folded, inner spaces single;
    deduplicated and sorted; 1 to 12 keywords of at most 60 characters."""
    words = sorted({" ".join(unicodedata.normalize("NFKC", k).casefold().split()) for k in keywords} - {""})
    if not words or len(words) > 12:
        raise RegistryError(f"a keyword set has 1 to 12 keywords, got {len(words)}")
    for w in words:
        visible_text(w, "keyword", max_len=60)
    return words


def _keyword_set(row: KeywordSetRow, work_id: str, holder: str) -> KeywordSet:
    return KeywordSet(row.id, work_id, holder, row.lang, tuple(json.loads(row.keywords)), row.created_at)


def _keyword_json(k: KeywordSet) -> dict[str, object]:
    return {"set_id": k.id, "work_id": k.work_id, "holder": k.holder, "lang": k.lang, "keywords": list(k.keywords)}


_WORK_LOAD = (selectinload(WorkRow.aliases), selectinload(WorkRow.media))
_PERMIT_LOAD = (selectinload(PermitRow.works),)


class SqlRegistry(Registry):
    """Registry over a SQLAlchemy engine.  Safe to share between threads (the web
    service's worker threads): an open :meth:`transaction` belongs to its own thread.

    With ``audit_home`` (the workspace's), the audit entries a change committed are
    appended to ``audit_home/audit/audit.jsonl`` right after the commit; without it they
    wait in the database for the next drain (:mod:`kyodaku.audit.outbox`)."""

    def __init__(self, engine: Engine, audit_home: str | Path | None = None) -> None:
        self.engine = engine
        self._sessions = guard_sessions(sessionmaker(engine, expire_on_commit=False))
        self._local = threading.local()
        self.audit_home = Path(audit_home) if audit_home is not None else None
        #: who a change is by when neither ``by`` nor :meth:`acting_as` says
        self.default_actor = audit_entries.library_actor()
        self._audit_log: object | None = None

    @property
    def _tx(self) -> Session | None:
        return getattr(self._local, "tx", None)

    @_tx.setter
    def _tx(self, session: Session | None) -> None:
        self._local.tx = session

    # -- sessions --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[SqlRegistry]:
        if self._tx is not None:  # nested: join the outer transaction
            yield self
            return
        with self._sessions.begin() as session:
            self._tx = session
            try:
                yield self
            finally:
                self._tx = None
        self._after_commit(session)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        if self._tx is not None:
            yield self._tx
            return
        with self._sessions.begin() as session:
            yield session
        self._after_commit(session)

    # -- audit -----------------------------------------------------------------------------
    @contextmanager
    def acting_as(self, by: str) -> Iterator[SqlRegistry]:
        """Changes made in this thread inside the block are by ``by`` (a desk account)."""
        before = getattr(self._local, "by", None)
        self._local.by = by
        try:
            yield self
        finally:
            self._local.by = before

    def _record(self, s: Session, kind: str, data: dict[str, object]) -> None:
        audit_outbox.record(s, kind, data)

    def _by(self, by: str | None) -> str:
        return by or getattr(self._local, "by", None) or self.default_actor

    def _after_commit(self, session: Session) -> None:
        if audit_outbox.recorded(session) and self.audit_home is not None:
            audit_outbox.drain_quietly(self._sessions.begin, self._log)

    def _log(self):  # type: ignore[no-untyped-def]
        from kyodaku.audit.log import AuditLog

        if self._audit_log is None:
            self._audit_log = AuditLog.for_home(self.audit_home)  # type: ignore[arg-type]
        return self._audit_log

    # -- holders ---------------------------------------------------------------------------
    def add_holder(self, slug: str, name: str, jurisdiction: str, *, by: str | None = None) -> Holder:
        slug = check_identifier(slug, "holder slug")
        with self._session() as s:
            if s.scalar(select(HolderRow.id).where(HolderRow.slug == slug)) is not None:
                raise Conflict(f"holder {slug!r} already exists")
            row = HolderRow(slug=slug, name=name, jurisdiction=jurisdiction.upper(), created_at=utcnow())
            s.add(row)
            s.flush()
            holder = _holder(row)
            self._record(s, "holder", audit_entries.holder_entry(holder, self._by(by)))
            return holder

    def get_holder(self, slug: str) -> Holder | None:
        with self._session() as s:
            row = s.scalar(select(HolderRow).where(HolderRow.slug == slug))
            return _holder(row) if row else None

    def list_holders(self) -> list[Holder]:
        with self._session() as s:
            return [_holder(r) for r in s.scalars(select(HolderRow).order_by(HolderRow.slug))]

    # -- works -----------------------------------------------------------------------------
    def next_work_id(self, reserved: Iterable[str] = ()) -> str:
        with self._session() as s:
            return self._next_work_id(s, reserved)

    @staticmethod
    def _next_work_id(s: Session, reserved: Iterable[str] = ()) -> str:
        taken = s.scalars(
            select(WorkRow.work_id)
            .where(WorkRow.work_id.like("w%"))
            .order_by(func.length(WorkRow.work_id).desc(), WorkRow.work_id.desc())
        )
        highest = 0
        for wid in taken:  # longest (then largest) first: the first numeric one is the max
            m = _WORK_NUMBER.match(wid)
            if m:
                highest = int(m.group(1))
                break
        for wid in reserved:
            m = _WORK_NUMBER.match(wid)
            if m:
                highest = max(highest, int(m.group(1)))
        return f"w{highest + 1:04d}"

    def add_work(
        self,
        holder: str,
        title: str,
        kind: str,
        *,
        work_id: str | None = None,
        aliases: Iterable[Alias | str] = (),
        by: str | None = None,
    ) -> Work:
        if kind not in WORK_KINDS:
            raise RegistryError(f"kind must be 'image' or 'video', got {kind!r}")
        if not title.strip():
            raise RegistryError("title must not be empty")
        with self._session() as s:
            owner = holder_row(s, holder)
            wid = work_id or self._next_work_id(s)
            if s.scalar(select(WorkRow.id).where(WorkRow.work_id == wid)) is not None:
                raise Conflict(f"work {wid!r} already exists")
            row = WorkRow(work_id=wid, holder=owner, title=title, kind=kind, created_at=utcnow())
            seen: set[tuple[str, str | None]] = set()
            for a in aliases:
                alias = Alias(a) if isinstance(a, str) else a
                if alias.text.strip() and (alias.text, alias.lang) not in seen:
                    seen.add((alias.text, alias.lang))
                    row.aliases.append(AliasRow(alias=alias.text, lang=alias.lang))
            s.add(row)
            s.flush()
            work = _work(row)
            self._record(s, "work", audit_entries.work_entry(work, self._by(by)))
            return work

    def set_aliases(self, work_id: str, aliases: Iterable[Alias | str], *, by: str | None = None) -> Work:
        with self._session() as s:
            row = s.scalar(select(WorkRow).where(WorkRow.work_id == work_id).options(*_WORK_LOAD))
            if row is None:
                raise NotFound(f"no work {work_id!r}")
            row.aliases.clear()
            s.flush()
            seen: set[tuple[str, str | None]] = set()
            for a in aliases:
                alias = Alias(a) if isinstance(a, str) else a
                text = alias.text.strip()
                if text and (text, alias.lang) not in seen:
                    seen.add((text, alias.lang))
                    row.aliases.append(AliasRow(alias=text, lang=alias.lang))
            s.flush()
            work = _work(row)
            self._record(s, "aliases", audit_entries.aliases_entry(work, self._by(by)))
            return work

    def get_work(self, work_id: str) -> Work | None:
        with self._session() as s:
            row = s.scalar(select(WorkRow).where(WorkRow.work_id == work_id).options(*_WORK_LOAD))
            return _work(row) if row else None

    def list_works(self, holder: str | None = None) -> list[Work]:
        with self._session() as s:
            q = select(WorkRow).options(*_WORK_LOAD).order_by(WorkRow.work_id)
            if holder is not None:
                q = q.where(WorkRow.holder_id == holder_row(s, holder).id)
            return [_work(r) for r in s.scalars(q)]

    def holders_of(self, work_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(work_ids))
        out: dict[str, str] = {}
        with self._session() as s:
            for i in range(0, len(ids), 500):
                q = (
                    select(WorkRow.work_id, HolderRow.slug)
                    .join(HolderRow, WorkRow.holder_id == HolderRow.id)
                    .where(WorkRow.work_id.in_(ids[i : i + 500]))
                )
                out.update({wid: slug for wid, slug in s.execute(q)})
        return out

    # -- media -----------------------------------------------------------------------------
    def add_media(
        self, work_id: str, *, sha256: str, path: str, original_name: str, kind: str, size_bytes: int
    ) -> Media:
        if kind not in WORK_KINDS:
            raise RegistryError(f"media kind must be 'image' or 'video', got {kind!r}")
        with self._session() as s:
            work = work_row(s, work_id)
            dup = select(MediaRow.id).where(MediaRow.work_pk == work.id, MediaRow.sha256 == sha256)
            if s.scalar(dup) is not None:
                raise Conflict(f"work {work_id!r} already has this file (sha256 {sha256[:12]}...)")
            row = MediaRow(
                work=work,
                sha256=sha256,
                path=path,
                original_name=original_name,
                kind=kind,
                size_bytes=size_bytes,
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            return _media(row, work.work_id, work.holder.slug)

    def _media_query(self):  # type: ignore[no-untyped-def]
        return (
            select(MediaRow, WorkRow.work_id, HolderRow.slug)
            .join(WorkRow, MediaRow.work_pk == WorkRow.id)
            .join(HolderRow, WorkRow.holder_id == HolderRow.id)
            .order_by(MediaRow.id)
        )

    def get_media(self, media_id: int) -> Media | None:
        with self._session() as s:
            hit = s.execute(self._media_query().where(MediaRow.id == media_id)).first()
            return _media(*hit) if hit else None

    def list_media(self, work_id: str | None = None) -> list[Media]:
        with self._session() as s:
            q = self._media_query()
            if work_id is not None:
                q = q.where(WorkRow.work_id == work_id)
            return [_media(*hit) for hit in s.execute(q)]

    def pending_media(self, limit: int | None = None) -> list[Media]:
        with self._session() as s:
            q = self._media_query().where(MediaRow.fingerprinted_at.is_(None))
            if limit is not None:
                q = q.limit(limit)
            return [_media(*hit) for hit in s.execute(q)]

    def mark_fingerprinted(self, media_id: int, error: str | None = None, at: datetime | None = None,
                           note: str | None = None) -> None:
        with self._session() as s:
            row = s.get(MediaRow, media_id)
            if row is None:
                raise NotFound(f"unknown media {media_id}")
            row.fingerprinted_at = at or utcnow()
            row.fingerprint_error = error
            row.fingerprint_note = note

    def requeue_media(self, media_ids: Iterable[int] | None = None) -> int:
        with self._session() as s:
            q = update(MediaRow).values(fingerprinted_at=None, fingerprint_error=None, fingerprint_note=None)
            gone = delete(LookalikeRow)
            if media_ids is not None:
                ids = list(media_ids)
                q = q.where(MediaRow.id.in_(ids))
                gone = gone.where(LookalikeRow.media_pk.in_(ids))
            s.execute(gone)
            return int(s.execute(q).rowcount or 0)  # type: ignore[attr-defined]

    def record_lookalikes(self, media_id: int, others: Iterable[tuple[int, int]],
                          at: datetime | None = None) -> None:
        with self._session() as s:
            if s.get(MediaRow, media_id) is None:
                raise NotFound(f"unknown media {media_id}")
            s.execute(delete(LookalikeRow).where(LookalikeRow.media_pk == media_id))
            for other, distance in dict(others).items():
                if other == media_id:
                    raise RegistryError("a media row cannot be its own lookalike")
                if s.get(MediaRow, other) is None:
                    raise NotFound(f"unknown media {other}")
                s.add(LookalikeRow(media_pk=media_id, other_media_pk=int(other), distance=int(distance),
                                   found_at=at or utcnow()))

    def list_lookalikes(self, holder: str | None = None) -> list[Lookalike]:
        m1, m2 = aliased(MediaRow), aliased(MediaRow)
        w1, w2 = aliased(WorkRow), aliased(WorkRow)
        h1, h2 = aliased(HolderRow), aliased(HolderRow)
        q = (select(LookalikeRow, w1.work_id, h1.slug, w2.work_id, h2.slug)
             .join(m1, LookalikeRow.media_pk == m1.id).join(w1, m1.work_pk == w1.id).join(h1, w1.holder_id == h1.id)
             .join(m2, LookalikeRow.other_media_pk == m2.id).join(w2, m2.work_pk == w2.id)
             .join(h2, w2.holder_id == h2.id)
             .order_by(LookalikeRow.distance, LookalikeRow.id))
        if holder is not None:
            q = q.where(or_(h1.slug == holder, h2.slug == holder))
        with self._session() as s:
            return [Lookalike(row.media_pk, work_id, slug, row.other_media_pk, other_work, other_slug,
                              row.distance, row.found_at)
                    for row, work_id, slug, other_work, other_slug in s.execute(q)]

    # -- keyword sets ----------------------------------------------------------------------
    def add_keyword_set(self, work_id: str, lang: str, keywords: Iterable[str], *,
                        by: str | None = None) -> KeywordSet:
        words = keyword_list(keywords)
        lang = check_identifier(lang.strip().lower(), "keyword set lang") if lang.strip() else ""
        if not lang:
            raise RegistryError("a keyword set needs its language (ja, en, ...)")
        with self._session() as s:
            work = work_row(s, work_id)
            text = json.dumps(words, ensure_ascii=False)
            row = s.scalar(select(KeywordSetRow).where(KeywordSetRow.work_pk == work.id, KeywordSetRow.lang == lang,
                                                       KeywordSetRow.keywords == text))
            if row is not None:
                return _keyword_set(row, work.work_id, work.holder.slug)
            row = KeywordSetRow(work_pk=work.id, lang=lang, keywords=text, created_at=utcnow())
            s.add(row)
            s.flush()
            kset = _keyword_set(row, work.work_id, work.holder.slug)
            self._record(s, "keywords", {"event": "added", "by": self._by(by), **_keyword_json(kset)})
            return kset

    def remove_keyword_set(self, set_id: int, *, by: str | None = None) -> KeywordSet:
        with self._session() as s:
            row = s.get(KeywordSetRow, set_id)
            if row is None:
                raise NotFound(f"unknown keyword set {set_id}")
            kset = _keyword_set(row, row.work.work_id, row.work.holder.slug)
            s.delete(row)
            s.flush()
            self._record(s, "keywords", {"event": "removed", "by": self._by(by), **_keyword_json(kset)})
            return kset

    def list_keyword_sets(self, work_id: str | None = None, holder: str | None = None) -> list[KeywordSet]:
        q = (select(KeywordSetRow, WorkRow.work_id, HolderRow.slug)
             .join(WorkRow, KeywordSetRow.work_pk == WorkRow.id).join(HolderRow, WorkRow.holder_id == HolderRow.id)
             .order_by(KeywordSetRow.id))
        if work_id is not None:
            q = q.where(WorkRow.work_id == work_id)
        if holder is not None:
            q = q.where(HolderRow.slug == holder)
        with self._session() as s:
            return [_keyword_set(row, wid, slug) for row, wid, slug in s.execute(q)]

    # -- permits ---------------------------------------------------------------------------
    def grant_permit(
        self,
        holder: str,
        licensee: str,
        use: str,
        works: WorkScope = ALL_WORKS,
        *,
        valid_from: date,
        valid_until: date | None = None,
        at: datetime | None = None,
        by: str | None = None,
    ) -> Permit:
        check_use(use)
        licensee = visible_text(licensee, "licensee", max_len=200)
        if valid_until is not None and valid_until < valid_from:
            raise RegistryError(f"valid_until {valid_until} is before valid_from {valid_from}")
        at = at or utcnow()
        with self._session() as s:
            owner = holder_row(s, holder)
            all_works, work_rows = scope_rows(s, owner, works)
            row = PermitRow(
                holder=owner,
                licensee=licensee,
                use=use,
                all_works=all_works,
                valid_from=valid_from,
                valid_until=valid_until,
                created_at=at,
            )
            row.works.extend(work_rows)
            row.events.append(PermitEventRow(event="granted", at=at))
            s.add(row)
            s.flush()
            permit = _permit(row)
            self._record(s, "permit", audit_entries.permit_entry(permit, "granted", self._by(by)))
            return permit

    def revoke_permit(self, permit_id: int, reason: str, at: datetime | None = None, *,
                      by: str | None = None) -> Permit:
        if not reason.strip():
            raise RegistryError("a revocation needs a reason")
        at = at or utcnow()
        with self._session() as s:
            row = s.get(PermitRow, permit_id, options=_PERMIT_LOAD)
            if row is None:
                raise NotFound(f"unknown permit {permit_id}")
            if row.revoked_at is not None:
                raise Conflict(
                    f"permit {permit_id} was already revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC"
                )
            row.revoked_at = at
            row.revoke_reason = reason
            row.events.append(PermitEventRow(event="revoked", at=at, reason=reason))
            s.flush()
            permit = _permit(row)
            self._record(s, "permit", audit_entries.permit_entry(permit, "revoked", self._by(by), reason=reason))
            return permit

    def get_permit(self, permit_id: int) -> Permit | None:
        with self._session() as s:
            row = s.get(PermitRow, permit_id, options=_PERMIT_LOAD)
            return _permit(row) if row else None

    def list_permits(self, licensee: str | None = None, holder: str | None = None) -> list[Permit]:
        with self._session() as s:
            q = select(PermitRow).options(*_PERMIT_LOAD).order_by(PermitRow.id)
            if licensee is not None:
                q = q.where(PermitRow.licensee == licensee)
            if holder is not None:
                q = q.where(PermitRow.holder_id == holder_row(s, holder).id)
            return [_permit(r) for r in s.scalars(q)]

    def permit_events(self, permit_id: int | None = None) -> list[PermitEvent]:
        with self._session() as s:
            q = select(PermitEventRow).order_by(PermitEventRow.at, PermitEventRow.id)
            if permit_id is not None:
                q = q.where(PermitEventRow.permit_id == permit_id)
            return [PermitEvent(e.id, e.permit_id, e.event, e.at, e.reason) for e in s.scalars(q)]

    def valid_permits(self, licensee: str, use: str, on: date) -> list[Permit]:
        check_use(use)
        with self._session() as s:
            q = (
                select(PermitRow)
                .options(*_PERMIT_LOAD)
                .where(
                    PermitRow.licensee == licensee,
                    PermitRow.use == use,
                    PermitRow.valid_from <= on,
                    or_(PermitRow.valid_until.is_(None), PermitRow.valid_until >= on),
                    or_(PermitRow.revoked_at.is_(None), PermitRow.revoked_at >= start_of_next_day(on)),
                )
                .order_by(PermitRow.id)
            )
            return [_permit(r) for r in s.scalars(q)]

    # -- reservations ----------------------------------------------------------------------
    def declare_reservation(
        self, holder: str, use: str, works: WorkScope = ALL_WORKS, *, at: datetime | None = None,
        by: str | None = None,
    ) -> Reservation:
        check_use(use)
        with self._session() as s:
            owner = holder_row(s, holder)
            all_works, work_rows = scope_rows(s, owner, works)
            row = ReservationRow(holder=owner, use=use, all_works=all_works, declared_at=at or utcnow())
            row.works.extend(work_rows)
            s.add(row)
            s.flush()
            reservation = _reservation(row)
            self._record(s, "reservation", audit_entries.reservation_entry(reservation, "declared", self._by(by)))
            return reservation

    def withdraw_reservation(self, reservation_id: int, at: datetime | None = None, *,
                             by: str | None = None) -> Reservation:
        with self._session() as s:
            row = s.get(ReservationRow, reservation_id, options=[selectinload(ReservationRow.works)])
            if row is None:
                raise NotFound(f"unknown reservation {reservation_id}")
            if row.withdrawn_at is not None:
                raise Conflict(f"reservation {reservation_id} was already withdrawn")
            row.withdrawn_at = at or utcnow()
            s.flush()
            reservation = _reservation(row)
            self._record(s, "reservation", audit_entries.reservation_entry(reservation, "withdrawn", self._by(by)))
            return reservation

    def list_reservations(self, holder: str | None = None) -> list[Reservation]:
        with self._session() as s:
            q = select(ReservationRow).options(selectinload(ReservationRow.works)).order_by(ReservationRow.id)
            if holder is not None:
                q = q.where(ReservationRow.holder_id == holder_row(s, holder).id)
            return [_reservation(r) for r in s.scalars(q)]

    def active_reservations(self, use: str, on: date) -> list[Reservation]:
        check_use(use)
        with self._session() as s:
            q = (
                select(ReservationRow)
                .options(selectinload(ReservationRow.works))
                .where(ReservationRow.use == use, ReservationRow.declared_at < start_of_next_day(on))
                .where(
                    or_(
                        ReservationRow.withdrawn_at.is_(None),
                        ReservationRow.withdrawn_at >= start_of_next_day(on),
                    )
                )
                .order_by(ReservationRow.id)
            )
            return [_reservation(r) for r in s.scalars(q)]
