"""wrong passwords per account and client address (sign-in is locked per account and
client, with a higher cap per account across all clients)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('client', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_login_failures_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures') as batch:
        batch.create_index(batch.f('ix_login_failures_account_id'), ['account_id'], unique=False)
        batch.create_index('ix_login_failures_account_client_at', ['account_id', 'client', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failures') as batch:
        batch.drop_index('ix_login_failures_account_client_at')
        batch.drop_index(batch.f('ix_login_failures_account_id'))
    op.drop_table('login_failures')
