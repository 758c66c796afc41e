"""Registry changes in the audit log, in one form whichever front end made them.

The desk appends its own changes (accounts, works, aliases, permits) as it makes them; the
CLI and the library append theirs here, with the same kinds and fields, so that a
regulator reading the log sees every permit granted or revoked and every reservation,
whoever made it.  ``by`` names who: a desk account, or ``cli:USER`` for a command run by
USER on the workspace's machine.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kyodaku.audit.log import AuditLog

if TYPE_CHECKING:
    from kyodaku.registry.base import Holder, Permit, Reservation, Work
    from kyodaku.workspace import Workspace


def cli_actor() -> str:
    """``cli:USER``: a command run on the workspace's machine by USER."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = "unknown"
    return f"cli:{user}"


def holder_entry(h: Holder, by: str) -> dict[str, Any]:
    return {"holder": h.slug, "event": "added", "name": h.name, "jurisdiction": h.jurisdiction, "by": by}


def work_entry(w: Work, by: str) -> dict[str, Any]:
    return {"work": w.work_id, "holder": w.holder, "title": w.title, "by": by}


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
    """Append ``entries`` (none: nothing) of ``kind`` to the workspace's audit log."""
    rows = list(entries)
    if rows:
        AuditLog.for_workspace(workspace).append_many(kind, rows)
