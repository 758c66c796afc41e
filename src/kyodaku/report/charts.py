"""Chart geometry for the report's inline SVG (drawn server-side: the report runs no
script).  These functions only compute rectangles, ticks and labels; the template draws
them, so every label (a holder's name) goes through the template's escaping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: one colour per category, the same in charts, legends and tables (with text labels
#: everywhere, so the colour is never the only cue)
COLORS = {
    "blocked": "#b03a2e",
    "review": "#b9770e",
    "permitted": "#1e8449",
    "not_reserved": "#5d8aa8",
    "weak": "#aab7b8",
    "cleared": "#1e8449",
    "error": "#7d3c98",
}
#: holders drawn in the bar chart (the table lists them all)
MAX_BARS = 30


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    color: str
    title: str


@dataclass
class Tick:
    pos: float
    label: str


@dataclass
class Chart:
    width: int
    height: int
    title: str
    description: str
    rects: list[Rect] = field(default_factory=list)
    labels: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, text (right-aligned)
    ticks: list[Tick] = field(default_factory=list)
    lines: list[tuple[float, float, float, float, str]] = field(default_factory=list)  # x1,y1,x2,y2,label
    legend: list[tuple[str, str]] = field(default_factory=list)  # colour, label
    plot: tuple[float, float, float, float] = (0, 0, 0, 0)  # x, y, w, h of the plot area
    note: str | None = None


def _nice_max(n: int) -> int:
    """A round axis end >= n (1, 2, 5 x 10^k)."""
    n = max(1, n)
    step = 1
    while True:
        for m in (1, 2, 5):
            if step * m >= n:
                return step * m
        step *= 10


def _ticks(peak: int) -> list[int]:
    """Whole-number axis values from 0 to ``peak`` (a :func:`_nice_max`), 2 to 6 of them."""
    for n in (4, 5, 2, 1):
        if peak % n == 0:
            return [peak * k // n for k in range(n + 1)]
    return [0, peak]  # pragma: no cover - every nice max divides by 1


def _say(t: Callable[..., str] | None, key: str, english: str, **params: Any) -> str:
    return t(key, **params) if t is not None else english.format(**params)


def holder_bars(rows: list[tuple[str, dict[str, int]]], categories: list[str],
                labels: dict[str, str], t: Callable[..., str] | None = None) -> Chart:
    """Horizontal stacked bars: items per category for each holder (``rows`` in order);
    ``t``: the report's words (:class:`kyodaku.report.words.Words`), else English."""
    shown = rows[:MAX_BARS]
    bar, gap, left, top, plot_w = 18, 8, 190, 36, 520
    height = top + len(shown) * (bar + gap) + 40
    chart = Chart(width=left + plot_w + 30, height=max(height, 100),
                  title=_say(t, "chart_holders", "Items per rights holder"),
                  description=_say(t, "chart_holders_desc", "Stacked bars: for each rights holder, the scanned "
                                   "items matched to their works, by what the match decided; the table below "
                                   "gives the numbers."))
    peak = _nice_max(max((sum(c.values()) for _, c in shown), default=1))
    scale = plot_w / peak
    chart.plot = (left, top, plot_w, len(shown) * (bar + gap))
    for i, (name, counts) in enumerate(shown):
        y = top + i * (bar + gap)
        chart.labels.append((left - 8, y + bar * 0.75, name if len(name) <= 28 else name[:27] + "…"))
        x = float(left)
        for cat in categories:
            n = counts.get(cat, 0)
            if n:
                w = n * scale
                chart.rects.append(Rect(x, y, max(w, 1.0), bar, COLORS[cat],
                                        _say(t, "chart_item", "{name}: {n} {what}", name=name, n=n, what=labels[cat])))
                x += w
    for value in _ticks(peak):
        chart.ticks.append(Tick(left + value * scale, str(value)))
    chart.legend = [(COLORS[c], labels[c]) for c in categories]
    if len(rows) > MAX_BARS:
        chart.note = _say(t, "chart_holders_note", "the {shown} holders with the most matched items; all {total} are "
                          "in the table", shown=MAX_BARS, total=len(rows))
    return chart


def score_histogram(histogram: dict[str, list[int]], verdicts: list[str],
                    thresholds: dict[str, float] | None = None, t: Callable[..., str] | None = None,
                    names: Callable[[str, str], str] | None = None) -> Chart:
    """Vertical stacked bars: items by their best match score (0..1), by item verdict;
    ``t`` and ``names`` (a verdict's or threshold's word): the report's words, else English."""

    def name(prefix: str, value: str) -> str:
        return names(prefix, value) if names is not None else value

    bins = len(next(iter(histogram.values()))) if histogram else 20
    left, top, plot_w, plot_h = 56, 36, 600, 220
    chart = Chart(width=left + plot_w + 30, height=top + plot_h + 50,
                  title=_say(t, "chart_scores", "Best match score per item"),
                  description=_say(t, "chart_scores_desc", "Histogram of the strongest match score of every item "
                                   "that matched a registered work, stacked by the item's verdict."))
    totals = [sum(histogram.get(v, [0] * bins)[b] for v in verdicts) for b in range(bins)]
    peak = _nice_max(max(totals, default=1))
    bw = plot_w / bins
    chart.plot = (left, top, plot_w, plot_h)
    for b in range(bins):
        y = top + plot_h
        lo, hi = b / bins, (b + 1) / bins
        for v in verdicts:
            n = histogram.get(v, [0] * bins)[b]
            if n:
                h = n / peak * plot_h
                y -= h
                chart.rects.append(Rect(left + b * bw + 1, y, bw - 2, max(h, 1.0), COLORS[v],
                                        _say(t, "chart_bin", "score {lo}-{hi}: {n} {what}", lo=f"{lo:.2f}",
                                             hi=f"{hi:.2f}", n=n, what=name("verdict", v))))
    for k in range(5):
        chart.ticks.append(Tick(left + plot_w * k / 4, f"{k / 4:.2f}"))
    for value in _ticks(peak):  # y axis: counts, drawn as labels at the left
        chart.labels.append((left - 6, top + plot_h - plot_h * value / peak + 4, str(value)))
    for key, value in (thresholds or {}).items():
        x = left + plot_w * min(1.0, max(0.0, value))
        chart.lines.append((x, top - 6, x, top + plot_h, _say(t, "chart_threshold", "{name} {value}",
                                                                 name=name("threshold", key), value=f"{value:.2f}")))
    chart.legend = [(COLORS[v], name("verdict", v)) for v in verdicts]
    return chart
