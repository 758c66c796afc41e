"""The scan cache: an item whose content was already matched against the same reference
set is not fingerprinted again.

What is cached is the worker's raw output (``{"media", "matches", "signals"}``), never a
verdict: permits come and go, so :meth:`Scanner.decide <kyodaku.scan.pipeline.Scanner.decide>`
always runs again on it.  Errors (unreadable files, crashes, timeouts) are never cached,
so a file that failed is tried again next time.

The key is the SHA-256 of

* the item's bytes and what else a worker reads of it (kind, extension, caption, the
  manifest columns the rights-signal readers see) - not its id or path, so a renamed or
  duplicated file hits;
* the *scope*: the reference set (every method's ``refs.json``, offsets, the size and
  time of its vectors, its index metadata: adding a reference or a new method version
  changes it), the source of the code that matches (an upgraded kyodaku does not serve
  matches an older one computed) and the scan policy's matching numbers
  (:class:`~kyodaku.policy.MatchRules`: a policy with other review bands or caps scores
  matches differently).

It lives in the workspace, ``cache/scan.sqlite`` (stdlib ``sqlite3``; derived data, not
part of the registry's schema), holds at most ``max_entries`` (the oldest go first) and
drops entries of other scopes when a scan closes it.  Deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import zlib
from pathlib import Path
from typing import Any

from kyodaku.corpus import Item

#: bump when what is stored changes shape
CACHE_FORMAT = 1
#: entries kept at most (a few hundred bytes each, compressed)
DEFAULT_MAX_ENTRIES = 2_000_000
#: puts are committed in batches of this many (a crash loses at most one batch)
COMMIT_EVERY = 256

#: the code whose behaviour a cached result depends on (relative to the kyodaku package)
_CODE = ("scan/matcher.py", "scan/pipeline.py", "scan/refset.py", "fingerprint", "index", "media", "signals",
         "video")
_CHUNK = 1 << 20


def code_digest() -> str:
    """SHA-256 of the source of the modules that turn an item into matches and signals."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(f"kyodaku-scan-cache/{CACHE_FORMAT}".encode())
    for rel in _CODE:
        p = root / rel
        for f in sorted(p.rglob("*.py")) if p.is_dir() else [p]:
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def reference_digest(fingerprints_dir: Path, index_dir: Path) -> str:
    """SHA-256 of what a worker's :class:`ReferenceSet` is made of."""
    h = hashlib.sha256()
    for base in (Path(fingerprints_dir), Path(index_dir)):
        if not base.is_dir():
            continue
        for f in sorted(p for p in base.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(base.parent)).encode())
            if f.suffix == ".json" or f.name == "offsets.npy":
                h.update(f.read_bytes())
            else:  # large arrays: what changes with them is their size and time
                st = f.stat()
                h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def item_digest(item: Item) -> str | None:
    """The SHA-256 of an item's content and of what a worker reads with it; None when
    its file cannot be read (the worker then reports why)."""
    h = hashlib.sha256()
    if item.data is not None:
        h.update(item.data)
    elif item.path is not None:
        try:
            with open(item.path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
        except OSError:
            return None
    else:
        return None
    context = {"kind": item.kind, "ext": (item.ext or "").lower(), "caption": item.caption,
               "columns": item.columns or None}
    h.update(b"\0" + json.dumps(context, sort_keys=True, default=str, ensure_ascii=False).encode())
    return h.hexdigest()


class ScanCache:
    """Raw match output by item digest, within one scope (reference set + code)."""

    def __init__(self, path: Path, scope: str, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.path = Path(path)
        self.scope = scope
        self.max_entries = max_entries
        self.hits = self.misses = self.stored = 0
        self._unsaved = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, scope TEXT NOT NULL, "
                         "found BLOB NOT NULL, at REAL NOT NULL)")
        self._db.commit()

    @classmethod
    def for_workspace(cls, workspace: Any, max_entries: int = DEFAULT_MAX_ENTRIES, rules: Any = None) -> ScanCache:
        """The workspace's cache, scoped to its reference set, the code and ``rules`` (the
        scan policy's matching numbers; default: the packaged policy's)."""
        if rules is None:
            from kyodaku.policy.decide import default_policy

            rules = default_policy().matching
        numbers = json.dumps(rules.to_json(), sort_keys=True)
        scope = hashlib.sha256((code_digest() + reference_digest(workspace.fingerprints_dir, workspace.index_dir)
                                + numbers).encode()).hexdigest()
        return cls(Path(workspace.home) / "cache" / "scan.sqlite", scope, max_entries)

    def _key(self, digest: str) -> str:
        return hashlib.sha256(f"{self.scope}:{digest}".encode()).hexdigest()

    def get(self, digest: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT found FROM entries WHERE key = ?", (self._key(digest),)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return json.loads(zlib.decompress(row[0]))

    def put(self, digest: str, found: dict[str, Any]) -> None:
        """Remember a worker's output; errors are not remembered."""
        if "error" in found:
            return
        blob = zlib.compress(json.dumps(found, ensure_ascii=False).encode(), 6)
        self._db.execute("INSERT OR REPLACE INTO entries (key, scope, found, at) VALUES (?, ?, ?, ?)",
                         (self._key(digest), self.scope, blob, time.time()))
        self.stored += 1
        self._unsaved += 1
        if self._unsaved >= COMMIT_EVERY:
            self._db.commit()
            self._unsaved = 0

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM entries").fetchone()[0])

    def prune(self) -> int:
        """Drop entries of other scopes (a reference set or code that is gone), then the
        oldest beyond ``max_entries``; the number dropped."""
        dropped = self._db.execute("DELETE FROM entries WHERE scope != ?", (self.scope,)).rowcount
        over = len(self) - self.max_entries
        if over > 0:
            dropped += self._db.execute("DELETE FROM entries WHERE rowid IN "
                                        "(SELECT rowid FROM entries ORDER BY at, rowid LIMIT ?)", (over,)).rowcount
        self._db.commit()
        return dropped

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "stored": self.stored}

    def close(self) -> None:
        try:
            self._db.commit()
            self.prune()
        finally:
            self._db.close()
