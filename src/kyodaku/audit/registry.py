"""Registry changes in the audit log, in one form whichever front end made them.

The registry writes these entries itself, in the transaction of each change
(:class:`~kyodaku.registry.sql.SqlRegistry` through :mod:`kyodaku.audit.outbox`), so the
desk, the CLI and a program using the library all leave the same kinds and fields, and a
regulator reading the log sees every permit granted or revoked and every reservation,
whoever made it.  ``by`` names who: a desk account, ``cli:USER`` for a command run by USER
on the workspace's machine, ``library:USER`` for a program.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kyodaku.registry.base import Holder, Permit, Reservation, Work
    from kyodaku.workspace import Workspace


__all__ = ["aliases_entry", "append", "cli_actor", "conflict_entry", "holder_entry", "library_actor",
           "permit_entry", "reservation_entry", "work_entry"]


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "unknown"


def cli_actor() -> str:
    """``cli:USER``: a command run on the workspace's machine by USER."""
    return f"cli:{_user()}"


def library_actor() -> str:
    """``library:USER``: a program calling kyodaku's library, run by USER."""
    return f"library:{_user()}"


def holder_entry(h: Holder, by: str) -> dict[str, Any]:
    return {"holder": h.slug, "event": "added", "name": h.name, "jurisdiction": h.jurisdiction, "by": by}


def work_entry(w: Work, by: str) -> dict[str, Any]:
    return {"work": w.work_id, "holder": w.holder, "title": w.title, "by": by}


def aliases_entry(w: Work, by: str) -> dict[str, Any]:
    return {"work": w.work_id, "holder": w.holder, "aliases": [a.text for a in w.aliases], "by": by}


def permit_entry(p: Permit, event: str, by: str, reason: str | None = None) -> dict[str, Any]:
    entry = {"permit": p.id, "event": event, "holder": p.holder, "licensee": p.licensee, "use": p.use,
             "scope": p.scope, "by": by}
    if event == "granted":
        entry["valid_from"] = p.valid_from.isoformat()
        entry["valid_until"] = p.valid_until.isoformat() if p.valid_until else None
    if reason is not None:
        entry["reason"] = reason
    return entry


def reservation_entry(r: Reservation, event: str, by: str) -> dict[str, Any]:
    return {"reservation": r.id, "event": event, "holder": r.holder, "use": r.use, "scope": r.scope, "by": by}


def conflict_entry(work_id: str, other_work: str, holders: tuple[str | None, str | None],
                   distance: int) -> dict[str, Any]:
    """Found on fingerprinting: two holders registered near-identical pictures (PDQ
    ``distance`` bits apart); who claims what, for the registry's operator to settle."""
    return {"work": work_id, "other_work": other_work, "holders": list(holders), "distance": distance,
            "event": "found"}


def append(workspace: Workspace, kind: str, entries: Iterable[dict[str, Any]]) -> None:
    """Log ``entries`` (none: nothing) of ``kind`` for something that is not a registry
    change (the registry logs its own): committed to the audit outbox in one transaction,
    then appended to the workspace's audit log."""
    from kyodaku.audit.outbox import drain_workspace, record

    rows = list(entries)
    if rows:
        with workspace.session() as s:
            for data in rows:
                record(s, kind, data)
        drain_workspace(workspace, quiet=True)
