"""The policy's numbers that decide a verdict, and the check that they fit together.

``policies.json`` holds them in two sections (every score is in 0..1)::

    "thresholds": {"block": 0.5, "review": 0.3},
    "matching": {
      "variant_band": [0.3, 0.375],
      "partly_redrawn_band": [0.375, 0.45],
      "explained_cap": 0.45,
      "single_frame_cap": 0.3
    }

``thresholds.block``
    a match scoring at least this is decided on consent (blocked without a permit).
``thresholds.review``
    a match scoring at least this (and below ``block``) goes to human review; below it, it
    is ignored.  The matcher checks the appearance (pixel by pixel) of every match scoring
    at least ``review``: weaker ones change no verdict.
``matching.variant_band``
    where a match whose reference the query shows as a variant (drawn over the same lines,
    altered beyond ``ALTERED_MAX``) or mostly covered is scored, placed by its score
    (never raised: a weaker match keeps its score).
``matching.partly_redrawn_band``
    where a copy with a part drawn differently is scored: above the variants, so a person
    sees it first.
``matching.explained_cap``
    the most a match may score whose evidence is better explained by another registered
    work (a near-duplicate registration, a part of another registered picture).  Only a
    match scoring at least ``block`` on its own may explain another.
``matching.single_frame_cap``
    the most a video match resting on a single frame may score (no temporal evidence).

They fit together when ``0 <= review < block <= 1`` and each cap and band lies in the
review band ``[review, block)``: ``review <= variant_band <= partly_redrawn_band <=
explained_cap < block`` and ``review <= single_frame_cap < block``.  Anything else would
clear or block a variant, an explained match or a single frame silently, so loading it
raises :class:`PolicyError` naming the numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["MatchRules", "PolicyError"]


class PolicyError(ValueError):
    """A policy file that cannot be used."""


@dataclass(frozen=True)
class MatchRules:
    """The numbers that decide a verdict (see the module docstring); picklable, for workers."""

    review: float
    block: float
    variant_band: tuple[float, float]
    partly_redrawn_band: tuple[float, float]
    explained_cap: float
    single_frame_cap: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "variant_band", tuple(float(x) for x in self.variant_band))
        object.__setattr__(self, "partly_redrawn_band", tuple(float(x) for x in self.partly_redrawn_band))
        problems = self.problems()
        if problems:
            raise PolicyError("invalid policy: " + "; ".join(problems))

    @property
    def appearance_min(self) -> float:
        """The least score whose appearance is checked: the review threshold."""
        return self.review

    @property
    def look_alike_min(self) -> float:
        """The least score a match needs, on its own, to explain another: the block threshold."""
        return self.block

    def problems(self) -> list[str]:
        """What does not fit together, each naming its numbers (empty: all fits)."""
        named = [("thresholds.review", self.review), ("thresholds.block", self.block),
                 ("matching.variant_band[0]", self.variant_band[0]),
                 ("matching.variant_band[1]", self.variant_band[1]),
                 ("matching.partly_redrawn_band[0]", self.partly_redrawn_band[0]),
                 ("matching.partly_redrawn_band[1]", self.partly_redrawn_band[1]),
                 ("matching.explained_cap", self.explained_cap),
                 ("matching.single_frame_cap", self.single_frame_cap)]
        out = [f"{name} = {value} is outside 0..1" for name, value in named if not 0.0 <= value <= 1.0]
        if out:
            return out
        r, b = self.review, self.block
        if not r < b:
            out.append(f"the review band is empty: thresholds.review = {r} must be below thresholds.block = {b}")
        (v0, v1), (p0, p1) = self.variant_band, self.partly_redrawn_band
        order = [("thresholds.review", r), ("matching.variant_band[0]", v0), ("matching.variant_band[1]", v1),
                 ("matching.partly_redrawn_band[0]", p0), ("matching.partly_redrawn_band[1]", p1),
                 ("matching.explained_cap", self.explained_cap)]
        for (low_name, low), (high_name, high) in zip(order, order[1:]):
            if low > high:
                out.append(f"{high_name} = {high} is below {low_name} = {low} (need review <= variant_band "
                           "<= partly_redrawn_band <= explained_cap)")
        why = {"matching.variant_band[1]": "a variant", "matching.partly_redrawn_band[1]": "a partly redrawn copy",
               "matching.explained_cap": "an explained match", "matching.single_frame_cap": "a single video frame"}
        for name, value in [("matching.variant_band[1]", v1), ("matching.partly_redrawn_band[1]", p1),
                            ("matching.explained_cap", self.explained_cap),
                            ("matching.single_frame_cap", self.single_frame_cap)]:
            if value >= b:
                out.append(f"{name} = {value} is not below thresholds.block = {b}: {why[name]} would be blocked")
        if self.single_frame_cap < r:
            out.append(f"matching.single_frame_cap = {self.single_frame_cap} is below thresholds.review = {r}: "
                       "a single video frame would be cleared")
        return out

    def to_json(self) -> dict[str, Any]:
        """The numbers as plain JSON (for the scan cache's scope)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
