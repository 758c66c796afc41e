"""Shards and manifests fail closed (issue 18, item 7): tar members that are not regular
files each give one error line; manifest paths stay inside the manifest's folder unless
allowed; shard members and manifest bytes are matched as what their bytes are."""

from __future__ import annotations

import io
import json
import os
import tarfile
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kyodaku.corpus import iter_items
from kyodaku.corpus.outputs import write_cleared
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from tests import art
from tests.corpus.test_items import _png, _shard

OPTS = ScanOptions("acme", "training", date(2026, 1, 1), workers=0)


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", **kw) -> None:
    info = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(info, k, v)
    if info.isreg():
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)


def _scan(workspace, paths, options=OPTS) -> list[dict]:
    out = io.StringIO()
    scan_paths(workspace, paths, options, out=out)
    return [json.loads(x) for x in out.getvalue().splitlines()]


# ------------------------------------------------------------------ tar members
def test_links_devices_and_media_named_folders_in_a_shard_each_get_an_error_line(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 601)
    shard = tmp_path / "s.tar"
    with tarfile.open(shard, "w") as tar:
        _add(tar, "ok.png", _png(602))
        _add(tar, "ok.txt", b"a caption")
        _add(tar, "sym.png", type=tarfile.SYMTYPE, linkname="ok.png")
        _add(tar, "copy.png", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        _add(tar, "hard.png", type=tarfile.LNKTYPE, linkname="ok.png")
        _add(tar, "dir.png", type=tarfile.DIRTYPE)
        _add(tar, "plain-dir", type=tarfile.DIRTYPE)  # an ordinary folder entry: nothing to say
        _add(tar, "fifo.mp4", type=tarfile.FIFOTYPE)
        _add(tar, "dev.jpg", type=tarfile.CHRTYPE)
        _add(tar, "blk", type=tarfile.BLKTYPE)
        _add(tar, "w.png", _png(601, crop=True))
    lines = _scan(workspace, [shard])
    by_id = {x["path"].rsplit("#", 1)[1]: x for x in lines}
    assert len(lines) == len(by_id) == 9  # 2 samples, 7 members that are not regular files
    assert by_id["ok"]["verdict"] == "cleared" and by_id["w"]["verdict"] == "blocked"
    for member, what in [("sym.png", "symbolic link"), ("copy.png", "symbolic link"), ("hard.png", "hard link"),
                         ("dir.png", "directory"), ("fifo.mp4", "FIFO"), ("dev.jpg", "device"), ("blk", "device")]:
        assert by_id[member]["verdict"] == "error", member
        assert what in by_id[member]["reason"] and "not scanned" in by_id[member]["reason"], member
    # and none of them goes into the cleared shard
    results = tmp_path / "r.jsonl"
    results.write_text("".join(json.dumps(x) + "\n" for x in lines))
    write_cleared([shard], results, tmp_path / "cleared")
    with tarfile.open(tmp_path / "cleared" / "s.tar") as kept:
        assert kept.getnames() == ["ok.png", "ok.txt"]


def test_shard_members_are_matched_as_what_their_bytes_are(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 611)
    copy = _png(611, crop=True)
    shard = tmp_path / "s.tar"
    with tarfile.open(shard, "w") as tar:
        _add(tar, "a.mp4", copy)  # a picture named .mp4
        _add(tar, "b.txt", copy)  # a picture as the only member, named .txt
        _add(tar, "c.json", b'{"caption": "x"}')
        _add(tar, "c.png", b"not a picture")  # named like media, bytes are not
        _add(tar, "d.jpg", _png(612))
        _add(tar, "d.png", copy)  # two pictures in one sample: one would go unscanned
        _add(tar, "e", copy)  # no extension at all
    by_id = {x["path"].rsplit("#", 1)[1]: x for x in _scan(workspace, [shard])}
    assert {k: (v["verdict"], v["media"]) for k, v in by_id.items()} == {
        "a": ("blocked", "image"), "b": ("blocked", "image"), "c": ("error", None), "d": ("error", None),
        "e": ("blocked", "image")}
    assert "not an image or video" in by_id["c"]["reason"]
    assert "2 image or video members" in by_id["d"]["reason"]


def test_a_key_repeated_after_other_samples_is_excluded(workspace, tmp_path):
    shard = tmp_path / "s.tar"
    with tarfile.open(shard, "w") as tar:
        _add(tar, "k.png", _png(621))
        _add(tar, "x.png", _png(622))
        _add(tar, "k.jpg", _png(623))
    lines = _scan(workspace, [shard])
    assert [x["verdict"] for x in lines] == ["cleared", "cleared", "error"] and "occurs again" in lines[2]["reason"]
    results = tmp_path / "r.jsonl"
    results.write_text("".join(json.dumps(x) + "\n" for x in lines))
    write_cleared([shard], results, tmp_path / "cleared")
    with tarfile.open(tmp_path / "cleared" / "s.tar") as kept:
        assert kept.getnames() == ["x.png"]


# ------------------------------------------------------------------ manifest paths
@pytest.fixture
def manifests(tmp_path):
    """A manifest folder with one file inside, a secret outside, and rows pointing at both."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    art.save(art.artwork(631), outside / "secret.png")
    data = tmp_path / "data"
    (data / "img").mkdir(parents=True)
    art.save(art.artwork(632), data / "img" / "in.png")
    os.symlink(outside / "secret.png", data / "img" / "link.png")  # a link escaping the folder
    rows = [{"key": "in", "path": "img/in.png"}, {"key": "abs", "path": str(outside / "secret.png")},
            {"key": "up", "path": "../elsewhere/secret.png"}, {"key": "link", "path": "img/link.png"},
            {"key": "passwd", "path": "/etc/passwd"}, {"key": "dotdot", "path": "img/../img/in.png"}]
    (data / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pq.write_table(pa.Table.from_pylist(rows), data / "m.parquet")
    return data, outside


@pytest.mark.parametrize("manifest", ["m.jsonl", "m.parquet"])
def test_manifest_paths_resolve_inside_the_manifest_folder(workspace, manifests, manifest):
    data, outside = manifests
    by_key = {x["path"].rsplit("#", 1)[1]: x for x in _scan(workspace, [data / manifest])}
    assert by_key["in"]["verdict"] == "cleared" and by_key["dotdot"]["verdict"] == "cleared"
    for key in ("abs", "up", "link", "passwd"):
        assert by_key[key]["verdict"] == "error", key
        assert by_key[key]["reason"].startswith("path outside the manifest's folder"), key
        assert "--allow-outside" in by_key[key]["reason"]


def test_allow_outside_lets_manifests_name_files_under_that_folder(workspace, manifests):
    data, outside = manifests
    options = ScanOptions("acme", "training", date(2026, 1, 1), workers=0, allow_outside=(str(outside),))
    by_key = {x["path"].rsplit("#", 1)[1]: x for x in _scan(workspace, [data / "m.jsonl"], options)}
    assert {k: v["verdict"] for k, v in by_key.items()} == {
        "in": "cleared", "abs": "cleared", "up": "cleared", "link": "cleared", "passwd": "error", "dotdot": "cleared"}
    items = {i.id.rsplit("#", 1)[1]: i for i in iter_items([data / "m.jsonl"], allow_outside=[outside])}
    assert items["link"].path == str((outside / "secret.png").resolve())  # read where it resolves


def test_manifest_bytes_are_matched_as_what_they_are(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 641)
    pq.write_table(pa.table({"key": ["m0", "m1"], "mp4": [_png(641, crop=True), b"plain text, not media"]}),
                   tmp_path / "m.parquet")
    by_key = {x["path"].rsplit("#", 1)[1]: x for x in _scan(workspace, [tmp_path / "m.parquet"])}
    assert (by_key["m0"]["verdict"], by_key["m0"]["media"]) == ("blocked", "image")
    assert by_key["m1"]["verdict"] == "error" and "not an image or video" in by_key["m1"]["reason"]


def test_a_jsonl_manifest_that_is_not_utf8_gives_error_lines(workspace, tmp_path):
    (tmp_path / "m.jsonl").write_bytes(_png(651))
    lines = _scan(workspace, [tmp_path / "m.jsonl"])
    assert lines and all(x["verdict"] == "error" for x in lines)


def test_shard_helper_still_writes_webdataset_samples(tmp_path):
    """The shards webdataset writes read as before: one item per sample, in order."""
    shard = tmp_path / "w.tar"
    _shard(shard, [{"__key__": f"k{i}", "png": _png(660 + i), "txt": f"c{i}", "json": {"i": i}} for i in range(3)])
    items = list(iter_items([shard]))
    assert [i.id.rsplit("#", 1)[1] for i in items] == ["k0", "k1", "k2"]
    assert [(i.kind, i.ext, i.caption, i.columns) for i in items] == [
        ("image", "png", f"c{i}", {"i": i}) for i in range(3)]
