"""descriptive keyword sets per work: combinations of words that call up a work without
its name, matched in prompts by the generation guard

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('work_keyword_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_pk', sa.Integer(), nullable=False),
    sa.Column('lang', sa.String(length=35), nullable=False),
    sa.Column('keywords', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['work_pk'], ['works.id'], name=op.f('fk_work_keyword_sets_work_pk_works'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_keyword_sets')),
    sa.UniqueConstraint('work_pk', 'lang', 'keywords', name='uq_work_keyword_sets_work_lang_keywords')
    )
    with op.batch_alter_table('work_keyword_sets') as batch:
        batch.create_index(batch.f('ix_work_keyword_sets_work_pk'), ['work_pk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('work_keyword_sets') as batch:
        batch.drop_index(batch.f('ix_work_keyword_sets_work_pk'))
    op.drop_table('work_keyword_sets')
