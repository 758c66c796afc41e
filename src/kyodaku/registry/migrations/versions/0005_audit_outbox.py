"""the audit outbox: each audit entry committed in the transaction of the change it
records, then appended to the signed file log (seq and hash of its entry there)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('audit_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=True),
    sa.Column('logged', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_outbox'))
    )
    with op.batch_alter_table('audit_outbox') as batch:
        batch.create_index('ix_audit_outbox_logged', ['logged', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_outbox') as batch:
        batch.drop_index('ix_audit_outbox_logged')
    op.drop_table('audit_outbox')
