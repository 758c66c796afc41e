"""Recognising media files by their first bytes, without decoding them.

``sniff_kind`` answers "image", "video" or None from magic numbers; ``header_dims``
reads the declared width and height of the simple formats (PNG, GIF, BMP, WebP) from
the first 32 bytes, so a decompression bomb can be refused before any decoder runs.
Nothing here raises on bad input: unknown or unreadable means None.
"""

from __future__ import annotations

import os
import stat
import struct
from typing import BinaryIO, Literal

Kind = Literal["image", "video"]

#: file name extensions (lower case, with the dot) the walker hands to each loader
IMAGE_EXTS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
VIDEO_EXTS: frozenset[str] = frozenset({".mp4", ".webm", ".mkv", ".mov", ".m4v", ".avi"})

#: how many leading bytes ``sniff_bytes`` and ``header_dims`` look at
HEAD_BYTES = 32

_PNG = b"\x89PNG\r\n\x1a\n"
_EBML = b"\x1a\x45\xdf\xa3"
# ISO base media (mp4/mov/m4v/3gp) brands that are still images, not videos
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
# QuickTime files written before ``ftyp`` existed start with one of these atoms
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
# BITMAPINFOHEADER family sizes: OS/2 v1, v3, v4, v5 and the in-between ones
_BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}


def kind_for_name(name: str | os.PathLike[str]) -> Kind | None:
    """The kind a file name's extension promises (case-insensitive), or None."""
    ext = os.path.splitext(os.fspath(name))[1].lower()
    if ext in IMAGE_EXTS:
        return "image"
    if ext in VIDEO_EXTS:
        return "video"
    return None


def sniff_format(head: bytes) -> str | None:
    """Container format from the first bytes: "PNG", "JPEG", "GIF", "TIFF", "WEBP", "BMP",
    "AVI", "MATROSKA" (mkv/webm), "ISOBMFF" (mp4/mov/m4v), "HEIF" (heic/avif), or None."""
    if head.startswith(_PNG):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": "WEBP", b"AVI ": "AVI"}.get(head[8:12])
    if head[:2] == b"BM" and len(head) >= 18:
        (dib,) = struct.unpack_from("<I", head, 14)
        return "BMP" if dib in _BMP_DIB_SIZES else None
    if head[:4] == _EBML:
        return "MATROSKA"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "HEIF" if head[8:12] in _HEIF_BRANDS else "ISOBMFF"
    if len(head) >= 8 and head[4:8] in _QT_ATOMS:
        return "ISOBMFF"
    return None


FORMAT_KIND: dict[str, Kind] = {
    "PNG": "image", "JPEG": "image", "GIF": "image", "TIFF": "image", "WEBP": "image", "BMP": "image",
    "AVI": "video", "MATROSKA": "video", "ISOBMFF": "video",
}


def sniff_bytes(head: bytes) -> Kind | None:
    """"image", "video" or None from the first bytes of a file (32 is plenty).

    HEIF/AVIF stills give None: kyodaku has no decoder for them.
    """
    fmt = sniff_format(head)
    return None if fmt is None else FORMAT_KIND.get(fmt)


def _read_head(source: str | os.PathLike[str] | bytes, n: int = HEAD_BYTES) -> bytes | None:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[:n])
    try:
        # O_NONBLOCK: opening a FIFO named x.png must not hang the scan
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, n)
    except OSError:
        return None
    finally:
        os.close(fd)


def sniff_kind(source: str | os.PathLike[str] | bytes) -> Kind | None:
    """What a file really is, judged from its magic bytes: "image", "video" or None.

    ``source`` is a path or the file's bytes.  A path that cannot be read, is not a
    regular file, or holds anything else gives None; this function never raises.
    Use it to double-check an extension: a text file named ``x.png`` sniffs as None.
    """
    head = _read_head(source)
    return None if head is None else sniff_bytes(head)


def header_dims(head: bytes) -> tuple[int, int] | None:
    """(width, height) declared by a PNG, GIF, BMP or WebP header, else None.

    Reads only fixed offsets of the first 30 bytes, so it is safe on any input; it
    does not validate the rest of the file.  JPEG and TIFF give None (their size
    lives behind variable-length segments; Pillow's lazy open reads it instead).
    """
    try:
        if head.startswith(_PNG) and head[12:16] == b"IHDR":
            return struct.unpack_from(">II", head, 16)
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack_from("<HH", head, 6)
        if head[:2] == b"BM":
            (dib,) = struct.unpack_from("<I", head, 14)
            if dib == 12:
                w, h = struct.unpack_from("<HH", head, 18)
                return w, h
            if dib in _BMP_DIB_SIZES:
                w, h = struct.unpack_from("<ii", head, 18)
                return abs(w), abs(h)  # negative height = top-down rows
            return None
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            chunk = head[12:16]
            if chunk == b"VP8X":
                w = int.from_bytes(head[24:27], "little") + 1
                h = int.from_bytes(head[27:30], "little") + 1
                return w, h
            if chunk == b"VP8L" and head[20:21] == b"\x2f":
                (bits,) = struct.unpack_from("<I", head, 21)
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
                w, h = struct.unpack_from("<HH", head, 26)
                return w & 0x3FFF, h & 0x3FFF
    except struct.error:
        return None
    return None


# JPEG start-of-frame markers (baseline, extended, progressive, lossless, arithmetic...)
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# standalone markers (no length field): TEM, RST0-7, SOI
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})


def _jpeg_dims(f: BinaryIO, limit: int) -> tuple[int, int] | None:
    """Walk JPEG marker segments up to the first SOF; at most ``limit`` bytes into the file."""
    f.seek(0)
    if f.read(2) != b"\xff\xd8":
        return None
    while f.tell() < limit:
        if f.read(1) != b"\xff":
            return None
        marker = f.read(1)
        while marker == b"\xff":  # fill bytes
            marker = f.read(1)
        if not marker:
            return None
        m = marker[0]
        if m in _JPEG_STANDALONE:
            continue
        if m in (0xD9, 0xDA):  # EOI or start of scan before any frame header
            return None
        raw = f.read(2)
        if len(raw) < 2:
            return None
        (length,) = struct.unpack(">H", raw)
        if length < 2:
            return None
        if m in _JPEG_SOF:
            body = f.read(5)
            if len(body) < 5:
                return None
            h, w = struct.unpack_from(">HH", body, 1)
            return w, h
        f.seek(length - 2, os.SEEK_CUR)
    return None


def declared_dims(f: BinaryIO, *, jpeg_scan_limit: int = 4 << 20) -> tuple[int, int] | None:
    """(width, height) a file's header declares, read without decoding; None if unknown.

    Knows PNG, GIF, BMP and WebP (fixed offsets) and JPEG (walks marker segments, at
    most ``jpeg_scan_limit`` bytes).  Leaves the file position at 0.  Never raises on
    bad data; an I/O error from ``f`` propagates.
    """
    try:
        f.seek(0)
        head = f.read(HEAD_BYTES)
        dims = header_dims(head)
        if dims is None and head.startswith(b"\xff\xd8"):
            dims = _jpeg_dims(f, jpeg_scan_limit)
        return dims
    except (struct.error, ValueError):
        return None
    finally:
        f.seek(0)
