#!/usr/bin/env python3
"""Video fingerprinting speed, as a multiple of real time per CPU core, at 720p.

Makes (once, cached under --workdir) a 720p H.264 test video from the dev set's scene art
(or synthetic frames when no set is at hand): slow pans and zooms over pictures, a moving
sprite, cuts every 2-4 s, 30 fps, x264 CRF 21 with a 2 s GOP and B-frames (x264's defaults:
3 B-frames, adaptive) - the structure of ordinary web video.  Then times, in this process,
with every library held to one thread (PyAV ``thread_count=1``, OpenCV and FAISS 1 thread):

* baseline: decoding every frame with PyAV, converting none (what "reading the video" costs);
* sampling only: ``sample_frames`` at 2/s to 384 px gray (skips non-reference frames and
  the deblocking filter; converts only the sampled frames);
* ``VideoFrames.reference_video``: sampling plus features (what registering a work costs);
* ``VideoFrames.query_video``: the same plus the mirrored frames (what scanning costs).

Each figure is the best of ``--repeat`` runs (the machine may be shared).  Prints a
markdown table.

    .venv/bin/python benchmarks/bench_video.py [--seconds 40] [--fps 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _single_thread() -> None:
    import cv2

    cv2.setNumThreads(1)
    try:
        import faiss

        faiss.omp_set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


def _art(size: tuple[int, int]) -> list:
    from PIL import Image

    files = sorted(glob.glob("/work/evalsets/*/refs/w*.jpg"))[:12]
    out = []
    for f in files:
        try:
            out.append(Image.open(f).convert("RGB"))
        except OSError:
            pass
    if not out:  # synthetic pictures: smooth colour fields with shapes
        from PIL import ImageDraw

        rng = np.random.default_rng(0)
        for _ in range(8):
            im = Image.new("RGB", (1600, 1000), tuple(int(x) for x in rng.integers(0, 255, 3)))
            d = ImageDraw.Draw(im)
            for _ in range(60):
                x, y = rng.integers(0, 1600), rng.integers(0, 1000)
                r = int(rng.integers(10, 160))
                d.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
            out.append(im)
    return out


def make_video(path: Path, seconds: float, fps: int, size=(1280, 720)) -> None:
    import av
    from PIL import Image, ImageDraw

    W, H = size
    arts = _art(size)
    rng = np.random.default_rng(1)
    n = int(seconds * fps)
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as out:
        st = out.add_stream("libx264", rate=fps)
        st.width, st.height, st.pix_fmt = W, H, "yuv420p"
        st.options = {"crf": "21", "preset": "veryfast", "g": str(2 * fps), "keyint_min": str(fps)}
        shot_end, art, z0, z1, dx, dy, shot_start = 0, None, 1.0, 1.0, 0.0, 0.0, 0
        for i in range(n):
            if i >= shot_end:  # a cut
                shot_start = i
                shot_end = i + int(fps * rng.uniform(2, 4))
                src = arts[int(rng.integers(len(arts)))]
                s = max(W * 1.4 / src.width, H * 1.4 / src.height)
                art = src.resize((int(src.width * s) + 1, int(src.height * s) + 1), Image.BICUBIC)
                z0, z1 = rng.uniform(1.0, 1.3), rng.uniform(1.0, 1.3)
                dx, dy = rng.uniform(-1, 1), rng.uniform(-1, 1)
            t = (i - shot_start) / max(1, shot_end - shot_start - 1)
            z = z0 + (z1 - z0) * t
            cw, ch = int(W * z), int(H * z)
            cx = int((art.width - cw) * (0.5 + 0.45 * dx * (t - 0.5)))
            cy = int((art.height - ch) * (0.5 + 0.45 * dy * (t - 0.5)))
            frame = art.crop((cx, cy, cx + cw, cy + ch)).resize((W, H), Image.BILINEAR)
            d = ImageDraw.Draw(frame)  # a moving "character"
            px = int(W * (0.3 + 0.4 * (0.5 + 0.5 * math.sin(i / fps * 1.7))))
            d.ellipse((px - 90, H - 380, px + 90, H - 200), fill=(230, 190, 160))
            d.rectangle((px - 110, H - 200, px + 110, H), fill=(60, 80, 160))
            for p in st.encode(av.VideoFrame.from_image(frame)):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    tmp.rename(path)


def full_decode(path: Path, threads: int) -> int:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        if threads == 1:
            s.thread_type = "SLICE"
            s.codec_context.thread_count = 1
        else:
            s.thread_type = "AUTO"
        n = 0
        for _ in c.decode(s):
            n += 1
    return n


def best_of(fn, repeat: int) -> tuple[float, float, object]:
    """(best CPU seconds of this process, best wall seconds, result)."""
    cpu, wall, res = math.inf, math.inf, None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        res = fn()
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return cpu, wall, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "kyodaku-bench")
    ap.add_argument("--video", type=Path, help="time this file instead of the generated one")
    a = ap.parse_args()
    _single_thread()

    from kyodaku.video import VideoFrames, sample_frames

    if a.video:
        path = a.video
    else:
        a.workdir.mkdir(parents=True, exist_ok=True)
        path = a.workdir / f"bench720p-{int(a.seconds)}s-{a.fps}fps-v1.mp4"
        if not path.exists():
            t0 = time.perf_counter()
            make_video(path, a.seconds, a.fps)
            print(f"made {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        dur = float(s.duration * s.time_base) if s.duration else c.duration / 1e6
        vw, vh, codec = s.codec_context.width, s.codec_context.height, s.codec_context.name
        rate = float(s.average_rate)
    mbps = path.stat().st_size * 8 / dur / 1e6

    rows = []
    c_base, w_base, n_base = best_of(lambda: full_decode(path, 1), a.repeat)
    rows.append(("baseline: PyAV decode of every frame, no conversion", c_base, w_base, f"{n_base} frames"))
    c, w, n = best_of(lambda: len(list(sample_frames(path, 2.0, 384, threads=1, pix_format="gray",
                                                     skip_nonref=False, skip_loop_filter=False,
                                                     skip_gop_tails=False))), a.repeat)
    rows.append(("sample_frames, decoder shortcuts off", c, w, f"{n} frames"))
    c, w, n = best_of(lambda: len(list(sample_frames(path, 2.0, 384, threads=1, pix_format="gray"))), a.repeat)
    rows.append(("sample_frames (2/s, 384 px gray; NONREF, no deblocking, GOP tails)", c, w, f"{n} frames"))
    m = VideoFrames(threads=1)
    c, w, fp_r = best_of(lambda: m.reference_video(path), a.repeat)
    rows.append(("VideoFrames.reference_video (register)", c, w, f"{len(fp_r)} vectors"))
    c, w, fp_q = best_of(lambda: m.query_video(path), a.repeat)
    rows.append(("VideoFrames.query_video (scan, + mirrored)", c, w, f"{len(fp_q)} vectors"))
    mt = VideoFrames(threads=0)
    _c_qm, w_qm, _ = best_of(lambda: mt.query_video(path), a.repeat)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    print(f"\nVideo: {vw}x{vh} {codec}, {rate:g} fps, {dur:.1f} s, {mbps:.2f} Mbit/s, "
          f"2 s GOP with B-frames (x264 veryfast CRF 21)")
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
          f"load average {load:.1f} when done, Python {platform.python_version()}, PyAV {av.__version__}\n")
    print("x real time per core = video seconds / CPU seconds of this process (one thread), best of "
          f"{a.repeat}; wall-clock figures in brackets (lower on a busy machine)\n")
    print("| step (1 thread) | CPU s | x real time per core | vs. full decode | |")
    print("|---|---:|---:|---:|---|")
    for name, c, w, note in rows:
        print(f"| {name} | {c:.3f} | {dur / c:.1f}x ({dur / w:.1f}x) | {c_base / c:.2f}x | {note} |")
    print(f"\nquery_video with decoder threads (thread_type AUTO, all cores): {w_qm:.3f} s wall, "
          f"{dur / w_qm:.1f}x real time")
    print(f"reference fingerprint size: {fp_r.vectors.nbytes / dur / 1024:.1f} KiB of descriptors per second "
          f"of video ({len(fp_r) / max(1, fp_r.info.get('frames', 1)):.0f} per frame)")
    print("\ncommand: .venv/bin/python benchmarks/bench_video.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
