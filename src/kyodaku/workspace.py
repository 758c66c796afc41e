"""A kyodaku workspace: one home folder holding the registry database and derived data.

Layout of ``home``::

    kyodaku.db                    the registry (SQLite; or any database_url)
    media/ab/<sha256>.<ext>       content-addressed copies of the reference media
    fingerprints/                 fingerprints of the reference media
    index/                        search indexes built from the fingerprints

``Workspace.init(home)`` creates it (idempotent: re-running upgrades the schema),
``Workspace.open(home)`` opens an existing one.  The engine is created lazily; a
``Workspace`` pickles as (home, database_url), so it can be handed to worker processes.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from kyodaku.registry.migrate import current_revision, head_revision, upgrade
from kyodaku.registry.sql import SqlRegistry
from kyodaku.settings import sqlite_url

if TYPE_CHECKING:
    from kyodaku.registry.base import Media
    from kyodaku.settings import Settings

__all__ = ["IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "StoredFile", "Workspace", "WorkspaceError", "media_kind"]

DB_FILE = "kyodaku.db"
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts"})
_CHUNK = 1 << 20


class WorkspaceError(RuntimeError):
    """No usable workspace (missing, not initialised, schema out of date, database unreachable)."""


def media_kind(path: str | Path) -> str | None:
    """``"image"`` or ``"video"`` from the file's first bytes, whatever it is called (a
    PNG named ``x.mp4`` is an image); None when the file cannot be read, or its bytes are
    no image or video kyodaku decodes (see :mod:`kyodaku.media.sniff`)."""
    from kyodaku.media.sniff import sniff_kind

    return sniff_kind(path)


@dataclass(frozen=True)
class StoredFile:
    """A reference file copied into ``media/``; ``path`` is relative to the workspace home."""

    sha256: str
    path: str
    size_bytes: int
    created: bool  # False when the same content was already stored


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Workspace:
    """The home folder layout plus a lazily created engine, session factory and registry."""

    def __init__(self, home: str | Path, database_url: str | None = None) -> None:
        self.home = Path(home).expanduser().resolve()
        self.database_url = database_url or sqlite_url(self.home / DB_FILE)

    # -- layout ----------------------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.home / DB_FILE

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def fingerprints_dir(self) -> Path:
        return self.home / "fingerprints"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def __repr__(self) -> str:
        return f"Workspace({str(self.home)!r})"

    # -- creation --------------------------------------------------------------------------
    @classmethod
    def init(cls, home: str | Path, database_url: str | None = None) -> Workspace:
        """Create the folders and bring the database schema to the newest revision (idempotent)."""
        ws = cls(home, database_url)
        if ws.home.exists() and not ws.home.is_dir():
            raise WorkspaceError(f"cannot create a workspace at {ws.home}: it is a file")
        for folder in (ws.home, ws.media_dir, ws.fingerprints_dir, ws.index_dir):
            folder.mkdir(parents=True, exist_ok=True)
        try:
            upgrade(ws.engine)
        except OperationalError as exc:
            raise WorkspaceError(f"cannot set up the database of {ws.home}: {exc.orig}") from exc
        return ws

    @classmethod
    def open(cls, home: str | Path, database_url: str | None = None) -> Workspace:
        """Open an initialised workspace, or raise :class:`WorkspaceError`."""
        ws = cls(home, database_url)
        missing = WorkspaceError(f"no kyodaku workspace at {ws.home}; run `kyodaku init`")
        if not ws.media_dir.is_dir() or (ws.is_sqlite and not ws.db_path.is_file()):
            raise missing
        try:
            current = current_revision(ws.engine)
        except OperationalError as exc:
            raise WorkspaceError(f"cannot open the database of {ws.home}: {exc.orig}") from exc
        if current is None:
            raise missing
        head = head_revision()
        if current != head:
            raise WorkspaceError(
                f"the database of {ws.home} is at schema revision {current}, this kyodaku expects {head}; "
                "run `kyodaku init` to upgrade it"
            )
        from kyodaku.audit.outbox import drain_workspace

        drain_workspace(ws, quiet=True)  # audit entries a crash left committed but not yet in the log
        return ws

    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool = False) -> Workspace:
        """``init`` (``create=True``) or ``open`` the workspace the settings point at."""
        return (cls.init if create else cls.open)(settings.home, settings.database_url)

    # -- database --------------------------------------------------------------------------
    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.database_url)

    @cached_property
    def _sessions(self) -> sessionmaker[Session]:
        from kyodaku.registry._orm import guard_sessions

        return guard_sessions(sessionmaker(self.engine, expire_on_commit=False))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends normally and rolls back on an exception."""
        with self._sessions.begin() as s:
            yield s

    @cached_property
    def registry(self) -> SqlRegistry:
        return SqlRegistry(self.engine, audit_home=self.home)

    def dispose(self) -> None:
        """Close pooled connections (call before forking worker processes)."""
        if "engine" in self.__dict__:
            self.engine.dispose()
        for name in ("engine", "_sessions", "registry"):
            self.__dict__.pop(name, None)

    def __getstate__(self) -> dict[str, Any]:
        return {"home": self.home, "database_url": self.database_url}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.home = state["home"]
        self.database_url = state["database_url"]

    # -- media -----------------------------------------------------------------------------
    def media_path(self, media: Media | str) -> Path:
        """The absolute path of a stored reference file (a Media record or its relative path)."""
        rel = media if isinstance(media, str) else media.path
        return self.home / rel

    def store_media(self, src: str | Path) -> StoredFile:
        """Copy ``src`` to ``media/ab/<sha256>.<ext>`` (hashing while copying; atomic rename)."""
        src = Path(src)
        ext = src.suffix.lower()
        tmp_dir = self.media_dir / ".incoming"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"{uuid.uuid4().hex}{ext}"
        digest = hashlib.sha256()
        size = 0
        try:
            with src.open("rb") as fin, tmp.open("wb") as fout:
                while chunk := fin.read(_CHUNK):
                    digest.update(chunk)
                    fout.write(chunk)
                    size += len(chunk)
            sha = digest.hexdigest()
            rel = f"media/{sha[:2]}/{sha}{ext}"
            dest = self.home / rel
            if dest.is_file():
                return StoredFile(sha, rel, size, created=False)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
            return StoredFile(sha, rel, size, created=True)
        finally:
            tmp.unlink(missing_ok=True)

    def discard_media(self, stored: StoredFile) -> None:
        """Delete a copy made by :meth:`store_media` (used when an import is rolled back)."""
        if stored.created:
            (self.home / stored.path).unlink(missing_ok=True)
