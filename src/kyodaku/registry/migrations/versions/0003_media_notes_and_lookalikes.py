"""reference media: a note for the registrant (too plain to be found), and near-identical
registrations of different works

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('media') as batch:
        batch.add_column(sa.Column('fingerprint_note', sa.Text(), nullable=True))
    op.create_table('media_lookalikes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('media_pk', sa.Integer(), nullable=False),
    sa.Column('other_media_pk', sa.Integer(), nullable=False),
    sa.Column('distance', sa.Integer(), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['media_pk'], ['media.id'], name=op.f('fk_media_lookalikes_media_pk_media'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_media_pk'], ['media.id'], name=op.f('fk_media_lookalikes_other_media_pk_media'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_lookalikes')),
    sa.UniqueConstraint('media_pk', 'other_media_pk', name='uq_media_lookalikes_pair')
    )
    with op.batch_alter_table('media_lookalikes') as batch:
        batch.create_index(batch.f('ix_media_lookalikes_media_pk'), ['media_pk'], unique=False)
        batch.create_index(batch.f('ix_media_lookalikes_other_media_pk'), ['other_media_pk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('media_lookalikes') as batch:
        batch.drop_index(batch.f('ix_media_lookalikes_other_media_pk'))
        batch.drop_index(batch.f('ix_media_lookalikes_media_pk'))
    op.drop_table('media_lookalikes')
    with op.batch_alter_table('media') as batch:
        batch.drop_column('fingerprint_note')
