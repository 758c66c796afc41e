"""Makers of hostile, broken and awkward media files for bad-input tests.

Every ``make_*`` function takes a folder, writes one file (or link / folder) in it and
returns its Path.  ``make_all(folder)`` writes them all and returns ``{name: Path}``;
``EXPECT`` says what ``load_image`` must do with each (an error whose message contains
a given fragment, or a successful load).  Reuse them from any test::

    from tests.media.hostile import make_all, EXPECT
    files = make_all(tmp_path)

Nothing here allocates the huge images it describes: the bombs are written as PNG
chunks with zlib, streaming, so the 400-megapixel one costs a few MB of memory and
well under a second to build.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

# --------------------------------------------------------------------------- raw PNG writing


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with a valid CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_ihdr(width: int, height: int, bit_depth: int = 8, colour_type: int = 0) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_uniform_png(path: Path, width: int, height: int, value: int = 0, *, rows_per_step: int = 256) -> Path:
    """A real, valid 8-bit grey PNG of ``width`` x ``height`` pixels all equal to ``value``.

    Streams the zlib data row block by row block, so memory is O(width * rows_per_step)
    whatever the declared size: this is how a decompression bomb is made.
    """
    row = b"\x00" + bytes([value]) * width  # filter byte 0 (None) + pixels
    block = row * min(rows_per_step, height)
    comp = zlib.compressobj(9)
    with open(path, "wb") as f:
        f.write(PNG_SIGNATURE)
        f.write(png_ihdr(width, height, 8, 0))
        left = height
        while left > 0:
            n = min(rows_per_step, left)
            data = comp.compress(block if n == rows_per_step else row * n)
            if data:
                f.write(png_chunk(b"IDAT", data))
            left -= n
        f.write(png_chunk(b"IDAT", comp.flush()))
        f.write(png_chunk(b"IEND", b""))
    return path


def _png_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    return buf.getvalue()


def _jpeg_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def _photo_like(w: int, h: int, seed: int = 0) -> np.ndarray:
    """A smooth colourful picture with some texture (compresses like a photo, not like noise)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(seed)
    r = 128 + 100 * np.sin(x / max(w, 1) * 6.0 + 1.0)
    g = 128 + 100 * np.cos(y / max(h, 1) * 5.0)
    b = 128 + 100 * np.sin((x + y) / max(w + h, 1) * 9.0)
    img = np.stack([r, g, b], axis=2) + rng.normal(0, 6, (h, w, 1)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- empty / truncated / lying


def make_empty(folder: Path, name: str) -> Path:
    p = Path(folder) / name
    p.write_bytes(b"")
    return p


def make_truncated_png(folder: Path) -> Path:
    data = _png_bytes(Image.fromarray(_photo_like(256, 192, 1)))
    p = Path(folder) / "truncated.png"
    p.write_bytes(data[: len(data) // 2])
    return p


def make_truncated_jpg(folder: Path) -> Path:
    data = _jpeg_bytes(Image.fromarray(_photo_like(256, 192, 2)), quality=90)
    p = Path(folder) / "truncated.jpg"
    p.write_bytes(data[: len(data) // 2])
    return p


def make_corrupt_crc_png(folder: Path) -> Path:
    """A PNG whose first IDAT chunk has one data byte flipped (so its CRC is wrong)."""
    data = bytearray(_png_bytes(Image.fromarray(_photo_like(64, 48, 3))))
    i = data.index(b"IDAT") + 4 + 10
    data[i] ^= 0xFF
    p = Path(folder) / "bad_crc.png"
    p.write_bytes(bytes(data))
    return p


def make_lying_ihdr_png(folder: Path, width: int = 100_000, height: int = 100_000) -> Path:
    """Valid signature and IHDR (with valid CRC) declaring 100000x100000, then a few bytes of data."""
    p = Path(folder) / "lying_ihdr.png"
    idat = zlib.compress(b"\x00" + b"\x00" * 16)
    p.write_bytes(
        PNG_SIGNATURE + png_ihdr(width, height, 8, 2) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )
    return p


def make_zero_width_png(folder: Path) -> Path:
    p = Path(folder) / "zero_width.png"
    p.write_bytes(PNG_SIGNATURE + png_ihdr(0, 10) + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b""))
    return p


def make_bomb_png(folder: Path, side: int = 20_000) -> Path:
    """A genuine 20000x20000 single-colour PNG (400 megapixels) of a few hundred KB."""
    return write_uniform_png(Path(folder) / "bomb.png", side, side, 0)


def make_mid_bomb_png(folder: Path, side: int = 9_000) -> Path:
    """81 megapixels: over kyodaku's 64 MP default yet under Pillow's own error threshold
    (so only kyodaku's check, not Pillow's, stops it; Pillow would merely warn)."""
    return write_uniform_png(Path(folder) / "mid_bomb.png", side, side, 255)


def write_tiff_header_only(path: Path, width: int, height: int) -> Path:
    """A minimal uncompressed 8-bit grey TIFF declaring ``width`` x ``height`` with 16 bytes of data.

    TIFF sizes are read by Pillow (not by kyodaku's own header reader), so these exercise
    the Pillow side: over 2 x Image.MAX_IMAGE_PIXELS Pillow raises DecompressionBombError
    inside ``Image.open``; between 1x and 2x it only warns (DecompressionBombWarning).
    """
    entries = [  # (tag, type, value); type 3 = SHORT, 4 = LONG
        (256, 4, width),
        (257, 4, height),
        (258, 3, 8),
        (259, 3, 1),
        (262, 3, 1),
        (273, 4, 0),  # strip offset, patched below
        (277, 3, 1),
        (278, 4, height),
        (279, 4, min(width * height, 0xFFFFFFFF)),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    data_offset = 8 + ifd_size
    out = bytearray(b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries)))
    for tag, typ, value in entries:
        if tag == 273:
            value = data_offset
        out += struct.pack("<HHII", tag, typ, 1, value)
    out += struct.pack("<I", 0) + b"\x00" * 16
    path.write_bytes(bytes(out))
    return path


def make_tiff_bomb(folder: Path) -> Path:
    """A TIFF header declaring 30000x30000 (900 megapixels): Pillow's own bomb error path."""
    return write_tiff_header_only(Path(folder) / "bomb.tif", 30_000, 30_000)


def make_tiff_mid_bomb(folder: Path) -> Path:
    """A TIFF header declaring 10000x10000 (100 MP): Pillow only warns, kyodaku must refuse."""
    return write_tiff_header_only(Path(folder) / "mid_bomb.tif", 10_000, 10_000)


def make_jpeg_bomb(folder: Path) -> Path:
    """A real small JPEG whose SOF header is patched to declare 60000x60000 (3.6 gigapixels)."""
    data = bytearray(_jpeg_bytes(Image.fromarray(_photo_like(64, 48, 7)), quality=80))
    i = data.index(b"\xff\xc0")  # baseline SOF0: FF C0, length(2), precision(1), height(2), width(2)
    data[i + 5 : i + 9] = struct.pack(">HH", 60_000, 60_000)
    p = Path(folder) / "bomb.jpg"
    p.write_bytes(bytes(data))
    return p


def make_ztxt_bomb_png(folder: Path, megabytes: int = 64) -> Path:
    """A valid 16x16 PNG carrying a zTXt chunk that inflates to ``megabytes`` MB of zeros.

    Pillow caps text chunks (PngImagePlugin.MAX_TEXT_CHUNK); the load must stay small
    and fast whether it succeeds (text ignored) or fails.
    """
    comp = zlib.compressobj(9)
    block = bytes(1 << 20)
    payload = b"".join(comp.compress(block) for _ in range(megabytes)) + comp.flush()
    base = _png_bytes(Image.fromarray(_photo_like(16, 16, 8)))
    iend = base.rindex(b"IEND") - 4
    chunk = png_chunk(b"zTXt", b"Comment\x00\x00" + payload)
    p = Path(folder) / "ztxt_bomb.png"
    p.write_bytes(base[:iend] + chunk + base[iend:])
    return p


def make_text_as_png(folder: Path) -> Path:
    p = Path(folder) / "text.png"
    p.write_text("This is not an image, it is a text file with a .png name.\n" * 5)
    return p


def make_video_as_jpg(folder: Path) -> Path:
    """The first bytes of an MP4 (ftyp box) under a .jpg name."""
    p = Path(folder) / "video.jpg"
    p.write_bytes(struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2" + b"\x00" * 64)
    return p


def make_fifo_png(folder: Path) -> Path | None:
    """A named pipe called x.png: opening it for reading would block forever."""
    if not hasattr(os, "mkfifo"):
        return None
    p = Path(folder) / "fifo.png"
    os.mkfifo(p)
    return p


def make_dir_named_png(folder: Path) -> Path:
    p = Path(folder) / "folder.png"
    p.mkdir()
    return p


# --------------------------------------------------------------------------- legal but awkward


def make_gif(folder: Path) -> Path:
    """An animated 2-frame palette GIF with a transparent index; frame 1 is red/transparent."""
    f1 = Image.new("P", (40, 30), 0)
    f1.putpalette([255, 0, 0, 0, 0, 255, 0, 255, 0] + [0] * (256 * 3 - 9))
    f1.paste(1, (20, 0, 40, 30))  # right half index 1 = transparent
    f2 = f1.copy()
    f2.paste(2, (0, 0, 40, 30))
    p = Path(folder) / "anim.gif"
    f1.save(p, save_all=True, append_images=[f2], transparency=1, duration=100, loop=0, disposal=2)
    return p


def make_webp(folder: Path) -> Path:
    """A lossless RGBA WebP: left half opaque green, right half fully transparent."""
    a = np.zeros((30, 40, 4), np.uint8)
    a[:, :20] = (0, 200, 0, 255)
    a[:, 20:] = (0, 0, 0, 0)
    p = Path(folder) / "alpha.webp"
    Image.fromarray(a, "RGBA").save(p, "WEBP", lossless=True)
    return p


def make_bmp(folder: Path) -> Path:
    p = Path(folder) / "plain.bmp"
    Image.fromarray(_photo_like(50, 40, 4)).save(p, "BMP")
    return p


def make_tiff(folder: Path) -> Path:
    p = Path(folder) / "plain.tif"
    Image.fromarray(_photo_like(50, 40, 5)).save(p, "TIFF")
    return p


def make_exif_orientation_jpg(folder: Path, orientation: int = 6) -> Path:
    """Stored 80x40: left half red, right half blue; EXIF says rotate 90 degrees clockwise.

    Displayed (and loaded) it is 40x80 with red on top and blue at the bottom.
    """
    a = np.zeros((40, 80, 3), np.uint8)
    a[:, :40] = (255, 0, 0)
    a[:, 40:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = Path(folder) / f"exif_orient{orientation}.jpg"
    Image.fromarray(a).save(p, "JPEG", quality=95, exif=exif)
    return p


def make_png16_gray(folder: Path) -> Path:
    """16-bit greyscale PNG, a horizontal ramp 0..65535 (Pillow opens it as mode I;16)."""
    ramp = np.linspace(0, 65535, 64).round().astype(np.uint16)
    a = np.tile(ramp, (16, 1))
    p = Path(folder) / "gray16.png"
    Image.fromarray(a).save(p, "PNG")
    return p


def make_png16_rgb(folder: Path) -> Path:
    """16-bit-per-channel RGB PNG (written with OpenCV; Pillow cannot write it): pure orange."""
    import cv2

    a = np.zeros((16, 24, 3), np.uint16)
    a[:] = (0, 32768, 65535)  # BGR for OpenCV -> R=65535 G=32768 B=0
    p = Path(folder) / "rgb16.png"
    if not cv2.imwrite(str(p), a):
        raise RuntimeError("cv2 could not write a 16-bit PNG")
    return p


def make_cmyk_jpg(folder: Path) -> Path:
    """A CMYK JPEG (Adobe) of pure red: C=0 M=255 Y=255 K=0."""
    p = Path(folder) / "cmyk.jpg"
    Image.new("CMYK", (32, 24), (0, 255, 255, 0)).save(p, "JPEG", quality=95)
    return p


def make_palette_transparent_png(folder: Path) -> Path:
    """Palette PNG with tRNS: top half index 0 (fully transparent), bottom half index 1 (blue)."""
    im = Image.new("P", (20, 20), 0)
    im.putpalette([0, 0, 0, 0, 0, 255] + [0] * (254 * 3))
    im.paste(1, (0, 10, 20, 20))
    p = Path(folder) / "palette_trns.png"
    im.save(p, "PNG", transparency=0)
    return p


def make_la_png(folder: Path) -> Path:
    """Grey + alpha PNG: black, alpha 0 on the left half and 255 on the right."""
    a = np.zeros((10, 20, 2), np.uint8)
    a[:, 10:, 1] = 255
    p = Path(folder) / "gray_alpha.png"
    Image.fromarray(a, "LA").save(p, "PNG")
    return p


def make_opaque_rgba_png(folder: Path) -> Path:
    """RGBA PNG whose alpha is 255 everywhere: it must load with alpha=None."""
    a = np.zeros((10, 12, 4), np.uint8)
    a[..., 0] = 200
    a[..., 3] = 255
    p = Path(folder) / "opaque_rgba.png"
    Image.fromarray(a, "RGBA").save(p, "PNG")
    return p


def make_huge_legal_jpg(folder: Path, width: int = 6000, height: int = 4000) -> Path:
    """A 24-megapixel photo-like JPEG: legal, must load fast and come back downscaled."""
    p = Path(folder) / "huge_legal.jpg"
    small = Image.fromarray(_photo_like(width // 8, height // 8, 6))
    small.resize((width, height), Image.Resampling.BILINEAR).save(p, "JPEG", quality=85)
    return p


# --------------------------------------------------------------------------- links and permissions


def make_symlink_loop(folder: Path) -> Path:
    """``loop/`` holding ``inner.png`` and ``a -> .`` (a link to its own folder). Returns ``loop``."""
    d = Path(folder) / "loop"
    d.mkdir()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(d / "inner.png")
    os.symlink(".", d / "a", target_is_directory=True)
    return d


def make_self_symlink(folder: Path) -> Path:
    """``self.png -> self.png``: resolving it fails with ELOOP."""
    p = Path(folder) / "self.png"
    os.symlink("self.png", p)
    return p


def make_broken_symlink(folder: Path) -> Path:
    p = Path(folder) / "broken.png"
    os.symlink("does-not-exist.png", p)
    return p


def make_unreadable(folder: Path) -> Path:
    """A valid PNG with mode 000.  Root (CAP_DAC_OVERRIDE) reads it anyway: probe before expecting an error."""
    p = Path(folder) / "unreadable.png"
    Image.new("RGB", (8, 8)).save(p)
    os.chmod(p, 0)
    return p


# --------------------------------------------------------------------------- all at once

#: what ``load_image`` must do with each file of ``make_all``: ("error", fragment of the
#: message, lower case) or ("ok", None).  ``unreadable`` is an error only when not root.
EXPECT: dict[str, tuple[str, str | None]] = {
    "empty_png": ("error", "empty file (0 bytes)"),
    "empty_jpg": ("error", "empty file (0 bytes)"),
    "empty_mp4": ("error", "empty file (0 bytes)"),
    "truncated_png": ("error", "truncated or corrupt"),
    "truncated_jpg": ("error", "truncated or corrupt"),
    "bad_crc_png": ("error", "corrupt"),
    "lying_ihdr_png": ("error", "100000x100000"),
    "zero_width_png": ("error", "0x10"),
    "bomb_png": ("error", "20000x20000"),
    "mid_bomb_png": ("error", "9000x9000"),
    "tiff_bomb_tif": ("error", "900.0 megapixels"),
    "tiff_mid_bomb_tif": ("error", "10000x10000"),
    "jpeg_bomb_jpg": ("error", "60000x60000"),
    "ztxt_bomb_png": ("error", "too large"),
    "text_as_png": ("error", "not a recognised image"),
    "video_as_jpg": ("error", "video"),
    "fifo_png": ("error", "not a regular file"),
    "dir_named_png": ("error", "not a regular file"),
    "self_symlink": ("error", "symbolic links"),
    "broken_symlink": ("error", "not found"),
    "unreadable": ("error", "permission denied"),
    "gif": ("ok", None),
    "webp": ("ok", None),
    "bmp": ("ok", None),
    "tiff": ("ok", None),
    "exif_orientation_jpg": ("ok", None),
    "png16_gray": ("ok", None),
    "png16_rgb": ("ok", None),
    "cmyk_jpg": ("ok", None),
    "palette_transparent_png": ("ok", None),
    "la_png": ("ok", None),
    "opaque_rgba_png": ("ok", None),
    "huge_legal_jpg": ("ok", None),
}


def make_all(folder: str | os.PathLike[str], *, bombs: bool = True) -> dict[str, Path]:
    """Write every hostile/awkward case under ``folder`` (created if needed).

    Returns ``{name: path}`` with the names of :data:`EXPECT` plus ``symlink_loop`` (a
    folder, for walker tests).  Files live in ``folder/files``; the loop folder in
    ``folder/loop``.  ``bombs=False`` leaves out the two big PNG bombs (about 1 s).
    Cases the platform cannot make (FIFOs on Windows) are left out of the dict.
    """
    root = Path(folder)
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path | None] = {
        "empty_png": make_empty(files, "empty.png"),
        "empty_jpg": make_empty(files, "empty.jpg"),
        "empty_mp4": make_empty(files, "empty.mp4"),
        "truncated_png": make_truncated_png(files),
        "truncated_jpg": make_truncated_jpg(files),
        "bad_crc_png": make_corrupt_crc_png(files),
        "lying_ihdr_png": make_lying_ihdr_png(files),
        "zero_width_png": make_zero_width_png(files),
        "tiff_bomb_tif": make_tiff_bomb(files),
        "tiff_mid_bomb_tif": make_tiff_mid_bomb(files),
        "jpeg_bomb_jpg": make_jpeg_bomb(files),
        "ztxt_bomb_png": make_ztxt_bomb_png(files),
        "text_as_png": make_text_as_png(files),
        "video_as_jpg": make_video_as_jpg(files),
        "fifo_png": make_fifo_png(files),
        "dir_named_png": make_dir_named_png(files),
        "self_symlink": make_self_symlink(files),
        "broken_symlink": make_broken_symlink(files),
        "unreadable": make_unreadable(files),
        "gif": make_gif(files),
        "webp": make_webp(files),
        "bmp": make_bmp(files),
        "tiff": make_tiff(files),
        "exif_orientation_jpg": make_exif_orientation_jpg(files),
        "png16_gray": make_png16_gray(files),
        "png16_rgb": make_png16_rgb(files),
        "cmyk_jpg": make_cmyk_jpg(files),
        "palette_transparent_png": make_palette_transparent_png(files),
        "la_png": make_la_png(files),
        "opaque_rgba_png": make_opaque_rgba_png(files),
        "huge_legal_jpg": make_huge_legal_jpg(files),
        "symlink_loop": make_symlink_loop(root),
    }
    if bombs:
        out["bomb_png"] = make_bomb_png(files)
        out["mid_bomb_png"] = make_mid_bomb_png(files)
    return {k: v for k, v in out.items() if v is not None}
