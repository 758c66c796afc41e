"""Which registered works and holders a caption names, and whether it asks for a style.

An :class:`AliasMatcher` is built once per scan from the registry: every work's title
and aliases and every holder's name.  Each alias is compared with a caption in two forms
(see :mod:`kyodaku.text.normalize`):

- *romaji key*: every alias and caption read into folded romaji, so Japanese, romaji and
  English spellings meet whatever the script.  In Latin text a match must start and end
  on word boundaries (``Sword`` does not match ``Swordfish``); inside a Japanese run, on
  a syllable.  Keys shorter than ``min_key`` are never matched this way (``A``), keys
  shorter than ``min_key_in_japanese`` not inside Japanese text (``ほしい`` holds
  ``hoshi``), and only keys of ``fuzzy_min_key`` or more may match with typos.
- *surface*: Japanese aliases against the caption's Japanese text as written
  (NFKC, kana unified), exact from ``min_surface`` characters, fuzzy from
  ``fuzzy_min_surface``.

A typo is one edit (insertion, deletion, substitution or swap of neighbours: the
optimal-string-alignment distance, from ``rapidfuzz``); a key may differ by one edit per
``chars_per_edit`` characters.  An edit budget, not a similarity threshold, because it
is what tells a typo from a near-miss name: ``Studio Hoshi`` -> ``Studio Hoshino`` is
two edits on eleven letters (0.85 similar, as similar as one typo in a seven-letter
title).  The score is ``1 - edits / len(alias)``.  The defaults were chosen on the
labelled set in ``tests/text/labelled.py``.

A match is ``names_work`` (a work's alias), ``names_holder`` (a holder's name) or
``asks_style`` when a style cue stands next to it: ``in the style of X``, ``X style``,
``X-style``, ``by X``, ``X風``, ``Xっぽい``, ``Xみたいな``, ``Xのような``, ``Xの画風`` ...
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from kyodaku.text.normalize import Folded, Keyed, is_japanese, romaji_key, surface

__all__ = ["AliasEntry", "AliasMatcher", "CaptionMatch", "MatcherConfig", "best_per_target", "style_cue"]

Kind = Literal["names_work", "names_holder", "asks_style"]


@dataclass(frozen=True)
class MatcherConfig:
    #: a romaji key may differ by one edit per this many characters (0: exact only)
    chars_per_edit: int = 7
    #: ... a Japanese surface form by one per this many characters
    surface_chars_per_edit: int = 6
    #: romaji keys shorter than this are never matched
    min_key: int = 4
    #: ... nor inside Japanese text when shorter than this
    min_key_in_japanese: int = 6
    #: romaji keys this long or longer may match with typos
    fuzzy_min_key: int = 7
    #: Japanese aliases (surface form) shorter than this are never matched
    min_surface: int = 2
    #: ... and this long or longer may match with typos
    fuzzy_min_surface: int = 6
    #: characters of one text that are read (the rest of a longer one is not)
    max_text: int = 4096


@dataclass(frozen=True)
class AliasEntry:
    """One name to look for: a work's title or alias (``work_id`` set) or a holder's name."""

    text: str
    holder: str
    work_id: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class CaptionMatch:
    work_id: str | None
    holder: str
    alias: str
    text: str  # the caption's own words that matched
    kind: Kind
    score: float
    field: str | None = None  # which text of the item (caption, title, alt, ...)
    start: int = 0
    end: int = 0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = round(self.score, 4)
        return d


# ------------------------------------------------------------------ style cues
_OPEN = "\"'“‘「『(（["
_CLOSE = "\"'”’」』)）]"
_BEFORE = re.compile(
    r"(?:in\s+(?:the\s+)?(?:art\s+|drawing\s+|visual\s+)?style\s+of|(?:art\s+)?style\s+of|"
    r"in\s+the\s+manner\s+of|inspired\s+by|(?:drawn|painted|made|illustrated|animated|designed)\s+by|"
    r"by|à\s+la|a\s+la)\s*[" + re.escape(_OPEN) + r"]?\s*$")
_AFTER = re.compile(
    r"^\s*[" + re.escape(_CLOSE) + r"]?\s*(?:'s|’s)?[\s\-_]*(?:art[\s\-]*|drawing[\s\-]*)?"
    r"(?:style[sd]?|stylized|stylised|esque|aesthetic|inspired)\b")
_AFTER_JA = re.compile(
    r"^\s*[" + re.escape(_CLOSE) + r"]?\s*(?:の|ノ)?\s*(?:風(?![\u4e00-\u9fff])|風味|ふう|フウ|っぽ|ッポ|みたい|ミタイ|よう|様|タッチ|画風|絵柄|"
    r"えがら|作風|スタイル|調|テイスト)")


def style_cue(text: str, start: int, end: int) -> bool:
    """Whether the words around ``text[start:end]`` ask for its style."""
    before = unicodedata.normalize("NFKC", text[max(0, start - 40):start]).casefold()
    after = unicodedata.normalize("NFKC", text[end:end + 40]).casefold()
    return bool(_BEFORE.search(before) or _AFTER.match(after) or _AFTER_JA.match(after))


# ------------------------------------------------------------------ the matcher
@dataclass(frozen=True)
class _Prepared:
    entry: AliasEntry
    key: str  # romaji key ("" when too short to use)
    surface: str  # surface form of a Japanese alias ("" otherwise)


class AliasMatcher:
    """Every alias of the registry, ready to be looked for in captions."""

    def __init__(self, entries: Iterable[AliasEntry], config: MatcherConfig | None = None) -> None:
        self.config = config or MatcherConfig()
        c = self.config
        self.entries: list[_Prepared] = []
        #: aliases too short to be matched safely: never looked for
        self.unmatchable: list[AliasEntry] = []
        seen: set[tuple[str, str | None, str]] = set()
        for e in entries:
            text = (e.text or "").strip()
            if not text or (e.holder, e.work_id, text) in seen:
                continue
            seen.add((e.holder, e.work_id, text))
            key = romaji_key(text).key
            key = key if len(key) >= c.min_key else ""
            surf = surface(text).text if any(is_japanese(ch) for ch in text) else ""
            surf = surf if len(surf) >= c.min_surface else ""
            if not key and not surf:
                self.unmatchable.append(e)
                continue
            self.entries.append(_Prepared(e, key, surf))
        self._keys = [p.key for p in self.entries]
        self._surfaces = [p.surface for p in self.entries]

    @classmethod
    def from_registry(cls, registry: Any, config: MatcherConfig | None = None) -> AliasMatcher:
        """Titles and aliases of every work, and every holder's name."""
        entries: list[AliasEntry] = []
        for w in registry.list_works():
            entries.append(AliasEntry(w.title, w.holder, w.work_id))
            entries.extend(AliasEntry(a.text, w.holder, w.work_id, a.lang) for a in w.aliases)
        entries.extend(AliasEntry(h.name, h.slug) for h in registry.list_holders())
        return cls(entries, config)

    def __len__(self) -> int:
        return len(self.entries)

    # -- matching ---------------------------------------------------------------------------
    def match(self, text: str, field: str | None = None) -> list[CaptionMatch]:
        """The works and holders ``text`` names: one match per (work or holder), the best,
        ``asks_style`` when any of its mentions asks for the style."""
        if not text or not self.entries:
            return []
        text = text[: self.config.max_text]
        found: list[CaptionMatch] = []
        keyed = romaji_key(text)
        if keyed.key:
            found.extend(self._match_keys(text, keyed, field))
        if any(is_japanese(ch) for ch in text):
            folded = surface(text)
            if folded.text:
                found.extend(self._match_surfaces(text, folded, field))
        return best_per_target(found)

    def _hit(self, p: _Prepared, text: str, span: tuple[int, int], score: float,
             field: str | None) -> CaptionMatch:
        s, e = span
        work = p.entry.work_id is not None
        kind: Kind = "asks_style" if style_cue(text, s, e) else ("names_work" if work else "names_holder")
        return CaptionMatch(p.entry.work_id, p.entry.holder, p.entry.text, text[s:e], kind, score, field, s, e)

    def _budget(self, length: int, fuzzy_min: int, per_edit: int) -> int:
        return length // per_edit if per_edit > 0 and length >= fuzzy_min else 0

    def _match_keys(self, text: str, keyed: Keyed, field: str | None) -> list[CaptionMatch]:
        c = self.config
        out = []
        # a cheap shortlist (rapidfuzz, in C): aliases with a close substring in the caption
        for _, _, i in process.extract(keyed.key, self._keys, scorer=fuzz.partial_ratio, score_cutoff=_SHORTLIST,
                                       limit=None):
            p = self.entries[i]
            if not p.key:
                continue
            budget = self._budget(len(p.key), c.fuzzy_min_key, c.chars_per_edit)
            found = self._exact_key(p.key, keyed)
            if found is None and budget:
                found = self._fuzzy(p.key, keyed.key, budget, lambda s, e, k=p.key: self._allowed(k, keyed, s, e))
            if found is not None:
                (s, e), edits = found
                out.append(self._hit(p, text, keyed.source(s, e), 1.0 - edits / len(p.key), field))
        return out

    def _allowed(self, key: str, keyed: Keyed, s: int, e: int) -> bool:
        if not (keyed.can_start(s) and keyed.can_end(e)):
            return False
        return len(key) >= self.config.min_key_in_japanese or not keyed.touches_japanese(s, e)

    def _exact_key(self, key: str, keyed: Keyed) -> tuple[tuple[int, int], int] | None:
        at = keyed.key.find(key)
        while at >= 0:
            if self._allowed(key, keyed, at, at + len(key)):
                return (at, at + len(key)), 0
            at = keyed.key.find(key, at + 1)
        return None

    @staticmethod
    def _fuzzy(key: str, full: str, budget: int,
               allowed: Any) -> tuple[tuple[int, int], int] | None:
        """The window of ``full`` closest to ``key`` within ``budget`` edits: rapidfuzz's
        best alignment, its ends moved by up to ``budget + 1`` characters onto places a
        match may start and end."""
        if len(full) >= len(key):
            al = fuzz.partial_ratio_alignment(key, full)
            assert al is not None  # None only under a score_cutoff, and none is given
            ds, de = al.dest_start, al.dest_end
        else:
            ds, de = 0, len(full)
        slack = budget + 1
        best: tuple[int, int] | None = None
        best_d = budget + 1
        for s in range(max(0, ds - slack), min(len(full), ds + slack) + 1):
            for e in range(max(s + 1, de - slack), min(len(full), de + slack) + 1):
                if abs((e - s) - len(key)) > budget or not allowed(s, e):
                    continue
                d = OSA.distance(key, full[s:e], score_cutoff=budget)
                if d < best_d:
                    best, best_d = (s, e), d
        return (best, best_d) if best is not None else None

    def _match_surfaces(self, text: str, folded: Folded, field: str | None) -> list[CaptionMatch]:
        c = self.config
        out = []
        for i, p in enumerate(self.entries):
            surf = self._surfaces[i]
            if not surf:
                continue
            at = folded.text.find(surf)
            found: tuple[tuple[int, int], int] | None = None
            if at >= 0:
                found = (at, at + len(surf)), 0
            else:
                budget = self._budget(len(surf), c.fuzzy_min_surface, c.surface_chars_per_edit)
                if budget and fuzz.partial_ratio(surf, folded.text, score_cutoff=_SHORTLIST):
                    found = self._fuzzy(surf, folded.text, budget, lambda s, e: True)
            if found is not None:
                (s, e), edits = found
                out.append(self._hit(p, text, folded.source(s, e), 1.0 - edits / len(surf), field))
        return out


#: rapidfuzz partial_ratio (0..100) an alias needs to be looked at closely; loose on
#: purpose: the edit budget decides
_SHORTLIST = 70.0


def best_per_target(found: list[CaptionMatch]) -> list[CaptionMatch]:
    """One match per work (or holder): a style request first, then the best score, then
    the alias written most like the caption's words (``Hoshizora Tantei`` rather than
    ``星空探偵`` for a romaji caption), then the longest."""
    def rank(m: CaptionMatch) -> tuple[bool, float, float, int]:
        return (m.kind == "asks_style", m.score, fuzz.ratio(m.alias.casefold(), m.text.casefold()),
                m.end - m.start)

    best: dict[tuple[str | None, str], CaptionMatch] = {}
    for m in found:
        target = (m.work_id, m.holder)
        if target not in best or rank(m) > rank(best[target]):
            best[target] = m
    return sorted(best.values(), key=lambda m: (m.start, -m.score, m.work_id or "", m.holder))
