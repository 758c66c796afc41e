"""Walking the paths a user names, streaming, one ``WalkItem`` per media file or problem.

Rules (the scanner relies on every one of them):

* Paths are handled in the order given; inside a folder, entries are visited in sorted
  name order (code point order of the names), depth first, a sub-folder's contents at
  the sub-folder's place.  The same tree always gives the same sequence.
* Media is recognised by extension, case-insensitive: images ``.jpg .jpeg .png .webp
  .gif .bmp .tif .tiff``, videos ``.mp4 .webm .mkv .mov .m4v .avi``.  The content is
  not read here: a text file named ``x.png`` is yielded as an image and the loader
  rejects it (``sniff_kind`` is there for callers that want to double-check).
* Inside folders, hidden entries (names starting with ".") and files with other
  extensions are skipped silently.  A path given explicitly is never skipped: a
  hidden file is walked, and an unknown extension yields an error item
  "unsupported file type".
* Problems are items, never exceptions: a path that does not exist, a broken
  symlink, a symlink loop (reported once, at the link that closes the loop), a
  folder that cannot be listed, a media file that cannot be read, a FIFO or device
  with a media name.  A broken link found inside a folder is reported unless its
  name carries a known non-media extension (``notes.txt -> gone``).
* Each directory is walked at most once per call, identified by (st_dev, st_ino):
  a link into a folder already walked elsewhere is skipped silently, since its files
  were already yielded under their other path.
* ``follow_symlinks=False`` skips symlinks met inside folders (silently); a symlink
  given explicitly is still followed, like ``find -H``.

It is a generator over ``os.scandir``; memory is the sorted entry list of the folders
on the current path (plus one (dev, inode) pair per folder seen), never the whole tree.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kyodaku.media.sniff import IMAGE_EXTS, VIDEO_EXTS, Kind, kind_for_name, sniff_kind

__all__ = ["WalkItem", "iter_media", "sniff_kind", "kind_for_name", "IMAGE_EXTS", "VIDEO_EXTS"]


@dataclass(frozen=True, slots=True)
class WalkItem:
    """A media file to scan (``error`` None) or a path that could not be walked.

    ``kind`` is what the extension promises ("image" / "video"), None when unknown
    (folders, unsupported files).
    """

    path: Path
    kind: Kind | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _os_reason(e: OSError, *, link: bool = False) -> str:
    if e.errno == errno.ELOOP:
        return "symlink loop: too many levels of symbolic links"
    if e.errno == errno.ENOENT:
        return "broken symlink: its target does not exist" if link else "no such file or directory"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if e.errno == errno.ENOTDIR:
        return "broken symlink: a component of its target is not a folder" if link else "not a folder on the way"
    return e.strerror or str(e) or type(e).__name__


def _unsupported(name: str) -> str:
    ext = os.path.splitext(name)[1]
    return f"unsupported file type ({ext.lower()!r})" if ext else "unsupported file type (no extension)"


def _has_other_ext(name: str) -> bool:
    """True when the name ends in an extension that is not a media one (e.g. .txt)."""
    ext = os.path.splitext(name)[1]
    return bool(ext) and kind_for_name(name) is None


def _file_item(path: Path, name: str) -> WalkItem | None:
    """Item for a regular file met inside a folder (None: not media, skip)."""
    kind = kind_for_name(name)
    if kind is None:
        return None
    if not os.access(path, os.R_OK):
        return WalkItem(path, kind, "permission denied")
    return WalkItem(path, kind)


class _Walker:
    def __init__(self, follow_symlinks: bool) -> None:
        self.follow = follow_symlinks
        self.seen_dirs: set[tuple[int, int]] = set()

    # -- explicit paths --------------------------------------------------------------

    def explicit(self, raw: str | os.PathLike[str]) -> Iterator[WalkItem]:
        try:
            path = Path(raw)
        except TypeError as e:
            yield WalkItem(Path(str(raw)), None, f"invalid path: {e}")
            return
        try:
            st = os.lstat(path)
            is_link = stat.S_ISLNK(st.st_mode)
            if is_link:
                st = os.stat(path)
        except (OSError, ValueError) as e:
            is_link = os.path.islink(path)
            reason = _os_reason(e, link=is_link) if isinstance(e, OSError) else f"invalid path: {e}"
            yield WalkItem(path, kind_for_name(path.name), reason)
            return
        if stat.S_ISDIR(st.st_mode):
            yield from self.folder(path, st)
        elif stat.S_ISREG(st.st_mode):
            kind = kind_for_name(path.name)
            if kind is None:
                yield WalkItem(path, None, _unsupported(path.name))
            elif not os.access(path, os.R_OK):
                yield WalkItem(path, kind, "permission denied")
            else:
                yield WalkItem(path, kind)
        else:
            yield WalkItem(path, kind_for_name(path.name), "not a regular file (a device, pipe or socket)")

    # -- folders ---------------------------------------------------------------------

    @staticmethod
    def _list(path: Path) -> tuple[list[os.DirEntry[str]] | None, str | None]:
        try:
            with os.scandir(path) as it:
                entries = [e for e in it if not e.name.startswith(".")]
        except OSError as e:
            reason = _os_reason(e)
            return None, ("permission denied (cannot list folder)" if reason == "permission denied" else f"cannot list folder: {reason}")
        entries.sort(key=lambda e: e.name)
        return entries, None

    def folder(self, root: Path, st: os.stat_result) -> Iterator[WalkItem]:
        key = (st.st_dev, st.st_ino)
        if key in self.seen_dirs:
            return  # already walked under another name
        self.seen_dirs.add(key)
        entries, err = self._list(root)
        if err is not None:
            yield WalkItem(root, None, err)
            return
        # stack of (folder key, its path, iterator over its sorted entries)
        stack: list[tuple[tuple[int, int], Path, Iterator[os.DirEntry[str]]]] = [(key, root, iter(entries or ()))]
        ancestors: dict[tuple[int, int], Path] = {key: root}
        while stack:
            top_key, _, it = stack[-1]
            entry = next(it, None)
            if entry is None:
                stack.pop()
                ancestors.pop(top_key, None)
                continue
            path = Path(entry.path)
            name = entry.name
            try:
                if entry.is_symlink():
                    if not self.follow:
                        continue
                    try:
                        est = os.stat(entry.path)
                    except OSError as e:
                        if not _has_other_ext(name):
                            yield WalkItem(path, kind_for_name(name), _os_reason(e, link=True))
                        continue
                    mode = est.st_mode
                elif entry.is_dir(follow_symlinks=False):
                    est = entry.stat(follow_symlinks=False)
                    mode = est.st_mode
                elif entry.is_file(follow_symlinks=False):
                    item = _file_item(path, name)
                    if item is not None:
                        yield item
                    continue
                else:  # FIFO, socket, device
                    kind = kind_for_name(name)
                    if kind is not None:
                        yield WalkItem(path, kind, "not a regular file (a device, pipe or socket)")
                    continue
            except OSError as e:  # vanished while walking, EACCES on stat...
                if kind_for_name(name) is not None or not _has_other_ext(name):
                    yield WalkItem(path, kind_for_name(name), _os_reason(e))
                continue

            if stat.S_ISREG(mode):  # a symlink to a file
                item = _file_item(path, name)
                if item is not None:
                    yield item
            elif stat.S_ISDIR(mode):
                dkey = (est.st_dev, est.st_ino)
                if dkey in ancestors:
                    yield WalkItem(path, None, f"symlink loop: links back to its ancestor folder {ancestors[dkey]}")
                    continue
                if dkey in self.seen_dirs:
                    continue
                self.seen_dirs.add(dkey)
                children, err = self._list(path)
                if err is not None:
                    yield WalkItem(path, None, err)
                    continue
                stack.append((dkey, path, iter(children or ())))
                ancestors[dkey] = path
            else:
                kind = kind_for_name(name)
                if kind is not None:
                    yield WalkItem(path, kind, "not a regular file (a device, pipe or socket)")


def iter_media(paths: Iterable[str | os.PathLike[str]], *, follow_symlinks: bool = True) -> Iterator[WalkItem]:
    """Yield a :class:`WalkItem` for every media file under ``paths`` and every problem met.

    ``paths`` may be files or folders (and may itself be a lazy iterable).  See the
    module docstring for the exact rules; nothing here raises for a bad path.
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]  # a single path, not an iterable of characters
    walker = _Walker(follow_symlinks)
    for raw in paths:
        yield from walker.explicit(raw)
