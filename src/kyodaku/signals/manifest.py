"""Rights signals recorded in manifest columns (no network access: only what the row says).

Columns (names are matched case-insensitively, ``_`` == ``-``):

``tdm-reservation``
    TDMRep value: ``1`` -> reserved, ``0`` -> allowed (TDM rights not reserved).
``tdm-policy``
    TDMRep policy URL; recorded in the detail. A policy without a reservation
    column is treated as reserved (a policy is only published to condition
    TDM); with ``tdm-reservation: 0`` it is ignored, as TDMRep says.
``x-robots-tag``
    One header value, or a list of values (repeated headers). Parsed like
    img2dataset's ``is_disallowed``: ``[user-agent:] directive, directive``,
    lower-cased. Reserved if any directive is one of img2dataset's default
    ``disallowed_header_directives`` (``noai``, ``noimageai``, ``noindex``,
    ``noimageindex``) or ``noml``; ``none`` (= noindex, nofollow) too.
    Unlike img2dataset (which only obeys its own UA token), a directive
    addressed to *any* user agent counts unless ``user_agents`` is given.
    Values without such directives give no signal.
``robots-txt`` / ``robots.txt``
    A verdict recorded at crawl time: ``disallowed``/``disallow``/``blocked``/
    ``denied`` -> reserved, ``allowed``/``allow`` -> allowed.

Empty cells (None, "", NaN) give no signal; anything else that cannot be
parsed gives ``unreadable``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from kyodaku.signals.base import Signal

RESERVING_DIRECTIVES = frozenset({"noai", "noimageai", "noml", "noindex", "noimageindex", "none"})
KNOWN_DIRECTIVES = frozenset({
    "all", "index", "follow", "nofollow", "noarchive", "nocache", "nosnippet",
    "notranslate", "nositelinkssearchbox", "indexifembedded", "noodp", "noydir",
    "max-snippet", "max-image-preview", "max-video-preview", "unavailable_after",
}) | RESERVING_DIRECTIVES
_PARAM_DIRECTIVES = ("max-snippet", "max-image-preview", "max-video-preview", "unavailable_after")
_TOKEN = re.compile(r"^[a-z][a-z0-9_\-]*$")
_UA = re.compile(r"^[a-z0-9_\-\.\*]+$")

_ROBOTS_RESERVED = {"disallowed", "disallow", "blocked", "denied", "deny"}
_ROBOTS_ALLOWED = {"allowed", "allow"}


def _norm(key: str) -> str:
    return str(key).strip().lower().replace("_", "-")


def _empty(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _get(cols: dict[str, Any], *names: str) -> Any:
    for n in names:
        if n in cols and not _empty(cols[n]):
            return cols[n]
    return None


def _tdm(cols: dict[str, Any]) -> list[Signal]:
    res = _get(cols, "tdm-reservation")
    policy = _get(cols, "tdm-policy")
    out: list[Signal] = []
    flag: int | None = None
    if res is not None:
        if isinstance(res, bool) or isinstance(res, (int, float)) and res in (0, 1):
            flag = int(res)
        elif isinstance(res, str) and res.strip() in ("0", "1"):
            flag = int(res.strip())
        else:
            return [Signal("tdmrep", "all", "unreadable", f"tdm-reservation={res!r}")]
    if policy is not None:
        if not isinstance(policy, str) or not re.match(r"^https?://\S+$", policy.strip()):
            out.append(Signal("tdmrep", "all", "unreadable", f"tdm-policy={policy!r}"))
            policy = None
        else:
            policy = policy.strip()
    if flag == 1 or (flag is None and policy):
        detail = "tdm-reservation=1" if flag == 1 else "tdm-policy without tdm-reservation"
        if policy:
            detail += f"; tdm-policy={policy}"
        out.append(Signal("tdmrep", "data_mining", "reserved", detail))
    elif flag == 0:
        out.append(Signal("tdmrep", "data_mining", "allowed", "tdm-reservation=0"))
    return out


def parse_x_robots_tag(value: str) -> tuple[str | None, list[str]]:
    """``"googlebot: noai, noindex"`` -> ``("googlebot", ["noai", "noindex"])``."""
    head, sep, tail = value.partition(":")
    ua: str | None = None
    rest = value
    h = head.strip().lower()
    if sep and h not in _PARAM_DIRECTIVES and "," not in head:
        ua, rest = h, tail
    directives = [d.strip().lower() for d in rest.split(",") if d.strip()]
    return ua, directives


def _x_robots(cols: dict[str, Any], user_agents: Collection[str] | None) -> list[Signal]:
    raw = _get(cols, "x-robots-tag")
    if raw is None:
        return []
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        return [Signal("x-robots-tag", "all", "unreadable", f"X-Robots-Tag={raw!r}")]
    out: list[Signal] = []
    wanted = None if user_agents is None else {u.lower() for u in user_agents}
    for value in values:
        ua, directives = parse_x_robots_tag(value)
        names = [d.split(":", 1)[0].strip() for d in directives]
        if (ua is not None and not _UA.match(ua)) or not all(_TOKEN.match(n) for n in names):
            out.append(Signal("x-robots-tag", "all", "unreadable", f"X-Robots-Tag={value!r}"))
            continue
        if ua is not None and ua != "*" and wanted is not None and ua not in wanted:
            continue
        hits = [n for n in names if n in RESERVING_DIRECTIVES]
        if hits:
            who = f" (for {ua})" if ua else ""
            out.append(Signal("x-robots-tag", "training", "reserved",
                              f"X-Robots-Tag: {', '.join(hits)}{who}"))
    return out


def _robots(cols: dict[str, Any]) -> list[Signal]:
    raw = _get(cols, "robots-txt", "robots.txt", "robotstxt")
    if raw is None:
        return []
    v = raw.strip().lower() if isinstance(raw, str) else None
    if v in _ROBOTS_RESERVED:
        return [Signal("robots.txt", "data_mining", "reserved", f"robots.txt verdict: {raw}")]
    if v in _ROBOTS_ALLOWED:
        return [Signal("robots.txt", "data_mining", "allowed", f"robots.txt verdict: {raw}")]
    return [Signal("robots.txt", "all", "unreadable", f"robots.txt verdict {raw!r}")]


def signals_from_columns(row: Mapping[str, Any], *,
                         user_agents: Collection[str] | None = None) -> list[Signal]:
    """Signals from one manifest row. Never raises."""
    try:
        cols = {_norm(k): v for k, v in row.items()}
        return _tdm(cols) + _x_robots(cols, user_agents) + _robots(cols)
    except Exception as exc:  # noqa: BLE001 - readers never raise  # pragma: no cover
        return [Signal("tdmrep", "all", "unreadable", f"manifest columns could not be read: {exc}")]
