"""The rights registry: holders, works and their reference media, permits, reservations.

Use the :class:`Registry` interface (``workspace.registry``); it returns frozen records.
"""

from kyodaku.registry.base import (
    ALL_WORKS,
    USES,
    WORK_KINDS,
    Alias,
    Conflict,
    Holder,
    Media,
    NotFound,
    Permit,
    PermitEvent,
    Registry,
    RegistryError,
    Reservation,
    Work,
)
from kyodaku.registry.sql import SqlRegistry

__all__ = [
    "ALL_WORKS",
    "USES",
    "WORK_KINDS",
    "Alias",
    "Conflict",
    "Holder",
    "Media",
    "NotFound",
    "Permit",
    "PermitEvent",
    "Registry",
    "RegistryError",
    "Reservation",
    "SqlRegistry",
    "Work",
]
