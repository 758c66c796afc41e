"""Corpus containers: WebDataset shards, Parquet and JSONL manifests become items with
stable ids; broken containers and rows become error items; they scan like files."""

from __future__ import annotations

import io
import json
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import webdataset as wds

from kyodaku.corpus import iter_items
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from tests import art


def _png(seed: int, crop: bool = False) -> bytes:
    import cv2

    rgb = art.artwork(seed)
    if crop:
        rgb = art.crop(rgb)
    ok, buf = cv2.imencode(".png", rgb[:, :, ::-1].copy())
    return buf.tobytes()


def _shard(path, samples):
    with wds.TarWriter(str(path)) as sink:
        for s in samples:
            sink.write(s)


def test_webdataset_samples_are_items_with_stable_ids(tmp_path):
    shard = tmp_path / "shard-000.tar"
    _shard(shard, [{"__key__": "a01", "png": _png(1), "txt": "a cat", "json": {"url": "http://x/1"}},
                   {"__key__": "a02", "jpg": _png(2), "txt": "no media here"} | {"jpg": b""},
                   {"__key__": "a03", "txt": "caption only"}])
    items = list(iter_items([shard]))
    assert [i.id for i in items] == [f"{shard}#a01", f"{shard}#a02", f"{shard}#a03"]
    assert items[0].kind == "image" and items[0].caption == "a cat" and items[0].columns == {"url": "http://x/1"}
    assert items[2].error and "no image or video" in items[2].error
    assert [i.id for i in iter_items([shard])] == [i.id for i in items]  # stable


def test_a_truncated_shard_is_an_error_item_after_what_was_readable(tmp_path):
    shard = tmp_path / "bad.tar"
    _shard(shard, [{"__key__": f"k{i}", "png": _png(i)} for i in range(3)])
    raw = shard.read_bytes()
    shard.write_bytes(raw[: len(raw) * 2 // 3])
    items = list(iter_items([shard]))
    assert items[-1].error and items[-1].error.startswith("cannot read the shard")
    assert all(i.error is None for i in items[:-1]) and len(items) >= 2


def test_parquet_and_jsonl_manifests(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "x.png").write_bytes(_png(5))
    table = pa.table({"key": ["r0", "r1", "r2", "r3"],
                      "jpg": [_png(6), None, None, None],
                      "path": [None, "img/x.png", None, None],
                      "status": ["success", "success", "failed_to_download", "success"],
                      "error_message": [None, None, "404", None],
                      "caption": ["c0", "c1", "c2", "c3"]})
    pq.write_table(table, tmp_path / "m.parquet")
    items = {i.id.rsplit("#", 1)[1]: i for i in iter_items([tmp_path / "m.parquet"])}
    assert items["r0"].data and items["r0"].kind == "image"
    assert items["r1"].path == str(tmp_path / "img" / "x.png") and items["r1"].caption == "c1"
    assert "failed_to_download" in items["r2"].error and "404" in items["r2"].error
    assert "neither a media path" in items["r3"].error
    (tmp_path / "m.jsonl").write_text('{"key": "j0", "path": "img/x.png"}\nnot json\n')
    js = list(iter_items([tmp_path / "m.jsonl"]))
    assert js[0].path.endswith("x.png") and js[1].error and "m.jsonl:2" in js[1].error
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 nope")
    assert list(iter_items([tmp_path / "broken.parquet"]))[0].error.startswith("cannot read the manifest")


def test_shards_and_manifests_scan_like_files(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 401)
    shard = tmp_path / "s.tar"
    _shard(shard, [{"__key__": "copy", "png": _png(401, crop=True)}, {"__key__": "other", "png": _png(402)}])
    pq.write_table(pa.table({"key": ["m0"], "jpg": [_png(403)], "x-robots-tag": ["noai"]}), tmp_path / "m.parquet")
    out = io.StringIO()
    scan_paths(workspace, [shard, tmp_path / "m.parquet"], ScanOptions("acme", "training", date(2026, 1, 1), workers=1),
               out=out)
    got = {json.loads(x)["path"].rsplit("#", 1)[1]: json.loads(x) for x in out.getvalue().splitlines()}
    assert got["copy"]["verdict"] == "blocked" and got["copy"]["matches"][0]["work_id"] == "w401"
    assert got["other"]["verdict"] == "cleared"
    # a reservation the manifest recorded blocks an item no registered work matches
    assert got["m0"]["verdict"] == "blocked" and "x-robots-tag" in got["m0"]["reason"]


def test_cleared_corpus_in_the_input_format_and_the_exclusion_list(workspace, tmp_path):
    from kyodaku.corpus.outputs import write_cleared

    art.register_artwork(workspace, tmp_path, 501)
    shard = tmp_path / "s.tar"
    _shard(shard, [{"__key__": "copy", "png": _png(501, crop=True), "txt": "x"},
                   {"__key__": "other", "png": _png(502), "txt": "keep me", "json": {"u": 1}}])
    pq.write_table(pa.table({"key": ["m0", "m1"], "jpg": [_png(501, crop=True), _png(503)], "caption": ["a", "b"]}),
                   tmp_path / "m.parquet")
    folder = tmp_path / "files"
    folder.mkdir()
    art.save(art.artwork(504), folder / "ok.png")
    (folder / "broken.png").write_bytes(b"\x89PNG")
    results = tmp_path / "results.jsonl"
    with open(results, "w") as f:
        scan_paths(workspace, [shard, tmp_path / "m.parquet", folder],
                   ScanOptions("acme", "training", date(2026, 1, 1), workers=1), out=f)
    counts = write_cleared([shard, tmp_path / "m.parquet", folder], results, tmp_path / "cleared")
    assert counts == {"samples": 1, "rows": 1, "files": 1, "excluded": 3}
    kept = list(wds.WebDataset(str(tmp_path / "cleared" / "s.tar"), shardshuffle=False))
    assert [s["__key__"] for s in kept] == ["other"] and kept[0]["txt"] == b"keep me" and "json" in kept[0]
    assert pq.read_table(tmp_path / "cleared" / "m.parquet").column("key").to_pylist() == ["m1"]
    assert (tmp_path / "cleared" / "cleared-files.txt").read_text().splitlines() == [str(folder / "ok.png")]
    excluded = {json.loads(x)["id"].rsplit("/", 1)[-1]: json.loads(x)["verdict"]
                for x in (tmp_path / "cleared" / "exclusions.jsonl").read_text().splitlines()}
    assert excluded == {"s.tar#copy": "blocked", "m.parquet#m0": "blocked", "broken.png": "error"}
