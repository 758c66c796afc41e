"""The shipped Alembic migrations build exactly the schema of the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from kyodaku.registry.migrate import alembic_config, current_revision, head_revision
from kyodaku.schema import Base
from kyodaku.workspace import Workspace


def test_migrations_match_models(workspace: Workspace) -> None:
    with workspace.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(workspace: Workspace) -> None:
    with workspace.engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "base")
    assert current_revision(workspace.engine) is None
    assert "works" not in inspect(workspace.engine).get_table_names()
    Workspace.init(workspace.home, workspace.database_url).dispose()
    assert current_revision(workspace.engine) == head_revision()
