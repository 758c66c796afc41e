"""The match view of a claim page: per matched work shown (those at or above
``?min_score=``), the output's thumbnail beside the reference's, and for video a
timeline bar each side with the matched segment within the whole
(:mod:`kyodaku.desk.matchview`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kyodaku.corpus import Item
from kyodaku.desk.matchview import bar, media_seconds, shown_matches
from kyodaku.registry.base import NotFound
from kyodaku.report.thumbs import ReferenceThumbs, fetch_items, item_thumb, split_id
from kyodaku.workspace import media_kind

__all__ = ["MAX_EVIDENCE_ROWS", "match_rows"]

#: evidence rows with thumbnails on a claim page
MAX_EVIDENCE_ROWS = 10


def _subject(service: Any, claim: Any) -> tuple[Item | None, str | None]:
    """The claim's output as an item to read thumbnails from, and its file when it is a
    plain file (for its length)."""
    if claim.upload_path:
        path = str(service.workspace.home / claim.upload_path)
        return Item(path, media_kind(path), path=path), path
    if claim.decision_id is not None:
        try:
            item_id = str(service.records.decision(claim.decision_id).item)
        except NotFound:
            return None, None
        return fetch_items([item_id]).get(item_id), (item_id if split_id(item_id) is None else None)
    return None, None


def _reference_seconds(service: Any, work_id: str) -> float | None:
    refs = [m for m in service.workspace.registry.list_media(work_id) if m.kind == "video"]
    return media_seconds(service.workspace.media_path(refs[0])) if refs else None


def match_rows(service: Any, claim: Any, min_score: float | None) -> list[dict[str, Any]]:
    """The matches shown (evidence order), each ``{"m": match, "thumbs": (output,
    reference) or None, "query_bar", "ref_bar"}``; thumbnails for the first
    :data:`MAX_EVIDENCE_ROWS` shown, read with the report's readers (a frame at the
    segment's start for video)."""
    shown = shown_matches(claim.evidence, min_score)
    if not shown:
        return []
    item, subject_path = _subject(service, claim)
    video = any(m.get("query_segment") for _, m in shown)
    query_len = media_seconds(Path(subject_path)) if video and subject_path else None
    refs = ReferenceThumbs(service.workspace)
    ref_len: dict[str, float | None] = {}
    rows = []
    for n, (_, m) in enumerate(shown):
        q_at = (m.get("query_segment") or [None])[0]
        r_at = (m.get("ref_segment") or [None])[0]
        thumbs = (item_thumb(item, None, q_at), refs.get(m["work_id"], None, r_at)[0]) \
            if n < MAX_EVIDENCE_ROWS else None
        if m.get("ref_segment") and m["work_id"] not in ref_len:
            ref_len[m["work_id"]] = _reference_seconds(service, m["work_id"])
        rows.append({"m": m, "thumbs": thumbs, "query_bar": bar(m.get("query_segment"), query_len),
                     "ref_bar": bar(m.get("ref_segment"), ref_len.get(m["work_id"]))})
    return rows
