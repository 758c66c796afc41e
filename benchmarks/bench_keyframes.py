#!/usr/bin/env python
"""What a registered hour of video costs as reference pictures (issue 19, item 2).

A registered video is stored as its video fingerprint and, so that a still frame of it is
found as the video, as keyframes fingerprinted by every image method
(:func:`kyodaku.scan.references.fingerprint_file`).  This reports, per source video:

* keyframes (reference pictures) per hour of video;
* bytes per hour of video, per method (the vectors and points the stores hold);
* seconds to fingerprint a minute of video (decode, keyframes, every method; one thread),
  and with the video method alone (what a registered video cost before keyframes).

Sources: every registered episode of the given evaluation sets (``catalog.jsonl`` rows of
kind video), and a clip composed here of ``--compose-minutes`` minutes from the sets'
registered pictures, cut the way anime is: held shots (one drawing on screen for 2-6 s,
as limited animation holds a cel), slow pans over a background, and pans with a figure
moving over it (a third each, in random order; 24 fps, 640x360, H.264 CRF 20).  The
evaluation sets' own episodes pan or zoom through every shot with a figure moving, the
costliest case; the composed clip is nearer to broadcast material.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_keyframes.py /work/evalsets/xsmall \\
        /work/evalsets/xfull --compose-minutes 10 --work bench-out/keyframes --out bench-out/keyframes.json
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import av
import cv2
import numpy as np

from kyodaku.fingerprint.registry import video_methods
from kyodaku.scan.references import fingerprint_file
from kyodaku.scan.threads import one_thread_per_query

SIZE = (640, 360)
FPS = 24


def _media(sets: list[Path], kind: str) -> list[Path]:
    """The reference files of the sets' registered works of ``kind`` ("image" or "video")."""
    out = []
    for root in sets:
        for line in (root / "catalog.jsonl").read_text().splitlines():
            row = json.loads(line)
            if row["kind"] == kind:
                out += [root / m for m in row["media"]]
    return out


def _load(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img.ndim == 3 and img.shape[2] == 4:  # flatten on white
        a = img[:, :, 3:4].astype(np.float32) / 255.0
        img = (img[:, :, :3] * a + 255 * (1 - a)).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _fit(img: np.ndarray, w: int, h: int, over: float = 1.0) -> np.ndarray:
    s = max(w * over / img.shape[1], h * over / img.shape[0])
    return cv2.resize(img, (max(w, round(img.shape[1] * s)), max(h, round(img.shape[0] * s))),
                      interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)


def _shot(kind: str, bg: np.ndarray, figure: np.ndarray, seconds: float, rng: random.Random):
    w, h = SIZE
    n = round(seconds * FPS)
    if kind == "held":
        frame = _fit(bg, w, h)[:h, :w]
        for _ in range(n):
            yield frame
        return
    big = _fit(bg, w, h, over=1.4)
    bh, bw = big.shape[:2]
    (x0, y0), (x1, y1) = [(rng.uniform(0, bw - w), rng.uniform(0, bh - h)) for _ in range(2)]
    fig = _fit(figure, int(h * 0.6), int(h * 0.6))[: int(h * 0.6), : int(h * 0.6)] if kind == "figure" else None
    for i in range(n):
        t = i / max(1, n - 1)
        x, y = int(x0 + (x1 - x0) * t * 0.3), int(y0 + (y1 - y0) * t * 0.3)  # a slow pan
        frame = big[y:y + h, x:x + w].copy()
        if fig is not None:
            fx = int(w * 0.2 + w * 0.4 * t)  # the figure walks across
            fh, fw = fig.shape[:2]
            frame[h - fh:h, fx:fx + fw] = fig[:, : max(0, min(fw, w - fx))]
        yield frame


def compose(path: Path, pictures: list[Path], minutes: float, seed: int = 0) -> Path:
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    left = minutes * 60.0
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        while left > 0:
            seconds = min(left, rng.uniform(2.0, 6.0))
            kind = rng.choice(["held", "pan", "figure"])
            bg, figure = _load(rng.choice(pictures)), _load(rng.choice(pictures))
            for frame in _shot(kind, bg, figure, seconds, rng):
                for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                    out.mux(packet)
            left -= seconds
        for packet in stream.encode():
            out.mux(packet)
    return path


def measure(path: Path) -> dict:
    t0 = time.perf_counter()
    for method in video_methods():
        method.reference_video(str(path))
    alone = time.perf_counter() - t0
    t0 = time.perf_counter()
    fps = fingerprint_file(str(path), "video")
    took = time.perf_counter() - t0
    seconds = float(fps["video_frames"][0].info.get("duration") or 0.0)
    hours = seconds / 3600.0
    keyframes = int(fps["video_frames"][0].info["keyframes"])
    per_method = {name: sum(int(fp.vectors.nbytes + fp.points.nbytes) for fp in fp_list)
                  for name, fp_list in fps.items()}
    return {"video": str(path), "seconds": round(seconds, 2), "keyframes": keyframes,
            "keyframes_per_hour": round(keyframes / hours, 1) if hours else None,
            "bytes_per_hour": {k: round(v / hours) for k, v in per_method.items()} if hours else None,
            "fingerprint_s_per_video_minute": round(took / (seconds / 60.0), 3) if seconds else None,
            "video_method_alone_s_per_video_minute": round(alone / (seconds / 60.0), 3) if seconds else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+", type=Path)
    ap.add_argument("--compose-minutes", type=float, default=10.0)
    ap.add_argument("--work", type=Path, default=Path("bench-out/keyframes"))
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    one_thread_per_query()
    rows = [measure(p) for p in _media(args.sets, "video")]
    per_set = {"episodes": len(rows), "seconds": round(sum(r["seconds"] for r in rows), 2),
               "keyframes": sum(r["keyframes"] for r in rows)}
    per_set["keyframes_per_hour"] = round(per_set["keyframes"] / (per_set["seconds"] / 3600.0), 1)
    minutes = per_set["seconds"] / 60.0
    for key in ("fingerprint_s_per_video_minute", "video_method_alone_s_per_video_minute"):
        per_set[key] = round(sum(r[key] * r["seconds"] / 60.0 for r in rows) / minutes, 3)
    per_set["bytes_per_hour"] = {k: round(sum(r["bytes_per_hour"][k] * r["seconds"] for r in rows) / per_set["seconds"])
                                 for k in rows[0]["bytes_per_hour"]}
    composed = None
    if args.compose_minutes > 0:
        clip = compose(args.work / f"composed-{args.compose_minutes:g}min.mp4", _media(args.sets, "image"),
                       args.compose_minutes)
        composed = measure(clip)
    result = {"eval_episodes": per_set, "composed": composed, "episodes": rows}
    print(json.dumps({"eval_episodes": per_set, "composed": composed}, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
