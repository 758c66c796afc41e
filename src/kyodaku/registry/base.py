"""The narrow storage interface of the rights registry, and the plain records it returns.

Callers only ever see frozen dataclasses, never ORM objects, so nobody holds a session.
Dates (``valid_from``, ``valid_until``, the ``on`` of a check) are calendar dates;
timestamps are timezone-aware UTC.  A permit revoked at some moment is no longer valid
on the (UTC) date of the revocation nor after; it stays valid on earlier dates (history).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

__all__ = [
    "ALL_WORKS",
    "Alias",
    "Conflict",
    "Holder",
    "KeywordSet",
    "Lookalike",
    "Media",
    "NotFound",
    "Permit",
    "PermitEvent",
    "Registry",
    "RegistryError",
    "Reservation",
    "USES",
    "WORK_KINDS",
    "Work",
    "WorkScope",
    "utcnow",
]

Use = Literal["training", "generation"]
Kind = Literal["image", "video"]
USES: tuple[str, ...] = ("training", "generation")
WORK_KINDS: tuple[str, ...] = ("image", "video")
ALL_WORKS = "*"
WorkScope = str | Sequence[str]
"""``"*"`` (all of the holder's works, present and future) or a list of work ids."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class RegistryError(ValueError):
    """A registry operation that cannot be done (bad value, unknown key, duplicate)."""


class NotFound(RegistryError):
    """An unknown holder, work, media row, permit or reservation."""


class Conflict(RegistryError):
    """Something that already exists (a holder slug, a work id)."""


@dataclass(frozen=True)
class Holder:
    id: int
    slug: str
    name: str
    jurisdiction: str
    created_at: datetime


@dataclass(frozen=True)
class Alias:
    text: str
    lang: str | None = None


@dataclass(frozen=True)
class KeywordSet:
    """Descriptive keywords that together call up a work without its name (``videogame``,
    ``plumber``); a prompt with all of them is a hit of the generation guard."""

    id: int
    work_id: str
    holder: str
    lang: str
    keywords: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class Media:
    """One reference file of a work; ``path`` is relative to the workspace home."""

    id: int
    work_id: str
    holder: str
    sha256: str
    path: str
    original_name: str
    kind: str
    size_bytes: int
    fingerprinted_at: datetime | None
    fingerprint_error: str | None
    created_at: datetime
    #: what the registrant should know about the fingerprinted file (e.g. too plain to be found)
    fingerprint_note: str | None = None


@dataclass(frozen=True)
class Lookalike:
    """A reference image near-identical to one registered before it under another work
    (found when the later one was fingerprinted).  Copies of either picture match both
    works; when the holders differ, two holders claim the same picture (a conflict for
    the registry's operator to settle)."""

    media_id: int
    work_id: str
    holder: str
    other_media_id: int
    other_work_id: str
    other_holder: str
    #: PDQ Hamming distance (of 256 bits) between the two pictures
    distance: int
    found_at: datetime

    @property
    def conflict(self) -> bool:
        return self.holder != self.other_holder


@dataclass(frozen=True)
class Work:
    id: int
    work_id: str
    holder: str
    title: str
    kind: str
    aliases: tuple[Alias, ...]
    media: tuple[Media, ...]
    created_at: datetime


@dataclass(frozen=True)
class PermitEvent:
    id: int
    permit_id: int
    event: str  # "granted" | "revoked"
    at: datetime
    reason: str | None


def scope_text(all_works: bool, works: tuple[str, ...]) -> str:
    """``"*"`` or the comma-separated work ids."""
    return ALL_WORKS if all_works else ",".join(works)


@dataclass(frozen=True)
class Permit:
    """A holder's permission for one licensee and one use, over a date range."""

    id: int
    holder: str
    licensee: str
    use: str
    all_works: bool
    works: tuple[str, ...]
    valid_from: date
    valid_until: date | None
    created_at: datetime
    revoked_at: datetime | None = None
    revoke_reason: str | None = None

    @property
    def scope(self) -> str:
        """``"*"`` or the comma-separated work ids."""
        return scope_text(self.all_works, self.works)

    def covers(self, work_id: str) -> bool:
        return self.all_works or work_id in self.works

    def valid_on(self, on: date) -> bool:
        if on < self.valid_from or (self.valid_until is not None and on > self.valid_until):
            return False
        return self.revoked_at is None or on < self.revoked_at.astimezone(UTC).date()

    def describe(self) -> str:
        """E.g. ``permit 12 (wesnoth-story -> acme-video-ai, training, valid 2025-01-01..2030-12-31)``."""
        until = self.valid_until.isoformat() if self.valid_until else "open"
        scope = "" if self.all_works else f", works {self.scope}"
        parties = f"{self.holder} -> {self.licensee}, {self.use}{scope}"
        text = f"permit {self.id} ({parties}, valid {self.valid_from}..{until})"
        if self.revoked_at is not None:
            text += f" revoked {self.revoked_at.date()}"
        return text

    def status(self, on: date) -> str:
        """``active``, ``revoked``, ``expired`` or ``not yet valid`` on a date."""
        if self.revoked_at is not None and on >= self.revoked_at.astimezone(UTC).date():
            return "revoked"
        if self.valid_until is not None and on > self.valid_until:
            return "expired"
        if on < self.valid_from:
            return "not yet valid"
        return "active"


@dataclass(frozen=True)
class Reservation:
    """An opt-out declaration: the holder reserved ``use`` on these works (opt-out jurisdictions)."""

    id: int
    holder: str
    use: str
    all_works: bool
    works: tuple[str, ...]
    declared_at: datetime
    withdrawn_at: datetime | None = None

    @property
    def scope(self) -> str:
        return scope_text(self.all_works, self.works)

    def covers(self, work_id: str) -> bool:
        return self.all_works or work_id in self.works

    def active_on(self, on: date) -> bool:
        if on < self.declared_at.astimezone(UTC).date():
            return False
        return self.withdrawn_at is None or on < self.withdrawn_at.astimezone(UTC).date()


class Registry(ABC):
    """Storage of holders, works, reference media, permits and reservations.

    Every method is its own transaction unless called inside ``with registry.transaction():``,
    which makes a batch all-or-nothing (the importers use it).

    Every change (a holder or work added, aliases set, a permit granted or revoked, a
    reservation declared or withdrawn) writes its audit entry in the same transaction
    (:mod:`kyodaku.audit.outbox`).  ``by`` names who made it; without it, the actor of
    :meth:`acting_as`, else ``library:USER``.
    """

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Registry]:
        """All calls inside the block commit together, or none does."""

    # -- holders ---------------------------------------------------------------------------
    @abstractmethod
    def add_holder(self, slug: str, name: str, jurisdiction: str, *, by: str | None = None) -> Holder: ...

    @abstractmethod
    def get_holder(self, slug: str) -> Holder | None: ...

    @abstractmethod
    def list_holders(self) -> list[Holder]: ...

    # -- works and media -------------------------------------------------------------------
    @abstractmethod
    def add_work(
        self,
        holder: str,
        title: str,
        kind: str,
        *,
        work_id: str | None = None,
        aliases: Iterable[Alias | str] = (),
        by: str | None = None,
    ) -> Work:
        """Register a work; ``work_id`` defaults to :meth:`next_work_id`."""

    @abstractmethod
    def next_work_id(self, reserved: Iterable[str] = ()) -> str:
        """``w`` + the next zero-padded number after every ``w<digits>`` id (and ``reserved``)."""

    @abstractmethod
    def set_aliases(self, work_id: str, aliases: Iterable[Alias | str], *, by: str | None = None) -> Work:
        """Replace a work's aliases (titles in other languages, character names)."""

    @abstractmethod
    def get_work(self, work_id: str) -> Work | None: ...

    @abstractmethod
    def list_works(self, holder: str | None = None) -> list[Work]: ...

    @abstractmethod
    def holders_of(self, work_ids: Iterable[str]) -> dict[str, str]:
        """``{work_id: holder slug}`` for the known ones among ``work_ids``."""

    @abstractmethod
    def add_media(
        self, work_id: str, *, sha256: str, path: str, original_name: str, kind: str, size_bytes: int
    ) -> Media: ...

    @abstractmethod
    def get_media(self, media_id: int) -> Media | None: ...

    @abstractmethod
    def list_media(self, work_id: str | None = None) -> list[Media]: ...

    @abstractmethod
    def pending_media(self, limit: int | None = None) -> list[Media]:
        """Media not fingerprinted yet (``fingerprinted_at`` is NULL), oldest first."""

    @abstractmethod
    def mark_fingerprinted(self, media_id: int, error: str | None = None, at: datetime | None = None,
                           note: str | None = None) -> None:
        """Record a fingerprinting attempt; with ``error`` the row is done but flagged;
        ``note`` is what the registrant should know about the result."""

    @abstractmethod
    def record_lookalikes(self, media_id: int, others: Iterable[tuple[int, int]],
                          at: datetime | None = None) -> None:
        """Replace the near-identical earlier media found for ``media_id``:
        ``(other_media_id, distance)`` pairs."""

    @abstractmethod
    def list_lookalikes(self, holder: str | None = None) -> list[Lookalike]:
        """Every recorded pair (those with a work of ``holder`` on either side), closest first."""

    @abstractmethod
    def requeue_media(self, media_ids: Iterable[int] | None = None) -> int:
        """Make media pending again (all when ``media_ids`` is None); returns how many."""

    # -- keyword sets (the generation guard's prompt screening) ----------------------------
    @abstractmethod
    def add_keyword_set(self, work_id: str, lang: str, keywords: Iterable[str], *,
                        by: str | None = None) -> KeywordSet:
        """Add a set (keywords stripped, case-folded, deduplicated, sorted); the same set
        again is returned as it is (no change, no audit entry)."""

    @abstractmethod
    def remove_keyword_set(self, set_id: int, *, by: str | None = None) -> KeywordSet: ...

    @abstractmethod
    def list_keyword_sets(self, work_id: str | None = None, holder: str | None = None) -> list[KeywordSet]: ...

    # -- permits ---------------------------------------------------------------------------
    @abstractmethod
    def grant_permit(
        self,
        holder: str,
        licensee: str,
        use: str,
        works: WorkScope = ALL_WORKS,
        *,
        valid_from: date,
        valid_until: date | None = None,
        at: datetime | None = None,
        by: str | None = None,
    ) -> Permit: ...

    @abstractmethod
    def revoke_permit(self, permit_id: int, reason: str, at: datetime | None = None, *,
                      by: str | None = None) -> Permit:
        """Mark a permit revoked (kept, never deleted) and log a ``revoked`` event."""

    @abstractmethod
    def get_permit(self, permit_id: int) -> Permit | None: ...

    @abstractmethod
    def list_permits(self, licensee: str | None = None, holder: str | None = None) -> list[Permit]:
        """Every permit, revoked and expired ones included."""

    @abstractmethod
    def permit_events(self, permit_id: int | None = None) -> list[PermitEvent]: ...

    @abstractmethod
    def valid_permits(self, licensee: str, use: str, on: date) -> list[Permit]: ...

    def permit_for(self, holder: str, work_id: str, licensee: str, use: str, on: date) -> Permit | None:
        """The (oldest) permit valid on ``on`` that lets ``licensee`` use ``work_id`` of ``holder``."""
        for permit in self.valid_permits(licensee, use, on):
            if permit.holder == holder and permit.covers(work_id):
                return permit
        return None

    # -- reservations (opt-out) ------------------------------------------------------------
    @abstractmethod
    def declare_reservation(
        self, holder: str, use: str, works: WorkScope = ALL_WORKS, *, at: datetime | None = None,
        by: str | None = None,
    ) -> Reservation: ...

    @abstractmethod
    def withdraw_reservation(self, reservation_id: int, at: datetime | None = None, *,
                             by: str | None = None) -> Reservation: ...

    @abstractmethod
    def list_reservations(self, holder: str | None = None) -> list[Reservation]: ...

    def active_reservations(self, use: str, on: date) -> list[Reservation]:
        return [r for r in self.list_reservations() if r.use == use and r.active_on(on)]
