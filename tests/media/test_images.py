"""load_image / image_size on good, awkward and hostile files."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from kyodaku.media.images import image_size, load_image
from kyodaku.media.sniff import declared_dims, sniff_bytes, sniff_format, sniff_kind
from kyodaku.media.types import LoadedImage, MediaError
from tests.media.hostile import EXPECT, make_all


def _permissions_enforced() -> bool:
    """False when this process reads mode-000 files anyway (root, CAP_DAC_OVERRIDE)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "probe")
        with open(p, "wb") as f:
            f.write(b"x")
        os.chmod(p, 0)
        try:
            with open(p, "rb"):
                return False
        except PermissionError:
            return True
        finally:
            os.chmod(p, 0o600)


PERMS_ENFORCED = _permissions_enforced()
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return make_all(tmp_path_factory.mktemp("hostile"))


# --------------------------------------------------------------------------- hostile -> MediaError

ERROR_CASES = sorted(k for k, (what, _) in EXPECT.items() if what == "error")
OK_CASES = sorted(k for k, (what, _) in EXPECT.items() if what == "ok")


@pytest.mark.parametrize("name", ERROR_CASES)
def test_hostile_file_gives_media_error(files, name):
    if name not in files:
        pytest.skip(f"{name} cannot be made on this platform")
    if name == "unreadable" and not PERMS_ENFORCED:
        pytest.skip("this process (root) reads mode-000 files")
    fragment = EXPECT[name][1]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning (or any other) may escape
        with pytest.raises(MediaError) as info:
            load_image(files[name])
    assert time.perf_counter() - t0 < 2.0
    msg = str(info.value)
    assert fragment in msg.lower(), msg
    assert len(msg) < 300 and "\n" not in msg and "<" not in msg  # short, human, no object reprs


@pytest.mark.parametrize("name", OK_CASES)
def test_legal_file_loads(files, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        im = load_image(files[name])
    assert isinstance(im, LoadedImage)
    assert im.rgb.dtype == np.uint8 and im.rgb.ndim == 3 and im.rgb.shape[2] == 3
    assert im.rgb.flags["C_CONTIGUOUS"]
    assert max(im.width, im.height) <= 1024
    if im.alpha is not None:
        assert im.alpha.dtype == np.uint8 and im.alpha.shape == im.rgb.shape[:2]
        assert im.alpha.min() < 255
    assert im.source == str(files[name])
    assert im.gray.shape == im.rgb.shape[:2]


def test_bytes_source_same_as_path(files):
    for name in ("palette_transparent_png", "exif_orientation_jpg", "huge_legal_jpg"):
        a = load_image(files[name])
        b = load_image(files[name].read_bytes())
        assert np.array_equal(a.rgb, b.rgb)
        assert (a.alpha is None) == (b.alpha is None)
        assert b.source == "<bytes>"
    with pytest.raises(MediaError, match=r"empty file \(0 bytes\)"):
        load_image(b"")
    with pytest.raises(MediaError, match="not a recognised image"):
        load_image(b"hello world, not an image")


def test_missing_file():
    with pytest.raises(MediaError, match="not found"):
        load_image("/nonexistent/dir/x.png")


def test_max_bytes(files):
    p = files["bmp"]
    with pytest.raises(MediaError, match="file too large"):
        load_image(p, max_bytes=100)
    with pytest.raises(MediaError, match="file too large"):
        load_image(p.read_bytes(), max_bytes=100)


def test_max_pixels_is_the_callers_limit(files):
    p = files["bmp"]  # 50x40 = 2000 px
    with pytest.raises(MediaError, match="50x40"):
        load_image(p, max_pixels=1999)
    assert load_image(p, max_pixels=2000).width == 50
    # and the TIFF path (size from Pillow, not from our own header reader)
    with pytest.raises(MediaError, match="50x40"):
        load_image(files["tiff"], max_pixels=1999)


def test_pillow_global_limit_untouched(files):
    before = Image.MAX_IMAGE_PIXELS
    for name in ("bomb_png", "mid_bomb_png", "tiff_bomb_tif", "tiff_mid_bomb_tif", "huge_legal_jpg"):
        try:
            load_image(files[name])
        except MediaError:
            pass
    assert Image.MAX_IMAGE_PIXELS == before
    import kyodaku.media.images  # noqa: F401  (import itself changes nothing either)

    assert Image.MAX_IMAGE_PIXELS == before


# --------------------------------------------------------------------------- bombs: time and memory


def test_bomb_is_fast_and_small_in_process(files):
    for name in ("bomb_png", "mid_bomb_png", "jpeg_bomb_jpg", "tiff_bomb_tif", "tiff_mid_bomb_tif", "ztxt_bomb_png"):
        tracemalloc.start()
        t0 = time.perf_counter()
        with pytest.raises(MediaError):
            load_image(files[name])
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert elapsed < 2.0, (name, elapsed)
        assert peak < 20 * 2**20, (name, peak)  # numpy and Python allocations


_RSS_SCRIPT = r"""
import json, resource, sys, time
from kyodaku.media.images import load_image
from kyodaku.media.types import MediaError
load_image(sys.argv[2])                      # warm up imports and the codec
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    load_image(sys.argv[1], **json.loads(sys.argv[3]))
    outcome = "ok"
except MediaError as e:
    outcome = "error: " + str(e)
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "seconds": elapsed, "rss_delta_kb": peak - base}))
"""


def _rss_run(path: Path, small: Path, **kw) -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(path), str(small), json.dumps(kw)],
        capture_output=True, text=True, timeout=60, env=env, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux behaviour")
def test_bomb_peak_rss_in_subprocess(files):
    """Peak RSS (C allocations by Pillow included) barely moves when loading the bombs."""
    small = files["bmp"]
    # each bomb's decoded size in MB, were it decoded
    for name, _decoded_mb in (("bomb_png", 400), ("mid_bomb_png", 81), ("tiff_bomb_tif", 900), ("jpeg_bomb_jpg", 3600)):
        r = _rss_run(files[name], small)
        assert r["outcome"].startswith("error: image too large"), r
        assert r["seconds"] < 2.0, r
        assert r["rss_delta_kb"] < 16 * 1024, (name, r)  # vs _decoded_mb MB for the decoded image
    # and even when the caller lifts kyodaku's limit, Pillow's own bomb check still holds
    r = _rss_run(files["bomb_png"], small, max_pixels=10**12)
    assert r["outcome"].startswith("error: image too large") and r["rss_delta_kb"] < 16 * 1024, r


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux behaviour")
def test_huge_legal_jpeg_uses_draft_mode(files):
    """24 MP JPEG: decoded at reduced size, so far less than the 72 MB full-size RGB."""
    r = _rss_run(files["huge_legal_jpg"], files["bmp"])
    assert r["outcome"] == "ok", r
    assert r["seconds"] < 1.0, r
    assert r["rss_delta_kb"] < 40 * 1024, r


# --------------------------------------------------------------------------- legal files, exact checks


def test_huge_legal_jpeg_downscaled(files):
    t0 = time.perf_counter()
    im = load_image(files["huge_legal_jpg"])
    assert time.perf_counter() - t0 < 1.0
    assert (im.width, im.height) == (1024, 683)
    assert im.alpha is None
    # draft-mode decoding must look like a full decode + area downscale
    full = Image.open(files["huge_legal_jpg"])
    full.load()
    ref = np.asarray(full.resize((1024, 683), Image.Resampling.BOX))
    assert np.abs(ref.astype(int) - im.rgb.astype(int)).mean() < 2.0
    # a smaller max_side, and images already small are not enlarged
    assert max(load_image(files["huge_legal_jpg"], max_side=256).rgb.shape[:2]) == 256
    assert load_image(files["bmp"], max_side=4096).width == 50


def test_exif_orientation_applied(files):
    im = load_image(files["exif_orientation_jpg"])
    assert (im.width, im.height) == (40, 80)  # stored 80x40, rotated 90 degrees clockwise
    top, bottom = im.rgb[:30].reshape(-1, 3).mean(0), im.rgb[50:].reshape(-1, 3).mean(0)
    assert top[0] > 200 and top[2] < 50  # red on top
    assert bottom[2] > 200 and bottom[0] < 50  # blue at the bottom
    assert image_size(files["exif_orientation_jpg"]) == (80, 40)  # header size, before orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillow(tmp_path, orientation):
    rng = np.random.default_rng(orientation)
    a = rng.integers(0, 255, (30, 50, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = tmp_path / "o.png"
    Image.fromarray(a).save(p, "PNG", exif=exif)
    expect = np.asarray(ImageOps.exif_transpose(Image.open(p)).convert("RGB"))
    got = load_image(p).rgb
    assert got.shape == expect.shape
    assert np.array_equal(got, expect)
    # orientation also applies after a downscale
    small = load_image(p, max_side=25)
    assert max(small.rgb.shape[:2]) == 25
    assert (small.width > small.height) == (expect.shape[1] > expect.shape[0])


def test_png16_converted(files):
    im = load_image(files["png16_gray"])
    row = im.rgb[0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255
    assert np.all(np.diff(row) >= 0)  # a ramp stays a ramp (no clipping to 255)
    assert 110 < row[len(row) // 2] < 145
    assert np.array_equal(im.rgb[..., 0], im.rgb[..., 1])
    rgb = load_image(files["png16_rgb"])
    assert tuple(rgb.rgb[0, 0]) == (255, 128, 0)


def test_cmyk_converted(files):
    im = load_image(files["cmyk_jpg"])
    r, g, b = im.rgb.reshape(-1, 3).mean(0)
    assert r > 240 and g < 20 and b < 20


def test_palette_transparency_kept(files):
    im = load_image(files["palette_transparent_png"])
    assert im.alpha is not None
    assert im.alpha[:10].max() == 0 and im.alpha[10:].min() == 255
    assert np.all(im.rgb[:10] == 255)  # transparent part flattened on white
    assert np.all(im.rgb[10:] == (0, 0, 255))


def test_gray_alpha_and_webp_and_gif(files):
    la = load_image(files["la_png"])
    assert la.alpha is not None and np.all(la.rgb[:, :10] == 255) and np.all(la.rgb[:, 10:] == 0)
    wp = load_image(files["webp"])
    assert wp.alpha is not None and np.all(wp.rgb[:, 20:] == 255) and tuple(wp.rgb[0, 0]) == (0, 200, 0)
    gif = load_image(files["gif"])  # first frame only: red left, transparent right
    assert (gif.width, gif.height) == (40, 30)
    assert tuple(gif.rgb[0, 0]) == (255, 0, 0) and np.all(gif.rgb[:, 20:] == 255)
    assert gif.alpha is not None and gif.alpha[:, 20:].max() == 0


def test_opaque_alpha_dropped(files):
    im = load_image(files["opaque_rgba_png"])
    assert im.alpha is None
    assert tuple(im.rgb[0, 0]) == (200, 0, 0)


def test_alpha_downscaled_with_image(tmp_path):
    a = np.zeros((2000, 3000, 4), np.uint8)
    a[..., 0] = 255
    a[:, 1500:, 3] = 255  # left half transparent red, right half opaque red
    p = tmp_path / "big_alpha.png"
    Image.fromarray(a, "RGBA").save(p)
    im = load_image(p)
    assert (im.width, im.height) == (1024, 683)
    assert im.alpha is not None and im.alpha.shape == (683, 1024)
    assert np.all(im.rgb[:, :500] == 255)  # transparent red flattened on white, not red
    assert np.all(im.rgb[:, 600:] == (255, 0, 0))


def test_image_size(files):
    assert image_size(files["huge_legal_jpg"]) == (6000, 4000)
    assert image_size(files["webp"]) == (40, 30)
    assert image_size(files["gif"]) == (40, 30)
    assert image_size(files["tiff"]) == (50, 40)
    assert image_size(files["bomb_png"]) == (20_000, 20_000)  # reports, does not refuse
    assert image_size(files["bomb_png"].read_bytes()) == (20_000, 20_000)
    with pytest.raises(MediaError, match="empty"):
        image_size(files["empty_png"])
    with pytest.raises(MediaError, match="not a recognised image"):
        image_size(files["text_as_png"])


def test_evalset_images_load():
    folder = Path("/work/evalsets/small/queries/images")
    if not folder.is_dir():
        pytest.skip("no evaluation set here")
    for p in sorted(folder.iterdir())[:40]:
        im = load_image(p)
        ref = Image.open(p)
        assert (im.width, im.height) == ref.size or max(im.width, im.height) == 1024


# --------------------------------------------------------------------------- fuzz: never anything but MediaError


def _valid_samples() -> dict[str, bytes]:
    a = np.asarray(Image.fromarray(np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)))
    out = {}
    for fmt, kw in (("PNG", {}), ("JPEG", {"quality": 80}), ("GIF", {}), ("WEBP", {"quality": 80}), ("BMP", {}), ("TIFF", {})):
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, fmt, **kw)
        out[fmt] = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=80, progressive=True)
    out["PJPEG"] = buf.getvalue()
    return out


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "PJPEG", "GIF", "WEBP", "BMP", "TIFF"])
def test_fuzzed_bytes_never_crash(fmt):
    data = _valid_samples()[fmt]
    rnd = random.Random(fmt)
    cases = [data[:n] for n in range(1, len(data), max(1, len(data) // 60))]  # every ~60th prefix
    for _ in range(150):
        b = bytearray(data)
        for _ in range(rnd.randint(1, 8)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        cases.append(bytes(b))
    for b in cases:
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # Pillow's "Corrupt EXIF data" etc. stay inside
                im = load_image(b)
        except MediaError as e:
            assert str(e)
        else:
            assert im.rgb.dtype == np.uint8 and im.rgb.shape[2] == 3
        assert time.perf_counter() - t0 < 2.0


# --------------------------------------------------------------------------- sniffing


def test_sniff(files):
    assert sniff_kind(files["huge_legal_jpg"]) == "image"
    assert sniff_kind(files["webp"]) == "image"
    assert sniff_kind(files["gif"]) == "image"
    assert sniff_kind(files["bmp"]) == "image"
    assert sniff_kind(files["tiff"]) == "image"
    assert sniff_kind(files["palette_transparent_png"]) == "image"
    assert sniff_kind(files["text_as_png"]) is None
    assert sniff_kind(files["video_as_jpg"]) == "video"
    assert sniff_kind(files["empty_png"]) is None
    assert sniff_kind(files["dir_named_png"]) is None
    assert sniff_kind(files["broken_symlink"]) is None
    if "fifo_png" in files:
        assert sniff_kind(files["fifo_png"]) is None  # and it did not block
    assert sniff_bytes(b"\x1a\x45\xdf\xa3" + b"\x00" * 28) == "video"  # mkv / webm
    assert sniff_bytes(b"RIFF\x00\x00\x00\x00AVI LIST") == "video"
    assert sniff_bytes(b"\x00\x00\x00\x18ftypqt  \x00\x00\x02\x00") == "video"  # mov
    assert sniff_bytes(b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat") == "video"  # old QuickTime
    assert sniff_bytes(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00") is None  # AVIF still: unsupported
    assert sniff_format(b"\x00\x00\x00\x1cftypheic") == "HEIF"
    assert sniff_bytes(b"BM" + b"\x00" * 30) is None  # "BM" alone is not a bitmap


def test_declared_dims(files):
    for name, dims in (
        ("huge_legal_jpg", (6000, 4000)), ("webp", (40, 30)), ("gif", (40, 30)), ("bmp", (50, 40)),
        ("bomb_png", (20_000, 20_000)), ("jpeg_bomb_jpg", (60_000, 60_000)),
    ):
        with open(files[name], "rb") as f:
            assert declared_dims(f) == dims, name
    lossy = io.BytesIO()
    Image.new("RGB", (123, 45)).save(lossy, "WEBP", quality=50)
    assert declared_dims(lossy) == (123, 45)
    with open(files["text_as_png"], "rb") as f:
        assert declared_dims(f) is None


def test_make_all_covers_expect(files):
    assert set(EXPECT) - set(files) <= {"fifo_png"}
    assert files["symlink_loop"].is_dir()
