"""Synthetic, textured test art (deterministic): enough corners and texture for local
features, different enough between seeds that unrelated pieces do not match."""

from __future__ import annotations

import cv2
import numpy as np

from kyodaku.media.types import LoadedImage


def artwork(seed: int, size: tuple[int, int] = (480, 640)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = size
    img = np.zeros((h, w, 3), np.uint8)
    c0, c1 = rng.integers(0, 255, 3), rng.integers(0, 255, 3)
    ramp = np.linspace(0, 1, w)[None, :, None]
    img[:] = (c0 * (1 - ramp) + c1 * ramp).astype(np.uint8)
    for _ in range(60):
        color = tuple(int(x) for x in rng.integers(0, 255, 3))
        kind = rng.integers(0, 3)
        if kind == 0:
            pts = rng.integers(0, [w, h], size=(int(rng.integers(3, 7)), 2)).astype(np.int32)
            cv2.fillPoly(img, [pts], color)
        elif kind == 1:
            cv2.circle(img, tuple(int(x) for x in rng.integers(0, [w, h])), int(rng.integers(5, 60)), color, -1)
        else:
            p1 = tuple(int(x) for x in rng.integers(0, [w, h]))
            p2 = tuple(int(x) for x in rng.integers(0, [w, h]))
            cv2.line(img, p1, p2, color, int(rng.integers(1, 6)))
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def faded(seed: int, levels: int, blur: float) -> np.ndarray:
    """``artwork(seed)`` squeezed into ``levels`` dark gray levels (from 18 up) and softened
    by a Gaussian blur of ``blur`` px: a night-time layer with next to no corners at
    FAST's usual threshold."""
    return cv2.GaussianBlur(18 + artwork(seed).astype(np.float32) * levels / 255, (0, 0), blur).astype(np.uint8)


def loaded(rgb: np.ndarray) -> LoadedImage:
    return LoadedImage.from_array(rgb)


def resized(rgb: np.ndarray, s: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)


def jpeg(rgb: np.ndarray, quality: int = 30) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1].copy()


def crop(rgb: np.ndarray, fx: float = 0.6, fy: float = 0.6, x0: float = 0.2, y0: float = 0.1) -> np.ndarray:
    h, w = rgb.shape[:2]
    x, y = int(w * x0), int(h * y0)
    return rgb[y:y + int(h * fy), x:x + int(w * fx)].copy()


def rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, m, (w, h), borderValue=(0, 0, 0))


def paste(rgb: np.ndarray, background: np.ndarray, scale: float = 0.5, at: tuple[int, int] = (40, 30)) -> np.ndarray:
    small = resized(rgb, scale)
    out = background.copy()
    y, x = at
    out[y:y + small.shape[0], x:x + small.shape[1]] = small[: out.shape[0] - y, : out.shape[1] - x]
    return out


def save(rgb: np.ndarray, path) -> None:
    cv2.imwrite(str(path), rgb[:, :, ::-1].copy())


def register_artwork(workspace, folder, seed: int, holder: str = "kumo", *,
                     rgb: np.ndarray | None = None, work_id: str | None = None) -> str:
    """Register ``artwork(seed)`` (or ``rgb``) as work ``w{seed}`` (or ``work_id``) of
    ``holder`` (created if new, JP, no permit) and fingerprint it; returns the work id."""
    from kyodaku.registry.importers import register_work
    from kyodaku.scan.references import fingerprint_pending

    reg = workspace.registry
    if reg.get_holder(holder) is None:
        reg.add_holder(holder, holder.title(), "JP")
    work_id = work_id or f"w{seed}"
    path = folder / f"ref-{work_id}.png"
    save(artwork(seed) if rgb is None else rgb, path)
    register_work(reg, workspace, holder, f"work {seed}", [path], work_id=work_id)
    fingerprint_pending(workspace, progress=False, workers=0)
    return work_id
