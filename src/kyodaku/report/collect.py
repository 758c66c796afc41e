"""One streaming pass over a scan's ``results.jsonl``: exact counts, bounded evidence.

The report of a million-item scan must stay a few megabytes and be built in bounded
memory, so the results file is read line by line and only counters are kept per line:
verdicts, per rights holder what their works did to the items (blocked, review, cleared
by a permit, ...), the permits that cleared items, the rights signals read, and a score
histogram.  Evidence rows (which get thumbnails later) are chosen for a person, at most
``max_evidence`` per holder (:class:`EvidencePicker`): review items first, then the
lowest-scoring blocks (a block at 1.000 is the obvious case; one near the threshold is
where a person checks the machine), with at least one row of each verdict and medium
(image, video) the holder has when the cap allows; and a few error and signal rows.
Every count stays exact whatever the caps.

A line that is not a result line (not JSON, no ``path`` or ``verdict``: a file cut short
by a crash, a hand edit) is counted and named in the report's warnings, never skipped
silently.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from kyodaku.records.counts import CATEGORIES as _CATEGORIES
from kyodaku.records.counts import CATEGORY_LABELS as _CATEGORY_LABELS
from kyodaku.records.counts import HolderCounts, holder_categories

VERDICTS = ("blocked", "review", "error", "cleared")
#: what a holder's work did to an item, most severe first (an item counts once per holder,
#: in the most severe category among that holder's matches: kyodaku.records.counts, the
#: same counting as the desk's auditor page and inquiry answers)
CATEGORIES = _CATEGORIES
CATEGORY_LABELS = _CATEGORY_LABELS
HIST_BINS = 20
#: error, signal and warning rows kept for the report (their counts stay exact)
MAX_LISTED = 50
#: evidence values shown per match, and the longest text kept of one
_MAX_DETAILS = 8
_MAX_TEXT = 400
_SIGNAL_REASONS = ("reserved by an embedded rights signal", "a rights signal could not be read")


class ReportError(ValueError):
    """The results cannot be reported (missing or unreadable file)."""


@dataclass
class Evidence:
    """One item's evidence row: the item and its strongest match for one holder."""

    item_id: str
    media: str | None
    verdict: str
    reason: str
    work_id: str | None = None
    holder: str | None = None
    score: float | None = None
    method: str | None = None
    match_verdict: str | None = None
    match_reason: str | None = None
    permit_id: Any = None
    query_segment: tuple[float, float] | None = None
    ref_segment: tuple[float, float] | None = None
    details: list[str] = field(default_factory=list)
    # filled in by the thumbnail pass
    caption: str | None = None
    query_thumb: Any = None
    ref_thumb: Any = None
    ref_name: str | None = None


_Key = tuple[int, float, str]


def evidence_key(verdict: str, score: float | None, item_id: str) -> _Key:
    """The order evidence rows are shown in: review items first (strongest first), then
    blocked items from the lowest score up, then by item."""
    if verdict == "review":
        return (0, -(score or 0.0), item_id)
    return (1, score if score is not None else 0.0, item_id)


class EvidencePicker:
    """The evidence rows of one holder, chosen in one streaming pass with bounded memory:
    the ``cap`` rows that come first by :func:`evidence_key`, and the first of each
    (verdict, medium) so that every kind the holder has is shown once."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._pool: list[tuple[_Key, Evidence]] = []
        self._worst: _Key | None = None  # rows after this cannot be among the cap first
        self.firsts: dict[tuple[str, str], tuple[_Key, Evidence]] = {}

    def wants(self, key: _Key, kind: tuple[str, str]) -> bool:
        """Whether a row with ``key`` would be kept (build it only then)."""
        if self.cap <= 0:
            return False
        first = self.firsts.get(kind)
        return first is None or key < first[0] or self._worst is None or key < self._worst

    def add(self, key: _Key, kind: tuple[str, str], row: Evidence) -> None:
        first = self.firsts.get(kind)
        if first is None or key < first[0]:
            self.firsts[kind] = (key, row)
        if self._worst is None or key < self._worst:
            self._pool.append((key, row))
            if len(self._pool) >= 2 * self.cap:
                self._trim()

    def _trim(self) -> None:
        self._pool.sort(key=lambda kr: kr[0])
        del self._pool[self.cap:]
        if self._pool and len(self._pool) >= self.cap:
            self._worst = self._pool[-1][0]

    def rows(self, limit: int) -> list[Evidence]:
        """At most ``limit`` rows: one of each (verdict, medium) first (in key order), then
        the rest in key order; shown in key order."""
        self._trim()
        firsts = sorted(self.firsts.values(), key=lambda kr: kr[0])[:limit]
        chosen = {id(r) for _, r in firsts}
        rest = [kr for kr in self._pool if id(kr[1]) not in chosen][: max(0, limit - len(firsts))]
        return [r for _, r in sorted(firsts + rest, key=lambda kr: kr[0])]


@dataclass
class HolderStats(HolderCounts):
    """A holder's counts (:class:`kyodaku.records.counts.HolderCounts`: ``items`` per
    category, ``matched``, ``works``, ``permits``, ``reserved``) and its evidence rows."""

    picker: EvidencePicker = field(default_factory=lambda: EvidencePicker(0))

    @property
    def slug(self) -> str:
        return self.holder

    def evidence(self, limit: int) -> list[Evidence]:
        """The chosen rows (see :class:`EvidencePicker`), at most ``limit``."""
        return self.picker.rows(min(limit, self.picker.cap))

    @property
    def blocked_rows(self) -> list[Evidence]:
        return [r for r in self.evidence(self.picker.cap) if r.verdict == "blocked"]

    @property
    def review_rows(self) -> list[Evidence]:
        return [r for r in self.evidence(self.picker.cap) if r.verdict == "review"]

    @property
    def evidence_total(self) -> int:
        return self.items["blocked"] + self.items["review"]


@dataclass
class ScanResults:
    total: int = 0
    verdicts: Counter = field(default_factory=Counter)
    media: Counter = field(default_factory=Counter)
    holders: dict[str, HolderStats] = field(default_factory=dict)
    unmatched: int = 0  # items without a match at or above the review threshold
    #: top score per item with matches, by item verdict: verdict -> HIST_BINS counts
    histogram: dict[str, list[int]] = field(default_factory=dict)
    signals: Counter = field(default_factory=Counter)  # (source, use, status) -> items
    signal_items: int = 0  # items whose verdict an embedded rights signal made stricter
    signal_rows: list[Evidence] = field(default_factory=list)
    error_rows: list[Evidence] = field(default_factory=list)
    bad_lines: int = 0
    warnings: list[str] = field(default_factory=list)
    first_id: str | None = None

    max_evidence: int = 10

    def holder(self, slug: str) -> HolderStats:
        stats = self.holders.get(slug)
        if stats is None:
            stats = self.holders[slug] = HolderStats(slug, picker=EvidencePicker(self.max_evidence))
        return stats


def _text(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _segment(value: Any) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        try:
            seg = float(value[0]), float(value[1])
        except (TypeError, ValueError):
            return None
        return seg if all(math.isfinite(x) and x >= 0 for x in seg) else None
    return None


def _details(evidence: Any) -> list[str]:
    """The scalar evidence values of a match, readable: ``inliers 80``, ``mirrored yes``."""
    if not isinstance(evidence, dict):
        return []
    out = []
    for key, value in evidence.items():
        if isinstance(value, bool):
            out.append(f"{key.replace('_', ' ')} {'yes' if value else 'no'}")
        elif isinstance(value, (int, float, str)):
            out.append(_text(f"{key.replace('_', ' ')} {value}"))
        if len(out) >= _MAX_DETAILS:
            break
    return out


def _row(line: dict[str, Any], match: dict[str, Any] | None = None) -> Evidence:
    row = Evidence(item_id=line["path"], media=line.get("media"), verdict=line["verdict"],
                   reason=_text(line.get("reason")))
    if match is not None:
        score = match.get("score")
        row.work_id = _text(match.get("work_id"))
        row.holder = _text(match.get("holder"))
        row.score = float(score) if isinstance(score, (int, float)) and math.isfinite(score) else None
        row.method = _text(match.get("method"))
        row.match_verdict = match.get("verdict")
        row.match_reason = _text(match.get("reason"))
        row.permit_id = match.get("permit_id")
        row.query_segment = _segment(match.get("query_segment"))
        row.ref_segment = _segment(match.get("ref_segment"))
        row.details = _details(match.get("evidence"))
    return row


def _list(value: Any) -> list[Any]:
    """A list field of a result line; anything else (a hand-edited line) is no entries."""
    return value if isinstance(value, list) else []


def _bin(score: float) -> int:
    return min(HIST_BINS - 1, max(0, int(score * HIST_BINS)))


def first_item_id(results: str | Path) -> str | None:
    """The id of the first readable result line (the scan's first item), or None."""
    try:
        with open(results, encoding="utf-8", errors="replace") as f:
            for text in f:
                try:
                    line = json.loads(text)
                except ValueError:
                    continue
                if isinstance(line, dict) and isinstance(line.get("path"), str):
                    return line["path"]
    except OSError:
        return None
    return None


def collect(results: str | Path, max_evidence: int = 10) -> ScanResults:
    """Read ``results`` once and summarise it (see the module docstring)."""
    path = Path(results)
    if not path.is_file():
        raise ReportError(f"no results file at {path}")
    out = ScanResults(histogram={v: [0] * HIST_BINS for v in VERDICTS}, max_evidence=max_evidence)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            _read(f, path, out, max_evidence)
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    if out.bad_lines > MAX_LISTED:
        out.warnings.append(f"… and {out.bad_lines - MAX_LISTED} more unreadable result lines")
    return out


def _read(f: TextIO, path: Path, out: ScanResults, max_evidence: int) -> None:
    for number, text in enumerate(f, 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            if not isinstance(line, dict) or not isinstance(line.get("path"), str) \
                    or line.get("verdict") not in VERDICTS:
                raise ValueError("not a result line (no path or verdict)")
        except ValueError as exc:
            out.bad_lines += 1
            if out.bad_lines <= MAX_LISTED:
                out.warnings.append(f"{path.name}:{number}: unreadable result line ({_text(exc)[:120]})")
            continue
        _add(out, line, max_evidence)


def _add(out: ScanResults, line: dict[str, Any], max_evidence: int) -> None:
    verdict = line["verdict"]
    out.total += 1
    if out.first_id is None:
        out.first_id = line["path"]
    out.verdicts[verdict] += 1
    out.media[str(line.get("media") or "unknown")] += 1
    if verdict == "error":
        if len(out.error_rows) < MAX_LISTED:
            out.error_rows.append(_row(line))
        return
    matches = [m for m in _list(line.get("matches")) if isinstance(m, dict) and "work_id" in m]
    scores = [min(1.0, max(0.0, float(m["score"]))) for m in matches if isinstance(m.get("score"), (int, float))]
    if scores:
        out.histogram[verdict][_bin(max(scores))] += 1
    for s in _list(line.get("signals")):
        if isinstance(s, dict):
            out.signals[(str(s.get("source")), str(s.get("use")), str(s.get("status")))] += 1
    if str(line.get("reason", "")).startswith(_SIGNAL_REASONS):
        out.signal_items += 1
        if len(out.signal_rows) < MAX_LISTED:
            out.signal_rows.append(_row(line, matches[0] if matches else None))
    # per holder: the most severe of the holder's matches (kyodaku.records.counts)
    best = holder_categories(line)
    if all(cat == "weak" for cat, _ in best.values()):  # none, or only weak ones
        out.unmatched += 1
    for holder, (category, m) in best.items():
        stats = out.holder(holder)
        stats.add(category, m)
        if category in ("blocked", "review"):
            score = m.get("score")
            score = float(score) if isinstance(score, (int, float)) and math.isfinite(score) else None
            key = evidence_key(category, score, line["path"])
            kind = (category, str(line.get("media") or "unknown"))
            if stats.picker.wants(key, kind):
                stats.picker.add(key, kind, _row(line, m))
