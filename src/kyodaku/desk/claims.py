"""Claims about outputs: filing with automatic evidence, the lifecycle, deadlines, and
the blocking of an upheld output.  Called by :class:`kyodaku.desk.service.DeskService`
(the CLI, the API and the pages all go through it)."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyodaku.desk.auth import Actor, Forbidden
from kyodaku.desk.lifecycle import ACTIONS, TERMINAL, InvalidTransition, actions_for
from kyodaku.desk.models import ClaimEventRow, ClaimRow
from kyodaku.records.holder_view import holder_verdict
from kyodaku.records.reasons import kept_captions
from kyodaku.records.store import Records
from kyodaku.registry.base import NotFound, RegistryError

__all__ = ["Claim", "ClaimEvent", "claim_view", "evidence_from_line", "keep_upload", "store_upload"]


@dataclass(frozen=True)
class ClaimEvent:
    at: datetime
    actor: str
    from_state: str | None
    to_state: str
    note: str
    due_at: datetime | None
    late: bool


@dataclass(frozen=True)
class Claim:
    id: int
    holder: str
    holder_name: str
    subject_kind: str
    decision_id: int | None
    upload_name: str | None
    upload_sha256: str | None
    work_ids: tuple[str, ...]
    description: str
    state: str
    evidence: dict[str, Any]
    resolution: str | None
    created_at: datetime
    state_changed_at: datetime
    due_at: datetime | None
    due_owner: str | None
    events: tuple[ClaimEvent, ...]
    #: the stored upload, relative to the workspace home (not shown in the API)
    upload_path: str | None = None

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_owner == "operator" and now > self.due_at

    def next_actions(self, role: str) -> list[str]:
        return [a.name for a in actions_for(self.state, role)]

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.id, "holder": self.holder, "subject_kind": self.subject_kind,
            "decision_id": self.decision_id, "upload_name": self.upload_name, "upload_sha256": self.upload_sha256,
            "work_ids": list(self.work_ids), "description": self.description, "state": self.state,
            "evidence": self.evidence, "resolution": self.resolution, "created_at": self.created_at.isoformat(),
            "state_changed_at": self.state_changed_at.isoformat(),
            "due_at": self.due_at.isoformat() if self.due_at else None, "due_owner": self.due_owner,
            "overdue": self.overdue(now),
            "events": [{"at": e.at.isoformat(), "actor": e.actor, "from": e.from_state, "to": e.to_state,
                        "note": e.note, "due_at": e.due_at.isoformat() if e.due_at else None, "late": e.late}
                       for e in self.events],
        }


def claim_view(row: ClaimRow, usernames: dict[int, str], due_owner: str | None) -> Claim:
    return Claim(row.id, row.holder.slug, row.holder.name, row.subject_kind, row.decision_id, row.upload_name,
                 row.upload_sha256, tuple(row.work_ids or ()), row.description or "", row.state,
                 holder_evidence(dict(row.evidence or {}), row.holder.slug), row.resolution, row.created_at,
                 row.state_changed_at, row.due_at,
                 due_owner if row.state not in TERMINAL else None,
                 tuple(ClaimEvent(e.at, usernames.get(e.actor_id, str(e.actor_id)), e.from_state, e.to_state,
                                  e.note or "", e.due_at, e.late) for e in row.events),
                 row.upload_path)


def store_upload(uploads_dir: Path, src: Path, name: str) -> tuple[str, str]:
    """Copy an uploaded output into ``uploads_dir`` by content; returns (path, sha256)."""
    digest = hashlib.sha256()
    with src.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    sha = digest.hexdigest()
    ext = "".join(c for c in Path(name).suffix.lower()[:8] if c.isalnum() or c == ".")
    dest = uploads_dir / sha[:2] / f"{sha}{ext}"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(dest.suffix + ".part")
        shutil.copyfile(src, tmp)
        tmp.replace(dest)
    return str(dest), sha


def keep_upload(service: Any, holder_id: int, holder: str, src: Path, name: str) -> tuple[str, str]:
    """Store a claim's uploaded output, if it may be kept: a file kyodaku can read as an
    image or video (by its bytes; the stored copy is named for what they are), within
    the upload limit and the holder's storage quota.  Anything else raises (422 / 413)
    and nothing is stored: the caller's temporary file is all there ever was."""
    from kyodaku.desk import storage

    size = storage.check_size(src, name, int(getattr(service, "max_upload_bytes", MAX_UPLOAD_DEFAULT)))
    storage.check_media(src, name)
    storage.check_quota(service, holder_id, holder, size)
    ext = storage.extension_for(src) or Path(name).suffix
    return store_upload(service.uploads_dir, src, f"{Path(name).stem}{ext}")


#: the upload limit when the desk runs without the web service's settings
MAX_UPLOAD_DEFAULT = 256 << 20


def evidence_from_line(line: dict[str, Any], holder: str, claimed: tuple[str, ...], source: str,
                       checked_at: datetime) -> dict[str, Any]:
    """What a claim shows: the scan's verdict and the matches of the claiming holder's works
    (other holders' matches are not disclosed), claimed works first, and the captions
    that name the holder or its works (for their reasons' message keys:
    :func:`~kyodaku.records.reasons.kept_captions`; other holders' are not disclosed
    either).  The verdict's reason is the holder's own
    (:func:`~kyodaku.records.holder_view.holder_verdict`), never the line's, which may
    name another holder and its work."""
    view = holder_verdict(line.get("verdict"), line.get("matches", []), {holder},
                          captions=line.get("captions", []) or [], permit_id=line.get("permit_id"))
    mine = view["matches"]
    mine.sort(key=lambda m: (m.get("work_id") not in claimed, -float(m.get("score", 0))))
    return {
        "source": source, "item": line.get("path"), "verdict": view["verdict"], "own_verdict": view["own_verdict"],
        "grounds": view["grounds"], "reason": view["reason"], "checked_at": checked_at.isoformat(),
        "matches": [{k: m[k] for k in EVIDENCE_KEYS if k in m} for m in mine],
        "captions": kept_captions(view["captions"]),
        "claimed_works_matched": sorted({m["work_id"] for m in mine} & set(claimed)),
    }


#: what a claim's evidence keeps of each of the holder's matches
EVIDENCE_KEYS = ("work_id", "holder", "score", "method", "verdict", "reason", "permit_id", "query_segment",
                 "ref_segment", "transform", "support")


def holder_evidence(evidence: dict[str, Any], holder: str) -> dict[str, Any]:
    """Evidence stored before holder views (its ``reason`` was the line's): the verdict
    and reason rebuilt from its matches (already only the holder's)."""
    if not evidence or "grounds" in evidence or "verdict" not in evidence:
        return evidence
    view = holder_verdict(evidence.get("verdict"), evidence.get("matches", []), {holder})
    return {**evidence, "own_verdict": view["own_verdict"], "grounds": view["grounds"], "reason": view["reason"],
            "matches": [m for m in evidence.get("matches", []) if m.get("holder") == holder]}


def transition(s: Session, actor: Actor, row: ClaimRow, action_name: str, note: str, now: datetime,
               due: Any, records: Records) -> ClaimEventRow:
    """Move ``row`` by ``action_name`` (checks role, state, note and windows); returns the event."""
    action = ACTIONS.get(action_name)
    if action is None:
        raise RegistryError(f"unknown action {action_name!r} (one of: {', '.join(ACTIONS)})")
    if actor.role != action.role:
        raise Forbidden(f"only a{'n' if action.role[0] in 'aeiou' else ''} {action.role} may {action.name} a claim")
    if row.state not in action.sources:
        raise InvalidTransition(f"claim {row.id} is {row.state}; {action.name} needs it "
                                f"{' or '.join(action.sources)}")
    note = (note or "").strip()
    if action.needs_note and not note:
        raise RegistryError(f"{action.name} needs a note giving the reasons")
    if action.before_deadline and row.due_at is not None and now > row.due_at:
        raise InvalidTransition(f"the window to {action.name} closed at {row.due_at.isoformat()}")
    if action.after_deadline and row.due_at is not None and now <= row.due_at:
        raise InvalidTransition(f"{action.name} is possible after {row.due_at.isoformat()} (the holder may "
                                "still dispute)")
    late = row.due_at is not None and now > row.due_at and due.owner(row.state) == "operator"
    event = ClaimEventRow(at=now, actor_id=actor.account_id, from_state=row.state, to_state=action.target,
                          note=note, late=late)
    row.events.append(event)
    row.state, row.state_changed_at = action.target, now
    row.due_at = due.claim_due(action.target, filed_at=row.created_at, entered_at=now)
    event.due_at = row.due_at
    if action.name in ("uphold", "resolve_uphold"):
        row.resolution = note
        line = {"path": f"claim:{row.id}", "verdict": "blocked", "reason": f"claim {row.id} upheld: {note}",
                "claim_id": row.id, "subject": row.evidence.get("item"), "sha256": row.upload_sha256,
                "decision_id": row.decision_id, "matches": row.evidence.get("matches", [])}
        row.evidence = {**row.evidence, "blocking_decision_id": records.record_decision(s, "claim", line)}
    elif action.name in ("reject", "resolve_reject", "close"):
        row.resolution = note or row.resolution
    return event


def visible_claim(s: Session, actor: Actor, claim_id: int) -> ClaimRow:
    row = s.get(ClaimRow, claim_id)
    if row is None or not actor.can_see_holder(row.holder_id):
        raise NotFound(f"no claim {claim_id}")
    return row


def claims_query(actor: Actor, state: str | None = None) -> Any:
    q = select(ClaimRow).order_by(ClaimRow.id)
    if not actor.sees_everything:
        q = q.where(ClaimRow.holder_id.in_(sorted(actor.holder_ids) or [-1]))
    if state:
        q = q.where(ClaimRow.state == state)
    return q
