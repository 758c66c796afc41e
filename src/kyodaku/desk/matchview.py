"""A claim's matches as the match view shows them (a Content-ID-style view): the
matches at or above a score, and for video where the matched segment lies within the
whole output and within the whole reference (a timeline bar each side).

The segments are the evidence's own (``query_segment``, ``ref_segment``: seconds from
the scan or check); the lengths are read from the files' containers.  A length that
cannot be read is taken as the segment's end, and the bar says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kyodaku.video.decode import container_seconds

__all__ = ["Bar", "bar", "media_seconds", "shown_matches"]

#: the narrowest a segment is drawn (percent of the bar), so a short one stays visible
MIN_WIDTH_PCT = 0.6


@dataclass(frozen=True)
class Bar:
    """A segment within a length, in seconds, and where it is drawn (percent of the bar)."""

    start: float
    end: float
    length: float
    known: bool  # the length was read from the file (else it is the segment's end)
    left_pct: float
    width_pct: float


def bar(segment: Sequence[float] | None, length: float | None) -> Bar | None:
    """Where ``segment`` (start, end seconds) lies in ``length`` seconds; None without a segment."""
    if not segment or len(segment) < 2:
        return None
    start, end = sorted((max(0.0, float(segment[0])), max(0.0, float(segment[1]))))
    known = length is not None and length > 0
    total = max(float(length), end) if known else end  # type: ignore[arg-type]
    if total <= 0:
        return Bar(start, end, 0.0, known, 0.0, 100.0)
    left = min(100.0, 100.0 * start / total)
    width = max(MIN_WIDTH_PCT, 100.0 * (end - start) / total)
    left = min(left, 100.0 - width)
    return Bar(round(start, 3), round(end, 3), round(total, 3), known, round(left, 2), round(width, 2))


def shown_matches(evidence: dict[str, Any], min_score: float | None) -> list[tuple[int, dict[str, Any]]]:
    """The evidence's matches (index, match) at or above ``min_score``, in the evidence's order."""
    out = []
    for i, m in enumerate(evidence.get("matches", []) or []):
        if min_score is None or float(m.get("score", 0)) >= min_score:
            out.append((i, m))
    return out


def media_seconds(path: str | Path | None) -> float | None:
    """The length of a video file in seconds from its container, or None (no file, an
    image, unreadable)."""
    if path is None or not Path(path).is_file():
        return None
    return container_seconds(path)
