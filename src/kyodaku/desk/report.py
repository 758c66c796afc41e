"""The auditor's report: per recorded scan (corpus), a training-content summary (sources,
counts, consent coverage per holder, reservations honoured, exclusions), and the claims
log with response times.  Read-only; for auditors and operators."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import select

from kyodaku.desk.auth import Actor
from kyodaku.records.counts import COUNT_LABELS, HolderCounts
from kyodaku.records.models import DecisionRow

__all__ = ["claims_log", "corpus_report"]


def _hours(a: datetime, b: datetime) -> float:
    return round((b - a).total_seconds() / 3600, 2)


def corpus_report(service: Any, actor: Actor, scan_id: int) -> dict[str, Any]:
    actor.require("auditor", "operator")
    scan = service.records.scan(scan_id)
    reservations: Counter[str] = Counter()
    with service.workspace.session() as s:
        for line in s.scalars(select(DecisionRow.line).where(DecisionRow.scan_id == scan_id)):
            for sig in line.get("signals", []) or []:
                if sig.get("status") in ("reserved", "unreadable", "invalid"):
                    reservations[f"{sig.get('source')}:{sig.get('status')}"] += 1
    # the report's and the inquiry's counting (kyodaku.records.counts): an item once per
    # holder, in the most severe category of that holder's own matches
    counts = service.records.holder_counts(scan_id)
    holders = service.workspace.registry.list_holders()
    names = {h.slug: h for h in holders}
    per_holder = []
    for slug in sorted(set(counts) | set(names)):
        c = counts.get(slug) or HolderCounts(slug)
        h = names.get(slug)
        n = c.to_json()
        per_holder.append({"holder": slug, "name": h.name if h else slug, "jurisdiction": h.jurisdiction if h else "",
                           **n, "cleared_by_permit": n["permitted"],
                           "cleared": n["permitted"] + n["not_reserved"]})
    totals = dict(scan.totals)
    files = int(totals.get("files", 0) or 0)
    excluded = int(totals.get("blocked", 0) or 0) + int(totals.get("error", 0) or 0) + int(totals.get("review", 0) or 0)
    return {
        "scan_id": scan.id, "name": scan.name, "licensee": scan.licensee, "use": scan.use,
        "scan_date": scan.on.isoformat(), "sources": list(scan.inputs),
        "started_at": scan.started_at.isoformat(), "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
        "totals": totals, "files": files, "excluded": excluded, "kept": files - excluded,
        "consent_coverage": per_holder, "count_labels": COUNT_LABELS, "reservations_honoured": dict(reservations),
    }


def claims_log(service: Any, actor: Actor) -> dict[str, Any]:
    """Every claim with its steps and response times (hours), and the medians."""
    actor.require("auditor", "operator")
    now = service.clock()
    out, ack, decide = [], [], []
    for c in service.claims(actor):
        times = {e.to_state: e.at for e in c.events}
        row = {"id": c.id, "holder": c.holder, "state": c.state, "filed_at": c.created_at.isoformat(),
               "late_steps": sum(e.late for e in c.events), "overdue": c.overdue(now),
               "hours_to_acknowledge": None, "hours_to_decision": None}
        if "acknowledged" in times:
            row["hours_to_acknowledge"] = _hours(c.created_at, times["acknowledged"])
            ack.append(row["hours_to_acknowledge"])
        decided = times.get("upheld") or times.get("rejected")
        if decided:
            row["hours_to_decision"] = _hours(c.created_at, decided)
            decide.append(row["hours_to_decision"])
        out.append(row)
    return {"claims": out, "count": len(out), "overdue": sum(r["overdue"] for r in out),
            "median_hours_to_acknowledge": median(ack) if ack else None,
            "median_hours_to_decision": median(decide) if decide else None}
