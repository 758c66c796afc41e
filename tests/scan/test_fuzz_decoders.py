"""A bounded fuzz pass over the scanner's decoders (issue 18, "how it is measured").

For each format the sniffer decodes (PNG, JPEG, GIF, WebP, BMP, TIFF; MP4, WebM, MKV, AVI)
a small valid sample is made on the fly, then truncated, bit-flipped (header and body),
renamed (the other media kind's extension, no extension, ``.txt``) and glued into
polyglots (a PNG or JPEG with an MP4 appended, an MP4 with a PNG appended).  Every file
is scanned through the real path (:func:`scan_paths`), as a folder and as a WebDataset
shard, in a workspace with registered image *and* video references, and:

* every input file gives exactly one result line; in a folder, the only exception is
  the documented one (:mod:`kyodaku.media.walk`): a file whose bytes are no image or
  video *and* whose name promises none (a header-flipped ``renamed-png``) is skipped and
  counted in the summary; in the shard it is a sample, and gets its line;
* each line is ``error``, or was matched as what its bytes are (``media`` equals the
  kind the sniffer names for its first bytes);
* a ``cleared`` line's bytes decode (``load_image`` / at least one video frame): nothing
  is cleared unread;
* copies of the registered picture renamed ``.mp4``, ``.txt`` or with no extension are
  blocked.

Seeds are fixed; the whole test takes about 20-60 s on a busy 2-core machine.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kyodaku.media.images import load_image
from kyodaku.media.sniff import FORMAT_KIND, SNIFF_BYTES, kind_for_name, sniff_format
from kyodaku.media.types import MediaError
from kyodaku.registry.importers import register_work
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from kyodaku.scan.references import fingerprint_pending
from kyodaku.video.decode import sample_frames
from tests import art
from tests.video import clips

OPTS = ScanOptions("acme-video-ai", "training", date(2026, 6, 1), workers=1, file_timeout=60, cache=False)
IMAGE_FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP", "bmp": "BMP", "tif": "TIFF"}
VIDEO_CODECS = {"mp4": "libx264", "webm": "libvpx", "mkv": "libx264", "avi": "mpeg4"}


def _image(rgb: np.ndarray, ext: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, IMAGE_FORMATS[ext])
    return buf.getvalue()


def _video(path: Path, ext: str, frames: list[np.ndarray]) -> bytes:
    import av

    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        st = out.add_stream(VIDEO_CODECS[ext], rate=clips.FPS)
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        for f in frames:
            for p in st.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    data = path.read_bytes()
    path.unlink()
    return data


def _flip(data: bytes, rng: np.random.Generator, lo: int, hi: int, n: int = 12) -> bytes:
    out = bytearray(data)
    hi = min(hi, len(out))
    for pos in rng.integers(lo, max(lo + 1, hi), n):
        out[pos] ^= 1 << int(rng.integers(0, 8))
    return bytes(out)


def _variants(name: str, data: bytes, kind: str, seed: int) -> dict[str, bytes]:
    rng = np.random.default_rng(seed)
    ext = name.rsplit(".", 1)[1]
    other = "mp4" if kind == "image" else "png"
    out = {
        f"{name}": data,
        f"cut-half-{name}": data[: len(data) // 2],
        f"cut-64-{name}": data[:64],
        f"cut-8-{name}": data[:8],
        f"flip-head-{name}": _flip(data, rng, 0, 64),
        f"renamed-{ext}.{other}": data,
        f"renamed-{ext}": data,
        f"renamed-{ext}.txt": data,
        f"flip-head-renamed-{ext}": _flip(data, rng, 0, 64),
    }
    for i in range(3):
        out[f"flip-body{i}-{name}"] = _flip(data, rng, 64, len(data))
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """(folder of fuzzed files, the registered picture's bytes, the video reference)."""
    root = tmp_path_factory.mktemp("fuzz")
    files: dict[str, bytes] = {}
    small = art.artwork(901, size=(90, 120))
    for i, ext in enumerate(IMAGE_FORMATS):
        files.update(_variants(f"pic.{ext}", _image(small, ext), "image", 10 + i))
    frames = clips.episode([902], 1.0)
    videos = {}
    for i, ext in enumerate(VIDEO_CODECS):
        videos[ext] = _video(root / f"tmp.{ext}", ext, frames)
        files.update(_variants(f"clip.{ext}", videos[ext], "video", 30 + i))
    registered = _image(art.artwork(903), "png")
    files["poly-png-mp4.png"] = _image(small, "png") + videos["mp4"]
    files["poly-jpg-mp4.jpg"] = _image(small, "jpg") + videos["mp4"]
    files["poly-mp4-png.mp4"] = videos["mp4"] + _image(small, "png")
    files["poly-registered-mp4"] = registered + videos["mp4"]
    for name in ("copy.mp4", "copy.txt", "copy"):
        files[name] = registered
    folder = root / "files"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder, registered, root


@pytest.fixture
def references(workspace, corpus):
    folder, registered, root = corpus
    reg = workspace.registry
    reg.add_holder("kumo", "Kumo", "JP")
    (root / "ref.png").write_bytes(registered)
    register_work(reg, workspace, "kumo", "picture", [root / "ref.png"], work_id="w903")
    episode = clips.write(root / "episode.mp4", clips.episode([904, 905], 2.0))
    register_work(reg, workspace, "kumo", "episode", [episode], work_id="v904")
    summary = fingerprint_pending(workspace, progress=False, workers=0)
    assert summary.done == 2 and not summary.failed
    return workspace


def _decodes(data: bytes, kind: str, tmp: Path) -> bool:
    try:
        if kind == "image":
            load_image(data)
        else:
            tmp.write_bytes(data)
            next(iter(sample_frames(tmp, max_side=64)))
        return True
    except (MediaError, StopIteration):
        return False


def _check(lines: list[dict], files: dict[str, bytes], tmp: Path, name_of) -> None:
    by_name = {name_of(x["path"]): x for x in lines}
    assert len(lines) == len(by_name) and sorted(by_name) == sorted(files)
    for name, data in files.items():
        line = by_name[name]
        fmt = sniff_format(data[:SNIFF_BYTES])
        sniffed = FORMAT_KIND.get(fmt) if fmt else None
        assert line["verdict"] in ("error", "cleared", "blocked", "review"), line
        if line["verdict"] == "error":
            assert line["reason"], line
            continue
        assert line["media"] == sniffed, (name, line)
        if line["verdict"] == "cleared":
            assert _decodes(data, sniffed, tmp / f"check-{len(name)}.bin"), (name, "cleared but not decodable")
    for name in ("copy.mp4", "copy.txt", "copy", "poly-registered-mp4"):
        assert (by_name[name]["verdict"], by_name[name]["media"]) == ("blocked", "image"), by_name[name]
        assert by_name[name]["matches"][0]["work_id"] == "w903"


def test_fuzzed_files_scanned_as_a_folder_and_as_a_shard(references, corpus, tmp_path):
    folder, _, _ = corpus
    t0 = time.perf_counter()
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir(), key=lambda p: p.name)}
    out = io.StringIO()
    summary = scan_paths(references, [folder], OPTS, out=out)
    not_media = {n for n, d in files.items() if sniff_format(d[:SNIFF_BYTES]) is None and kind_for_name(n) is None}
    assert not_media and all(n.startswith("flip-head-renamed-") for n in not_media)
    assert summary.skipped["not_media"] == len(not_media)
    _check([json.loads(x) for x in out.getvalue().splitlines()],
           {n: d for n, d in files.items() if n not in not_media}, tmp_path, lambda p: Path(p).name)

    # the same bytes as one-member samples of a WebDataset shard (the member keeps the
    # file's extension: k0003.mp4 holding a PNG, k0004 with none)
    shard = tmp_path / "fuzz.tar"
    with tarfile.open(shard, "w") as tar:
        for i, (name, data) in enumerate(files.items()):
            suffix = name.rsplit(".", 1)[1] if "." in name else ""
            info = tarfile.TarInfo(f"k{i:04d}" + (f".{suffix}" if suffix else ""))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out = io.StringIO()
    scan_paths(references, [shard], OPTS, out=out)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    keys = {f"k{i:04d}": name for i, name in enumerate(files)}
    _check(lines, files, tmp_path, lambda p: keys[p.rsplit("#", 1)[1]])
    assert all(x["verdict"] == "error" for x in lines if keys[x["path"].rsplit("#", 1)[1]] in not_media)
    assert time.perf_counter() - t0 < 300  # bounded: a stuck decoder would show here
