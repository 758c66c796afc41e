"""The claim lifecycle and its deadlines, as data.

States::

    filed -> acknowledged -> under_review -> upheld            (the output is blocked)
                                          -> rejected -> disputed -> resolved
                                                      -> resolved (dispute window over)

``ACTIONS`` says who may move a claim from where to where; ``deadlines.json`` (or a file
named by ``KYODAKU_DESK_DEADLINES``) says when each step is due, in business days or
calendar days, counted from the filing or from the step, in the desk's time zone.  The
clock is injected everywhere (``now``), so tests can move time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError, model_validator

from kyodaku.registry.base import RegistryError

__all__ = ["ACTIONS", "Action", "DeadlinePolicy", "InvalidTransition", "TERMINAL", "local_and_utc"]

TERMINAL = frozenset({"upheld", "resolved"})


def local_and_utc(at: datetime | str | None, tz: tzinfo) -> str:
    """``at`` in the desk's time zone with UTC beside it, for people:
    ``2026-06-05 10:00 JST (2026-06-05 01:00 UTC)``; an ISO string is read first."""
    if at is None or at == "":
        return ""
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            return at
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    local, utc = at.astimezone(tz), at.astimezone(UTC)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({utc:%Y-%m-%d %H:%M} UTC)"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class InvalidTransition(RegistryError):
    """The claim is not in a state that allows this action (HTTP 409)."""


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str
    role: str
    needs_note: bool = False
    #: the holder's action must come before the step's deadline (a dispute window)
    before_deadline: bool = False
    #: the operator's action may only come after the step's deadline (window closed)
    after_deadline: bool = False


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("acknowledge", ("filed",), "acknowledged", "operator"),
    Action("start_review", ("acknowledged",), "under_review", "operator"),
    Action("uphold", ("under_review",), "upheld", "operator", needs_note=True),
    Action("reject", ("under_review",), "rejected", "operator", needs_note=True),
    Action("dispute", ("rejected",), "disputed", "holder", needs_note=True, before_deadline=True),
    Action("resolve_uphold", ("disputed",), "resolved", "operator", needs_note=True),
    Action("resolve_reject", ("disputed",), "resolved", "operator", needs_note=True),
    Action("close", ("rejected",), "resolved", "operator", after_deadline=True),
)}


def actions_for(state: str, role: str) -> list[Action]:
    """What this role may do next (the buttons a page shows)."""
    return [a for a in ACTIONS.values() if state in a.sources and a.role == role]


class _Step(BaseModel):
    owner: Literal["operator", "holder"]
    days: int | None = None
    business_days: int | None = None
    counted_from: Literal["step", "filed"] = "step"
    note: str = ""

    @model_validator(mode="after")
    def _one_length(self) -> _Step:
        if (self.days is None) == (self.business_days is None):
            raise ValueError("give exactly one of days / business_days")
        if (self.days or 0) < 0 or (self.business_days or 0) < 0:
            raise ValueError("deadlines cannot be negative")
        return self


class _Config(BaseModel):
    timezone: str
    weekend: list[str] = ["Sat", "Sun"]
    holidays: list[date] = []
    claim: dict[str, _Step]
    inquiry: _Step


class DeadlinePolicy:
    """When each step of a claim (and an inquiry's answer) is due."""

    def __init__(self, config: _Config) -> None:
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        self.weekend = {_DAYS.index(d) for d in config.weekend}
        self.holidays = set(config.holidays)

    @classmethod
    def load(cls, path: str | Path | None = None) -> DeadlinePolicy:
        try:
            text = Path(path).read_text(encoding="utf-8") if path else \
                resources.files("kyodaku.desk").joinpath("deadlines.json").read_text(encoding="utf-8")
            return cls(_Config.model_validate(json.loads(text)))
        except (OSError, ValueError, ValidationError) as exc:
            raise RegistryError(f"deadline policy {path or 'deadlines.json'}: {exc}") from None

    def is_business_day(self, d: date) -> bool:
        return d.weekday() not in self.weekend and d not in self.holidays

    def add(self, start: datetime, step: _Step) -> datetime:
        if step.days is not None:
            return start + timedelta(days=step.days)
        local = start.astimezone(self.tz)
        d, left = local.date(), step.business_days or 0
        while left:
            d += timedelta(days=1)
            if self.is_business_day(d):
                left -= 1
        return datetime.combine(d, local.timetz()).astimezone(start.tzinfo)

    def claim_due(self, state: str, *, filed_at: datetime, entered_at: datetime) -> datetime | None:
        """When the step after entering ``state`` is due (None: nothing is owed)."""
        step = self.config.claim.get(state)
        if step is None:
            return None
        return self.add(filed_at if step.counted_from == "filed" else entered_at, step)

    def owner(self, state: str) -> str | None:
        step = self.config.claim.get(state)
        return step.owner if step else None

    def inquiry_due(self, filed_at: datetime) -> datetime:
        return self.add(filed_at, self.config.inquiry)
