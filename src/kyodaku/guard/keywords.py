"""Prompt screening beyond names: a holder's descriptive keyword sets (``videogame`` +
``plumber``) call up a work without its name, so a prompt with *all* keywords of one set
is a hit.

Matching (:class:`KeywordMatcher`), on the prompt only (the negative prompt says what is
not wanted and is never matched):

- Latin keywords against the prompt's words (NFKC, case-folded, split on anything that is
  no letter or digit).  A keyword of several words (``video game``) and one written
  together (``videogame``) meet: both are compared without spaces, against runs of up to
  three neighbouring prompt words joined.  Keywords of 5 or more letters may differ by one
  edit (insertion, deletion, substitution, swap: a typo, a plural ``s``); shorter ones
  must be exact or take a plural ``s``.
- Japanese keywords by substring of the prompt's surface form
  (:func:`kyodaku.text.normalize.surface`: NFKC, width, katakana as hiragana, no spaces).

The compiled matcher is cached per registry and rebuilt when its keyword sets change
(checked at most every :data:`RELOAD_SECONDS`).
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
import weakref
from dataclasses import asdict, dataclass, field
from typing import Any

from rapidfuzz.distance import OSA

from kyodaku.text.normalize import is_japanese, surface

__all__ = ["KeywordHit", "KeywordMatcher", "RELOAD_SECONDS", "keyword_hits", "suggest_rewrite"]

#: how often the cached matcher checks the registry for changed keyword sets (seconds)
RELOAD_SECONDS = 1.0
#: Latin keywords this long or longer may match with one edit
FUZZY_MIN = 5
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass
class KeywordHit:
    """A keyword set all of whose keywords are in the prompt; ``matched`` are the
    prompt's own words that matched (for the rewrite)."""

    work_id: str
    holder: str
    set_id: int
    keywords: list[str]
    lang: str
    matched: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True)
class _Prompt:
    words: list[str]
    spans: list[tuple[int, int]]
    folded: str  # surface form (Japanese substring search)
    text: str


def _prepare(text: str) -> _Prompt:
    folded = _fold(text)
    words, spans = [], []
    for m in _WORD.finditer(folded):
        if all(is_japanese(c) for c in m.group()):
            continue
        words.append(m.group())
        spans.append(m.span())
    return _Prompt(words, spans, surface(text).text, folded)


def _latin_match(key: str, p: _Prompt) -> str | None:
    """The prompt's words (joined, as written) that ``key`` (spaces removed) matches."""
    n = len(p.words)
    for i in range(n):
        joined = ""
        for j in range(i, min(n, i + 3)):
            joined += p.words[j]
            if len(joined) > len(key) + 2:
                break
            if (joined == key or joined == key + "s" or joined == key + "es"
                    or (len(key) >= FUZZY_MIN and OSA.distance(key, joined, score_cutoff=1) <= 1)):
                return p.text[p.spans[i][0]:p.spans[j][1]]
    return None


@dataclass(frozen=True)
class _Set:
    set_id: int
    work_id: str
    holder: str
    lang: str
    keywords: tuple[str, ...]
    #: per keyword: ("ja", surface form) or ("latin", letters without spaces)
    keys: tuple[tuple[str, str], ...]


class KeywordMatcher:
    """Every keyword set of a registry, ready to be looked for in prompts."""

    def __init__(self, sets: list[Any]) -> None:
        self.sets: list[_Set] = []
        for k in sets:
            keys = []
            for word in k.keywords:
                if any(is_japanese(c) for c in word):
                    keys.append(("ja", surface(word).text))
                else:
                    keys.append(("latin", "".join(_WORD.findall(_fold(word)))))
            if all(v for _, v in keys):
                self.sets.append(_Set(k.id, k.work_id, k.holder, k.lang, tuple(k.keywords), tuple(keys)))

    def match(self, prompt: str) -> list[KeywordHit]:
        if not prompt.strip() or not self.sets:
            return []
        p = _prepare(prompt[:4096])
        memo: dict[tuple[str, str], str | None] = {}
        hits = []
        for s in self.sets:
            matched = []
            for key in s.keys:
                if key not in memo:
                    kind, value = key
                    if kind == "ja":
                        memo[key] = value if value in p.folded else None
                    else:
                        memo[key] = _latin_match(value, p)
                found = memo[key]
                if found is None:
                    break
                matched.append(found)
            else:
                hits.append(KeywordHit(s.work_id, s.holder, s.set_id, list(s.keywords), s.lang, matched))
        return hits


_CACHE: weakref.WeakKeyDictionary[Any, tuple[float, tuple[Any, ...], KeywordMatcher]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _matcher(registry: Any) -> KeywordMatcher:
    now = time.monotonic()
    with _LOCK:
        cached = _CACHE.get(registry)
        if cached is not None and now - cached[0] < RELOAD_SECONDS:
            return cached[2]
    sets = registry.list_keyword_sets()
    stamp = tuple((k.id, k.work_id, k.keywords) for k in sets)
    with _LOCK:
        cached = _CACHE.get(registry)
        matcher = cached[2] if cached is not None and cached[1] == stamp else KeywordMatcher(sets)
        _CACHE[registry] = (now, stamp, matcher)
    return matcher


def keyword_hits(registry: Any, text: str, negative_prompt: str = "") -> list[KeywordHit]:
    """The keyword sets of ``registry`` all of whose keywords are in ``text`` (a prompt).
    ``negative_prompt`` is accepted for symmetry and never matched."""
    return _matcher(registry).match(text)


def _drop(text: str, phrase: str) -> str:
    if not phrase:
        return text
    return re.sub(re.escape(phrase), " ", text, flags=re.IGNORECASE)


def suggest_rewrite(prompt: str, negative_prompt: str, hits: list[Any]) -> tuple[str, str]:
    """A prompt without what called the works up, and a negative prompt naming it.

    From a :class:`KeywordHit` the prompt loses its ``matched`` words and the negative
    prompt gains the set's keywords; from an alias hit
    (:class:`kyodaku.text.CaptionMatch` or its JSON: ``text`` and ``alias``) the prompt
    loses the name as written and the negative prompt gains the alias.  Anything else is
    ignored.  Existing negative terms are kept; none is added twice."""
    positive = prompt
    negatives: list[str] = [t.strip() for t in (negative_prompt or "").split(",") if t.strip()]
    seen = {_fold(t) for t in negatives}

    def add(term: str) -> None:
        if term and _fold(term) not in seen:
            seen.add(_fold(term))
            negatives.append(term)

    for h in hits:
        get = h.get if isinstance(h, dict) else lambda k, h=h: getattr(h, k, None)
        if get("keywords") is not None:
            for w in get("matched") or []:
                positive = _drop(positive, w)
            for k in get("keywords") or []:
                add(k)
        elif get("alias") is not None:
            positive = _drop(positive, get("text") or "")
            add(get("alias"))
    positive = re.sub(r"\s+([,.;:!?、。])", r"\1", re.sub(r"[ \t]{2,}", " ", positive)).strip(" ,;")
    positive = re.sub(r"(,\s*){2,}", ", ", positive)
    return positive, ", ".join(negatives)
