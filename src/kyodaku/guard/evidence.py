"""Evidence images of screenings: the screened output's frame (at the start of the matched
segment for a video) beside the registered reference, one JPEG per match.

The query frame is kept when the output is screened (the upload is gone afterwards), under
``HOME/screen/evidence/DECISION-INDEX.jpg``; the side-by-side image is drawn when the desk
is asked for it, with the reference frame at the matched reference segment."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from kyodaku.report.thumbs import ReferenceThumbs, Thumb, image_thumb, video_thumbs
from kyodaku.workspace import Workspace

__all__ = ["MAX_EVIDENCE", "evidence_dir", "evidence_image", "save_query_frames"]

#: query frames kept per screening (its best matches)
MAX_EVIDENCE = 8


def evidence_dir(workspace: Workspace) -> Path:
    return workspace.home / "screen" / "evidence"


def _jpeg(thumb: Thumb) -> bytes | None:
    if not thumb.uri:
        return None
    return base64.b64decode(thumb.uri.split(",", 1)[1])


def save_query_frames(workspace: Workspace, decision_id: int, query: Path, media: str | None,
                      matches: list[dict[str, Any]]) -> list[int]:
    """Keep the query frame of each of the first :data:`MAX_EVIDENCE` matches; returns
    the indexes kept (a frame that cannot be read is left out, with no link)."""
    folder = evidence_dir(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    kept: list[int] = []
    shown = matches[:MAX_EVIDENCE]
    if media == "video":  # one decoding pass for every match's frame
        times = [float((m.get("query_segment") or [0.0])[0]) for m in shown]
        frames = [_jpeg(th) for th in video_thumbs(query, times)]
    else:
        still = _jpeg(image_thumb(query)) if shown else None
        frames = [still] * len(shown)
    for i, data in enumerate(frames):
        if data:
            (folder / f"{decision_id}-{i}.jpg").write_bytes(data)
            kept.append(i)
    return kept


def evidence_image(workspace: Workspace, decision_id: int, index: int, match: dict[str, Any],
                   media: str | None) -> bytes | None:
    """The side-by-side JPEG (screened output | reference) of one match, or None."""
    from PIL import Image, ImageDraw

    query = evidence_dir(workspace) / f"{decision_id}-{index}.jpg"
    if not query.is_file():
        return None
    ref_t = float((match.get("ref_segment") or [0.0])[0]) if media == "video" else None
    ref_thumb, _name = ReferenceThumbs(workspace).get(match["work_id"], media, ref_t)
    left = Image.open(query).convert("RGB")
    ref_bytes = _jpeg(ref_thumb)
    right = Image.open(io.BytesIO(ref_bytes)).convert("RGB") if ref_bytes else Image.new("RGB", left.size, "gray")
    pad, label = 8, 18
    w = left.width + right.width + 3 * pad
    h = max(left.height, right.height) + 2 * pad + label
    canvas = Image.new("RGB", (w, h), "white")
    canvas.paste(left, (pad, pad + label))
    canvas.paste(right, (2 * pad + left.width, pad + label))
    draw = ImageDraw.Draw(canvas)
    draw.text((pad, 4), "screened output", fill="black")
    draw.text((2 * pad + left.width, 4), f"reference: {match['work_id']}"[:40], fill="black")
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=80)
    return buf.getvalue()
