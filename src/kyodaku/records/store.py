"""Scan records: what each scan decided, kept in the workspace database.

:class:`ScanRecorder` is fed the scan's result lines in batches (the same batches the
audit log gets).  It keeps every line that matched a registered work or was not cleared,
and counts the rest, so a million clean items do not become a million rows.  A resumed
scan continues the same record; a batch written twice (a crash between the record and
the results file) replaces its earlier rows instead of doubling them.

:class:`Records` reads them back (for claims and inquiries in :mod:`kyodaku.desk`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kyodaku.records.counts import HolderCounts, count_lines
from kyodaku.records.models import DecisionRow, DecisionWorkRow, ScanRow
from kyodaku.registry.base import NotFound, utcnow

__all__ = ["Decision", "Records", "ScanRecord", "ScanRecorder", "keep_line", "record_screening", "screen_record_name",
           "weekly_screen_counts"]


@dataclass(frozen=True)
class ScanRecord:
    id: int
    name: str
    licensee: str
    use: str
    on: date
    inputs: tuple[str, ...]
    started_at: datetime
    finished_at: datetime | None
    totals: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    id: int
    scan_id: int | None
    source: str
    item: str
    verdict: str
    reason: str | None
    permit_id: int | None
    line: dict[str, Any]
    created_at: datetime

    @property
    def holders(self) -> set[str]:
        return {m.get("holder") for m in self.line.get("matches", []) if m.get("holder")}


def _scan(row: ScanRow) -> ScanRecord:
    return ScanRecord(row.id, row.name, row.licensee, row.use, row.on_date, tuple(row.inputs or ()),
                      row.started_at, row.finished_at, dict(row.totals or {}))


def _decision(row: DecisionRow) -> Decision:
    return Decision(row.id, row.scan_id, row.source, row.item, row.verdict, row.reason, row.permit_id,
                    dict(row.line or {}), row.created_at)


def keep_line(line: dict[str, Any]) -> bool:
    """Is this result line kept as a record (matched something, or not cleared)?"""
    return line.get("verdict") != "cleared" or bool(line.get("matches")) or bool(line.get("signals")) \
        or bool(line.get("captions"))


def _decision_row(scan_id: int | None, source: str, line: dict[str, Any]) -> DecisionRow:
    row = DecisionRow(scan_id=scan_id, source=source, item=str(line["path"])[:2000], verdict=line["verdict"],
                      reason=line.get("reason"), permit_id=line.get("permit_id"), line=line, created_at=utcnow())
    for m in line.get("matches", []):
        if m.get("work_id") and m.get("holder"):
            row.works.append(DecisionWorkRow(work_id=m["work_id"], holder=m["holder"],
                                             score=float(m.get("score", 0.0)),
                                             verdict=m.get("verdict") or line["verdict"],
                                             permit_id=m.get("permit_id")))
    return row


class ScanRecorder:
    """Records one scan (new, or resumed: ``resume=True`` continues the newest unfinished
    record of the same name, licensee and use, else the newest finished one: resuming a
    scan that had finished adds what it lacked to the same record, not a second one)."""

    def __init__(self, session_factory: Any, *, name: str, licensee: str, use: str, on: date,
                 inputs: Sequence[str], resume: bool = False) -> None:
        self._sessions = session_factory
        with self._sessions() as s:
            row = None
            if resume:  # the newest unfinished record of the scan, else its newest finished one
                same = select(ScanRow).where(ScanRow.name == name, ScanRow.licensee == licensee,
                                             ScanRow.use == use).order_by(ScanRow.id.desc()).limit(1)
                row = s.scalars(same.where(ScanRow.finished_at.is_(None))).first() or s.scalars(same).first()
            if row is None:
                row = ScanRow(name=name, licensee=licensee, use=use, on_date=on, inputs=list(inputs),
                              started_at=utcnow(), totals={})
                s.add(row)
                s.flush()
            self.scan_id = row.id

    def add(self, lines: Iterable[dict[str, Any]]) -> None:
        kept = [x for x in lines if keep_line(x)]
        if not kept:
            return
        with self._sessions() as s:
            items = [str(x["path"])[:2000] for x in kept]
            s.execute(delete(DecisionRow).where(DecisionRow.scan_id == self.scan_id, DecisionRow.item.in_(items)))
            s.add_all(_decision_row(self.scan_id, "scan", x) for x in kept)

    def finish(self, totals: dict[str, Any]) -> None:
        with self._sessions() as s:
            row = s.get(ScanRow, self.scan_id)
            assert row is not None
            merged = dict(row.totals or {})
            for k, v in totals.items():  # a resumed scan adds to what the first run counted
                merged[k] = merged.get(k, 0) + v if isinstance(v, int) else v
            row.totals = merged
            row.finished_at = utcnow()


class Records:
    """Read access to the scan records (no tenancy here: :mod:`kyodaku.desk` filters)."""

    def __init__(self, session_factory: Any) -> None:
        self._sessions = session_factory

    def scans(self, name: str | None = None) -> list[ScanRecord]:
        with self._sessions() as s:
            q = select(ScanRow).order_by(ScanRow.id)
            if name is not None:
                q = q.where(ScanRow.name == name)
            return [_scan(r) for r in s.scalars(q)]

    def scan(self, scan_id: int) -> ScanRecord:
        with self._sessions() as s:
            row = s.get(ScanRow, scan_id)
            if row is None:
                raise NotFound(f"no scan {scan_id}")
            return _scan(row)

    def decision(self, decision_id: int) -> Decision:
        with self._sessions() as s:
            row = s.get(DecisionRow, decision_id)
            if row is None:
                raise NotFound(f"no decision {decision_id}")
            return _decision(row)

    def decisions(self, scan_id: int, holder: str | None = None, work_ids: Iterable[str] | None = None,
                  limit: int | None = None) -> list[Decision]:
        """Decisions of one scan, optionally only those matching a holder's works."""
        with self._sessions() as s:
            return [_decision(r) for r in s.scalars(self._decisions_query(scan_id, holder, work_ids, limit))]

    @staticmethod
    def _decisions_query(scan_id: int, holder: str | None, work_ids: Iterable[str] | None,
                         limit: int | None) -> Any:
        q = select(DecisionRow).where(DecisionRow.scan_id == scan_id).order_by(DecisionRow.id)
        if holder is not None or work_ids is not None:
            sub = select(DecisionWorkRow.decision_id)
            if holder is not None:
                sub = sub.where(DecisionWorkRow.holder == holder)
            if work_ids is not None:
                sub = sub.where(DecisionWorkRow.work_id.in_(list(work_ids)))
            q = q.where(DecisionRow.id.in_(sub))
        return q.limit(limit) if limit else q

    def holder_counts(self, scan_id: int, holder: str | None = None,
                      work_ids: Iterable[str] | None = None) -> dict[str, HolderCounts]:
        """Per holder (or only ``holder``; only matches of ``work_ids`` when given): its
        items in one scan, counted by :func:`kyodaku.records.counts.count_lines` (the
        report's, the auditor page's and the inquiry's counting).  Items cleared without
        any match are not recorded, and count for no holder anyway."""
        works = list(work_ids) if work_ids is not None else None
        q = self._decisions_query(scan_id, holder, works, None).with_only_columns(DecisionRow.line)
        with self._sessions() as s:
            lines = (line or {} for line in s.scalars(q.execution_options(yield_per=1000)))
            return count_lines(lines, holders={holder} if holder is not None else None,
                               works=set(works) if works is not None else None)

    def record_decision(self, session: Session, source: str, line: dict[str, Any]) -> int:
        """A decision made outside a scan (a claim upheld, a one-file check), in ``session``."""
        row = _decision_row(None, source, line)
        session.add(row)
        session.flush()
        return row.id



# -- the generation guard's screenings (kyodaku.guard) ---------------------------------------
def screen_record_name(at: datetime) -> str:
    """The scan record a screening at ``at`` belongs to: one per calendar month (UTC),
    ``screen YYYY-MM``, so an inquiry about ``screen 2026-12`` is answered from them."""
    return f"screen {at:%Y-%m}"


def record_screening(session: Session, line: dict[str, Any], *, licensee: str, at: datetime) -> int:
    """Record one screening (every one, cleared or not) in ``session`` under its month's
    scan record (created on the month's first screening); returns the decision id."""
    name = screen_record_name(at)
    row = session.scalars(select(ScanRow).where(ScanRow.name == name, ScanRow.licensee == licensee,
                                                ScanRow.use == "generation").order_by(ScanRow.id).limit(1)).first()
    if row is None:
        row = ScanRow(name=name, licensee=licensee, use="generation", on_date=at.date(), inputs=["screen"],
                      started_at=at, totals={})
        session.add(row)
        session.flush()
    totals = dict(row.totals or {})
    totals["files"] = totals.get("files", 0) + 1
    totals[line["verdict"]] = totals.get(line["verdict"], 0) + 1
    row.totals = totals
    row.finished_at = at
    decision = _decision_row(row.id, "screen", line)
    decision.created_at = at
    session.add(decision)
    session.flush()
    return decision.id


def weekly_screen_counts(session_factory: Any, holders: Iterable[str] | None, since: datetime) -> list[dict[str, Any]]:
    """Per ISO week, holder and work: screened outputs blocked, sent to review, cleared by
    a permit (and cleared otherwise), from the screenings since ``since``; ``holders``
    None: every holder."""
    with session_factory() as s:
        q = (select(DecisionWorkRow.holder, DecisionWorkRow.work_id, DecisionWorkRow.verdict,
                    DecisionWorkRow.permit_id, DecisionRow.created_at)
             .join(DecisionRow, DecisionRow.id == DecisionWorkRow.decision_id)
             .where(DecisionRow.source == "screen", DecisionRow.created_at >= since))
        if holders is not None:
            q = q.where(DecisionWorkRow.holder.in_(list(holders)))
        counts: dict[tuple[str, str, str], dict[str, Any]] = {}
        for holder, work_id, verdict, permit_id, created in s.execute(q):
            year, week, _ = created.isocalendar()
            key = (f"{year}-W{week:02d}", holder, work_id)
            c = counts.setdefault(key, {"week": key[0], "holder": holder, "work_id": work_id, "blocked": 0,
                                        "review": 0, "cleared_by_permit": 0, "cleared": 0})
            if verdict == "cleared":
                c["cleared_by_permit" if permit_id is not None else "cleared"] += 1
            elif verdict in ("blocked", "review"):
                c[verdict] += 1
        return [counts[k] for k in sorted(counts, key=lambda k: (k[0], k[1], k[2]), reverse=False)]
