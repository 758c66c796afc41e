"""A small scanned corpus for the report tests: a workspace with two holders (kumo: an
image and a video work, no permit; hoshi: an image work, permitted), and a real scan of
a folder (copies, a permitted copy, unrelated art, a broken file, a hostile file name)
and a WebDataset shard (a copy with a hostile caption; unrelated art carrying a
``noai`` X-Robots-Tag)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import cv2
import webdataset as wds

from kyodaku.registry.importers import register_work
from kyodaku.scan.pipeline import ScanOptions, scan_paths
from kyodaku.scan.references import fingerprint_pending
from kyodaku.workspace import Workspace
from tests import art
from tests.video import clips

LICENSEE = "acme-video-ai"
ON = date(2026, 6, 1)
HOSTILE_NAME = "<b onmouseover=alert(1)>copy.png"
HOSTILE_CAPTION = "<script>alert('caption')</script>"


@dataclass
class Scanned:
    workspace: Workspace
    corpus: Path
    shard: Path
    results: Path


def _png(rgb) -> bytes:
    ok, buf = cv2.imencode(".png", rgb[:, :, ::-1].copy())
    assert ok
    return buf.tobytes()


def setup_workspace(root: Path) -> tuple[Workspace, Path, Path]:
    """The registry and the corpus, not scanned yet: (workspace, corpus folder, shard)."""
    ws = Workspace.init(root / "home")
    refs = root / "refs"
    refs.mkdir()
    art.register_artwork(ws, refs, 201, "kumo")
    art.register_artwork(ws, refs, 301, "hoshi")
    ws.registry.grant_permit("hoshi", LICENSEE, "training", valid_from=date(2025, 1, 1), valid_until=date(2030, 12, 31))
    episode = clips.episode([11, 12, 13], 2.0)
    clips.write(refs / "episode.mp4", episode)
    register_work(ws.registry, ws, "kumo", "episode 1", [refs / "episode.mp4"], work_id="v1")
    fingerprint_pending(ws, progress=False, workers=0)

    corpus = root / "corpus"
    corpus.mkdir()
    art.save(art.crop(art.artwork(201)), corpus / "copy.png")
    art.save(art.jpeg(art.resized(art.artwork(201), 0.5)), corpus / "copy-small.jpg")
    art.save(art.rotate(art.artwork(201), 5), corpus / "copy-rotated.png")
    art.save(art.crop(art.artwork(201), 0.7, 0.7, 0.1, 0.2), corpus / HOSTILE_NAME)
    art.save(art.artwork(301), corpus / "permitted.png")
    art.save(art.artwork(202), corpus / "other.png")
    (corpus / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    clips.write(corpus / "excerpt.mp4", clips.episode([77], 2.0) + clips.mirrored(episode[24:60])
                + clips.episode([78], 2.0))
    shard = root / "shard-000.tar"
    with wds.TarWriter(str(shard)) as sink:
        sink.write({"__key__": "s01", "png": _png(art.crop(art.artwork(201), 0.5, 0.5)), "txt": HOSTILE_CAPTION})
        sink.write({"__key__": "s02", "png": _png(art.artwork(203)), "json": {"x-robots-tag": "noai"}})
    return ws, corpus, shard


def scan(root: Path) -> Scanned:
    ws, corpus, shard = setup_workspace(root)
    results = root / "results.jsonl"
    with open(results, "w", encoding="utf-8") as f:
        scan_paths(ws, [corpus, shard], ScanOptions(LICENSEE, "training", ON, workers=0), out=f)
    return Scanned(ws, corpus, shard, results)
