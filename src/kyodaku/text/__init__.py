"""Captions and metadata text: normalisation of Japanese, romaji and English, and the
alias matcher that finds registered works and holders named in a caption."""

from __future__ import annotations

from kyodaku.text.matcher import AliasEntry, AliasMatcher, CaptionMatch, MatcherConfig, best_per_target, style_cue
from kyodaku.text.normalize import Folded, Keyed, romaji_key, surface

__all__ = ["AliasEntry", "AliasMatcher", "CaptionMatch", "Folded", "Keyed", "MatcherConfig", "best_per_target",
           "romaji_key", "style_cue", "surface"]
