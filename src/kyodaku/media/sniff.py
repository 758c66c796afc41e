"""Recognising media files by their first bytes, without decoding them.

A file's kind comes from its bytes, never its name: ``sniff_format`` names the format
from magic numbers (the first :data:`SNIFF_BYTES` at most), ``FORMAT_KIND`` says whether
it is a still image or a video, ``DECODED`` which of them kyodaku can decode;
``sniff_kind`` answers "image", "video" or None for the decodable ones; ``header_dims``
reads the declared width and height of the simple formats (PNG, GIF, BMP, WebP) from
the first 32 bytes, so a decompression bomb can be refused before any decoder runs.
Nothing here raises on bad input: unknown or unreadable means None.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import struct
from typing import BinaryIO, Literal

Kind = Literal["image", "video"]

#: file name extensions (lower case, with the dot) the walker hands to each loader
IMAGE_EXTS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
VIDEO_EXTS: frozenset[str] = frozenset({".mp4", ".webm", ".mkv", ".mov", ".m4v", ".avi"})

#: how many leading bytes ``header_dims`` looks at
HEAD_BYTES = 32
#: how many leading bytes ``sniff_kind`` / ``sniff_path`` read: enough for every magic
#: number below (an MPEG-TS needs its third packet sync at 376, an SVG its ``<svg`` tag)
SNIFF_BYTES = 512

_PNG = b"\x89PNG\r\n\x1a\n"
_EBML = b"\x1a\x45\xdf\xa3"
_ASF = b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"
# ISO base media (mp4/mov/m4v/3gp) brands that are still images, not videos
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
# QuickTime files written before ``ftyp`` existed start with one of these atoms
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
# BITMAPINFOHEADER family sizes: OS/2 v1, v3, v4, v5 and the in-between ones
_BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}
_PNM = re.compile(rb"P[1-7][ \t\r\n]+(#[^\n]*\n\s*)*\d+\s+\d+")


def kind_for_name(name: str | os.PathLike[str]) -> Kind | None:
    """The kind a file name's extension promises (case-insensitive), or None.

    Never what a file *is*: that comes from its bytes (:func:`sniff_format`).  The walker
    uses it only to decide that a file named like media whose bytes are not gets an
    error line instead of being skipped."""
    ext = os.path.splitext(os.fspath(name))[1].lower()
    if ext in IMAGE_EXTS:
        return "image"
    if ext in VIDEO_EXTS:
        return "video"
    return None


def _iso_format(head: bytes) -> str:
    brand = head[8:12]
    if brand in _AVIF_BRANDS:
        return "AVIF"
    if brand in _HEIF_BRANDS:
        return "HEIF"
    return "ISOBMFF"


def _image_format(head: bytes) -> str | None:
    """Still-image formats kyodaku does not decode (but must not skip)."""
    if head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n") or head[:2] == b"\xff\x0a":
        return "JPEG XL"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head[:4] == b"\xff\x4f\xff\x51":
        return "JPEG 2000"
    if head[:4] == b"8BPS" and head[4:6] in (b"\x00\x01", b"\x00\x02"):
        return "PSD"
    if head[:4] == b"qoif":
        return "QOI"
    if head[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00") and len(head) >= 22:
        (count,) = struct.unpack_from("<H", head, 4)
        if 0 < count <= 256 and head[9] == 0:  # the first directory entry's reserved byte
            return "ICO"
    if head[:4] == b"DDS ":
        return "DDS"
    if head[:4] == b"v/1\x01":
        return "OpenEXR"
    if head[:9] == b"gimp xcf ":
        return "XCF"
    if head[:3] == b"II\xbc":
        return "JPEG XR"
    if _PNM.match(head):
        return "PNM"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"<" and b"<svg" in head.lower():
        return "SVG"
    return None


def sniff_format(head: bytes) -> str | None:
    """Format from the first bytes (give :data:`SNIFF_BYTES`; 32 are enough for all but
    MPEG-TS and SVG), or None when they match no image or video format kyodaku knows.

    Decoded: "PNG", "JPEG", "GIF", "TIFF", "WEBP", "BMP" (images); "AVI", "MATROSKA"
    (mkv/webm), "ISOBMFF" (mp4/mov/m4v/3gp), "MPEG-TS", "MPEG-PS", "FLV", "ASF"
    (wmv), "OGG" (videos).  Known but not decoded (:data:`DECODED` lacks them): "HEIF",
    "AVIF", "JPEG XL", "JPEG 2000", "PSD", "QOI", "ICO", "DDS", "OpenEXR", "XCF",
    "JPEG XR", "PNM", "SVG"."""
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
        return _iso_format(head)
    if len(head) >= 8 and head[4:8] in _QT_ATOMS:
        return "ISOBMFF"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "MPEG-PS"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47 and (len(head) <= 376 or head[376] == 0x47):
        return "MPEG-TS"
    if len(head) > 196 and head[4] == 0x47 and head[196] == 0x47:  # M2TS: 192-byte packets
        return "MPEG-TS"
    if head[:4] == b"FLV\x01":
        return "FLV"
    if head.startswith(_ASF):
        return "ASF"
    if head[:4] == b"OggS":
        return "OGG"
    return _image_format(head)


#: every format :func:`sniff_format` names, and whether it is a still image or a video
FORMAT_KIND: dict[str, Kind] = {
    "PNG": "image", "JPEG": "image", "GIF": "image", "TIFF": "image", "WEBP": "image", "BMP": "image",
    "HEIF": "image", "AVIF": "image", "JPEG XL": "image", "JPEG 2000": "image", "PSD": "image", "QOI": "image",
    "ICO": "image", "DDS": "image", "OpenEXR": "image", "XCF": "image", "JPEG XR": "image", "PNM": "image",
    "SVG": "image",
    "AVI": "video", "MATROSKA": "video", "ISOBMFF": "video", "MPEG-TS": "video", "MPEG-PS": "video",
    "FLV": "video", "ASF": "video", "OGG": "video",
}
#: the formats kyodaku decodes: the images :func:`~kyodaku.media.images.load_image`
#: lets Pillow open, and the containers PyAV demuxes
DECODED: frozenset[str] = frozenset({"PNG", "JPEG", "GIF", "TIFF", "WEBP", "BMP", "AVI", "MATROSKA", "ISOBMFF",
                                     "MPEG-TS", "MPEG-PS", "FLV", "ASF", "OGG"})
#: a file suffix per video container, for bytes written to a temporary file to decode
VIDEO_SUFFIX: dict[str, str] = {"AVI": ".avi", "MATROSKA": ".mkv", "ISOBMFF": ".mp4", "MPEG-TS": ".ts",
                                "MPEG-PS": ".mpg", "FLV": ".flv", "ASF": ".wmv", "OGG": ".ogv"}
#: a file suffix per decoded format (a stored or temporary copy is named for its bytes)
FORMAT_SUFFIX: dict[str, str] = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "TIFF": ".tif", "WEBP": ".webp",
                                 "BMP": ".bmp", **VIDEO_SUFFIX}


def unsupported_reason(fmt: str) -> str | None:
    """The error reason for a known format kyodaku does not decode, else None."""
    if fmt in DECODED:
        return None
    return f"unsupported {FORMAT_KIND.get(fmt, 'media')} format {fmt}: kyodaku cannot decode it"


#: the reason given for bytes that are no known image or video format
NOT_MEDIA = "not an image or video: its bytes match no image or video format"


def sniff_bytes(head: bytes) -> Kind | None:
    """"image", "video" or None from the first bytes of a file, for the formats kyodaku
    decodes (:data:`DECODED`).  HEIF/AVIF stills and the other known-but-undecoded
    formats give None here; :func:`sniff_format` names them.
    """
    fmt = sniff_format(head)
    return None if fmt is None or fmt not in DECODED else FORMAT_KIND.get(fmt)


def read_head(path: str | os.PathLike[str], n: int = SNIFF_BYTES) -> bytes:
    """The first ``n`` bytes of a regular file.  Opened non-blocking (a FIFO named x.png
    must not hang the scan); raises OSError (``EISDIR``-like ``ENODEV`` for a FIFO or
    device: ``errno.ENODEV``), ValueError for an invalid path."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.ENODEV, "not a regular file (a device, pipe or socket)")
        return os.read(fd, n)
    finally:
        os.close(fd)


def _read_head(source: str | os.PathLike[str] | bytes, n: int = SNIFF_BYTES) -> bytes | None:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[:n])
    try:
        return read_head(source, n)
    except (OSError, ValueError, TypeError):
        return None


def sniff_kind(source: str | os.PathLike[str] | bytes) -> Kind | None:
    """What a file really is, judged from its magic bytes: "image", "video" or None.

    ``source`` is a path or the file's bytes.  A path that cannot be read, is not a
    regular file, or holds anything else gives None; this function never raises.
    A text file named ``x.png`` sniffs as None; a PNG named ``x.mp4`` as "image".
    Formats kyodaku does not decode (HEIF, JPEG XL...) give None (see :func:`sniff_format`).
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
