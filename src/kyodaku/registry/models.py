"""SQLAlchemy 2 declarative models of the registry (portable: SQLite and PostgreSQL).

Schema changes go through an Alembic revision in ``registry/migrations/versions``;
``tests/registry/test_migrations.py`` checks that the migrations match these models.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kyodaku.registry.base import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: use timezone-aware datetimes")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


permit_works = Table(
    "permit_works",
    Base.metadata,
    Column("permit_id", ForeignKey("permits.id", ondelete="CASCADE"), primary_key=True),
    Column("work_pk", ForeignKey("works.id", ondelete="RESTRICT"), primary_key=True, index=True),
)

reservation_works = Table(
    "reservation_works",
    Base.metadata,
    Column("reservation_id", ForeignKey("reservations.id", ondelete="CASCADE"), primary_key=True),
    Column("work_pk", ForeignKey("works.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class HolderRow(Base):
    __tablename__ = "holders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    jurisdiction: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkRow(Base):
    __tablename__ = "works"
    __table_args__ = (CheckConstraint("kind IN ('image', 'video')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_id: Mapped[str] = mapped_column(String(64), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    holder: Mapped[HolderRow] = relationship(lazy="joined", innerjoin=True)
    aliases: Mapped[list[AliasRow]] = relationship(
        back_populates="work", cascade="all, delete-orphan", order_by="AliasRow.id"
    )
    media: Mapped[list[MediaRow]] = relationship(
        back_populates="work", cascade="all, delete-orphan", order_by="MediaRow.id"
    )
    keyword_sets: Mapped[list[KeywordSetRow]] = relationship(
        back_populates="work", cascade="all, delete-orphan", order_by="KeywordSetRow.id"
    )


class AliasRow(Base):
    __tablename__ = "work_aliases"
    __table_args__ = (UniqueConstraint("work_pk", "alias", "lang", name="uq_work_aliases_work_alias_lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_pk: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(500), index=True)
    lang: Mapped[str | None] = mapped_column(String(35))

    work: Mapped[WorkRow] = relationship(back_populates="aliases")


class KeywordSetRow(Base):
    """Descriptive keywords that together call up a work without its name (the generation
    guard's prompt screening); ``keywords`` is the set as a JSON list, normalised and sorted."""

    __tablename__ = "work_keyword_sets"
    __table_args__ = (UniqueConstraint("work_pk", "lang", "keywords", name="uq_work_keyword_sets_work_lang_keywords"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_pk: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(35))
    keywords: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    work: Mapped[WorkRow] = relationship(back_populates="keyword_sets")


class MediaRow(Base):
    __tablename__ = "media"
    __table_args__ = (
        UniqueConstraint("work_pk", "sha256", name="uq_media_work_sha256"),
        CheckConstraint("kind IN ('image', 'video')", name="kind"),
        Index("ix_media_pending", "fingerprinted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_pk: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(String(1000))
    original_name: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    fingerprinted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fingerprint_error: Mapped[str | None] = mapped_column(Text)
    #: what the registrant should know about a fingerprinted file (e.g. too plain to be found)
    fingerprint_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    work: Mapped[WorkRow] = relationship(back_populates="media")


class LookalikeRow(Base):
    """A reference image near-identical to one registered before it under another work
    (found when the later one was fingerprinted; one row per pair)."""

    __tablename__ = "media_lookalikes"
    __table_args__ = (UniqueConstraint("media_pk", "other_media_pk", name="uq_media_lookalikes_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_pk: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    other_media_pk: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    distance: Mapped[int] = mapped_column(Integer)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PermitRow(Base):
    __tablename__ = "permits"
    __table_args__ = (
        CheckConstraint("use IN ('training', 'generation')", name="use"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="dates"),
        Index("ix_permits_licensee_use", "licensee", "use"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id", ondelete="RESTRICT"), index=True)
    licensee: Mapped[str] = mapped_column(String(200))
    use: Mapped[str] = mapped_column(String(16))
    all_works: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    holder: Mapped[HolderRow] = relationship(lazy="joined", innerjoin=True)
    works: Mapped[list[WorkRow]] = relationship(secondary=permit_works, order_by="WorkRow.work_id")
    events: Mapped[list[PermitEventRow]] = relationship(
        back_populates="permit", cascade="all, delete-orphan", order_by="PermitEventRow.id"
    )


class PermitEventRow(Base):
    __tablename__ = "permit_events"
    __table_args__ = (CheckConstraint("event IN ('granted', 'revoked')", name="event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("permits.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)

    permit: Mapped[PermitRow] = relationship(back_populates="events")


class ReservationRow(Base):
    __tablename__ = "reservations"
    __table_args__ = (CheckConstraint("use IN ('training', 'generation')", name="use"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id", ondelete="RESTRICT"), index=True)
    use: Mapped[str] = mapped_column(String(16))
    all_works: Mapped[bool] = mapped_column(Boolean)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    holder: Mapped[HolderRow] = relationship(lazy="joined", innerjoin=True)
    works: Mapped[list[WorkRow]] = relationship(secondary=reservation_works, order_by="WorkRow.work_id")
