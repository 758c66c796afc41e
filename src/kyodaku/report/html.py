"""The offline HTML report of a scan: one self-contained file a compliance engineer can
hand to a rights holder, a regulator or an auditor.

It shows what the scan was (licensee, use, date, inputs, the audit-log entry that recorded
it), the totals by verdict, and per rights holder what was matched, blocked, sent to
review and cleared by which permit, with evidence rows (the scanned item beside the
registered reference, the score, the method, the reason, video segments as timecodes),
charts, the rights signals honoured and the errors.  Nothing in it loads anything: styles
are inline, images are ``data:`` URIs, charts are SVG drawn here; every text from the
results or the registry (paths, captions, names) is escaped by Jinja2's autoescaping.

``render_scan_report`` / ``write_scan_report`` are what the CLI (``kyodaku report``,
``kyodaku scan --report``) and the service call; ``lang`` ("en" or "ja",
:mod:`kyodaku.report.words`) is the report's language: its headings, verdict names and
reasons (by message key; a reason of no known form as it was stored, in English).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kyodaku import __version__
from kyodaku.records.counts import COUNT_LABELS
from kyodaku.report.charts import COLORS, holder_bars, score_histogram
from kyodaku.report.collect import (
    CATEGORIES,
    CATEGORY_LABELS,
    VERDICTS,
    Evidence,
    HolderStats,
    ReportError,
    ScanResults,
    collect,
    first_item_id,
)
from kyodaku.report.thumbs import ReferenceThumbs, Thumb, fetch_items, item_thumb
from kyodaku.report.words import Words
from kyodaku.workspace import Workspace

__all__ = ["DEFAULT_MAX_EVIDENCE", "MAX_EVIDENCE_ROWS", "ReportError", "ReportStats", "ScanInfo",
           "render_scan_report", "scan_info", "scan_info_from_audit", "write_scan_report"]

#: evidence rows (with two thumbnails each) per holder, and in the whole report: with
#: ~8 kB thumbnails the report of any scan stays under ~30 MB
DEFAULT_MAX_EVIDENCE = 10
MAX_EVIDENCE_ROWS = 1500


@dataclass
class ScanInfo:
    """What the scan was; unknown fields are shown as "not recorded"."""

    licensee: str | None = None
    use: str | None = None
    on: date | None = None
    inputs: list[str] = field(default_factory=list)
    started: str | None = None  # when the scan began (the audit entry's time)
    audit_seq: int | None = None
    audit_hash: str | None = None
    thresholds: dict[str, float] = field(default_factory=dict)  # {"review": .., "block": ..}


@dataclass
class ReportStats:
    path: Path
    bytes: int
    items: int
    evidence_rows: int
    thumbnails: int


def _covers(scan_path: str, item_id: str) -> bool:
    p = scan_path.rstrip("/") or "/"
    return item_id == p or item_id.startswith((p + "/", p + "#"))


def scan_info_from_audit(workspace: Workspace, first_id: str | None) -> ScanInfo | None:
    """The latest ``scan`` entry of the workspace's audit log whose inputs hold
    ``first_id`` (the results' first item), streamed (verdict entries are skipped
    unparsed)."""
    from kyodaku.audit.log import AUDIT_DIR, LOG_FILE

    log = workspace.home / AUDIT_DIR / LOG_FILE
    if first_id is None or not log.is_file():
        return None
    found: dict[str, Any] | None = None
    with open(log, "rb") as f:
        for raw in f:
            if b'"kind":"scan"' not in raw:
                continue
            try:
                entry = json.loads(raw)
                paths = [str(p) for p in entry["data"]["paths"]]
            except (ValueError, KeyError, TypeError):
                continue
            if any(_covers(p, first_id) or _covers(os.path.abspath(p), first_id) for p in paths):
                found = entry
    if found is None:
        return None
    data = found["data"]
    try:
        on = date.fromisoformat(data.get("on")) if data.get("on") else None
    except (TypeError, ValueError):
        on = None
    return ScanInfo(licensee=data.get("licensee"), use=data.get("use"), on=on, inputs=list(data["paths"]),
                    started=found.get("at"), audit_seq=found.get("seq"), audit_hash=found.get("hash"))


def scan_info(workspace: Workspace, results_path: str | Path, **known: Any) -> ScanInfo:
    """What the scan of ``results_path`` was: its audit-log entry, with the fields in
    ``known`` (those not None: ``licensee``, ``use``, ``on``, ``inputs``, ``thresholds``)
    taking precedence."""
    info = scan_info_from_audit(workspace, first_item_id(results_path)) or ScanInfo()
    return replace(info, **{k: v for k, v in known.items() if v is not None})


def _timecode(seconds: float | None) -> str:
    """``mm:ss.s`` from the start of the video (``h:mm:ss.s`` from an hour on)."""
    if seconds is None:
        return ""
    tenths = round(max(0.0, float(seconds)) * 10)
    h, rest = divmod(tenths, 36_000)
    m, rest = divmod(rest, 600)
    s, t = divmod(rest, 10)
    return (f"{h}:" if h else "") + f"{m:02d}:{s:02d}.{t}"


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("kyodaku.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["timecode"] = _timecode
    env.filters["short"] = lambda text, n=160: text if len(str(text)) <= n else str(text)[: n - 1] + "…"
    return env


def _holder_order(stats: HolderStats) -> tuple[int, int, int, str]:
    return (-stats.items["blocked"], -stats.items["review"], -stats.matched, stats.slug)


def _thumbnails(workspace: Workspace, rows: list[Evidence]) -> int:
    """Fill each row's query and reference thumbnails; returns how many were made."""
    items = fetch_items({r.item_id for r in rows})
    refs = ReferenceThumbs(workspace)
    made = 0
    for r in rows:
        item = items.get(r.item_id)
        r.caption = item.caption if item is not None else None
        r.query_thumb = item_thumb(item, r.media, r.query_segment[0] if r.query_segment else None)
        if r.work_id:
            r.ref_thumb, r.ref_name = refs.get(r.work_id, r.media,
                                               r.ref_segment[0] if r.ref_segment else None)
        else:
            r.ref_thumb, r.ref_name = None, None
        made += sum(1 for t in (r.query_thumb, r.ref_thumb) if isinstance(t, Thumb) and t.uri)
    return made


def _words_context(words: Words) -> dict[str, Any]:
    """What the templates say things with: ``t``, ``word`` and the rows' reasons."""

    def match_reason(r: Evidence) -> str:
        return words.reason(r.match_reason, r.match_verdict, work_id=r.work_id, score=r.score,
                            permit_id=r.permit_id)

    def item_reason(r: Evidence) -> str:
        return words.reason(r.reason, r.verdict, work_id=r.work_id, score=r.score)

    en = words.lang == "en"
    return {"t": words.t, "word": words.word, "lang": words.lang, "match_reason": match_reason,
            "item_reason": item_reason,
            "labels": CATEGORY_LABELS if en else {c: words.word("label", c) for c in CATEGORIES},
            "count_labels": COUNT_LABELS if en else {c: words.word("count", c) for c in COUNT_LABELS}}


def _context(workspace: Workspace, results: ScanResults, info: ScanInfo, results_path: Path,
             max_evidence: int, words: Words) -> tuple[dict[str, Any], int, int]:
    registry = workspace.registry
    holders = {h.slug: h for h in registry.list_holders()}
    ordered = sorted(results.holders.values(), key=_holder_order)
    sections = []
    budget = MAX_EVIDENCE_ROWS
    all_rows: list[Evidence] = []
    titles: dict[str, str | None] = {}

    def title(work_id: str) -> str | None:
        if work_id not in titles:
            work = registry.get_work(work_id)
            titles[work_id] = work.title if work is not None else None
        return titles[work_id]

    for stats in ordered:
        rows = stats.evidence(min(max_evidence, budget))
        budget -= len(rows)
        all_rows.extend(rows)
        permits = []
        for permit_id, n in stats.permits.most_common():
            p = registry.get_permit(int(permit_id)) if isinstance(permit_id, int) else None
            permits.append({"id": permit_id, "count": n,
                            "describe": p.describe() if p else words.t("permit_not_in_registry"),
                            "status": p.status(info.on) if p and info.on else None,
                            "scope": p.scope if p else None})
        holder = holders.get(stats.slug)
        sections.append({
            "slug": stats.slug, "name": holder.name if holder else None,
            "jurisdiction": holder.jurisdiction if holder else None,
            "stats": stats, "rows": rows, "permits": permits,
            "works": [(w, title(w), n) for w, n in stats.works.most_common(10)],
            "more_works": max(0, len(stats.works) - 10),
        })
    signal_rows = results.signal_rows[: max(0, min(max_evidence, budget))]
    all_rows.extend(signal_rows)
    thumbs = _thumbnails(workspace, all_rows)
    categories = list(CATEGORIES)
    said = _words_context(words)
    t = None if words.lang == "en" else words.t
    bars = holder_bars([(s.slug, dict(s.items)) for s in ordered if s.matched], categories[:-1], said["labels"], t)
    hist = score_histogram(results.histogram, ["blocked", "review", "cleared"], info.thresholds, t,
                           None if t is None else words.word)
    ctx = {
        "info": info, "results": results, "results_name": results_path.name,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "version": __version__,
        "verdicts": VERDICTS, "categories": categories, "colors": COLORS, **said,
        "sections": sections, "bars": bars, "hist": hist, "signal_rows": signal_rows,
        "max_evidence": max_evidence, "registered_holders": len(holders),
        "evidence_capped": budget <= 0,
    }
    return ctx, len(all_rows), thumbs


def _render(workspace: Workspace, results_path: Path, info: ScanInfo | None,
            max_evidence: int, lang: str = "en") -> tuple[str, int, int, int]:
    if max_evidence < 0:
        raise ReportError("max_evidence must be 0 or more")
    try:
        words = Words(lang)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    results = collect(results_path, max_evidence=max_evidence)
    if info is None:
        info = scan_info_from_audit(workspace, results.first_id) or ScanInfo()
    ctx, rows, thumbs = _context(workspace, results, info, results_path, max_evidence, words)
    html = _environment().get_template("report.html.j2").render(**ctx)
    return html, results.total, rows, thumbs


def render_scan_report(workspace: Workspace, results_path: str | Path, *, info: ScanInfo | None = None,
                       max_evidence: int = DEFAULT_MAX_EVIDENCE, lang: str = "en") -> str:
    """The report of ``results_path`` (a scan's ``results.jsonl``) as one HTML string, in
    ``lang``.  Without ``info`` the scan is looked up in the workspace's audit log."""
    return _render(workspace, Path(results_path), info, max_evidence, lang)[0]


def write_scan_report(workspace: Workspace, results_path: str | Path, out: str | Path, *,
                      info: ScanInfo | None = None, max_evidence: int = DEFAULT_MAX_EVIDENCE,
                      lang: str = "en") -> ReportStats:
    """Render the report in ``lang`` and write it to ``out`` atomically (a reader never
    sees half of it)."""
    html, items, rows, thumbs = _render(workspace, Path(results_path), info, max_evidence, lang)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ReportStats(out, out.stat().st_size, items, rows, thumbs)
