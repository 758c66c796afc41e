"""Does every change recorded in the database have its entry in the audit log?

:func:`check_workspace` drains the audit outbox (:mod:`kyodaku.audit.outbox`), then adds a
:class:`~kyodaku.audit.log.Problem` to a verify report
(:func:`verify_workspace` does all three: drain, verify the file, check) for

- an outbox row still pending (committed, not appended: the drain failed, reason given);
- an outbox row whose entry is not in the file at the seq, with the hash, it was given;
- a change kept in the database's own tables with no matching entry in the log: every
  holder, work, permit grant and revocation, reservation declared and withdrawn, desk
  account, API key created and revoked, webhook registered, claim step (each claim
  event) and inquiry, matched by its id; a permit whose terms in the database differ
  from those its entry recorded.

The file is read once.  An auditor with the log and the public key only, and no database,
verifies the file alone (:func:`kyodaku.audit.log.verify`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kyodaku.audit.log import AUDIT_DIR, LOG_FILE, Problem, VerifyReport, read_entries, verify
from kyodaku.audit.outbox import AuditOutboxRow, drain_workspace

if TYPE_CHECKING:
    from kyodaku.workspace import Workspace

__all__ = ["check_workspace", "verify_workspace"]


def _describe(kind: str, data: dict[str, Any]) -> str:
    """A row's entry in words: ``claim 17 (file -> filed)``, ``permit 3 granted``..."""
    for key in ("claim", "permit", "reservation", "api_key", "webhook", "inquiry", "work", "holder"):
        if key in data and (kind == key or key == "claim"):
            what = f"{key.replace('_', ' ')} {data[key]}"
            if kind == "claim":
                return f"{what} ({data.get('action')} -> {data.get('to')})"
            return f"{what} {data['event']}" if "event" in data else what
    if kind == "account":
        return f"account {data.get('username')!r}"
    if kind == "aliases":
        return f"aliases of work {data.get('work')}"
    return kind


def _outbox_problems(rows: Iterable[AuditOutboxRow], by_seq: dict[int, tuple[int, dict[str, Any]]],
                     drain_error: str | None) -> list[Problem]:
    problems: list[Problem] = []
    pending = []
    for r in rows:
        what = _describe(r.kind, r.data or {})
        if not r.logged:
            pending.append(what)
            continue
        found = by_seq.get(int(r.seq)) if r.seq is not None else None
        if found is None:
            problems.append(Problem("unlogged", f"{what} (audit row {r.id}): its entry seq {r.seq} is missing from "
                                    "the log", None, r.seq))
        elif found[1]["hash"] != r.hash:
            problems.append(Problem("unlogged", f"{what} (audit row {r.id}): seq {r.seq} (line {found[0]}) holds "
                                    "another entry than the one committed with the change", found[0], r.seq))
    if pending:
        why = f": {drain_error}" if drain_error else ""
        problems.append(Problem("pending", f"{len(pending)} audit entr{'y' if len(pending) == 1 else 'ies'} "
                                f"committed with their changes could not be appended to the log{why} "
                                f"({', '.join(pending[:20])}{', ...' if len(pending) > 20 else ''})"))
    return problems


class _Index:
    """The log's entries by what they are about."""

    def __init__(self, entries: list[tuple[int, dict[str, Any]]]) -> None:
        self.keys: Counter[tuple[Any, ...]] = Counter()
        # keyed by the permit id as the log's entry holds it (JSON, so not known to be an int)
        self.permits: dict[Any, dict[str, Any]] = {}
        for _lineno, e in entries:
            data = e["data"] if isinstance(e["data"], dict) else {}
            kind = e["kind"]
            if kind == "claim":
                self.keys[("claim", data.get("claim"), data.get("from"), data.get("to"))] += 1
            elif kind == "account":
                self.keys[("account", data.get("username"))] += 1
            elif kind == "holder":
                self.keys[("holder", data.get("holder"))] += 1
            elif kind in ("work", "inquiry"):
                self.keys[(kind, data.get(kind))] += 1
            elif kind in ("permit", "reservation", "api_key", "webhook"):
                self.keys[(kind, data.get(kind), data.get("event"))] += 1
                if kind == "permit" and data.get("event") == "granted":
                    self.permits.setdefault(data.get("permit"), {**data, "_seq": e["seq"]})

    def take(self, *key: Any) -> bool:
        if self.keys[key] > 0:
            self.keys[key] -= 1
            return True
        return False


def _permit_terms(p: Any) -> dict[str, Any]:
    return {"holder": p.holder, "licensee": p.licensee, "use": p.use, "scope": p.scope,
            "valid_from": p.valid_from.isoformat(), "valid_until": p.valid_until.isoformat() if p.valid_until else None}


def _unaudited(ws: Workspace, index: _Index) -> tuple[int, list[Problem]]:
    from kyodaku.desk.models import AccountRow, ApiKeyRow, ClaimEventRow, InquiryRow, WebhookRow

    checked = 0
    missing: list[str] = []
    mismatched: list[Problem] = []

    def need(what: str, *key: Any) -> None:
        nonlocal checked
        checked += 1
        if not index.take(*key):
            missing.append(what)

    reg = ws.registry
    for h in reg.list_holders():
        need(f"holder {h.slug!r}", "holder", h.slug)
    for w in reg.list_works():
        need(f"work {w.work_id}", "work", w.work_id)
    for p in reg.list_permits():
        need(f"permit {p.id} granted", "permit", p.id, "granted")
        logged = index.permits.get(p.id)
        if logged is not None:
            diff = [f"{k} {v!r} (logged {logged.get(k)!r})" for k, v in _permit_terms(p).items() if logged.get(k) != v]
            if diff:
                mismatched.append(Problem("mismatch", f"permit {p.id} in the database differs from its audit entry "
                                          f"seq {logged['_seq']}: {', '.join(diff)}", None, logged["_seq"]))
        if p.revoked_at is not None:
            need(f"permit {p.id} revoked", "permit", p.id, "revoked")
    for r in reg.list_reservations():
        need(f"reservation {r.id} declared", "reservation", r.id, "declared")
        if r.withdrawn_at is not None:
            need(f"reservation {r.id} withdrawn", "reservation", r.id, "withdrawn")
    with ws.session() as s:
        for (username,) in s.execute(select(AccountRow.username).order_by(AccountRow.id)):
            need(f"account {username!r}", "account", username)
        for key_id, revoked in s.execute(select(ApiKeyRow.id, ApiKeyRow.revoked_at).order_by(ApiKeyRow.id)):
            need(f"API key {key_id} created", "api_key", key_id, "created")
            if revoked is not None:
                need(f"API key {key_id} revoked", "api_key", key_id, "revoked")
        for (hook_id,) in s.execute(select(WebhookRow.id).order_by(WebhookRow.id)):
            need(f"webhook {hook_id} registered", "webhook", hook_id, "registered")
        events = s.execute(select(ClaimEventRow.id, ClaimEventRow.claim_id, ClaimEventRow.from_state,
                                  ClaimEventRow.to_state).order_by(ClaimEventRow.id))
        for event_id, claim_id, before, after in events:
            step = "filed" if before is None else f"{before} -> {after}"
            need(f"claim {claim_id} {step} (claim event {event_id})", "claim", claim_id, before, after)
        for (inquiry_id,) in s.execute(select(InquiryRow.id).order_by(InquiryRow.id)):
            need(f"inquiry {inquiry_id}", "inquiry", inquiry_id)
    problems = [Problem("unaudited", f"{what} is in the database but has no entry in the audit log") for what in missing]
    return checked, problems + mismatched


def verify_workspace(ws: Workspace, public_key: Any = None) -> VerifyReport:
    """Drain the workspace's audit outbox, verify its log file, and check that every change
    in its database has its entry: one report of everything wrong."""
    drain_error = None
    try:
        drain_workspace(ws)
    except Exception as exc:  # noqa: BLE001 - reported as the reason the rows stay pending
        drain_error = f"{type(exc).__name__}: {exc}"
    report = verify(Path(ws.home) / AUDIT_DIR / LOG_FILE, public_key)
    return check_workspace(ws, report, drain_error)


def check_workspace(ws: Workspace, report: VerifyReport, drain_error: str | None = None) -> VerifyReport:
    """Add to ``report`` (of the workspace's log, verified already) every change in the
    database without its entry; ``drain_error`` is why pending rows could not be appended."""
    entries = read_entries(report.path)
    by_seq: dict[int, tuple[int, dict[str, Any]]] = {}
    for lineno, e in entries:
        by_seq.setdefault(e["seq"], (lineno, e))
    with ws.session() as s:
        rows = s.scalars(select(AuditOutboxRow).order_by(AuditOutboxRow.id).execution_options(yield_per=2000))
        problems = _outbox_problems(rows, by_seq, drain_error)
    checked, unaudited = _unaudited(ws, _Index(entries))
    report.problems.extend(problems + unaudited)
    report.changes_checked = checked
    report.problems.sort(key=lambda p: (p.line is None, p.line or 0))
    return report
