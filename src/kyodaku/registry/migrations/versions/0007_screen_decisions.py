"""the generation guard's decisions: 'screen' is a decision source; decisions are found
by source and time (the desk's weekly counts, inquiries about screenings)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('decisions') as batch:
        batch.drop_constraint(op.f('ck_decisions_source'), type_='check')
        batch.create_check_constraint('source', "source IN ('scan', 'check', 'claim', 'screen')")
        batch.create_index('ix_decisions_source_created', ['source', 'created_at'], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM decisions WHERE source = 'screen'")
    with op.batch_alter_table('decisions') as batch:
        batch.drop_index('ix_decisions_source_created')
        batch.drop_constraint(op.f('ck_decisions_source'), type_='check')
        batch.create_check_constraint('source', "source IN ('scan', 'check', 'claim')")
