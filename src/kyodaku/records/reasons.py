"""Reasons as data: a message key and its parameters for each reason the policy writes
(:mod:`kyodaku.policy.decide` words them in English), so a page shows them in its own
language instead of the English sentence.

:func:`match_reason` reads one match (its ``verdict``, ``permit_id``, ``score`` and the
reason's wording, which the policy fixes; an item's own reason too: a rights signal's,
"no registered work matched"); :func:`caption_reason` one work or holder named in a
caption; :func:`evidence_reasons` gives the reasons a holder is shown for a decision (its
own matches and captions, or the neutral "other grounds").  A
reason of no known form is ``("reason_text", {"text": reason})``: shown as it was
written, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["CAPTION_KEYS", "caption_reason", "evidence_reasons", "kept_captions", "match_reason"]

#: what a holder view keeps of each of its own captions (a claim's evidence, an inquiry's
#: item): what :func:`caption_reason` reads, nothing else of the line's caption (its text,
#: alias, score)
CAPTION_KEYS = ("work_id", "holder", "kind", "verdict", "reason", "permit_id")

_BELOW = re.compile(r"^score (?P<score>[\d.]+) for (?P<work>\S+) is below the review threshold (?P<review>[\d.]+)$")
_NO_PERMIT = re.compile(r"(?P<licensee>\S+) has no (?P<use>\w+) permit from (?P<holder>\S+) for (?P<work>\S+)$")
_OPT_OUT = re.compile(r"^opt-out \((?P<code>[^)]*)\): (?P<holder>\S+) has not reserved (?P<use>\w+) of (?P<work>\S+)$")
_RESERVED = re.compile(r"reserved: (?P<holder>\S+) reserved (?P<use>\w+) of (?P<work>\S+) \(reservation (?P<rid>\d+)\)")
_POSSIBLE = re.compile(r"^possible copy \(score (?P<score>[\d.]+)\)")
_SIGNAL = re.compile(r"^reserved by an embedded rights signal \((?P<source>[^:()]+): (?P<detail>.*?)\)"
                     r"(?:; the registry said: (?P<registry>.*))?$")
_SIGNAL_UNREADABLE = re.compile(r"^a rights signal could not be read \((?P<source>[^:()]+): (?P<detail>.*?)\); "
                                r"the registry said: (?P<registry>.*)$")
_NO_MATCH = "no registered work matched"
_CAPTION_NO_PERMIT = re.compile(r"(?P<licensee>\S+) has no (?P<use>\w+) permit from (?P<holder>\S+) "
                                r"for (?P<scope>.+)$")
_CAPTION_RESERVED = re.compile(r", (?P<holder>\S+) reserved (?P<use>\w+) \(reservation (?P<rid>\d+)\) and ")
_CAPTION_OPT_OUT = re.compile(r"; opt-out \((?P<code>[^)]*)\): (?P<holder>\S+) has not reserved (?P<use>\w+)$")
#: where a caption's reason begins, in a holder view's joined reason (its own matches' first)
_CAPTION_START = re.compile(r"(?:^|; )(?=the caption (?:names|asks for the style of) \S+ \()")
_CAPTION_SAID = re.compile(r"^the caption (?:(?P<style>asks for the style of)|names) (?P<target>\S+) \(")
_CAPTION_NOT_ACTED_ON = re.compile(r"; recorded only \((?P<kind>\w+) is not acted on\)$")
_CAPTION_PERMIT = re.compile(r"; permit (?P<permit>\d+) \(")
_ALL_WORKS = "all its works"


def match_reason(match: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The message key and parameters of one match's reason."""
    text = str(match.get("reason") or "")
    verdict = match.get("verdict")
    work = str(match.get("work_id") or "")
    score = match.get("score")
    score_text = f"{float(score):.2f}" if isinstance(score, (int, float)) else ""
    if m := _BELOW.match(text):
        return "reason_below_review", {"work": m["work"], "score": m["score"], "review": m["review"]}
    if m := _SIGNAL.match(text):
        if m["registry"] is None:
            return "reason_signal_reserved", {"source": m["source"], "detail": m["detail"]}
        return "reason_signal_reserved_also", {"source": m["source"], "detail": m["detail"],
                                               "registry": m["registry"]}
    if m := _SIGNAL_UNREADABLE.match(text):
        return "reason_signal_unreadable", {"source": m["source"], "detail": m["detail"], "registry": m["registry"]}
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
    if text == _NO_MATCH:
        return "reason_no_match", {}
    return "reason_text", {"text": text or str(verdict or "")}


def evidence_reasons(evidence: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The reasons a holder is shown for one decision's holder view (a claim's evidence,
    an inquiry's item: ``verdict``, ``own_verdict``, ``grounds``, and the holder's own
    ``matches`` or ``works``): the neutral other-grounds message when another holder's
    work or a signal made the verdict, else the reasons of the holder's own matches and
    captions that gave it (each once).  A caption's reason comes from the view's
    ``captions`` (claim evidence and inquiry items keep the holder's own,
    :func:`kept_captions`).  Evidence and answers stored before they kept captions have
    no ``captions`` key: there, and only there, each caption's reason is read back from
    the view's ``reason`` (the policy's wording of each caption follows its matches'
    reasons there); that fallback stays for what is already stored."""
    verdict = str(evidence.get("verdict") or "error")
    own = str(evidence.get("own_verdict") or verdict)
    if evidence.get("grounds") == "other":
        return [(f"reason_other_{verdict}", {"own": own})]
    out: list[tuple[str, dict[str, Any]]] = []

    def add(msg: tuple[str, dict[str, Any]]) -> None:
        if msg not in out:
            out.append(msg)

    for m in evidence.get("matches") or evidence.get("works") or []:
        if isinstance(m, Mapping) and m.get("verdict") == own and m.get("reason"):
            add(match_reason(m))
    captions = [c for c in evidence.get("captions") or [] if isinstance(c, Mapping)]
    for c in captions:
        if c.get("verdict") == own and c.get("reason"):
            add(caption_reason(c))
    reason = str(evidence.get("reason") or "")
    if "captions" not in evidence and reason:
        # stored before views kept their captions: their reasons are read back from the
        # holder view's reason, where they follow the matches' reasons
        first, *said = _CAPTION_START.split(reason)
        if said and first and not out:  # what comes before the captions, no match to word it
            add(("reason_text", {"text": first}))
        for text in said:
            add(caption_reason(_caption_of(text, own)))
    if not out and reason:
        add(("reason_text", {"text": reason}))
    return out


def kept_captions(captions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A holder view's own captions (already only the holder's:
    :func:`kyodaku.records.holder_view.holder_verdict`) as a claim's evidence or an
    inquiry's item keeps them: :data:`CAPTION_KEYS` only."""
    return [{k: c[k] for k in CAPTION_KEYS if k in c} for c in captions if isinstance(c, Mapping)]


def _caption_of(text: str, verdict: str) -> dict[str, Any]:
    """One caption as far as its reason (the policy's wording) tells it: the work or holder
    named, the kind of mention where the wording shows it (else ``""``), and the permit
    that cleared it."""
    said = _CAPTION_SAID.match(text)
    target = said["target"] if said else ""
    kind = ""
    if said and said["style"]:
        kind = "asks_style"
    elif verdict == "review" and (m := _CAPTION_NO_PERMIT.search(text)):
        kind = "names_holder" if m["scope"] == _ALL_WORKS else "names_work"
    elif m := _CAPTION_NOT_ACTED_ON.search(text):
        kind = m["kind"]
    permit = _CAPTION_PERMIT.search(text) if verdict == "cleared" else None
    # the target is a work unless the reason shows a holder was named (a style: either)
    named = "holder" if kind == "names_holder" else "work_id"
    return {"reason": text, "verdict": verdict, "kind": kind, named: target,
            "permit_id": int(permit["permit"]) if permit else None}


def caption_reason(caption: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The message key and parameters of what one work or holder named in a caption (or
    a prompt, ``kyodaku check-text``) does (:meth:`kyodaku.policy.decide.Policy.judge_caption`
    words it): review for want of a permit (``caption_no_permit`` / ``caption_reserved``),
    a permit covers it, opt-out without a reservation, or recorded only."""
    text = str(caption.get("reason") or "")
    kind = str(caption.get("kind") or "")
    target = str(caption.get("work_id") or caption.get("holder") or "")
    if caption.get("verdict") == "review" and (m := _CAPTION_NO_PERMIT.search(text)):
        params: dict[str, Any] = {"kind": kind, "target": target, "licensee": m["licensee"], "use": m["use"],
                                  "holder": m["holder"], "scope": m["scope"]}
        if r := _CAPTION_RESERVED.search(text):
            return "caption_reserved", {**params, "reservation": r["rid"]}
        return "caption_no_permit", params
    if caption.get("verdict") == "cleared" and caption.get("permit_id") is not None:
        return "caption_permit", {"kind": kind, "target": target, "permit": caption.get("permit_id")}
    if m := _CAPTION_OPT_OUT.search(text):
        return "caption_not_reserved", {"kind": kind, "target": target, "code": m["code"], "holder": m["holder"],
                                        "use": m["use"]}
    if "; recorded only (" in text:
        return "caption_recorded_only", {"kind": kind, "target": target}
    return "reason_text", {"text": text}
