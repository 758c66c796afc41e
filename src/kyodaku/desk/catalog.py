"""A holder's catalog and permits on the desk: the same registry functions as the CLI
(:func:`~kyodaku.registry.importers.register_work`, ``grant_permit``, ``revoke_permit``),
behind the actor's tenancy.  Holders change only their own; operators and auditors read."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kyodaku.desk.auth import Actor
from kyodaku.registry.base import ALL_WORKS, Alias, NotFound, Permit, Work
from kyodaku.registry.importers import parse_alias, register_work

__all__ = ["WorksPage", "add_work", "grant_permit", "list_permits", "list_works", "lookalikes_by_work",
           "revoke_permit", "search_works", "set_aliases"]

#: works per page of the catalog
WORKS_PER_PAGE = 25


def list_works(service: Any, actor: Actor) -> list[Work]:
    reg = service.workspace.registry
    if actor.sees_everything:
        return reg.list_works()
    return [w for h in actor.holder_slugs for w in reg.list_works(h)]


@dataclass(frozen=True)
class WorksPage:
    """One page of the works an actor sees that match a search."""

    works: list[Work]
    total: int  # works matching the search
    page: int  # 1-based, within 1..pages
    pages: int
    query: str


def folded(text: str) -> str:
    """Text as searched: NFKC (full-width letters and digits, half-width kana) and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def newest_page(rows: list[Any], page: int, per_page: int) -> tuple[list[Any], int, int]:
    """Rows (with ``created_at`` and ``id``) newest first, as one page: the page's rows,
    the page number clamped to 1..pages, and the number of pages (at least 1).  Sorts
    ``rows`` in place."""
    rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(1, page), pages)
    return rows[(page - 1) * per_page: page * per_page], page, pages


def search_works(service: Any, actor: Actor, query: str = "", page: int = 1,
                 per_page: int = WORKS_PER_PAGE) -> WorksPage:
    """The works ``actor`` sees whose id, title, holder or an alias contains ``query``
    (NFKC, case-insensitive; every word of it), newest first, one page of them."""
    words = folded(query).split()
    works = list_works(service, actor)
    if words:
        texts = {w.work_id: folded(" ".join([w.work_id, w.title, w.holder, *(a.text for a in w.aliases)]))
                 for w in works}
        works = [w for w in works if all(word in texts[w.work_id] for word in words)]
    shown, page, pages = newest_page(works, page, per_page)
    return WorksPage(shown, len(works), page, pages, query.strip())


def lookalikes_by_work(service: Any, actor: Actor) -> dict[str, list[dict[str, Any]]]:
    """For each work the actor sees, the other works with a near-identical reference
    picture (found on fingerprinting: copies match both): ``{"work": id, "distance": PDQ
    bits, "conflict": holders differ}``.  A holder is not told which work of another
    holder it is (``"work": None``); the operator settles conflicts."""
    reg = service.workspace.registry
    pairs = reg.list_lookalikes() if actor.sees_everything else \
        [p for h in actor.holder_slugs for p in reg.list_lookalikes(h)]
    seen = set(actor.holder_slugs)
    out: dict[str, list[dict[str, Any]]] = {}
    for p in dict.fromkeys(pairs):
        for work, holder, other, other_holder in ((p.work_id, p.holder, p.other_work_id, p.other_holder),
                                                  (p.other_work_id, p.other_holder, p.work_id, p.holder)):
            if actor.sees_everything or holder in seen:
                shown = other if actor.sees_everything or other_holder in seen else None
                out.setdefault(work, []).append({"work": shown, "distance": p.distance, "conflict": p.conflict})
    return out


def get_work(service: Any, actor: Actor, work_id: str) -> Work:
    work = service.workspace.registry.get_work(work_id)
    if work is None or not (actor.sees_everything or work.holder in actor.holder_slugs):
        raise NotFound(f"no work {work_id!r}")
    return work


def add_work(service: Any, actor: Actor, *, title: str, files: Iterable[Path], aliases: Iterable[str] = (),
             holder: str | None = None) -> Work:
    """Register a work with uploaded reference media and fingerprint it now."""
    from kyodaku.scan.references import fingerprint_pending

    slug = actor.own_holder(holder)
    files = _usable_references(service, slug, list(files))
    with service.workspace.registry.acting_as(actor.username):  # the registry logs the work as by the account
        work, _ = register_work(service.workspace.registry, service.workspace, slug, title, list(files),
                                aliases=[parse_alias(a) for a in aliases if a.strip()])
    fingerprint_pending(service.workspace, progress=False, workers=0)
    return get_work(service, actor, work.work_id)


def _usable_references(service: Any, slug: str, files: list[Path]) -> list[Path]:
    """The reference files, if every one is media kyodaku can fingerprint (judged from its
    bytes, then fingerprinted for real) and they fit in the holder's storage quota.
    Otherwise :class:`~kyodaku.desk.storage.UnusableMedia` (422) naming each file and its
    reason, or ``QuotaExceeded`` (413), before anything is registered or stored."""
    from kyodaku.desk import storage
    from kyodaku.registry.models import HolderRow

    if not files:
        raise storage.UnusableMedia("at least one reference file is needed")
    reasons = []
    for f in files:
        try:
            storage.check_media(f, _shown_name(f), fingerprint=True)
        except storage.UnusableMedia as exc:
            reasons.append(str(exc))
    if reasons:
        raise storage.UnusableMedia(f"not registered: {'; '.join(reasons)}")
    with service.workspace.session() as s:
        holder_id = s.scalar(select(HolderRow.id).where(HolderRow.slug == slug))
    if holder_id is not None:
        storage.check_quota(service, holder_id, slug, sum(f.stat().st_size for f in files))
    return files


def _shown_name(path: Path) -> str:
    """An upload's own name (the desk's temporary copies are ``<n>-<name>``)."""
    head, sep, rest = path.name.partition("-")
    return rest if sep and head.isdigit() and rest else path.name


def set_aliases(service: Any, actor: Actor, work_id: str, aliases: Iterable[str]) -> Work:
    work = get_work(service, actor, work_id)
    actor.own_holder(work.holder)
    parsed: list[Alias] = [parse_alias(a) for a in aliases if a.strip()]
    updated = service.workspace.registry.set_aliases(work_id, parsed, by=actor.username)
    return updated


def list_keyword_sets(service: Any, actor: Actor, work_id: str) -> list[Any]:
    """A work's keyword sets (the generation guard's prompt screening): its holder's only."""
    get_work(service, actor, work_id)
    return service.workspace.registry.list_keyword_sets(work_id)


def add_keyword_set(service: Any, actor: Actor, work_id: str, lang: str, keywords: Iterable[str]) -> Any:
    work = get_work(service, actor, work_id)
    actor.own_holder(work.holder)
    return service.workspace.registry.add_keyword_set(work_id, lang, keywords, by=actor.username)


def remove_keyword_set(service: Any, actor: Actor, work_id: str, set_id: int) -> Any:
    work = get_work(service, actor, work_id)
    actor.own_holder(work.holder)
    if set_id not in {k.id for k in service.workspace.registry.list_keyword_sets(work_id)}:
        raise NotFound(f"no keyword set {set_id} of work {work_id!r}")
    return service.workspace.registry.remove_keyword_set(set_id, by=actor.username)


def list_permits(service: Any, actor: Actor) -> list[Permit]:
    reg = service.workspace.registry
    if actor.sees_everything:
        return reg.list_permits()
    return [p for h in actor.holder_slugs for p in reg.list_permits(holder=h)]


def grant_permit(service: Any, actor: Actor, *, licensee: str, use: str, works: str | list[str] = ALL_WORKS,
                 valid_from: date, valid_until: date | None = None, holder: str | None = None) -> Permit:
    slug = actor.own_holder(holder)
    if isinstance(works, list):
        for w in works:
            get_work(service, actor, w)
    permit = service.workspace.registry.grant_permit(slug, licensee.strip(), use, works, valid_from=valid_from,
                                                     valid_until=valid_until, at=service.clock(), by=actor.username)
    return permit


def revoke_permit(service: Any, actor: Actor, permit_id: int, reason: str) -> Permit:
    permit = service.workspace.registry.get_permit(permit_id)
    if permit is None or permit.holder not in actor.holder_slugs:
        if actor.sees_everything and permit is not None:
            actor.require("holder")
        raise NotFound(f"no permit {permit_id}")
    revoked = service.workspace.registry.revoke_permit(permit_id, reason, at=service.clock(), by=actor.username)
    return revoked
