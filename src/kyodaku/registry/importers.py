"""Import holders, catalog (works + reference media) and permits from JSONL or CSV.

The formats are those of ``shared/eval/README.md``.  CSV files use the same column
names; list fields (``media``, ``works``, ``aliases``) are separated by ``|``, and a CSV
alias may carry its language as ``text@lang`` (e.g. ``ナルト@ja``).

Each import is one transaction: the first bad row raises :class:`ImportFailed` naming
file, line and field, and nothing from that file is kept (media copied by a failed
catalog import are deleted again).

Importing a file again is safe (:class:`ImportSummary` counts each row as new, unchanged
or changed).  A row that matches what is registered (a work: same holder, title, kind,
aliases and reference files by SHA-256; a holder: same name and jurisdiction; a permit or
reservation: same terms) is "unchanged" and writes nothing, so it adds no audit entry.
A row that names a registered work or holder with other data is "changed" and refused:
every changed row is listed, and nothing from the file is imported.  A registry's works
are evidence that scans and claims refer to; a re-import never rewrites them silently.
Permits and reservations have no key of their own: other terms are a new grant.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kyodaku.registry.base import (
    ALL_WORKS,
    USES,
    WORK_KINDS,
    Alias,
    Holder,
    Permit,
    Registry,
    RegistryError,
    Reservation,
    Work,
    scope_text,
)
from kyodaku.registry.tabular import FieldError, ImportFailed, Row, handle_rows, read_rows
from kyodaku.workspace import StoredFile, media_kind

if TYPE_CHECKING:
    from kyodaku.workspace import Workspace

__all__ = [
    "ImportFailed",
    "ImportSummary",
    "check_media_files",
    "import_catalog",
    "import_holders",
    "import_permits",
    "parse_alias",
    "read_rows",
    "register_work",
]

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$")
JURISDICTION = re.compile(r"^[A-Z]{2}(?:-[A-Z0-9]{1,3})?$")
LANG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
WORK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
DEFAULT_JURISDICTION = "JP"


@dataclass
class ImportSummary:
    """What one import did with its rows (filled in by the importers)."""

    new: int = 0
    unchanged: int = 0
    changed: int = 0
    #: ``"line 3: work w0002: title 'Sea' -> 'Ocean'"``, one per changed row
    changes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.new} new, {self.unchanged} unchanged, {self.changed} changed"


def _refuse_changes(path: str | Path, summary: ImportSummary, what: str) -> None:
    if summary.changes:
        raise ImportFailed(str(path), None, None,
                           f"{summary.changed} row(s) differ from the {what} already registered, so nothing "
                           f"was imported ({summary}); change those {what} on purpose, or give new ids:\n  "
                           + "\n  ".join(summary.changes))


def _slug(row: Row, field: str) -> str:
    value = row.text(field)
    assert value is not None
    if not SLUG.match(value):
        raise FieldError(
            field, f"must be a slug of lowercase letters, digits, '.', '_' or '-', got {value!r}"
        )
    return value


def _known_holder(registry: Registry, row: Row) -> Holder:
    slug = _slug(row, "holder")
    holder = registry.get_holder(slug)
    if holder is None:
        raise FieldError("holder", f"unknown holder {slug!r} (import holders first)")
    return holder


# -- holders -----------------------------------------------------------------------------------
def import_holders(registry: Registry, path: str | Path, summary: ImportSummary | None = None) -> list[Holder]:
    """Add the holders of ``path``; returns the new ones.

    A holder already registered with the same name and jurisdiction is skipped
    (unchanged); with a different name or jurisdiction it is changed, and refused.
    ``jurisdiction`` defaults to JP.
    """
    seen: dict[str, int] = {}
    summary = summary if summary is not None else ImportSummary()

    def handle(row: Row) -> Holder | None:
        slug = _slug(row, "holder")
        if slug in seen:
            raise FieldError("holder", f"duplicate holder {slug!r} (also on line {seen[slug]})")
        seen[slug] = row.line
        name = row.text("name", required=False, default=slug)
        assert name is not None
        jurisdiction = (row.text("jurisdiction", required=False) or DEFAULT_JURISDICTION).upper()
        if not JURISDICTION.match(jurisdiction):
            raise FieldError(
                "jurisdiction", f"must be an ISO country code like 'JP' or 'EU', got {jurisdiction!r}"
            )
        existing = registry.get_holder(slug)
        if existing is not None:
            if (existing.name, existing.jurisdiction) != (name, jurisdiction):
                summary.changed += 1
                summary.changes.append(
                    f"line {row.line}: holder {slug!r} already exists as {existing.name!r} "
                    f"({existing.jurisdiction}), the file says {name!r} ({jurisdiction})")
            else:
                summary.unchanged += 1
            return None
        summary.new += 1
        return registry.add_holder(slug, name, jurisdiction)

    with registry.transaction():
        added = [h for h in handle_rows(path, handle) if h is not None]
        _refuse_changes(path, summary, "holders")
        return added


# -- catalog -----------------------------------------------------------------------------------
def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def parse_alias(text: str) -> Alias:
    """``"ナルト@ja"`` -> Alias("ナルト", "ja"); text without a valid ``@lang`` suffix stays whole."""
    head, sep, tail = text.rpartition("@")
    if sep and head.strip() and LANG.match(tail):
        return Alias(head.strip(), tail)
    return Alias(text.strip())


def _keyword_sets(row: Row) -> list[tuple[str, list[str]]]:
    """The ``keywords`` field: ``[{"lang": "en", "keywords": ["videogame", "plumber"]}]``
    (in CSV: ``en:videogame+plumber``)."""
    out = []
    for item in row.items("keywords"):
        if isinstance(item, str) and ":" in item:
            lang, _, words = item.partition(":")
            item = {"lang": lang.strip(), "keywords": [w for w in words.split("+") if w.strip()]}
        if (not isinstance(item, dict) or not isinstance(item.get("lang"), str)
                or not isinstance(item.get("keywords"), list)
                or not all(isinstance(w, str) for w in item["keywords"]) or not item["keywords"]):
            raise FieldError("keywords", f"expected {{'lang': 'en', 'keywords': [...]}}, got {_json(item)}")
        if not LANG.match(item["lang"]):
            raise FieldError("keywords", f"bad language tag {item['lang']!r} (e.g. 'ja', 'en')")
        out.append((item["lang"], list(item["keywords"])))
    return out


def _aliases(row: Row) -> list[Alias]:
    out = []
    for item in row.items("aliases"):
        text: Any
        lang: Any
        if isinstance(item, str):
            alias = parse_alias(item) if row.is_csv else Alias(item.strip())
            text, lang = alias.text, alias.lang
        elif isinstance(item, dict):
            text = item.get("text", item.get("alias"))
            lang = item.get("lang")
            if not isinstance(text, str) or (lang is not None and not isinstance(lang, str)):
                raise FieldError("aliases", f"expected {{'text': ..., 'lang': ...}}, got {_json(item)}")
        else:
            raise FieldError("aliases", f"expected text or an object, got {_json(item)}")
        if lang is not None and not LANG.match(lang):
            raise FieldError("aliases", f"bad language tag {lang!r} (e.g. 'ja', 'ja-Latn', 'en')")
        if text.strip():
            out.append(Alias(text.strip(), lang))
    return out


def _not_media_reason(p: Path) -> str:
    from kyodaku.media.sniff import SNIFF_BYTES, read_head, sniff_format, unsupported_reason

    try:
        head = read_head(p, SNIFF_BYTES)
    except (OSError, ValueError) as exc:
        return f"cannot read the file ({getattr(exc, 'strerror', None) or exc})"
    if not head:
        return "empty file (0 bytes)"
    fmt = sniff_format(head)
    return unsupported_reason(fmt) if fmt else "unsupported file type: its bytes are no image or video"


def check_media_files(paths: Iterable[Path], kind: str | None = None) -> tuple[str, list[tuple[Path, str]]]:
    """Check reference files exist and share one kind; returns (kind, [(path, kind)]).

    Raises :class:`~kyodaku.registry.base.RegistryError` naming the offending file.
    """
    files = []
    for p in paths:
        if not p.is_file():
            raise RegistryError(f"file not found: {p}")
        mk = media_kind(p)  # from the bytes, not the name
        if mk is None:
            raise RegistryError(f"{_not_media_reason(p)}: {p}")
        files.append((p, mk))
    if not files:
        raise RegistryError("at least one reference file is needed")
    kind = kind or files[0][1]
    for p, mk in files:
        if mk != kind:
            raise RegistryError(f"{p.name} is a {mk} file but the work is a {kind}")
    return kind, files


def _add_media(
    registry: Registry,
    workspace: Workspace,
    work_id: str,
    files: list[tuple[Path, str]],
    stored: list[StoredFile],
) -> list[int]:
    """Copy ``files`` into the workspace and record them (copies are appended to ``stored``)."""
    ids: list[int] = []
    shas: set[str] = set()
    for p, mk in files:
        try:
            copy = workspace.store_media(p)
        except OSError as exc:
            raise RegistryError(f"cannot copy {p}: {exc.strerror or exc}") from None
        stored.append(copy)
        if copy.sha256 in shas:  # the same file listed twice
            continue
        shas.add(copy.sha256)
        media = registry.add_media(
            work_id,
            sha256=copy.sha256,
            path=copy.path,
            original_name=p.name,
            kind=mk,
            size_bytes=copy.size_bytes,
        )
        ids.append(media.id)
    return ids


def register_work(
    registry: Registry,
    workspace: Workspace,
    holder: str,
    title: str,
    files: Iterable[str | Path],
    *,
    kind: str | None = None,
    work_id: str | None = None,
    aliases: Iterable[Alias | str] = (),
) -> tuple[Work, list[int]]:
    """Register one work with its reference files, all or nothing; returns (work, media ids)."""
    kind, checked = check_media_files([Path(f) for f in files], kind)
    stored: list[StoredFile] = []
    try:
        with registry.transaction():
            work = registry.add_work(holder, title, kind, work_id=work_id, aliases=aliases)
            ids = _add_media(registry, workspace, work.work_id, checked, stored)
    except BaseException:
        for copy in stored:
            workspace.discard_media(copy)
        raise
    got = registry.get_work(work.work_id)
    assert got is not None
    return got, ids


def _media_files(row: Row, base: Path, kind: str | None) -> tuple[str, list[tuple[Path, str]]]:
    entries = row.items("media")
    if not entries:
        raise FieldError("media", "required: at least one reference file")
    paths = []
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            raise FieldError("media", f"expected a file path, got {_json(entry)}")
        p = Path(entry)
        if not (p if p.is_absolute() else base / p).is_file():
            raise FieldError("media", f"file not found: {entry}")
        paths.append(p if p.is_absolute() else base / p)
    try:
        return check_media_files(paths, kind)
    except RegistryError as exc:
        raise FieldError("media", str(exc)) from None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _work_changes(work: Work, holder: str, title: str, kind: str, aliases: list[Alias],
                  files: list[tuple[Path, str]]) -> list[str]:
    """How a catalog row differs from the registered ``work`` (empty: unchanged)."""
    diff = []
    if work.holder != holder:
        diff.append(f"holder {work.holder!r} -> {holder!r}")
    if work.title != title:
        diff.append(f"title {work.title!r} -> {title!r}")
    if work.kind != kind:
        diff.append(f"kind {work.kind} -> {kind}")
    if {(a.text, a.lang) for a in work.aliases} != {(a.text, a.lang) for a in aliases}:
        diff.append("aliases " + (", ".join(a.text for a in work.aliases) or "(none)") + " -> "
                    + (", ".join(a.text for a in aliases) or "(none)"))
    registered = {m.sha256 for m in work.media}
    given = {_sha256(p) for p, _mk in files}
    if registered != given:
        diff.append(f"reference files differ ({len(given - registered)} not registered, "
                    f"{len(registered - given)} registered not in the row)")
    return diff


def import_catalog(registry: Registry, workspace: Workspace, path: str | Path,
                   summary: ImportSummary | None = None) -> list[int]:
    """Register the works of ``path`` and copy their media into the workspace.

    Media paths are relative to the catalog file's folder.  Returns the new media ids.
    A row whose ``work_id`` is registered is unchanged (nothing written) or changed
    (refused, see the module's doc).
    """
    summary = summary if summary is not None else ImportSummary()
    base = Path(path).parent
    explicit_ids: set[str] = set()
    seen: dict[str, int] = {}
    stored: list[StoredFile] = []
    media_ids: list[int] = []

    for row in read_rows(path):  # first pass: work ids given in the file are reserved
        wid = row.raw("work_id")
        if isinstance(wid, str) and wid:
            explicit_ids.add(wid)

    def handle(row: Row) -> None:
        holder = _known_holder(registry, row)
        wid = row.text("work_id", required=False)
        if wid is not None:
            if not WORK_ID.match(wid):
                raise FieldError("work_id", f"must be letters, digits, '.', '_', ':' or '-', got {wid!r}")
            if wid in seen:
                raise FieldError("work_id", f"duplicate work_id {wid!r} (also on line {seen[wid]})")
        title = row.text("title")
        assert title is not None
        kind = row.text("kind", required=False)
        if kind is not None and kind not in WORK_KINDS:
            raise FieldError("kind", f"must be 'image' or 'video', got {kind!r}")
        aliases = _aliases(row)
        keyword_sets = _keyword_sets(row)
        kind, files = _media_files(row, base, kind)
        existing = registry.get_work(wid) if wid is not None else None
        if existing is not None:
            seen[existing.work_id] = row.line
            diff = _work_changes(existing, holder.slug, title, kind, aliases, files)
            if diff:
                summary.changed += 1
                summary.changes.append(f"line {row.line}: work {existing.work_id}: " + "; ".join(diff))
            else:
                summary.unchanged += 1
            for lang, words in keyword_sets:  # a set already there is left as it is
                registry.add_keyword_set(existing.work_id, lang, words)
            return
        wid = wid or registry.next_work_id(reserved=explicit_ids)
        seen[wid] = row.line
        summary.new += 1
        work = registry.add_work(holder.slug, title, kind, work_id=wid, aliases=aliases)
        for lang, words in keyword_sets:
            registry.add_keyword_set(work.work_id, lang, words)
        media_ids.extend(_add_media(registry, workspace, work.work_id, files, stored))

    try:
        with registry.transaction():
            handle_rows(path, handle)
            _refuse_changes(path, summary, "works")
    except BaseException:
        for copy in stored:
            workspace.discard_media(copy)
        raise
    return media_ids


# -- permits -----------------------------------------------------------------------------------
def _scope(registry: Registry, row: Row, holder: str) -> str | list[str]:
    """The ``works`` field: ``"*"`` or work ids of ``holder``."""
    items = row.items("works")
    if not items:
        raise FieldError("works", "required: '*' or a list of work ids")
    if items == [ALL_WORKS]:
        return ALL_WORKS
    works: list[str] = []
    for wid in items:
        if not isinstance(wid, str) or wid == ALL_WORKS:
            raise FieldError("works", f"expected '*' or work ids, got {_json(items)}")
        work = registry.get_work(wid)
        if work is None:
            raise FieldError("works", f"unknown work {wid!r}")
        if work.holder != holder:
            raise FieldError("works", f"work {wid!r} belongs to {work.holder!r}, not {holder!r}")
        works.append(wid)
    return works


def _scope_of(works: str | list[str]) -> str:
    """A row's scope as :attr:`Permit.scope` / :attr:`Reservation.scope` give it (their
    work ids come sorted)."""
    return scope_text(works == ALL_WORKS, () if works == ALL_WORKS else tuple(sorted(works)))


def _same_permit(registry: Registry, holder: str, licensee: str, use: str, works: str | list[str],
                 valid_from: date, valid_until: date | None) -> Permit | None:
    """An unrevoked permit with exactly these terms, if one exists."""
    for p in registry.list_permits(licensee=licensee, holder=holder):
        if p.revoked_at is None and p.use == use and p.valid_from == valid_from and p.valid_until == valid_until \
                and p.scope == _scope_of(works):
            return p
    return None


def import_permits(registry: Registry, path: str | Path, summary: ImportSummary | None = None) -> list[Permit]:
    """Grant the permits of ``path``; returns them.  ``works`` is ``"*"`` or a list of work ids.
    A row with the terms of an unrevoked permit is unchanged and grants nothing twice."""
    summary = summary if summary is not None else ImportSummary()

    def handle(row: Row) -> Permit:
        holder = _known_holder(registry, row)
        licensee = _slug(row, "licensee")
        use = row.text("use")
        if use not in USES:
            raise FieldError("use", f"must be 'training' or 'generation', got {use!r}")
        works = _scope(registry, row, holder.slug)
        valid_from = row.day("valid_from", required=True)
        valid_until = row.day("valid_until", required=False)
        assert valid_from is not None
        if valid_until is not None and valid_until < valid_from:
            raise FieldError("valid_until", f"{valid_until} is before valid_from {valid_from}")
        same = _same_permit(registry, holder.slug, licensee, use, works, valid_from, valid_until)
        if same is not None:  # importing the same file again grants nothing twice
            summary.unchanged += 1
            return same
        summary.new += 1
        return registry.grant_permit(
            holder.slug, licensee, use, works, valid_from=valid_from, valid_until=valid_until
        )

    with registry.transaction():
        return handle_rows(path, handle)


# -- reservations ------------------------------------------------------------------------------
def import_reservations(registry: Registry, path: str | Path,
                        summary: ImportSummary | None = None) -> list[Reservation]:
    """Record the opt-out reservations of ``path`` (``holder``, ``use``, ``works``: ``"*"`` or
    work ids); one already in force with the same scope is kept (unchanged), not doubled."""
    summary = summary if summary is not None else ImportSummary()

    def handle(row: Row) -> Reservation:
        holder = _known_holder(registry, row)
        use = row.text("use")
        if use not in USES:
            raise FieldError("use", f"must be 'training' or 'generation', got {use!r}")
        works = _scope(registry, row, holder.slug)
        for r in registry.list_reservations(holder.slug):
            if r.withdrawn_at is None and r.use == use and r.scope == _scope_of(works):
                summary.unchanged += 1
                return r
        summary.new += 1
        return registry.declare_reservation(holder.slug, use, works)

    with registry.transaction():
        return handle_rows(path, handle)
