"""Walking the paths a user names, streaming, one ``WalkItem`` per media file or problem.

Rules (the scanner relies on every one of them):

* Paths are handled in the order given; inside a folder, entries are visited in sorted
  name order (code point order of the names), depth first, a sub-folder's contents at
  the sub-folder's place.  The same tree always gives the same sequence.
* A file's kind comes from its bytes, never its name.  The first :data:`SNIFF_BYTES`
  (512) of every regular file are read and matched against the magic numbers of
  :func:`~kyodaku.media.sniff.sniff_format`:

  - bytes of a format kyodaku decodes (PNG, JPEG, GIF, WebP, BMP, TIFF; MP4/MOV, MKV/WebM,
    AVI, MPEG-TS/PS, FLV, ASF, Ogg) give an item of that kind, whatever the file is
    called: a PNG named ``x.mp4``, ``x.txt`` or ``x`` is an image, an MP4 named ``x.png``
    a video;
  - bytes of a known image format kyodaku cannot decode (HEIF/AVIF, JPEG XL, JPEG 2000,
    PSD, QOI, ICO, DDS, OpenEXR, XCF, JPEG XR, PNM, SVG) give an error item
    "unsupported image format HEIF: ...": never skipped;
  - any other bytes (text, JSON sidecars, archives, an empty file) are not media.  Such a
    file is an error item when its name promises media (``.jpg .jpeg .png .webp .gif
    .bmp .tif .tiff .mp4 .webm .mkv .mov .m4v .avi``, case-insensitive: "empty file",
    "not an image or video ...") or when the path was given explicitly; inside a folder
    it is skipped and counted (``stats["not_media"]``).
  - A file that cannot be read (permission denied, an I/O error) is an error item
    whatever its name: its bytes are unknown.

  ``WalkItem.kind`` and ``.format`` say what the bytes are (None when unknown).
* Hidden entries (names starting with ".") are walked like any other: a registered
  picture renamed ``.x.png`` or moved into a ``.cache/`` folder is still scanned (a
  training job's ``os.walk`` would read it).  Their non-media files (``.DS_Store``,
  ``.git`` objects) are skipped and counted as ``stats["not_media"]`` like any other.
  A path given explicitly is never skipped: bytes that are not media give an error item.
* Problems are items, never exceptions: a path that does not exist, a broken
  symlink, a symlink loop (reported once, at the link that closes the loop), a
  folder that cannot be listed, a file that cannot be read, a FIFO or device
  with a media name (its bytes are not read: opening a FIFO could block).  A broken
  link found inside a folder is reported unless its name carries a known non-media
  extension (``notes.txt -> gone``).
* Each directory is walked at most once per call, identified by (st_dev, st_ino):
  a link into a folder already walked elsewhere is skipped silently, since its files
  were already yielded under their other path.
* ``follow_symlinks=False`` skips symlinks met inside folders (silently); a symlink
  given explicitly is still followed, like ``find -H``.

It is a generator over ``os.scandir``; memory is the sorted entry list of the folders
on the current path (plus one (dev, inode) pair per folder seen), never the whole tree.
Sniffing costs one ``open`` and one 512-byte ``read`` per file.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kyodaku.media.sniff import (
    FORMAT_KIND,
    IMAGE_EXTS,
    NOT_MEDIA,
    SNIFF_BYTES,
    VIDEO_EXTS,
    Kind,
    kind_for_name,
    read_head,
    sniff_format,
    sniff_kind,
    unsupported_reason,
)

__all__ = ["WalkItem", "iter_media", "sniff_kind", "kind_for_name", "IMAGE_EXTS", "VIDEO_EXTS", "SNIFF_BYTES"]


@dataclass(frozen=True, slots=True)
class WalkItem:
    """A media file to scan (``error`` None) or a path that could not be walked.

    ``kind`` ("image" / "video") and ``format`` ("PNG", "ISOBMFF"...) are what the
    file's bytes are; None when unknown (folders, unreadable files, bytes that are not
    media).
    """

    path: Path
    kind: Kind | None
    error: str | None = None
    format: str | None = None

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


def _has_other_ext(name: str) -> bool:
    """True when the name ends in an extension that is not a media one (e.g. .txt)."""
    ext = os.path.splitext(name)[1]
    return bool(ext) and kind_for_name(name) is None


def _not_media(name: str, head: bytes) -> str:
    if not head:
        return "empty file (0 bytes)"
    promised = kind_for_name(name)
    if promised is not None:
        return f"{NOT_MEDIA} (named like {'an' if promised == 'image' else 'a'} {promised})"
    return NOT_MEDIA


def sniff_file(path: Path, name: str, *, explicit: bool) -> WalkItem | None:
    """The item of a regular file, from its first bytes (None: not media, skip it)."""
    if not os.access(path, os.R_OK):
        return WalkItem(path, None, "permission denied")
    try:
        head = read_head(path, SNIFF_BYTES)
    except OSError as e:
        return WalkItem(path, None, _os_reason(e))
    except ValueError as e:
        return WalkItem(path, None, f"invalid path: {e}")
    fmt = sniff_format(head)
    if fmt is None:
        if explicit or kind_for_name(name) is not None:
            return WalkItem(path, None, _not_media(name, head))
        return None
    kind = FORMAT_KIND[fmt]
    return WalkItem(path, kind, unsupported_reason(fmt), fmt)


class _Walker:
    def __init__(self, follow_symlinks: bool, stats: Counter | None) -> None:
        self.follow = follow_symlinks
        self.seen_dirs: set[tuple[int, int]] = set()
        self.stats = stats if stats is not None else Counter()

    def _file(self, path: Path, name: str) -> WalkItem | None:
        item = sniff_file(path, name, explicit=False)
        if item is None:
            self.stats["not_media"] += 1
        return item

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
            yield WalkItem(path, None, reason)
            return
        if stat.S_ISDIR(st.st_mode):
            yield from self.folder(path, st)
        elif stat.S_ISREG(st.st_mode):
            item = sniff_file(path, path.name, explicit=True)
            assert item is not None  # explicit paths are never skipped
            yield item
        else:
            yield WalkItem(path, None, "not a regular file (a device, pipe or socket)")

    # -- folders ---------------------------------------------------------------------

    @staticmethod
    def _list(path: Path) -> tuple[list[os.DirEntry[str]] | None, str | None]:
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError as e:
            reason = _os_reason(e)
            return None, ("permission denied (cannot list folder)" if reason == "permission denied" else f"cannot list folder: {reason}")
        return entries, None

    @staticmethod
    def _visible(entries: list[os.DirEntry[str]]) -> list[os.DirEntry[str]]:
        """Every entry, hidden ones included, in code point order of the names."""
        return sorted(entries, key=lambda e: e.name)

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
        stack: list[tuple[tuple[int, int], Path, Iterator[os.DirEntry[str]]]] = [
            (key, root, iter(self._visible(entries or [])))]
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
                            yield WalkItem(path, None, _os_reason(e, link=True))
                        continue
                    mode = est.st_mode
                elif entry.is_dir(follow_symlinks=False):
                    est = entry.stat(follow_symlinks=False)
                    mode = est.st_mode
                elif entry.is_file(follow_symlinks=False):
                    item = self._file(path, name)
                    if item is not None:
                        yield item
                    continue
                else:  # FIFO, socket, device: not opened (a FIFO could block)
                    if kind_for_name(name) is not None:
                        yield WalkItem(path, None, "not a regular file (a device, pipe or socket)")
                    continue
            except OSError as e:  # vanished while walking, EACCES on stat...
                if kind_for_name(name) is not None or not _has_other_ext(name):
                    yield WalkItem(path, None, _os_reason(e))
                continue

            if stat.S_ISREG(mode):  # a symlink to a file
                item = self._file(path, name)
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
                stack.append((dkey, path, iter(self._visible(children or []))))
                ancestors[dkey] = path
            else:
                if kind_for_name(name) is not None:
                    yield WalkItem(path, None, "not a regular file (a device, pipe or socket)")


def iter_media(paths: Iterable[str | os.PathLike[str]], *, follow_symlinks: bool = True,
               stats: Counter | None = None) -> Iterator[WalkItem]:
    """Yield a :class:`WalkItem` for every media file under ``paths`` and every problem met.

    ``paths`` may be files or folders (and may itself be a lazy iterable).  See the
    module docstring for the exact rules; nothing here raises for a bad path.  What was
    skipped inside folders is counted in ``stats``: ``"not_media"`` files (bytes that are
    no image or video, names that promise none).
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]  # a single path, not an iterable of characters
    walker = _Walker(follow_symlinks, stats)
    for raw in paths:
        yield from walker.explicit(raw)
