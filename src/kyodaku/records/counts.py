"""How one holder's items in one scan are counted: the one definition behind the HTML
scan report (:mod:`kyodaku.report.collect`), the auditor's page
(:func:`kyodaku.desk.report.corpus_report`) and a holder's inquiry answer
(:func:`kyodaku.desk.inquiries.compute_answer`).

The unit is an **item** (a result line), never a match: an item that matched two works
of one holder counts once for that holder, in one category: the most severe among the
holder's own matches (another holder's matches, captions and rights signals do not move
it; an item blocked because of someone else's work is not "blocked for this holder").
The categories, most severe first:

- ``blocked``: items blocked for this holder's works (a match of one of its works was
  blocked);
- ``review``: items held for review for this holder's works (none blocked);
- ``permitted``: items a permit of this holder cleared (no match of its works blocked or
  held for review);
- ``not_reserved``: items cleared because the holder's opt-out jurisdiction lets use
  unless reserved, and it did not reserve it;
- ``weak``: items whose only matches of this holder's works scored below the review
  threshold (recorded, not counted as matched).

``matched`` is every category but ``weak``: "items with at least one match of this
holder's works at or above the review threshold".  Items that could not be read
(verdict ``error``) are counted by no holder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "COUNT_LABELS",
    "UNKNOWN_HOLDER",
    "HolderCounts",
    "category",
    "count_lines",
    "holder_categories",
]

#: what a holder's works did to an item, most severe first
CATEGORIES = ("blocked", "review", "permitted", "not_reserved", "weak")
#: short labels (the report's table headings)
CATEGORY_LABELS = {
    "blocked": "blocked",
    "review": "review",
    "permitted": "cleared by permit",
    "not_reserved": "cleared, not reserved (opt-out)",
    "weak": "weak match (below review)",
}
#: what each count counts, in full (``matched`` included)
COUNT_LABELS = {
    "matched": "items with at least one match of this holder's works at or above the review threshold "
               "(an item matching several of its works counts once)",
    "blocked": "items blocked for this holder's works",
    "review": "items held for review for this holder's works (none of its matches blocked)",
    "permitted": "items a permit of this holder cleared",
    "not_reserved": "items cleared because this holder did not reserve the use (opt-out)",
    "weak": "items whose only matches of this holder's works scored below the review threshold",
}
UNKNOWN_HOLDER = "(unknown holder)"


def category(match: Mapping[str, Any]) -> str:
    """The category of one match (see the module docstring)."""
    verdict = match.get("verdict")
    if verdict in ("blocked", "review"):
        return str(verdict)
    if match.get("permit_id") is not None:
        return "permitted"
    if str(match.get("reason", "")).startswith("opt-out"):
        return "not_reserved"
    return "weak"


def holder_categories(line: Mapping[str, Any], holders: Collection[str] | None = None,
                      works: Collection[str] | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per holder with a match in ``line``: (its category, the match that gave it: the
    first, i.e. strongest, of the most severe).  ``holders`` / ``works``: only those
    holders' matches, only matches of those works.  An ``error`` line gives nothing."""
    if line.get("verdict") == "error":
        return {}
    matches = line.get("matches")
    best: dict[str, tuple[int, dict[str, Any]]] = {}
    for m in matches if isinstance(matches, list) else ():
        if not isinstance(m, dict) or "work_id" not in m:
            continue
        holder = str(m.get("holder") or UNKNOWN_HOLDER)
        if holders is not None and holder not in holders:
            continue
        if works is not None and m.get("work_id") not in works:
            continue
        rank = CATEGORIES.index(category(m))
        if holder not in best or rank < best[holder][0]:
            best[holder] = (rank, m)
    return {h: (CATEGORIES[rank], m) for h, (rank, m) in best.items()}


@dataclass
class HolderCounts:
    """One holder's counts over the items of a scan (see the module docstring)."""

    holder: str
    items: Counter[str] = field(default_factory=Counter)  # category -> items
    works: Counter[str] = field(default_factory=Counter)  # work id -> items it gave the category (not weak)
    permits: Counter[int | str] = field(default_factory=Counter)  # permit id -> items it cleared
    reserved: int = 0  # blocked / review items because of the holder's opt-out reservation

    def add(self, cat: str, match: Mapping[str, Any]) -> None:
        self.items[cat] += 1
        if cat != "weak":
            self.works[str(match.get("work_id"))] += 1
        if cat == "permitted":
            permit = match.get("permit_id")
            self.permits[permit if isinstance(permit, (int, str)) else str(permit)] += 1
        elif cat in ("blocked", "review") and "reserved:" in str(match.get("reason", "")):
            self.reserved += 1

    @property
    def matched(self) -> int:
        """Items with at least one match of the holder's works at or above review."""
        return sum(n for c, n in self.items.items() if c != "weak")

    def to_json(self) -> dict[str, int]:
        """``matched`` and every category (zeros included)."""
        return {"matched": self.matched, **{c: int(self.items.get(c, 0)) for c in CATEGORIES}}


def count_lines(lines: Iterable[Mapping[str, Any]], holders: Collection[str] | None = None,
                works: Collection[str] | None = None) -> dict[str, HolderCounts]:
    """The counts of every holder (or only ``holders``) over result lines."""
    out: dict[str, HolderCounts] = {}
    for line in lines:
        for holder, (cat, m) in holder_categories(line, holders, works).items():
            if holder not in out:
                out[holder] = HolderCounts(holder)
            out[holder].add(cat, m)
    return out
