"""SQLAlchemy models of the scan records: scans and the decisions they made.

A scan records every item it matched or did not clear (with the matched works, scores,
permits and reasons); items cleared with no match at all are only counted in the scan's
totals, so a million-item corpus does not become a million rows.  Claims and inquiries
(:mod:`kyodaku.desk`) read these records.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kyodaku.registry.base import utcnow
from kyodaku.registry.models import Base, UTCDateTime

__all__ = ["DecisionRow", "DecisionWorkRow", "ScanRow"]

VERDICTS = "('blocked', 'review', 'cleared', 'error')"
#: where a decision was made: a scan, a one-file check, a claim upheld, the generation guard
SOURCES = "('scan', 'check', 'claim', 'screen')"


class ScanRow(Base):
    __tablename__ = "scans"
    __table_args__ = (CheckConstraint("use IN ('training', 'generation')", name="use"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    licensee: Mapped[str] = mapped_column(String(200), index=True)
    use: Mapped[str] = mapped_column(String(16))
    on_date: Mapped[date] = mapped_column(Date)
    inputs: Mapped[list[str]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(f"verdict IN {VERDICTS}", name="verdict"),
        CheckConstraint(f"source IN {SOURCES}", name="source"),
        Index("ix_decisions_scan_item", "scan_id", "item"),
        Index("ix_decisions_source_created", "source", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))
    item: Mapped[str] = mapped_column(String(2000))
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    permit_id: Mapped[int | None] = mapped_column(Integer)
    line: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    works: Mapped[list[DecisionWorkRow]] = relationship(
        back_populates="decision", cascade="all, delete-orphan", order_by="DecisionWorkRow.id"
    )


class DecisionWorkRow(Base):
    """One matched work of a decision (what an inquiry filters on)."""

    __tablename__ = "decision_works"
    __table_args__ = (Index("ix_decision_works_holder_work", "holder", "work_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    work_id: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(16))
    permit_id: Mapped[int | None] = mapped_column(Integer)

    decision: Mapped[DecisionRow] = relationship(back_populates="works")
