"""The whole database schema in one place: the registry, the scan records and the desk
share one SQLAlchemy metadata and one Alembic history (``registry/migrations``)."""

from __future__ import annotations

import kyodaku.desk.models as _desk_models  # noqa: F401  (registers the desk tables)
import kyodaku.records.models as _records_models  # noqa: F401  (registers the record tables)
from kyodaku.registry.models import Base

__all__ = ["Base", "metadata"]

metadata = Base.metadata
