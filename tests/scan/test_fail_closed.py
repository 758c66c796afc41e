"""Nothing is cleared because of its name or because it was not read (issue 18, findings 1
and 2): a file's kind comes from its bytes, every video is decoded whatever the registry
holds, and every file in gives one line out."""

from __future__ import annotations

import io
import json
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from kyodaku.registry.base import RegistryError
from kyodaku.registry.importers import check_media_files, register_work
from kyodaku.scan.pipeline import ScanOptions, check_file, scan_paths
from kyodaku.scan.references import fingerprint_pending
from tests import art
from tests.video import clips

OPTS = ScanOptions("acme-video-ai", "generation", date(2026, 6, 1), workers=0)


def _lines(workspace, paths) -> dict[str, dict]:
    out = io.StringIO()
    summary = scan_paths(workspace, paths, OPTS, out=out)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert len(lines) == summary.total
    return {Path(x["path"]).name: x for x in lines}


@pytest.fixture
def pictured(workspace, tmp_path):
    """One registered picture (w401, no permit) and its file."""
    art.register_artwork(workspace, tmp_path, 401)
    return workspace, tmp_path / "ref-w401.png"


def _video_reference(workspace, tmp_path) -> Path:
    ref = clips.write(tmp_path / "episode.mp4", clips.episode([61, 62], 2.0))
    if workspace.registry.get_holder("kumo") is None:
        workspace.registry.add_holder("kumo", "Kumo", "JP")
    register_work(workspace.registry, workspace, "kumo", "episode", [ref], work_id="v61")
    fingerprint_pending(workspace, progress=False, workers=0)
    return ref


# ------------------------------------------------------------------ finding 1: renamed pictures
@pytest.mark.parametrize("name", ["a.mp4", "a.txt", "a", "a.webm", "a.json"])
def test_a_renamed_registered_picture_is_blocked_by_check(pictured, tmp_path, name):
    workspace, ref = pictured
    copy = tmp_path / "out" / name
    copy.parent.mkdir()
    shutil.copy(ref, copy)
    line = check_file(workspace, copy, OPTS)
    assert line["verdict"] == "blocked" and line["media"] == "image"
    assert line["matches"][0]["work_id"] == "w401"


def test_renamed_pictures_in_a_folder_each_get_a_line_and_are_blocked(pictured, tmp_path):
    workspace, ref = pictured
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("copy.mp4", "copy.txt", "copy", "copy.png", ".copy.png", ".cache/copy.bin"):
        (corpus / name).parent.mkdir(exist_ok=True)
        shutil.copy(ref, corpus / name)
    (corpus / "copy.json").write_text('{"caption": "a sidecar"}')  # not media: skipped, counted
    (corpus / "notes.txt").write_text("plain text")
    (corpus / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")  # hidden and not media: skipped, counted
    out = io.StringIO()
    summary = scan_paths(workspace, [corpus], OPTS, out=out)
    got = {Path(x["path"]).name: x for x in map(json.loads, out.getvalue().splitlines())}
    # hidden names and hidden folders are no hiding place
    assert sorted(got) == [".copy.png", "copy", "copy.bin", "copy.mp4", "copy.png", "copy.txt"]
    assert {n: (x["verdict"], x["media"]) for n, x in got.items()} == {
        n: ("blocked", "image") for n in got}
    assert summary.skipped["not_media"] == 3


def test_a_video_named_png_is_matched_as_a_video(workspace, tmp_path):
    ref = _video_reference(workspace, tmp_path)
    copy = tmp_path / "frames.png"
    shutil.copy(ref, copy)
    line = check_file(workspace, copy, OPTS)
    assert line["media"] == "video" and line["verdict"] == "blocked"
    assert line["matches"][0]["work_id"] == "v61"


def test_registering_a_reference_takes_its_kind_from_the_bytes(workspace, tmp_path):
    workspace.registry.add_holder("kumo", "Kumo", "JP")
    png = tmp_path / "picture.mp4"
    art.save(art.artwork(5), tmp_path / "p.png")
    shutil.copy(tmp_path / "p.png", png)
    assert check_media_files([png]) == ("image", [(png, "image")])
    work, _ = register_work(workspace.registry, workspace, "kumo", "renamed", [png], work_id="w5")
    assert work.kind == "image" and workspace.registry.list_media("w5")[0].kind == "image"
    (tmp_path / "text.png").write_text("not a picture")
    with pytest.raises(RegistryError, match="its bytes are no image or video"):
        check_media_files([tmp_path / "text.png"])
    (tmp_path / "photo.png").write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64)
    with pytest.raises(RegistryError, match="unsupported image format HEIF"):
        check_media_files([tmp_path / "photo.png"])


# ------------------------------------------------------------------ finding 2: unread videos
def _bad_videos(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "random.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    good = clips.write(folder / "tmp-good.mp4", clips.episode([71], 1.0)).read_bytes()
    (folder / "tmp-good.mp4").unlink()
    (folder / "header-only.mp4").write_bytes(good[:64])  # a valid ftyp box, nothing decodable
    (folder / "cut.mp4").write_bytes(good[: len(good) // 3])  # the moov atom is at the end: cut off
    noise = bytearray(good)
    noise[48:] = np.random.default_rng(1).integers(0, 256, len(good) - 48, dtype=np.uint8).tobytes()
    (folder / "noise-after-header.mkv").write_bytes(b"\x1a\x45\xdf\xa3" + bytes(noise[4:]))
    return ["cut.mp4", "empty.mp4", "header-only.mp4", "noise-after-header.mkv", "random.mp4"]


def test_undecodable_videos_are_errors_without_video_references(pictured, tmp_path):
    workspace, _ = pictured  # image references only: no video index at all
    names = _bad_videos(tmp_path / "bad")
    got = _lines(workspace, [tmp_path / "bad"])
    assert sorted(got) == names
    for name, line in got.items():
        assert line["verdict"] == "error" and line["reason"], (name, line)
    assert got["empty.mp4"]["reason"] == "empty file (0 bytes)"
    assert got["cut.mp4"]["media"] == "video"
    # and one at a time, as `kyodaku check` reads them
    for name in names:
        assert check_file(workspace, tmp_path / "bad" / name, OPTS)["verdict"] == "error", name


def test_undecodable_videos_are_errors_in_a_fresh_workspace(workspace, tmp_path):
    names = _bad_videos(tmp_path / "bad")
    got = _lines(workspace, [tmp_path / "bad"])
    assert sorted(got) == names and all(x["verdict"] == "error" for x in got.values())


def test_undecodable_videos_are_errors_with_video_references(workspace, tmp_path):
    _video_reference(workspace, tmp_path)
    names = _bad_videos(tmp_path / "bad")
    got = _lines(workspace, [tmp_path / "bad"])
    assert sorted(got) == names and all(x["verdict"] == "error" for x in got.values())


def test_a_decodable_video_without_video_references_is_read_and_cleared(pictured, tmp_path):
    workspace, _ = pictured
    clip = clips.write(tmp_path / "clip.mp4", clips.episode([81], 1.0))
    line = check_file(workspace, clip, OPTS)
    assert line["verdict"] == "cleared" and line["media"] == "video"


def test_error_lines_keep_their_place_in_the_input_order(pictured, tmp_path):
    """Items that need no worker (not media, unsupported) were written before the lines of
    earlier items still in flight; every line now comes in input order."""
    workspace, ref = pictured
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    names = []
    for i in range(6):
        art.save(art.artwork(700 + i), corpus / f"{i}a.png")
        (corpus / f"{i}b.png").write_text("not a picture")
        (corpus / f"{i}c.png").symlink_to(corpus / "missing.png")  # an error of the walk itself
        names += [f"{i}a.png", f"{i}b.png", f"{i}c.png"]
    out = io.StringIO()
    scan_paths(workspace, [corpus], ScanOptions("acme-video-ai", "generation", date(2026, 6, 1), workers=1), out=out)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [Path(x["path"]).name for x in lines] == names
    assert [x["verdict"] for x in lines] == ["cleared", "error", "error"] * 6


def test_a_video_is_read_for_rights_signals_without_video_references(pictured, tmp_path):
    """No video reference, no match possible: the video is still decoded and its XMP read,
    so a training reservation blocks it; the same video cut short is an error."""
    from tests.signals.xmp_util import VOCAB, packet

    workspace, _ = pictured
    clip = clips.write(tmp_path / "clip.mp4", clips.episode([82], 1.0))
    reserved = tmp_path / "reserved.mp4"
    reserved.write_bytes(clip.read_bytes()
                         + packet(f"<plus:DataMining>{VOCAB}DMI-PROHIBITED-AIMLTRAINING</plus:DataMining>").encode())
    options = ScanOptions("acme-video-ai", "training", date(2026, 6, 1), workers=0)
    line = check_file(workspace, reserved, options)
    assert (line["verdict"], line["media"]) == ("blocked", "video") and line["signals"], line
    (tmp_path / "cut.mp4").write_bytes(reserved.read_bytes()[:2000])
    assert check_file(workspace, tmp_path / "cut.mp4", options)["verdict"] == "error"
