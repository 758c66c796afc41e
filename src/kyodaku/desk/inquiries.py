"""Inquiries: "did our catalog (or these works) appear in that scan / training corpus?"

The answer is computed from the scan records (:mod:`kyodaku.records`), never typed by
hand: for every recorded scan of that name (or id), the items that matched the holder's
works, their verdicts and scores, the holder's permits in force for the scan's licensee
and use on the scan date, and the dates.  It is stored with the inquiry (the answer as
given at that time) and downloadable as CSV and as an offline HTML letter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select

from kyodaku.audit.outbox import record
from kyodaku.desk.auth import Actor
from kyodaku.desk.lifecycle import local_and_utc
from kyodaku.desk.models import InquiryRow
from kyodaku.desk.outbox import emit
from kyodaku.records.counts import HolderCounts
from kyodaku.records.holder_view import holder_verdict, scrub_item
from kyodaku.records.reasons import evidence_reasons, kept_captions
from kyodaku.records.store import Records, ScanRecord
from kyodaku.registry.base import NotFound, RegistryError
from kyodaku.registry.models import HolderRow, WorkRow

__all__ = ["Inquiry", "inquiry_view", "compute_answer", "file_inquiry", "get_inquiry", "list_inquiries", "answer_csv",
           "answer_letter"]

#: items listed in a stored answer (the counts are always complete; the CSV lists all)
ITEMS_IN_ANSWER = 2000


@dataclass(frozen=True)
class Inquiry:
    id: int
    holder: str
    holder_name: str
    corpus: str
    work_ids: tuple[str, ...]
    question: str
    state: str
    answer: dict[str, Any] | None
    created_at: datetime
    due_at: datetime | None
    answered_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "holder": self.holder, "corpus": self.corpus, "work_ids": list(self.work_ids),
                "question": self.question, "state": self.state, "answer": self.answer,
                "created_at": self.created_at.isoformat(),
                "due_at": self.due_at.isoformat() if self.due_at else None,
                "answered_at": self.answered_at.isoformat() if self.answered_at else None}


def _scrubbed(answer: dict[str, Any] | None, holder: str) -> dict[str, Any] | None:
    """A stored answer with every item in its holder view (answers stored before holder
    views carried the item's own reason, which may name another holder)."""
    if not answer:
        return answer
    scans = [{**scan, "items": [scrub_item(it, {holder}) for it in scan.get("items", [])]}
             for scan in answer.get("scans", [])]
    return {**answer, "scans": scans}


def inquiry_view(row: InquiryRow) -> Inquiry:
    """The inquiry of a stored row, its answer scrubbed of other holders' works."""
    return Inquiry(row.id, row.holder.slug, row.holder.name, row.corpus, tuple(row.work_ids or ()),
                   row.question or "", row.state, _scrubbed(row.answer, row.holder.slug), row.created_at,
                   row.due_at, row.answered_at)


def _scans(records: Records, corpus: str) -> list[ScanRecord]:
    scans = records.scans(corpus)
    if not scans and corpus.isdigit():
        try:
            scans = [records.scan(int(corpus))]
        except NotFound:
            scans = []
    return scans


def _permits_in_force(registry: Any, holder: str, scan: ScanRecord) -> list[dict[str, Any]]:
    out = []
    for p in registry.list_permits(licensee=scan.licensee, holder=holder):
        if p.use == scan.use and p.valid_on(scan.on):
            out.append({"permit_id": p.id, "scope": p.scope, "valid_from": p.valid_from.isoformat(),
                        "valid_until": p.valid_until.isoformat() if p.valid_until else None})
    return out


def _item(decision: Any, holder: str, works: set[str] | None) -> dict[str, Any]:
    """One item of an answer, as the holder may see it: its own matches only, the captions
    naming it or its works (for their reasons' message keys), and a verdict and reason of
    its own works (:func:`kyodaku.records.holder_view.holder_verdict`)."""
    view = holder_verdict(decision.verdict, decision.line.get("matches", []), {holder},
                          captions=decision.line.get("captions", []) or [], works=works,
                          permit_id=decision.permit_id)
    return {"decision_id": decision.id, "item": decision.item, "verdict": view["verdict"],
            "own_verdict": view["own_verdict"], "grounds": view["grounds"],
            "reason": view["reason"], "permit_id": view["permit_id"],
            "captions": kept_captions(view["captions"]),
            "works": [{"work_id": m.get("work_id"), "score": round(float(m.get("score", 0)), 4),
                       "verdict": m.get("verdict"), "permit_id": m.get("permit_id"), "reason": m.get("reason")}
                      for m in view["matches"]]}


def _scan_items(records: Records, scan: ScanRecord, holder: str, work_ids: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The items of one scan that matched the holder's works (only ``work_ids``, if any)."""
    works = set(work_ids) or None
    for d in records.decisions(scan.id, holder=holder, work_ids=work_ids or None):
        yield _item(d, holder, works)


def iter_items(records: Records, holder: str, corpus: str, work_ids: tuple[str, ...]) -> Iterator[tuple[ScanRecord, dict[str, Any]]]:
    for scan in _scans(records, corpus):
        for it in _scan_items(records, scan, holder, work_ids):
            yield scan, it


def compute_answer(records: Records, registry: Any, holder: str, corpus: str, work_ids: tuple[str, ...],
                   now: datetime) -> dict[str, Any]:
    scans = _scans(records, corpus)
    answer: dict[str, Any] = {"corpus": corpus, "holder": holder, "works": list(work_ids) or "all",
                              "answered_at": now.isoformat(), "scans": []}
    for scan in scans:
        # the report's and the auditor page's counting (kyodaku.records.counts)
        counts = records.holder_counts(scan.id, holder, work_ids or None).get(holder) or HolderCounts(holder)
        items = []
        total = 0
        for it in _scan_items(records, scan, holder, work_ids):
            total += 1
            if len(items) < ITEMS_IN_ANSWER:
                items.append(it)
        answer["scans"].append({
            "scan_id": scan.id, "name": scan.name, "licensee": scan.licensee, "use": scan.use,
            "scan_date": scan.on.isoformat(), "started_at": scan.started_at.isoformat(),
            "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
            "files_scanned": scan.totals.get("files"), "matched_items": counts.matched,
            "counts": counts.to_json(), "works_matched": dict(counts.works),
            "permits_in_force": _permits_in_force(registry, holder, scan),
            "items": items, "items_listed": len(items), "items_recorded": total})
    n = sum(s["matched_items"] for s in answer["scans"])
    blocked = sum(s["counts"]["blocked"] for s in answer["scans"])
    answer["summary_counts"] = {"matched": n, "blocked": blocked, "scans": len(scans)}
    answer["summary"] = (f"no recorded scan named {corpus!r}" if not scans else
                         f"{n} item(s) with a match of {holder}'s works at or above review in {len(scans)} "
                         f"recorded scan(s); {blocked} blocked for its works")
    return answer


def file_inquiry(service: Any, actor: Actor, *, corpus: str, work_ids: tuple[str, ...] = (), question: str = "",
                 holder: str | None = None) -> Inquiry:
    """File an inquiry and answer it from the records at once (the answer is kept)."""
    corpus = corpus.strip()
    if not corpus:
        raise RegistryError("name the scan or corpus (its recorded name or scan id)")
    now = service.clock()
    with service.workspace.session() as s:
        h = service._holder_for(s, actor, holder)
        works = service._check_works(s, h, work_ids) if work_ids else ()
        answer = compute_answer(service.records, service.workspace.registry, h.slug, corpus, works, now)
        row = InquiryRow(holder_id=h.id, filed_by=actor.account_id, corpus=corpus[:300], work_ids=list(works),
                         question=question.strip(), state="answered", answer=answer, created_at=now,
                         due_at=service.deadlines.inquiry_due(now), answered_at=now)
        s.add(row)
        s.flush()
        emit(s, "inquiry.answered", h.id, {"inquiry": row.id, "holder": h.slug, "corpus": corpus,
                                           "summary": answer["summary"]}, now, service.email)
        inquiry_id = row.id
        record(s, "inquiry", {"inquiry": inquiry_id, "holder": h.slug, "corpus": corpus, "works": list(works),
                              "summary": answer["summary"], "by": actor.username}, now)
    service._drain()
    return get_inquiry(service, actor, inquiry_id)


def get_inquiry(service: Any, actor: Actor, inquiry_id: int) -> Inquiry:
    with service.workspace.session() as s:
        row = s.get(InquiryRow, inquiry_id)
        if row is None or not actor.can_see_holder(row.holder_id):
            raise NotFound(f"no inquiry {inquiry_id}")
        return inquiry_view(row)


def list_inquiries(service: Any, actor: Actor) -> list[Inquiry]:
    with service.workspace.session() as s:
        q = select(InquiryRow).order_by(InquiryRow.id)
        if not actor.sees_everything:
            q = q.where(InquiryRow.holder_id.in_(sorted(actor.holder_ids) or [-1]))
        return [inquiry_view(r) for r in s.scalars(q)]


#: ``verdict`` is the item's; ``grounds`` says whether the holder's own works give it
#: (``your_works``) or something else does (``other``: not named); ``reason`` is the
#: holder's own (never the item's reason, which may name another holder); the CSV
#: adds ``reason_key`` after these (:func:`reason_keys`)
CSV_COLUMNS = ["scan_id", "scan_name", "scan_date", "licensee", "use", "decision_id", "item", "verdict",
               "work_id", "score", "work_verdict", "permit_id", "reason", "grounds"]


def answer_csv(service: Any, actor: Actor, inquiry_id: int) -> Iterator[str]:
    """Every matched item of the inquiry's scans (not capped), one row per matched work;
    after :data:`CSV_COLUMNS` the message keys of the row's ``reason``
    (:func:`reason_keys`), so a reader shows it in its own language."""
    inq = get_inquiry(service, actor, inquiry_id)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([*CSV_COLUMNS, "reason_key"])
    yield buf.getvalue()
    for scan, it in iter_items(service.records, inq.holder, inq.corpus, inq.work_ids):
        buf.seek(0)
        buf.truncate()
        for w in it["works"] or [{}]:
            writer.writerow([scan.id, scan.name, scan.on.isoformat(), scan.licensee, scan.use, it["decision_id"],
                             it["item"], it["verdict"], w.get("work_id", ""), w.get("score", ""),
                             w.get("verdict", ""), w.get("permit_id") or it["permit_id"] or "", it["reason"] or "",
                             it["grounds"], reason_keys(it)])
        yield buf.getvalue()


def reason_keys(item: dict[str, Any]) -> str:
    """The message keys of an answer item's ``reason`` (the holder's own matches' and
    captions', or the neutral other-grounds key: :func:`kyodaku.records.reasons.evidence_reasons`),
    each once, in the reason's order, ``;``-separated (one key for most items)."""
    return ";".join(dict.fromkeys(key for key, _ in evidence_reasons(item)))


def _env() -> Environment:
    return Environment(loader=PackageLoader("kyodaku.desk", "templates"), autoescape=select_autoescape(["html"]))


def answer_letter(service: Any, actor: Actor, inquiry_id: int, lang: str = "en",
                  reasons: Callable[[dict[str, Any]], str] | None = None,
                  words: Callable[[str], str] | None = None,
                  summary: Callable[[Inquiry], str] | None = None) -> str:
    """The answer as a self-contained HTML letter (prints to PDF from any browser), times
    in the desk's time zone beside UTC.  The pages give what is said in ``lang``:
    ``reasons`` an item's reasons (their message-key renderer), ``words`` a message key's
    text (a verdict's ``verdict_<v>``, a use's ``use_<u>``) and ``summary`` the answer's
    summary; without them, the stored wording (English)."""
    inq = get_inquiry(service, actor, inquiry_id)
    with service.workspace.session() as s:
        titles = dict(s.execute(select(WorkRow.work_id, WorkRow.title)
                                .join(HolderRow).where(HolderRow.slug == inq.holder)).all())
    answer = inq.answer or {}
    return _env().get_template("letter.html").render(
        inq=inq, answer=answer, titles=titles, licensee=service.licensee, ja=lang == "ja",
        when=partial(local_and_utc, tz=service.deadlines.tz),
        reasons=reasons or (lambda it: it.get("reason") or ""),
        word=words or (lambda key: key.split("_", 1)[-1]),
        summary=summary(inq) if summary else answer.get("summary", ""))
