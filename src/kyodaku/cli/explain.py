"""A result line in a person's words: what ``kyodaku check`` and ``kyodaku check-text``
print under the verdict.

:func:`explain` is pure: it reads one result line (as :func:`kyodaku.scan.pipeline.check_file`
and ``kyodaku scan --out`` write it) and returns sentences, the one that decided the
verdict first.  It knows the keys the matcher, the appearance check, cross-media matching
and the policy put on a line:

- per match: ``method`` (``orb`` local features with ``inliers``, ``mirrored``,
  ``rotation_deg``; ``pdq`` with ``pdq_distance``, ``region``, ``trimmed``;
  ``video_frames`` with ``matched_frames`` and the ``query_segment`` / ``ref_segment``
  seconds), the appearance check (``appearance``: ``altered``, ``occluded``; and
  ``partly_redrawn``, ``variant`` (True; PDQ's ``variant`` is the number of a dihedral
  hash), ``mostly_covered``), ``explained_by`` / ``capped_as_explained`` / ``raw_score``,
  a picture found in a video (``picture_in_video``, ``keyframe_t``, ``matched_keyframes``,
  ``matched_frames``, ``single_frame``), and the decision (``verdict``, ``reason``,
  ``permit_id``);
- ``captions`` (works and holders named in the item's text), ``signals`` (C2PA, IPTC,
  TDMRep, X-Robots-Tag) and the line's own ``verdict`` / ``reason`` / ``permit_id``.

What the line does not hold (titles, the licensee, the use, the review threshold, the
registry's look-alike pairs) is passed in; without it the sentences name work ids only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from kyodaku.signals.base import USES_FOR

__all__ = ["explain", "explain_text"]

_SEVERITY = {"blocked": 0, "review": 1, "cleared": 2}
#: most matches given a sentence each (the rest are counted)
MAX_MATCHES = 8
MAX_CAPTIONS = 8
_NO_PERMIT = re.compile(r"(?P<licensee>\S+) has no (?P<use>\w+) permit from (?P<holder>.+?) for (?P<work>\S+)")
_RESERVED = re.compile(r"reserved (?P<use>\w+) of (?P<work>\S+) \(reservation (?P<rid>\d+)\)")
_OPT_OUT = re.compile(r"^opt-out \((?P<code>[^)]*)\)")
_SIGNAL_REASONS = ("reserved by an embedded rights signal", "a rights signal could not be read")
_SIGNAL_USES = {"training": "AI training", "generative_training": "generative AI training",
                "data_mining": "text and data mining", "inference": "AI inference (use as an input)",
                "all": "every AI use"}
_SOURCES = {"c2pa": "C2PA manifest", "iptc": "IPTC metadata", "tdmrep": "TDMRep", "x-robots-tag": "X-Robots-Tag",
            "robots.txt": "robots.txt"}


def _pct(share: Any) -> str:
    x = 100 * float(share)
    return f"{x:.0f} %" if x >= 10 else f"{x:.1f} %"


def _seconds(seg: Any) -> str | None:
    if isinstance(seg, (list, tuple)) and len(seg) == 2:
        try:
            return f"{float(seg[0]):.1f}-{float(seg[1]):.1f}"
        except (TypeError, ValueError):
            return None
    return None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class _Namer:
    def __init__(self, titles: Mapping[str, str] | None) -> None:
        self.titles = titles or {}

    def work(self, work_id: Any, holder: Any = None) -> str:
        text = str(work_id)
        title = self.titles.get(str(work_id))
        if title:
            text += f" '{title}'"
        if holder:
            text += f" (holder {holder})"
        return text


def _how(m: Mapping[str, Any]) -> str:
    """How the match was found, from its method's evidence."""
    ev = m.get("evidence") if isinstance(m.get("evidence"), Mapping) else {}
    method = m.get("method")
    if method == "orb":
        parts = []
        if _num(ev.get("inliers")) is not None:
            parts.append(f"{int(ev['inliers'])} keypoints agree")
        if ev.get("mirrored") is True:
            parts.append("mirrored")
        rot = _num(ev.get("rotation_deg"))
        if rot is not None and abs(rot) >= 1:
            parts.append(f"rotated {abs(rot):.0f}°")
        return "by local features" + (f" ({', '.join(parts)})" if parts else "")
    if method == "pdq":
        d = _num(ev.get("pdq_distance"))
        text = "by its perceptual hash (PDQ" + (f", {int(d)} of 256 bits differ)" if d is not None else ")")
        if ev.get("region") == "quadrant":
            text += ", in one quarter of the file (a collage or grid)"
        elif ev.get("trimmed") is True:
            text += ", inside its borders"
        return text
    if method == "video_frames":
        parts = []
        if _num(ev.get("matched_frames")) is not None:
            parts.append(f"{int(ev['matched_frames'])} sampled frames aligned in time")
        if ev.get("mirrored") is True:
            parts.append("mirrored")
        return "frame by frame" + (f" ({', '.join(parts)})" if parts else "")
    return f"by {method}" if method else "by its fingerprint"


def _what(m: Mapping[str, Any], media: Any, name: _Namer) -> str:
    """The first clause: which work, where, how strongly, how."""
    ev = m.get("evidence") if isinstance(m.get("evidence"), Mapping) else {}
    work = name.work(m.get("work_id"), m.get("holder"))
    score = _num(m.get("score"))
    at = f" at {score:.2f}" if score is not None else ""
    q, r = _seconds(m.get("query_segment")), _seconds(m.get("ref_segment"))
    if ev.get("picture_in_video") is True:
        where = f"seconds {q} of this video show" if q else "this video shows"
        text = f"{where} the registered picture {work}{at} {_how(m)}"
        n, frames = _num(ev.get("matched_keyframes")), _num(ev.get("matched_frames"))
        if n is not None:
            t = _num(ev.get("keyframe_t"))
            notes = ([f"{int(frames)} sampled frame(s)"] if frames is not None else []) \
                + ([f"the strongest at {t:.1f} s"] if t is not None else [])
            text += f" in {int(n)} keyframe(s)" + (f" ({', '.join(notes)})" if notes else "")
        return text
    if m.get("method") == "video_frames" or q:
        where = f"seconds {q} of this video" if q else "this video"
        of = f"seconds {r} of the registered video" if r else "the registered video"
        return f"{where} match {of} {work}{at} {_how(m)}"
    subject = "the video" if media == "video" else "the picture"
    return f"{subject} matches {work}{at} {_how(m)}"


def _finding(m: Mapping[str, Any], name: _Namer) -> list[str]:
    """The appearance check's finding and other reasons the score was capped."""
    ev = m.get("evidence") if isinstance(m.get("evidence"), Mapping) else {}
    out = []
    look = ev.get("appearance") if isinstance(ev.get("appearance"), Mapping) else None
    altered = _num(look.get("altered")) if look else None
    occluded = _num(look.get("occluded")) if look else None
    if ev.get("partly_redrawn") is True:
        out.append(f"about {_pct(altered or 0)} of it is drawn differently (partly redrawn: an edited copy or the "
                   "artist's own variant)")
    elif ev.get("variant") is True:
        out.append(f"about {_pct(altered or 0)} of it is altered: a variant drawn over the same lines (recoloured "
                   "or redrawn), not a plain copy")
    elif ev.get("mostly_covered") is True:
        out.append(f"about {_pct(occluded or 0)} of the registered picture is covered or blank here: the file shows "
                   "too little of it to block on")
    elif altered is not None:
        out.append("pixel by pixel it is the same picture"
                   + (f" ({_pct(altered)} altered, {_pct(occluded or 0)} covered)" if (altered or occluded) else ""))
    by = ev.get("explained_by")
    if by is not None:
        raw = _num(ev.get("raw_score"))
        out.append(f"what matched is better explained by {name.work(by)} (a registered work sharing this art), "
                   "so it is scored below that one" + (f" (on its own: {raw:.2f})" if raw is not None else ""))
    if ev.get("single_frame") is True:
        out.append("only one sampled frame shows it (no evidence over time), so it is review at most")
    return out


def _decision(m: Mapping[str, Any], licensee: str | None, use: str | None) -> str:
    """What the policy made of the match, in words."""
    verdict = m.get("verdict")
    reason = str(m.get("reason") or "")
    work = m.get("work_id")
    found = _NO_PERMIT.search(reason)
    who = licensee or (found["licensee"] if found else "the licensee")
    for_use = use or (found["use"] if found else None)
    no_permit = f"no permit of {who}" + (f" for {for_use}" if for_use else "") + " covers this work"
    reserved = _RESERVED.search(reason)
    if verdict == "blocked":
        if reserved:
            return (f"blocked: {m.get('holder')} reserved {reserved['use']} of {work} (reservation {reserved['rid']}, "
                    f"opt-out) and {no_permit}")
        return f"blocked: {no_permit}"
    if verdict == "review":
        text = "so it goes to review (a person decides)"
        if reserved:
            return text + f": {m.get('holder')} reserved {reserved['use']} of it and {no_permit}"
        return text + f": {no_permit}"
    if verdict == "cleared":
        if m.get("permit_id") is not None:
            permit = reason if reason.startswith("permit ") else f"permit {m['permit_id']}"
            return f"cleared: {permit} covers it"
        opt = _OPT_OUT.search(reason)
        if opt:
            return (f"cleared: the holder's law is opt-out ({opt['code']}) and {m.get('holder')} has not reserved "
                    + (f"{for_use} of it" if for_use else "this use of it"))
        return "too weak to act on (below the review threshold)"
    return reason


def _match_sentences(line: Mapping[str, Any], name: _Namer, licensee: str | None, use: str | None,
                     review: float | None) -> list[str]:
    matches = [m for m in line.get("matches") or [] if isinstance(m, Mapping) and "work_id" in m]
    strong = [m for m in matches if m.get("verdict") in ("blocked", "review")
              or m.get("permit_id") is not None or str(m.get("reason", "")).startswith("opt-out")]
    weak = [m for m in matches if m not in strong]
    strong.sort(key=lambda m: (_SEVERITY.get(str(m.get("verdict")), 3), -(_num(m.get("score")) or 0.0)))
    out = []
    for m in strong[:MAX_MATCHES]:
        clauses = [_what(m, line.get("media"), name), *_finding(m, name)]
        decision = _decision(m, licensee, use)
        sep = ", " if decision.startswith("so ") else "; "
        out.append("; ".join(clauses) + sep + decision)
    if len(strong) > MAX_MATCHES:
        out.append(f"and {len(strong) - MAX_MATCHES} more matched work(s) (see --json)")
    if weak:
        best = max(weak, key=lambda m: _num(m.get("score")) or 0.0)
        threshold = f" {review:.2f}" if review is not None else ""
        score = _num(best.get("score"))
        out.append(f"{len(weak)} weaker match(es) below the review threshold{threshold} change nothing (the best: "
                   f"{name.work(best.get('work_id'), best.get('holder'))}"
                   + (f" at {score:.2f})" if score is not None else ")"))
    return out


def _caption_sentences(captions: Iterable[Any], name: _Namer, licensee: str | None, use: str | None,
                       where: str | None = None) -> list[str]:
    out = []
    items = [c for c in captions if isinstance(c, Mapping)]
    items.sort(key=lambda c: _SEVERITY.get(str(c.get("verdict")), 3))
    for c in items[:MAX_CAPTIONS]:
        field = c.get("field")
        place = where or (f"its {field}" if field and field != "text" else "its text")
        work_id, holder, kind = c.get("work_id"), c.get("holder"), c.get("kind")
        target = name.work(work_id, holder) if work_id else f"the holder {holder}"
        if kind == "asks_style":
            said = f"{place} asks for the style of {target}"
        else:
            said = f"{place} names {target}"
        score = _num(c.get("score"))
        text, alias = str(c.get("text")), str(c.get("alias"))
        quoted = [f"'{text}'"] if text == alias else [f"'{text}' read as '{alias}'"]
        if score is not None and score < 1:
            quoted.append(f"similarity {score:.2f}")
        if text != alias or text not in target or len(quoted) > 1:
            said += f" ({', '.join(quoted)})"
        reason = str(c.get("reason") or "")
        who = licensee or "the licensee"
        if c.get("verdict") == "review":
            scope = "all its works (a style is the holder's whole output)" if kind == "asks_style" or not work_id \
                else "this work"
            reserved = re.search(r"reserved \w+ \(reservation (\d+)\)", reason)
            why = (f"{holder} reserved {use or 'this use'} (reservation {reserved.group(1)}) and " if reserved else "")
            said += (f", so it goes to review: {why}no permit of {who}" + (f" for {use}" if use else "")
                     + f" covers {scope}")
        elif c.get("permit_id") is not None:
            permit = re.search(r"permit \d+ \([^)]*\)", reason)
            said += (f"; {permit.group(0) if permit else 'permit ' + str(c['permit_id'])} covers it"
                     + (", so it changes nothing" if where is None else ""))
        elif "opt-out" in reason:
            said += f"; {holder} has not reserved this use under its opt-out law" \
                + (", so it changes nothing" if where is None else "")
        elif "recorded only" in reason:
            said += "; recorded only: " + reason.rsplit("recorded only", 1)[1].strip(" ()")
        out.append(said)
    if len(items) > MAX_CAPTIONS:
        out.append(f"and {len(items) - MAX_CAPTIONS} more named work(s) or holder(s) (see --json)")
    return out


def _signal_sentences(line: Mapping[str, Any], use: str | None) -> list[str]:
    out = []
    applies = USES_FOR.get(use or "", frozenset())
    for s in line.get("signals") or []:
        if not isinstance(s, Mapping):
            continue
        source = _SOURCES.get(str(s.get("source")), str(s.get("source")))
        what = _SIGNAL_USES.get(str(s.get("use")), str(s.get("use")))
        detail = f" ({s['detail']})" if s.get("detail") else ""
        status = s.get("status")
        if status == "reserved":
            text = f"the file's {source} reserves {what}{detail}"
            if use and s.get("use") in applies:
                text += (", which covers " + use + ": the file is blocked whatever the registry says "
                         "(a signal only ever makes a verdict stricter)")
            elif use:
                text += f"; that is not {use}, so it changes nothing here"
            out.append(text)
        elif status == "unreadable":
            out.append(f"the file's {source} could not be read{detail}: a file otherwise cleared goes to review")
        elif status == "allowed":
            out.append(f"the file's {source} allows {what}{detail} (recorded; an allowance never clears a file "
                       "by itself, the registry decides)")
        else:
            out.append(f"the file's {source} says nothing about {what}{detail}")
    return out


def _lookalike_sentences(line: Mapping[str, Any], lookalikes: Iterable[Any]) -> list[str]:
    matched = set()
    for m in line.get("matches") or []:
        if isinstance(m, Mapping):
            ev = m.get("evidence") if isinstance(m.get("evidence"), Mapping) else {}
            matched.update(x for x in (m.get("work_id"), ev.get("explained_by")) if x is not None)
    out = []

    def get(p: Any, key: str) -> Any:
        return p.get(key) if isinstance(p, Mapping) else getattr(p, key, None)

    for p in lookalikes:
        a, b = get(p, "work_id"), get(p, "other_work_id")
        if a in matched and b in matched:
            text = (f"{a} and {b} are near-identical registered pictures (PDQ distance {get(p, 'distance')}/256): "
                    "a copy of either matches both")
            if get(p, "holder") != get(p, "other_holder"):
                text += f"; holders {get(p, 'holder')} and {get(p, 'other_holder')} both claim it"
            out.append(text)
    return out


def explain(line: Mapping[str, Any], *, titles: Mapping[str, str] | None = None, licensee: str | None = None,
            use: str | None = None, review: float | None = None, lookalikes: Iterable[Any] = ()) -> list[str]:
    """Sentences a person understands for one result line, the one behind the verdict
    first.  ``titles``: work id -> title; ``review``: the policy's review threshold;
    ``lookalikes``: the registry's near-identical pairs (objects or dicts with
    ``work_id``, ``other_work_id``, ``holder``, ``other_holder``, ``distance``)."""
    name = _Namer(titles)
    verdict = line.get("verdict")
    reason = str(line.get("reason") or "")
    if verdict == "error":
        return [f"the file could not be read ({reason}): nothing was matched, so it is not cleared; fix or "
                "remove it and scan again"]
    matches = _match_sentences(line, name, licensee, use, review) \
        or ["no registered picture or video looks like this file"]
    captions = _caption_sentences(line.get("captions") or [], name, licensee, use)
    signals = _signal_sentences(line, use)
    strong = [m for m in line.get("matches") or [] if isinstance(m, Mapping) and m.get("verdict") in
              ("blocked", "review")]
    if reason.startswith(_SIGNAL_REASONS):
        first, rest = signals, matches + captions
    elif verdict == "review" and not strong and captions:
        first, rest = captions, matches + signals
    else:
        first, rest = matches, captions + signals
    return first + rest + _lookalike_sentences(line, lookalikes)


def text_reason_key(result: Mapping[str, Any]) -> str | None:
    """The message key of ``kyodaku check-text``'s verdict (:mod:`kyodaku.records.reasons`):
    ``text_no_match`` when the text names nothing, else the key of the caption behind the
    verdict (the one :func:`explain_text` leads with); None for wording of no known form."""
    from kyodaku.records.reasons import caption_reason

    items = sorted((c for c in result.get("captions") or [] if isinstance(c, Mapping)),
                   key=lambda c: _SEVERITY.get(str(c.get("verdict")), 3))
    if not items:
        return "text_no_match"
    key = caption_reason(items[0])[0]
    return None if key == "reason_text" else key


def explain_text(result: Mapping[str, Any], *, titles: Mapping[str, str] | None = None,
                 licensee: str | None = None, use: str | None = None) -> list[str]:
    """Sentences for ``kyodaku check-text``'s result (``{"text", "verdict", "reason",
    "captions"}``): what the text names, the one behind the verdict first; a text that
    names nothing says so."""
    found = _caption_sentences(result.get("captions") or [], _Namer(titles), licensee, use, where="the text")
    return found or ["the text names no registered work or holder"]
