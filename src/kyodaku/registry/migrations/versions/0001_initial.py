"""initial registry schema: holders, works, aliases, media, permits, events, reservations

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "holders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("jurisdiction", sa.String(length=16), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holders")),
        sa.UniqueConstraint("slug", name=op.f("uq_holders_slug")),
    )
    op.create_table(
        "works",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.String(length=64), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint("kind IN ('image', 'video')", name=op.f("ck_works_kind")),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["holders.id"], name=op.f("fk_works_holder_id_holders"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_works")),
        sa.UniqueConstraint("work_id", name=op.f("uq_works_work_id")),
    )
    op.create_index(op.f("ix_works_holder_id"), "works", ["holder_id"])

    op.create_table(
        "work_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=500), nullable=False),
        sa.Column("lang", sa.String(length=35), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_pk"], ["works.id"], name=op.f("fk_work_aliases_work_pk_works"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_aliases")),
        sa.UniqueConstraint("work_pk", "alias", "lang", name="uq_work_aliases_work_alias_lang"),
    )
    op.create_index(op.f("ix_work_aliases_alias"), "work_aliases", ["alias"])
    op.create_index(op.f("ix_work_aliases_work_pk"), "work_aliases", ["work_pk"])

    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("original_name", sa.String(length=1000), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        _ts("fingerprinted_at", nullable=True),
        sa.Column("fingerprint_error", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint("kind IN ('image', 'video')", name=op.f("ck_media_kind")),
        sa.ForeignKeyConstraint(
            ["work_pk"], ["works.id"], name=op.f("fk_media_work_pk_works"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
        sa.UniqueConstraint("work_pk", "sha256", name="uq_media_work_sha256"),
    )
    op.create_index("ix_media_pending", "media", ["fingerprinted_at"])
    op.create_index(op.f("ix_media_sha256"), "media", ["sha256"])
    op.create_index(op.f("ix_media_work_pk"), "media", ["work_pk"])

    op.create_table(
        "permits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("licensee", sa.String(length=200), nullable=False),
        sa.Column("use", sa.String(length=16), nullable=False),
        sa.Column("all_works", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("use IN ('training', 'generation')", name=op.f("ck_permits_use")),
        sa.CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name=op.f("ck_permits_dates")),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["holders.id"], name=op.f("fk_permits_holder_id_holders"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permits")),
    )
    op.create_index(op.f("ix_permits_holder_id"), "permits", ["holder_id"])
    op.create_index("ix_permits_licensee_use", "permits", ["licensee", "use"])

    op.create_table(
        "permit_works",
        sa.Column("permit_id", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["permit_id"], ["permits.id"], name=op.f("fk_permit_works_permit_id_permits"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["work_pk"], ["works.id"], name=op.f("fk_permit_works_work_pk_works"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("permit_id", "work_pk", name=op.f("pk_permit_works")),
    )
    op.create_index(op.f("ix_permit_works_work_pk"), "permit_works", ["work_pk"])

    op.create_table(
        "permit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("permit_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        _ts("at"),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint("event IN ('granted', 'revoked')", name=op.f("ck_permit_events_event")),
        sa.ForeignKeyConstraint(
            ["permit_id"], ["permits.id"], name=op.f("fk_permit_events_permit_id_permits"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_events")),
    )
    op.create_index(op.f("ix_permit_events_permit_id"), "permit_events", ["permit_id"])

    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("use", sa.String(length=16), nullable=False),
        sa.Column("all_works", sa.Boolean(), nullable=False),
        _ts("declared_at"),
        _ts("withdrawn_at", nullable=True),
        sa.CheckConstraint("use IN ('training', 'generation')", name=op.f("ck_reservations_use")),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["holders.id"], name=op.f("fk_reservations_holder_id_holders"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    op.create_index(op.f("ix_reservations_holder_id"), "reservations", ["holder_id"])

    op.create_table(
        "reservation_works",
        sa.Column("reservation_id", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_reservation_works_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_pk"], ["works.id"], name=op.f("fk_reservation_works_work_pk_works"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("reservation_id", "work_pk", name=op.f("pk_reservation_works")),
    )
    op.create_index(op.f("ix_reservation_works_work_pk"), "reservation_works", ["work_pk"])


def downgrade() -> None:
    for table in (
        "reservation_works",
        "reservations",
        "permit_events",
        "permit_works",
        "permits",
        "media",
        "work_aliases",
        "works",
        "holders",
    ):
        op.drop_table(table)
