from __future__ import annotations

import io
import statistics
import time

import numpy as np
from PIL import Image

from kyodaku.signals import read_signals

from .xmp_util import VOCAB, jpeg_with_xmp, packet


def _jpeg_1mb() -> bytes:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (640, 640, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=95, subsampling=0)
    return buf.getvalue()


def _median_ms(fn, n=20) -> float:
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def test_combined_report(tmp_path):
    data = jpeg_with_xmp(packet(f"<plus:DataMining>{VOCAB}DMI-ALLOWED</plus:DataMining>"))
    p = tmp_path / "a.jpg"
    p.write_bytes(data)
    report = read_signals(p, columns={"X-Robots-Tag": "noai", "robots_txt": "allowed"})
    assert sorted(s.source for s in report.signals) == ["iptc", "robots.txt", "x-robots-tag"]
    assert report.reservation_for("training").source == "x-robots-tag"
    assert read_signals(tmp_path / "missing.jpg").unreadable()
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert read_signals(empty).signals == []


def test_timing_1mb_jpeg(tmp_path):
    plain = _jpeg_1mb()
    assert 0.8e6 < len(plain) < 1.6e6
    with_xmp = jpeg_with_xmp(packet(f"<plus:DataMining>{VOCAB}DMI-PROHIBITED-AIMLTRAINING</plus:DataMining>"),
                             size=(8, 8))
    with_xmp = with_xmp[:-2] + plain[2:]  # a small XMP JPEG header glued onto ~1 MB of scan data
    assert read_signals(plain).signals == []
    assert read_signals(with_xmp).reservation_for("training") is not None
    p = tmp_path / "plain.jpg"
    p.write_bytes(plain)
    t_plain = _median_ms(lambda: read_signals(plain, mime="image/jpeg"))
    t_xmp = _median_ms(lambda: read_signals(with_xmp, mime="image/jpeg"))
    t_path = _median_ms(lambda: read_signals(p))
    print(f"\n1MB JPEG: no metadata {t_plain:.3f} ms, with XMP {t_xmp:.3f} ms, from path {t_path:.3f} ms")
    assert t_plain < 50 and t_xmp < 50 and t_path < 50
