"""The words of the scan report in its language (``kyodaku report --lang ja|en``).

The report's own texts are in ``templates/words.{lang}.json``; a verdict's reason is said from
its message key (:func:`kyodaku.records.reasons.match_reason`, the texts the desk's
pages use, ``kyodaku.service`` locales).  In English a reason is the stored sentence
as the policy wrote it; a reason of no known form is the stored (English) sentence in
every language: shown as written, never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from kyodaku.records.reasons import match_reason

__all__ = ["LANGS", "Words"]

LANGS = ("en", "ja")


@lru_cache(maxsize=4)
def _load(package: str, name: str) -> dict[str, str]:
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


class Words:
    """``t(key, **params)``, ``word(prefix, value)`` and ``reason(...)`` in ``lang``."""

    def __init__(self, lang: str = "en") -> None:
        if lang not in LANGS:
            raise ValueError(f"unknown report language {lang!r} (one of: {', '.join(LANGS)})")
        self.lang = lang
        self._own = _load("kyodaku.report", f"templates/words.{lang}.json")
        self._en = _load("kyodaku.report", "templates/words.en.json")
        self._desk = _load("kyodaku.service", f"locales/{lang}.json")

    def t(self, key: str, **params: Any) -> str:
        msg = self._own.get(key) or self._en.get(key) or key
        return msg.format(**params) if params else msg

    def word(self, prefix: str, value: Any) -> str:
        """A value's word (a verdict, a use, a medium, a permit's status): its
        translation where there is one, else the value itself."""
        if value is None:
            return "-"
        return self._own.get(f"{prefix}_{value}") or str(value)

    def reason(self, text: str | None, verdict: str | None, *, work_id: str | None = None,
               score: float | None = None, permit_id: Any = None) -> str:
        """A match's (or an item's) reason: the stored sentence in English, its message
        key's text in another language (the stored sentence where it has none)."""
        stored = str(text or "")
        if self.lang == "en" or not stored:
            return stored
        key, params = match_reason({"reason": stored, "verdict": verdict, "work_id": work_id, "score": score,
                                    "permit_id": permit_id})
        if key == "reason_text" or key not in self._desk:
            return stored
        if "registry" in params:  # what the registry said beside a rights signal: a reason of its own
            params = {**params, "registry": self.reason(params["registry"], verdict, work_id=work_id, score=score)}
        try:
            return self._desk[key].format(**self._params(params))
        except (KeyError, IndexError, ValueError):  # a message wanting what this reason lacks
            return stored

    def _params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(params)
        if out.get("use") in ("training", "generation"):
            out["use"] = self._desk.get(f"use_{out['use']}", out["use"])
        if "own" in out:
            out["own"] = self.word("verdict", out["own"])
        return out

    @staticmethod
    def key_of(text: str | None, verdict: str | None, **match: Any) -> str:
        """The message key of a reason (``reason_text`` for one of no known form)."""
        return match_reason({"reason": str(text or ""), "verdict": verdict, **match})[0]
