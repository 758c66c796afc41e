"""What the guard's loaded state depends on, as one cheap value: when it changes, the
reference set, indexes, policy view and aliases are loaded again.

The registry's part is a handful of aggregates (counts, largest ids, latest revocation,
withdrawal and fingerprinting times; keyword sets too, so the digest covers what prompt
screening matched against), the reference set's the modification times of the
fingerprint stores' ``refs.json`` and the indexes' ``meta.json``, and the date (permits
are valid per day).  One call costs a few milliseconds; :class:`~kyodaku.guard.screen.Guard`
makes it at most once a second.

:func:`registry_digest` turns a stamp into one stable string (``sha256:`` and 64 hex
digits): the guard records it with every decision (``registry_digest`` in the decision's
line) and a signed output's screening assertion carries it, so ``kyodaku verify`` can tell
that the manifest names the registry state the decision was made against.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from kyodaku.registry.models import (
    AliasRow,
    HolderRow,
    KeywordSetRow,
    MediaRow,
    PermitEventRow,
    PermitRow,
    ReservationRow,
    WorkRow,
)
from kyodaku.workspace import Workspace

__all__ = ["registry_digest", "registry_stamp"]


def _mtimes(folder: Path, name: str) -> tuple[tuple[str, int], ...]:
    out = []
    for p in sorted(folder.glob(f"*/{name}")):
        try:
            out.append((p.parent.name, p.stat().st_mtime_ns))
        except OSError:
            continue
    return tuple(out)


def registry_stamp(workspace: Workspace, policy_file: Path | None = None) -> tuple[Any, ...]:
    """A value that changes whenever a screening's verdict could (see the module)."""
    with workspace.session() as s:
        parts: list[Any] = []
        for q in (select(func.count(HolderRow.id), func.max(HolderRow.id)),
                  select(func.count(WorkRow.id), func.max(WorkRow.id)),
                  select(func.count(AliasRow.id), func.max(AliasRow.id)),
                  select(func.count(KeywordSetRow.id), func.max(KeywordSetRow.id)),
                  select(func.count(MediaRow.id), func.max(MediaRow.id), func.max(MediaRow.fingerprinted_at)),
                  select(func.count(PermitRow.id), func.max(PermitRow.id), func.max(PermitRow.revoked_at)),
                  select(func.count(PermitEventRow.id), func.max(PermitEventRow.id)),
                  select(func.count(ReservationRow.id), func.max(ReservationRow.id),
                         func.max(ReservationRow.withdrawn_at))):
            parts.append(tuple(s.execute(q).one()))
    policy_mtime = None
    if policy_file is not None:
        try:
            policy_mtime = Path(policy_file).stat().st_mtime_ns
        except OSError:
            policy_mtime = -1
    return (tuple(parts), _mtimes(workspace.fingerprints_dir, "refs.json"), _mtimes(workspace.index_dir, "meta.json"),
            policy_mtime, date.today().isoformat())


def registry_digest(stamp: tuple[Any, ...]) -> str:
    """A stable digest string of a :func:`registry_stamp` value: the same registry and
    reference-set state gives the same string (canonical JSON, datetimes as ISO text)."""
    text = json.dumps(stamp, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v),
                      separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()
