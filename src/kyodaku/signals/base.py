"""Rights signals embedded in (or recorded next to) a file, and how they combine.

A :class:`Signal` is one statement found for one item: where it came from
(``source``), which use it talks about (``use``) and what it says (``status``).
A :class:`SignalReport` gathers the signals of one item and answers the two
questions the scanner asks: *is this item reserved for our use?* and *did any
signal fail to parse (so the item must go to review)?*

Which uses count for which question (``reservation_for``):

=====================================================  ======================  ==========  ============
Signal found                                            ``Signal.use``          training    generation
=====================================================  ======================  ==========  ============
C2PA ``*.ai_training``                                  training                reserves    --
C2PA ``*.ai_generative_training``                       generative_training     reserves    --
C2PA ``*.data_mining``                                  data_mining             reserves    --
C2PA ``*.ai_inference``                                 inference               --          reserves
C2PA custom entry key (not one of the four above)       all                     reserves    reserves
IPTC ``DMI-PROHIBITED``                                 data_mining             reserves    --
IPTC ``DMI-PROHIBITED-AIMLTRAINING``                    training                reserves    --
IPTC ``DMI-PROHIBITED-GENAIMLTRAINING``                 generative_training     reserves    --
IPTC ``DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING``      data_mining             reserves    --
IPTC ``DMI-PROHIBITED-SEEOTHERCONSTRAINTS``             data_mining             reserves    --
TDMRep ``tdm-reservation: 1`` (or a ``tdm-policy``)     data_mining             reserves    --
X-Robots-Tag noai/noimageai/noml/noindex/noimageindex   training                reserves    --
robots.txt verdict "disallowed"                         data_mining             reserves    --
=====================================================  ======================  ==========  ============

"training" is the scanner's question "may this item go into a training set?";
"generation" is "may this item be used as *input* at inference/generation time
(img2img, reference image, ...)?". Only ``reserved`` signals count as
reservations; ``allowed`` never clears an item by itself (the registry still
decides), and ``unreadable`` sends the item to review, never to cleared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Source = Literal["c2pa", "iptc", "tdmrep", "x-robots-tag", "robots.txt"]
Use = Literal["training", "generative_training", "data_mining", "inference", "all"]
Status = Literal["reserved", "allowed", "unspecified", "unreadable"]
Question = Literal["training", "generation"]

SOURCES: frozenset[str] = frozenset({"c2pa", "iptc", "tdmrep", "x-robots-tag", "robots.txt"})
USES: frozenset[str] = frozenset({"training", "generative_training", "data_mining", "inference", "all"})
STATUSES: frozenset[str] = frozenset({"reserved", "allowed", "unspecified", "unreadable"})

#: Which ``Signal.use`` values count for each question of ``reservation_for``.
USES_FOR: dict[str, frozenset[str]] = {
    "training": frozenset({"training", "generative_training", "data_mining", "all"}),
    "generation": frozenset({"inference", "all"}),
}


@dataclass(frozen=True)
class Signal:
    source: Source
    use: Use
    status: Status
    detail: str = ""

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"unknown signal source {self.source!r}")
        if self.use not in USES:
            raise ValueError(f"unknown signal use {self.use!r}")
        if self.status not in STATUSES:
            raise ValueError(f"unknown signal status {self.status!r}")


@dataclass
class SignalReport:
    signals: list[Signal] = field(default_factory=list)

    def reservation_for(self, use: Question) -> Signal | None:
        """First ``reserved`` signal that covers ``use`` ("training" or "generation")."""
        try:
            uses = USES_FOR[use]
        except KeyError:
            raise ValueError(f"use must be 'training' or 'generation', not {use!r}") from None
        for s in self.signals:
            if s.status == "reserved" and s.use in uses:
                return s
        return None

    def unreadable(self) -> list[Signal]:
        """Signals that could not be read or validated: the item goes to review."""
        return [s for s in self.signals if s.status == "unreadable"]

    def extend(self, signals: list[Signal]) -> None:
        self.signals.extend(signals)

    def __bool__(self) -> bool:  # a report with no signals is falsy
        return bool(self.signals)
