"""What one rights holder may be shown of a decision: its own matches, and a verdict and
reason that speak only of its own works.

A scan line's ``verdict`` and ``reason`` are the item's, made from every match, caption
and embedded signal: the reason may name another holder, its work and its permits
("no permit: acme has no training permit from other-studio for v0002").  A holder's
views (inquiry answers, CSV, letters, claim evidence, pages, API) are built from
:func:`holder_verdict` instead, never from the line's own reason:

- ``matches`` / ``captions``: only the holder's (and, when given, only ``works``);
- ``verdict``: the item's verdict (what became of the item: blocked items stay out);
- ``own_verdict``: the strictest verdict of the holder's own matches and captions;
- ``grounds``: ``"your_works"`` when the holder's own matches alone give the item's
  verdict, ``"other"`` when the item is stricter than they would make it (another
  holder's work, a rights signal, a caption naming someone else): then the reason is a
  neutral "blocked on other grounds", naming no one;
- ``reason``: the reasons of the holder's own matches (each names only its own holder
  and work), or the neutral wording;
- ``permit_id``: a permit of the holder's own matches, never another holder's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

__all__ = ["OTHER_GROUNDS", "SEVERITY", "holder_verdict", "scrub_item"]

SEVERITY = {"cleared": 0, "review": 1, "blocked": 2, "error": 3}

#: the reason a holder is given when the item's verdict does not come from its works
OTHER_GROUNDS = {
    "blocked": "blocked on other grounds",
    "review": "held for review on other grounds",
    "error": "the item could not be checked",
    "cleared": "cleared",
}


def _strictest(verdicts: Iterable[str | None]) -> str:
    out = "cleared"
    for v in verdicts:
        if v in SEVERITY and SEVERITY[v] > SEVERITY[out]:
            out = v
    return out


def _own(entries: Iterable[Mapping[str, Any]], holders: Collection[str], works: Collection[str] | None,
         *, captions: bool = False) -> list[dict[str, Any]]:
    out = []
    for e in entries or ():
        if not isinstance(e, Mapping) or e.get("holder") not in holders:
            continue
        wid = e.get("work_id")
        # a caption naming the holder itself (a style request) concerns all its works
        if works is not None and wid not in works and not (captions and wid is None):
            continue
        out.append(dict(e))
    return out


def _explain(verdict: str, own: str, grounds: str, reasons: list[str]) -> str:
    if grounds == "other":
        mine = "your works' matches alone would not exclude it" if own == "cleared" else \
            f"your works' matches alone: {own}"
        return f"{OTHER_GROUNDS.get(verdict, verdict)} ({mine})"
    return "; ".join(dict.fromkeys(r for r in reasons if r)) or verdict


def holder_verdict(verdict: str | None, matches: Iterable[Mapping[str, Any]], holders: Collection[str], *,
                   captions: Iterable[Mapping[str, Any]] = (), works: Collection[str] | None = None,
                   permit_id: int | None = None) -> dict[str, Any]:
    """The holder view of one decision (see the module docstring).  ``verdict`` is the
    item's, ``matches``/``captions`` the line's (every holder's; filtered here),
    ``holders`` the slugs the viewer acts for, ``permit_id`` the item's permit."""
    verdict = verdict if verdict in SEVERITY else "error"
    mine = _own(matches, holders, works)
    caps = _own(captions, holders, works, captions=True)
    own = _strictest([m.get("verdict") for m in mine] + [c.get("verdict") for c in caps])
    grounds = "your_works" if SEVERITY[own] >= SEVERITY[verdict] else "other"
    shown = own if grounds == "your_works" else verdict
    reasons = [str(e.get("reason") or "") for e in mine + caps if e.get("verdict") == shown]
    own_permits = {p for m in mine + caps if (p := m.get("permit_id")) is not None}
    permit = permit_id if permit_id in own_permits else (min(own_permits) if own_permits and own == "cleared"
                                                         else None)
    return {"verdict": verdict, "own_verdict": own, "grounds": grounds,
            "reason": _explain(verdict, own, grounds, reasons), "permit_id": permit,
            "matches": mine, "captions": caps}


def scrub_item(item: Mapping[str, Any], holders: Collection[str]) -> dict[str, Any]:
    """An inquiry answer's item stored before holder views existed (its ``reason`` and
    ``permit_id`` were the item's): rebuilt from its own ``works`` (already only the
    holder's), with a reason of the holder's verdicts; newer items pass unchanged."""
    if "grounds" in item:
        return dict(item)
    works = [dict(w, holder=next(iter(holders), None)) for w in item.get("works", []) if isinstance(w, Mapping)]
    view = holder_verdict(item.get("verdict"), works, holders)
    if view["grounds"] == "your_works":
        ids = ", ".join(str(w.get("work_id")) for w in works if w.get("verdict") == view["own_verdict"])
        view["reason"] = f"{view['own_verdict']}: your work(s) {ids}" if ids else view["own_verdict"]
    return {**item, "reason": view["reason"], "permit_id": view["permit_id"], "grounds": view["grounds"],
            "own_verdict": view["own_verdict"]}
