"""Reasons as data: a message key and its parameters for each reason the policy writes
(:mod:`kyodaku.policy.decide` words them in English), so a page shows them in its own
language instead of the English sentence.

:func:`match_reason` reads one match (its ``verdict``, ``permit_id``, ``score`` and the
reason's wording, which the policy fixes); :func:`evidence_reasons` gives the reasons a
holder is shown for a decision (its own matches, or the neutral "other grounds").  A
reason of no known form is ``("reason_text", {"text": reason})``: shown as it was
written, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["evidence_reasons", "match_reason"]

_BELOW = re.compile(r"^score (?P<score>[\d.]+) for (?P<work>\S+) is below the review threshold (?P<review>[\d.]+)$")
_NO_PERMIT = re.compile(r"(?P<licensee>\S+) has no (?P<use>\w+) permit from (?P<holder>\S+) for (?P<work>\S+)$")
_OPT_OUT = re.compile(r"^opt-out \((?P<code>[^)]*)\): (?P<holder>\S+) has not reserved (?P<use>\w+) of (?P<work>\S+)$")
_RESERVED = re.compile(r"reserved: (?P<holder>\S+) reserved (?P<use>\w+) of (?P<work>\S+) \(reservation (?P<rid>\d+)\)")
_POSSIBLE = re.compile(r"^possible copy \(score (?P<score>[\d.]+)\)")


def match_reason(match: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The message key and parameters of one match's reason."""
    text = str(match.get("reason") or "")
    verdict = match.get("verdict")
    work = str(match.get("work_id") or "")
    score = match.get("score")
    score_text = f"{float(score):.2f}" if isinstance(score, (int, float)) else ""
    if m := _BELOW.match(text):
        return "reason_below_review", {"work": m["work"], "score": m["score"], "review": m["review"]}
    if verdict == "cleared" and match.get("permit_id") is not None and text.startswith("permit "):
        return "reason_permit", {"permit": match.get("permit_id"), "work": work}
    if m := _OPT_OUT.match(text):
        return "reason_not_reserved", {"holder": m["holder"], "use": m["use"], "work": m["work"], "code": m["code"]}
    if verdict in ("blocked", "review") and (m := _RESERVED.search(text)):
        return f"reason_reserved_{verdict}", {"holder": m["holder"], "use": m["use"], "work": m["work"],
                                              "reservation": m["rid"], "score": score_text}
    if verdict in ("blocked", "review") and (m := _NO_PERMIT.search(text)):
        params = {"licensee": m["licensee"], "use": m["use"], "holder": m["holder"], "work": m["work"],
                  "score": (p["score"] if (p := _POSSIBLE.match(text)) else score_text)}
        return f"reason_no_permit_{verdict}", params
    return "reason_text", {"text": text or str(verdict or "")}


def evidence_reasons(evidence: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The reasons a holder is shown for one decision's holder view (a claim's evidence,
    an inquiry's item: ``verdict``, ``own_verdict``, ``grounds``, and the holder's own
    ``matches`` or ``works``): the neutral other-grounds message when another holder's
    work or a signal made the verdict, else the reasons of the holder's own matches that
    gave it (each once)."""
    verdict = str(evidence.get("verdict") or "error")
    own = str(evidence.get("own_verdict") or verdict)
    if evidence.get("grounds") == "other":
        return [(f"reason_other_{verdict}", {"own": own})]
    out: list[tuple[str, dict[str, Any]]] = []
    for m in evidence.get("matches") or evidence.get("works") or []:
        if isinstance(m, Mapping) and m.get("verdict") == own and m.get("reason"):
            msg = match_reason(m)
            if msg not in out:
                out.append(msg)
    if not out and evidence.get("reason"):
        out.append(("reason_text", {"text": str(evidence["reason"])}))
    return out
