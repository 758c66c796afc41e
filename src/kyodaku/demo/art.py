"""Procedural artworks and scraped-looking copies of them, for the offline demo.

Everything here is drawn from a seed with Pillow and NumPy: no downloads, no fonts
beyond Pillow's bundled one, the same pixels on every run.

* :func:`character` draws a 900x1200 anime-style character sprite on a transparent
  background (RGBA): hair locks, big eyes with highlights, a patterned outfit, a staff
  with runes, gradient fills with a painted-noise texture and dark line art.
* :func:`scene` draws a 1280x720 opaque background painting: a gradient sky with clouds,
  layered mountain ridges, a town, shrine or harbour with signs in made-up glyphs,
  trees, power lines and a textured foreground.
* :func:`unrelated_photo` and :func:`unrelated_chart` draw things that are not art at all.
* The transforms (:func:`crop`, :func:`mirror`, :func:`rotate`, ...) turn a work into what
  a scraped training corpus holds: crops, captions, composites, collage tiles,
  screenshots, recompressed and resized copies.

Art made from different seeds shares the style (the same generator) but not the
drawing, like two works of one studio: the demo's hard negatives.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

SPRITE_SIZE = (900, 1200)
SCENE_SIZE = (1280, 720)

Point = tuple[float, float]
RGB = tuple[int, int, int]


# --------------------------------------------------------------------------- colour, noise


def hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return (round(r * 255), round(g * 255), round(b * 255))


def shade(c: Sequence[int], f: float) -> RGB:
    """Darker (f < 1) or lighter (f > 1, towards white) version of a colour."""
    if f <= 1.0:
        return tuple(int(round(x * f)) for x in c[:3])  # type: ignore[return-value]
    t = min(f - 1.0, 1.0)
    return tuple(int(round(x + (255 - x) * t)) for x in c[:3])  # type: ignore[return-value]


def value_noise(rng: np.random.Generator, w: int, h: int, octaves: int = 5, base: int = 3,
                persistence: float = 0.55) -> np.ndarray:
    """Fractal value noise in 0..1, shape (h, w), float32."""
    acc = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = base * 2**o
        gw, gh = cells + 2, max(2, int(cells * h / max(w, 1)) + 2)
        grid = rng.random((gh, gw)).astype(np.float32)
        layer = Image.fromarray(grid, mode="F").resize((w, h), Image.Resampling.BICUBIC)
        acc += amp * np.asarray(layer, np.float32)
        total += amp
        amp *= persistence
    acc /= total
    lo, hi = float(acc.min()), float(acc.max())
    return (acc - lo) / (hi - lo + 1e-6)


def gradient(w: int, h: int, c0: Sequence[int], c1: Sequence[int], angle: float) -> np.ndarray:
    """Linear gradient from c0 to c1 along ``angle`` (radians), float32 (h, w, 3)."""
    xs = np.arange(w, dtype=np.float32)[None, :] * np.float32(math.cos(angle))
    ys = np.arange(h, dtype=np.float32)[:, None] * np.float32(math.sin(angle))
    t = xs + ys
    t = (t - t.min()) / (t.max() - t.min() + 1e-6)
    c0a, c1a = np.asarray(c0[:3], np.float32), np.asarray(c1[:3], np.float32)
    return c0a + (c1a - c0a) * t[..., None]


def radial(w: int, h: int, inner: Sequence[int], outer: Sequence[int], cx: float = 0.35,
           cy: float = 0.35) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.hypot((xs - cx * w) / max(w, 1), (ys - cy * h) / max(h, 1))
    t = np.clip(d / (d.max() + 1e-6), 0, 1)
    a, b = np.asarray(inner[:3], np.float32), np.asarray(outer[:3], np.float32)
    return a + (b - a) * t[..., None]


# --------------------------------------------------------------------------- geometry


def bezier(p0: Point, p1: Point, p2: Point, p3: Point, n: int = 24) -> list[Point]:
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = ((1 - t) ** 3) * np.array(p0) + 3 * ((1 - t) ** 2) * t * np.array(p1) \
        + 3 * (1 - t) * t**2 * np.array(p2) + t**3 * np.array(p3)
    return [(float(x), float(y)) for x, y in pts]


def smooth_closed(points: Sequence[Point], n: int = 10) -> list[Point]:
    """A closed Catmull-Rom curve through ``points``."""
    p = np.asarray(points, np.float64)
    out: list[Point] = []
    k = len(p)
    for i in range(k):
        p0, p1, p2, p3 = p[i - 1], p[i], p[(i + 1) % k], p[(i + 2) % k]
        for t in np.linspace(0, 1, n, endpoint=False):
            t2, t3 = t * t, t * t * t
            q = 0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                       + (-p0 + 3 * p1 - 3 * p2 + p3) * t3)
            out.append((float(q[0]), float(q[1])))
    return out


def blob(rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float, k: int = 9,
         jitter: float = 0.25) -> list[Point]:
    angles = np.sort(rng.uniform(0, 2 * math.pi, k))
    pts = [(cx + rx * (1 + rng.uniform(-jitter, jitter)) * math.cos(a),
            cy + ry * (1 + rng.uniform(-jitter, jitter)) * math.sin(a)) for a in angles]
    return smooth_closed(pts, 8)


def ellipse_pts(cx: float, cy: float, rx: float, ry: float, n: int = 48, rot: float = 0.0) -> list[Point]:
    out = []
    for a in np.linspace(0, 2 * math.pi, n, endpoint=False):
        x, y = rx * math.cos(a), ry * math.sin(a)
        out.append((cx + x * math.cos(rot) - y * math.sin(rot), cy + x * math.sin(rot) + y * math.cos(rot)))
    return out


def crescent(x: float, y: float, r: float, ix: float, iy: float, ir: float, n: int = 90) -> list[Point]:
    """The part of the disc (x, y, r) outside the disc (ix, iy, ir), as a polygon."""
    phi = math.atan2(iy - y, ix - x)
    outer = [(x + r * math.cos(phi + t), y + r * math.sin(phi + t)) for t in np.linspace(0, 2 * math.pi, n)]
    outer = [p for p in outer if math.hypot(p[0] - ix, p[1] - iy) > ir]
    inner = [(ix + ir * math.cos(phi + math.pi + t), iy + ir * math.sin(phi + math.pi + t))
             for t in np.linspace(-math.pi, math.pi, n)]
    inner = [p for p in inner if math.hypot(p[0] - x, p[1] - y) < r]
    if inner and math.dist(inner[0], outer[-1]) > math.dist(inner[-1], outer[-1]):
        inner.reverse()
    return outer + inner


def thick_path(points: Sequence[Point], widths: Sequence[float]) -> list[Point]:
    """A polygon around a polyline whose width varies along it (a lock of hair, a limb)."""
    p = np.asarray(points, np.float64)
    left, right = [], []
    for i in range(len(p)):
        a, b = p[max(i - 1, 0)], p[min(i + 1, len(p) - 1)]
        d = b - a
        nrm = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
        w = widths[i] / 2
        left.append(tuple(p[i] + nrm * w))
        right.append(tuple(p[i] - nrm * w))
    return [(float(x), float(y)) for x, y in left + right[::-1]]


# --------------------------------------------------------------------------- painting


class Canvas:
    """An RGBA canvas with painted fills (gradient + noise texture), patterns and line art."""

    def __init__(self, size: tuple[int, int], rng: np.random.Generator, background: RGB | None = None) -> None:
        self.w, self.h = size
        self.rng = rng
        fill = (*background, 255) if background is not None else (0, 0, 0, 0)
        self.img = Image.new("RGBA", size, fill)
        self.draw = ImageDraw.Draw(self.img)

    # -- fills
    def _bbox(self, pts: Sequence[Point], pad: int = 2) -> tuple[int, int, int, int]:
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        x0 = max(int(min(xs)) - pad, 0)
        y0 = max(int(min(ys)) - pad, 0)
        x1 = min(int(max(xs)) + pad + 1, self.w)
        y1 = min(int(max(ys)) + pad + 1, self.h)
        return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)

    def mask_of(self, pts: Sequence[Point]) -> tuple[Image.Image, tuple[int, int, int, int]]:
        x0, y0, x1, y1 = self._bbox(pts)
        mask = Image.new("L", (x1 - x0, y1 - y0), 0)
        ImageDraw.Draw(mask).polygon([(x - x0, y - y0) for x, y in pts], fill=255)
        return mask, (x0, y0, x1, y1)

    def paint(self, pts: Sequence[Point], c0: Sequence[int], c1: Sequence[int] | None = None,
              angle: float | None = None, texture: float = 0.25, grain: float = 10.0,
              outline: Sequence[int] | None = None, width: int = 0, radial_fill: bool = False) -> Image.Image:
        """Fill a polygon with a gradient, a painted-noise texture and film grain; returns its mask."""
        mask, (x0, y0, x1, y1) = self.mask_of(pts)
        w, h = x1 - x0, y1 - y0
        c1 = c1 if c1 is not None else shade(c0, 0.72)
        angle = self.rng.uniform(0, 2 * math.pi) if angle is None else angle
        rgb = radial(w, h, c1, c0) if radial_fill else gradient(w, h, c0, c1, angle)
        if texture > 0:
            n = value_noise(self.rng, w, h, octaves=5, base=2 + int(self.rng.integers(0, 4)))
            rgb = rgb * (1.0 + texture * (n[..., None] - 0.5))
        if grain > 0:
            rgb = rgb + self.rng.normal(0, grain, (h, w, 1)).astype(np.float32)
        tile = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB").convert("RGBA")
        self.img.paste(tile, (x0, y0), mask)
        if outline is not None and width > 0:
            self.draw.line(list(pts) + [pts[0]], fill=tuple(outline), width=width, joint="curve")
        return mask

    def pattern(self, pts: Sequence[Point], kind: str, color: Sequence[int], scale: float,
                angle: float = 0.0, alpha: int = 200) -> None:
        """Stripes, dots, checks, hatching or glyphs, clipped to a polygon."""
        mask, (x0, y0, x1, y1) = self.mask_of(pts)
        w, h = x1 - x0, y1 - y0
        side = int(math.hypot(w, h)) + 4
        layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        d = ImageDraw.Draw(layer)
        fill = (*color[:3], alpha)
        s = max(scale, 4.0)
        rng = self.rng
        if kind == "stripes":
            y = 0.0
            while y < side:
                t = s * rng.uniform(0.25, 0.6)
                d.rectangle([0, y, side, y + t], fill=fill)
                y += s * rng.uniform(0.9, 1.6)
        elif kind == "dots":
            for yi, y in enumerate(np.arange(0, side, s)):
                for x in np.arange((yi % 2) * s / 2, side, s):
                    r = s * rng.uniform(0.15, 0.3)
                    d.ellipse([x - r, y - r, x + r, y + r], fill=fill)
        elif kind == "checks":
            for yi, y in enumerate(np.arange(0, side, s)):
                for xi, x in enumerate(np.arange(0, side, s)):
                    if (xi + yi) % 2 == 0:
                        d.rectangle([x, y, x + s * rng.uniform(0.8, 1.0), y + s * rng.uniform(0.8, 1.0)],
                                    fill=fill)
                    elif rng.random() < 0.3:
                        d.line([x, y, x + s, y + s], fill=fill, width=2)
        elif kind == "hatch":
            for x in np.arange(-side, side, s / 2):
                d.line([x, 0, x + side, side], fill=fill, width=max(1, int(s / 8)))
                if rng.random() < 0.5:
                    d.line([x + side, 0, x, side], fill=fill, width=max(1, int(s / 10)))
        elif kind == "glyphs":
            for y in np.arange(s * 0.2, side, s * 1.3):
                for x in np.arange(s * 0.2, side, s * 1.3):
                    glyph(d, rng, x, y, s, fill, max(2, int(s / 9)))
        elif kind == "scales":
            for yi, y in enumerate(np.arange(0, side, s * 0.6)):
                for x in np.arange((yi % 2) * s / 2, side, s):
                    d.arc([x - s / 2, y - s / 2, x + s / 2, y + s / 2], 0, 180, fill=fill, width=3)
        layer = layer.rotate(math.degrees(angle), resample=Image.Resampling.BILINEAR)
        off = ((side - w) // 2, (side - h) // 2)
        layer = layer.crop((off[0], off[1], off[0] + w, off[1] + h))
        layer.putalpha(ImageChops.multiply(layer.getchannel("A"), mask))
        self.img.alpha_composite(layer, (x0, y0))

    def line(self, pts: Sequence[Point], color: Sequence[int], width: int) -> None:
        self.draw.line(list(pts), fill=tuple(color), width=width, joint="curve")

    def circle(self, cx: float, cy: float, r: float, fill: Sequence[int] | None = None,
               outline: Sequence[int] | None = None, width: int = 0) -> None:
        self.draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(fill) if fill else None,
                          outline=tuple(outline) if outline else None, width=width)

    def sparkle(self, cx: float, cy: float, r: float, color: Sequence[int]) -> None:
        pts = []
        for i in range(8):
            a = i * math.pi / 4
            rr = r if i % 2 == 0 else r * 0.28
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        self.draw.polygon(pts, fill=tuple(color))


def glyph(d: ImageDraw.ImageDraw, rng: np.random.Generator, x: float, y: float, size: float,
          color: Sequence[int], width: int) -> None:
    """A made-up character: 3-7 strokes on a 4x4 grid (bars, hooks, dots, boxes)."""
    g = size / 4.0
    fill = tuple(color)
    for _ in range(int(rng.integers(3, 8))):
        kind = rng.integers(0, 6)
        a, b = rng.integers(0, 5, 2)
        if kind == 0:  # horizontal bar
            x0, x1 = sorted(rng.integers(0, 5, 2))
            d.line([x + x0 * g, y + a * g, x + max(x1, x0 + 1) * g, y + a * g], fill=fill, width=width)
        elif kind == 1:  # vertical bar
            y0, y1 = sorted(rng.integers(0, 5, 2))
            d.line([x + a * g, y + y0 * g, x + a * g, y + max(y1, y0 + 1) * g], fill=fill, width=width)
        elif kind == 2:  # diagonal sweep
            d.line([x + a * g, y + b * g, x + (a + rng.choice([-2, 2])) * g, y + (b + 2) * g], fill=fill,
                   width=width)
        elif kind == 3:  # dot
            r = width * 0.9
            d.ellipse([x + a * g - r, y + b * g - r, x + a * g + r, y + b * g + r], fill=fill)
        elif kind == 4:  # box
            d.rectangle([x + g, y + g, x + 3 * g, y + (2 + rng.integers(0, 2)) * g], outline=fill, width=width)
        else:  # hook
            d.line([x + a * g, y, x + a * g, y + 3 * g, x + (a + 1) * g, y + 2.4 * g], fill=fill, width=width,
                   joint="curve")


def glyph_row(d: ImageDraw.ImageDraw, rng: np.random.Generator, x: float, y: float, size: float, n: int,
              color: Sequence[int], vertical: bool = False) -> None:
    for i in range(n):
        gx, gy = (x, y + i * size * 1.25) if vertical else (x + i * size * 1.25, y)
        glyph(d, rng, gx, gy, size, color, max(2, int(size / 8)))


# --------------------------------------------------------------------------- characters


PATTERNS = ("stripes", "dots", "checks", "hatch", "glyphs", "scales")


def character(seed: int) -> Image.Image:
    """A 900x1200 RGBA character sprite on a transparent background."""
    rng = np.random.default_rng(seed)
    w, h = SPRITE_SIZE
    cv = Canvas(SPRITE_SIZE, rng)
    ink = hsv(rng.random(), 0.5, 0.16)
    hair_h = rng.random()
    hair = hsv(hair_h, rng.uniform(0.45, 0.9), rng.uniform(0.55, 0.95))
    cloth_h = (hair_h + rng.uniform(0.3, 0.7)) % 1.0
    cloth = hsv(cloth_h, rng.uniform(0.5, 0.85), rng.uniform(0.5, 0.85))
    cloth2 = hsv(cloth_h + rng.uniform(0.08, 0.2), rng.uniform(0.3, 0.7), rng.uniform(0.75, 0.98))
    accent = hsv(cloth_h + 0.5, 0.85, 0.95)
    skin = hsv(rng.uniform(0.03, 0.08), rng.uniform(0.15, 0.3), rng.uniform(0.9, 1.0))
    eye = hsv(rng.random(), 0.8, 0.8)

    cx = w / 2 + rng.uniform(-40, 40)
    head_y = rng.uniform(270, 320)
    hr_x, hr_y = rng.uniform(125, 150), rng.uniform(140, 165)
    tilt = rng.uniform(-0.12, 0.12)
    long_hair = rng.random() < 0.6

    # aura behind the figure: a ring of sparkles and rune arcs (part of the art, on alpha)
    for _ in range(int(rng.integers(10, 18))):
        a = rng.uniform(0, 2 * math.pi)
        rr = rng.uniform(300, 420)
        cv.sparkle(cx + rr * math.cos(a), 560 + rr * 1.2 * math.sin(a), rng.uniform(12, 30), shade(accent, 1.3))

    # hair behind the head
    back_len = rng.uniform(650, 900) if long_hair else rng.uniform(430, 520)
    locks = []
    for i in range(int(rng.integers(7, 12))):
        x0 = cx + rng.uniform(-hr_x * 1.1, hr_x * 1.1)
        pts = bezier((x0, head_y - hr_y * 0.6), (x0 + rng.uniform(-120, 120), head_y + 100),
                     (x0 + rng.uniform(-160, 160), back_len - 120), (x0 + rng.uniform(-200, 200), back_len))
        widths = np.linspace(rng.uniform(90, 150), 6, len(pts))
        locks.append(thick_path(pts, widths))
    cv.paint(blob(rng, cx, head_y, hr_x * 1.35, hr_y * 1.3, 11, 0.18), hair, shade(hair, 0.6), texture=0.4,
             outline=ink, width=5)
    for lk in locks:
        cv.paint(lk, shade(hair, rng.uniform(0.8, 1.1)), shade(hair, 0.55), angle=math.pi / 2, texture=0.35,
                 outline=ink, width=4)

    # a cape behind the body (some characters)
    sh_y = head_y + hr_y + rng.uniform(40, 70)
    sw = rng.uniform(105, 145)
    if rng.random() < 0.5:
        cape_c = hsv(cloth_h + rng.uniform(0.4, 0.6), rng.uniform(0.5, 0.8), rng.uniform(0.35, 0.7))
        low = rng.uniform(880, 1080)
        left = bezier((cx - sw, sh_y), (cx - sw * 1.5, sh_y + 200), (cx - sw * rng.uniform(1.5, 2.3), low - 150),
                      (cx - sw * rng.uniform(1.5, 2.3), low), 16)
        right = bezier((cx + sw, sh_y), (cx + sw * 1.5, sh_y + 200), (cx + sw * rng.uniform(1.5, 2.3), low - 150),
                       (cx + sw * rng.uniform(1.5, 2.3), low + rng.uniform(-60, 60)), 16)
        cape = left + right[::-1]
        cv.paint(cape, cape_c, shade(cape_c, 0.5), texture=0.4, outline=ink, width=5)
        cv.pattern(cape, PATTERNS[int(rng.integers(0, len(PATTERNS)))], shade(cape_c, 1.4),
                   rng.uniform(20, 44), rng.uniform(0, math.pi), 120)
        for k in range(int(rng.integers(3, 7))):  # folds
            fx = cx + rng.uniform(-sw * 1.8, sw * 1.8)
            cv.line(bezier((fx * 0.3 + cx * 0.7, sh_y + 60), (fx, sh_y + 200), (fx, low - 200), (fx, low - 20), 10),
                    shade(cape_c, 0.4), 4)

    # legs and footwear
    hip_y = rng.uniform(740, 830)
    foot_y = rng.uniform(1120, 1160)
    boot_top = foot_y - rng.uniform(80, 190)
    spread = rng.uniform(40, 130)
    lace_kind = int(rng.integers(0, 3))
    n_laces = int(rng.integers(2, 6))
    toe = rng.uniform(50, 95)
    for side in (-1, 1):
        foot_x = cx + side * spread + rng.uniform(-30, 30)
        knee_y = (hip_y + foot_y) / 2 + rng.uniform(-30, 30)
        leg = thick_path([(cx + side * 45, hip_y), ((cx + side * 45 + foot_x) / 2, knee_y), (foot_x, foot_y - 20)],
                         [80, 64, 58])
        cv.paint(leg, skin, shade(skin, 0.85), texture=0.15, outline=ink, width=4)
        if rng.random() < 0.5:  # stockings
            sock = thick_path([((cx + side * 45 + foot_x) / 2, knee_y + 20), (foot_x, foot_y - 20)], [64, 58])
            cv.paint(sock, shade(cloth2, 0.9), shade(cloth2, 0.6), texture=0.2, outline=ink, width=3)
            cv.pattern(sock, "stripes", shade(cloth, 0.8), rng.uniform(14, 26), 0.0, 200)
        bw = rng.uniform(38, 48)
        boot = [(foot_x - bw, boot_top), (foot_x + bw, boot_top), (foot_x + bw + 4, foot_y),
                (foot_x + side * toe, foot_y), (foot_x + side * (toe + 4), foot_y + 36), (foot_x - bw - 8, foot_y + 36)]
        boot_c = shade(cloth, rng.uniform(0.35, 0.7))
        cv.paint(boot, boot_c, shade(boot_c, 0.5), texture=0.3, outline=ink, width=4)
        cv.draw.rectangle([foot_x - bw - 6, boot_top - 4, foot_x + bw + 6, boot_top + 14], fill=shade(boot_c, 1.4),
                          outline=ink, width=3)
        gap = (foot_y - boot_top - 30) / max(n_laces, 1)
        for k in range(n_laces):
            yy = boot_top + 24 + k * gap
            if lace_kind == 0:  # criss-cross laces
                cv.line([(foot_x - 28, yy), (foot_x + 28, yy + gap * 0.45)], accent, 4)
                cv.line([(foot_x - 28, yy + gap * 0.45), (foot_x + 28, yy)], accent, 4)
            elif lace_kind == 1:  # straps with buckles
                cv.draw.rectangle([foot_x - bw, yy, foot_x + bw, yy + 12], fill=shade(accent, 0.7), outline=ink,
                                  width=2)
                cv.draw.rectangle([foot_x + side * 10 - 7, yy - 3, foot_x + side * 10 + 7, yy + 15],
                                  outline=(235, 205, 90), width=3)
            else:  # studs
                cv.circle(foot_x + side * 18, yy + 6, 6, fill=(235, 205, 90), outline=ink, width=2)

    # skirt / coat
    flare = rng.uniform(180, 320)
    skirt_top = rng.uniform(620, 700)
    hem_y = min(skirt_top + rng.uniform(230, 360), boot_top - 10)
    hem = bezier((cx - flare, hem_y), (cx - flare / 3, hem_y + rng.uniform(-40, 60)),
                 (cx + flare / 3, hem_y + rng.uniform(-40, 60)), (cx + flare, hem_y), 20)
    waist = rng.uniform(90, 115)
    skirt = [(cx - waist, skirt_top), (cx + waist, skirt_top)] + hem[::-1]
    kind = PATTERNS[int(rng.integers(0, len(PATTERNS)))]
    cv.paint(skirt, cloth, shade(cloth, 0.6), texture=0.35, outline=ink, width=5)
    cv.pattern(skirt, kind, shade(cloth2, 1.1), rng.uniform(26, 48), rng.uniform(0, math.pi), 170)
    n_pleats = int(rng.integers(3, 9))
    for k in range(n_pleats):
        t = (k + 1) / (n_pleats + 1) + rng.uniform(-0.03, 0.03)
        x_top = cx - waist + 2 * waist * t
        x_bot = cx - flare + 2 * flare * t
        cv.line([(x_top, skirt_top + 10), (x_bot, hem_y - 4)], shade(cloth, 0.45), 4)
    wave, amp = rng.uniform(0.8, 2.0), rng.uniform(6, 16)
    frill = [(x, y + 10 + amp * math.sin(i * wave)) for i, (x, y) in enumerate(hem)]
    cv.line(frill, cloth2, int(rng.integers(6, 14)))

    # torso
    torso = [(cx - sw, sh_y), (cx + sw, sh_y), (cx + waist - 5, skirt_top + 20), (cx - waist + 5, skirt_top + 20)]
    cv.paint(torso, cloth2, shade(cloth2, 0.7), texture=0.3, outline=ink, width=5)
    jacket_kind = PATTERNS[int(rng.integers(0, len(PATTERNS)))]
    lapel = rng.uniform(15, 45)
    for side in (-1, 1):  # jacket panels
        panel = [(cx + side * sw, sh_y), (cx + side * lapel, sh_y + rng.uniform(20, 90)),
                 (cx + side * (lapel + 5), skirt_top + 20), (cx + side * (waist - 5), skirt_top + 20)]
        cv.paint(panel, cloth, shade(cloth, 0.55), texture=0.35, outline=ink, width=4)
        cv.pattern(panel, jacket_kind, shade(cloth, 1.35), rng.uniform(18, 30), rng.uniform(0, math.pi), 150)
    n_buttons = int(rng.integers(0, 6))
    bx = cx + rng.uniform(-8, 8)
    if n_buttons < 2:  # a zip and a tie instead
        cv.line([(bx, sh_y + 30), (bx, skirt_top)], (200, 200, 210), 6)
        for k in range(int((skirt_top - sh_y) / 14)):
            cv.line([(bx - 5, sh_y + 34 + k * 14), (bx + 5, sh_y + 34 + k * 14)], ink, 2)
        cv.paint([(bx - 30, sh_y), (bx + 30, sh_y), (bx + 8, sh_y + 40), (bx + 24, sh_y + 150), (bx, sh_y + 175),
                  (bx - 24, sh_y + 150), (bx - 8, sh_y + 40)], accent, shade(accent, 0.5), texture=0.2, outline=ink,
                 width=3)
    else:
        br = rng.uniform(8, 14)
        for k in range(n_buttons):
            by = sh_y + 50 + k * (skirt_top - sh_y - 60) / n_buttons
            cv.circle(bx, by, br, fill=accent, outline=ink, width=3)
            cv.circle(bx - br / 3, by - br / 3, br / 4, fill=(255, 255, 255))
    belt_h = rng.uniform(18, 40)
    belt = [(cx - waist - 5, skirt_top - belt_h / 2), (cx + waist + 5, skirt_top - belt_h / 2),
            (cx + waist + 5, skirt_top + belt_h / 2), (cx - waist - 5, skirt_top + belt_h / 2)]
    cv.paint(belt, shade(accent, 0.6), shade(accent, 0.35), texture=0.2, outline=ink, width=3)
    buckle = int(rng.integers(0, 3))
    bs = belt_h * 0.8 + 6
    if buckle == 0:
        cv.draw.rectangle([bx - bs, skirt_top - bs * 0.8, bx + bs, skirt_top + bs * 0.8], outline=(235, 205, 90),
                          width=6)
    elif buckle == 1:
        cv.circle(bx, skirt_top, bs, outline=(235, 205, 90), width=6)
    else:
        cv.draw.polygon([(bx - bs, skirt_top), (bx, skirt_top - bs), (bx + bs, skirt_top), (bx, skirt_top + bs)],
                        fill=(235, 205, 90), outline=ink)
    # emblem with a glyph
    er = rng.uniform(28, 46)
    ex, ey = cx + rng.choice([-1, 1]) * rng.uniform(45, 80), sh_y + rng.uniform(60, 130)
    cv.paint(ellipse_pts(ex, ey, er, er, 24), accent, shade(accent, 0.5), texture=0.2, outline=ink, width=4,
             radial_fill=True)
    glyph(cv.draw, rng, ex - er * 0.55, ey - er * 0.55, er * 1.1, ink, 5)

    # arms; one holds a staff
    staff_side = rng.choice([-1, 1])
    hands = []
    for side in (-1, 1):
        shoulder = (cx + side * (sw - 15), sh_y + 25)
        if side == staff_side:
            elbow = (shoulder[0] + side * rng.uniform(60, 110), shoulder[1] + rng.uniform(110, 160))
            hand = (elbow[0] + side * rng.uniform(-20, 40), elbow[1] - rng.uniform(20, 90))
        else:
            elbow = (shoulder[0] + side * rng.uniform(30, 80), shoulder[1] + rng.uniform(140, 190))
            hand = (elbow[0] + side * rng.uniform(-60, 20), elbow[1] + rng.uniform(100, 150))
        sleeve = thick_path([shoulder, elbow, hand], [86, 74, 60])
        cv.paint(sleeve, cloth, shade(cloth, 0.55), texture=0.35, outline=ink, width=4)
        cuff = thick_path([elbow, ((elbow[0] + hand[0]) / 2, (elbow[1] + hand[1]) / 2)], [80, 72])
        cv.paint(cuff, cloth2, shade(cloth2, 0.8), texture=0.2, outline=ink, width=3)
        cv.paint(ellipse_pts(hand[0], hand[1], 30, 34, 20), skin, shade(skin, 0.85), texture=0.1, outline=ink,
                 width=4)
        hands.append(hand)
    hand = hands[0] if staff_side == -1 else hands[1]
    top = (hand[0] + staff_side * rng.uniform(20, 80), hand[1] - rng.uniform(380, 470))
    bottom = (hand[0] - staff_side * rng.uniform(10, 40), min(hand[1] + rng.uniform(280, 420), 1190))
    staff = thick_path([top, bottom], [22, 22])
    cv.paint(staff, (150, 100, 60), (80, 50, 30), texture=0.5, outline=ink, width=3)
    for k in range(6):  # runes along the staff
        t = 0.12 + k * 0.11
        gx = top[0] + (bottom[0] - top[0]) * t
        gy = top[1] + (bottom[1] - top[1]) * t
        glyph(cv.draw, rng, gx - 9, gy - 9, 18, (250, 230, 150), 3)
    _staff_head(cv, rng, top, accent, ink)

    # neck, face
    cv.paint([(cx - 30, head_y + hr_y * 0.7), (cx + 30, head_y + hr_y * 0.7), (cx + 34, sh_y + 10),
              (cx - 34, sh_y + 10)], shade(skin, 0.9), shade(skin, 0.75), texture=0.1)
    face = ellipse_pts(cx, head_y, hr_x, hr_y, 60, tilt)
    face = [(x, y + max(0.0, y - head_y) * 0.12) for x, y in face]  # a pointier chin
    cv.paint(face, skin, shade(skin, 0.9), texture=0.08, grain=4, outline=ink, width=5)
    eye_y = head_y + hr_y * rng.uniform(0.05, 0.2)
    eye_dx = hr_x * rng.uniform(0.38, 0.48)
    ew, eh = rng.uniform(30, 42), rng.uniform(40, 56)
    # the eye style of this character: streaks, highlights, lid and brow shapes
    n_streaks, streak_rot = int(rng.integers(0, 9)), rng.uniform(0, math.pi)
    hi1 = (rng.uniform(-0.5, 0.1), rng.uniform(-0.5, -0.1), rng.uniform(0.15, 0.32))
    hi2 = (rng.uniform(0.0, 0.45), rng.uniform(0.1, 0.5), rng.uniform(0.06, 0.16))
    lid_lift, lid_w, flick = rng.uniform(0.9, 1.4), rng.uniform(5, 11), rng.uniform(8, 24)
    brow_h, brow_arch = rng.uniform(1.5, 2.0), rng.uniform(0.1, 0.45)
    for side in (-1, 1):
        ex = cx + side * eye_dx + tilt * -30
        ey = eye_y + side * tilt * eye_dx
        cv.paint(ellipse_pts(ex, ey, ew, eh, 30, tilt), (250, 250, 255), (215, 220, 235), texture=0.0, grain=2)
        cv.paint(ellipse_pts(ex, ey + 6, ew * 0.78, eh * 0.82, 30, tilt), shade(eye, 1.3), shade(eye, 0.35),
                 angle=math.pi / 2, texture=0.3)
        cv.circle(ex, ey + 8, ew * 0.38, fill=shade(eye, 0.2))
        for k in range(n_streaks):  # iris streaks
            a = k * 2 * math.pi / n_streaks + streak_rot
            cv.line([(ex + ew * 0.42 * math.cos(a), ey + 8 + eh * 0.42 * math.sin(a)),
                     (ex + ew * 0.7 * math.cos(a), ey + 8 + eh * 0.7 * math.sin(a))], shade(eye, 1.5), 3)
        cv.circle(ex + ew * hi1[0], ey + eh * hi1[1], ew * hi1[2], fill=(255, 255, 255))
        cv.circle(ex + ew * hi2[0], ey + eh * hi2[1], ew * hi2[2], fill=(255, 255, 255))
        lid = bezier((ex - ew * 1.15, ey - eh * 0.55), (ex - ew * 0.4, ey - eh * lid_lift),
                     (ex + ew * 0.5, ey - eh * lid_lift), (ex + ew * 1.2, ey - eh * 0.45), 14)
        cv.line(lid, ink, int(lid_w))
        cv.line([lid[-1], (lid[-1][0] + side * flick, lid[-1][1] - flick * 0.6)], ink, 6)  # lash flick
        brow = bezier((ex - ew, ey - eh * brow_h), (ex - ew * 0.3, ey - eh * (brow_h + brow_arch)),
                      (ex + ew * 0.3, ey - eh * (brow_h + brow_arch)), (ex + ew, ey - eh * (brow_h - 0.05)), 10)
        cv.line(brow, shade(hair, 0.4), 6)
        for k in range(3):  # blush hatching
            bx = ex + side * 10 + k * 12 - 12
            cv.line([(bx, ey + eh * 1.25), (bx - 8, ey + eh * 1.45)], (235, 120, 130), 4)
    mouth_y = head_y + hr_y * 0.62
    if rng.random() < 0.5:
        cv.paint([(cx - 22, mouth_y), (cx + 22, mouth_y), (cx, mouth_y + 24)], (170, 60, 70), (120, 30, 40),
                 texture=0.0, outline=ink, width=3)
    else:
        cv.line(bezier((cx - 24, mouth_y), (cx - 8, mouth_y + 14), (cx + 8, mouth_y + 14), (cx + 24, mouth_y), 8),
                ink, 5)

    # fringe and top locks over the face
    fringe_y = head_y - hr_y * rng.uniform(0.05, 0.3)
    for i in range(int(rng.integers(6, 10))):
        x0 = cx - hr_x * 1.1 + i * (2.2 * hr_x) / 8 + rng.uniform(-10, 10)
        tip = (x0 + rng.uniform(-40, 40), fringe_y + rng.uniform(0, 70))
        pts = bezier((x0 + rng.uniform(-30, 30), head_y - hr_y * 1.15), (x0, head_y - hr_y * 0.8),
                     (tip[0], tip[1] - 60), tip, 12)
        lock = thick_path(pts, np.linspace(rng.uniform(70, 110), 4, len(pts)))
        cv.paint(lock, shade(hair, 1.15), shade(hair, 0.7), angle=math.pi / 2, texture=0.3, outline=ink, width=4)
        cv.line(pts[2:-3], shade(hair, 1.45), 3)  # shine
    cap = blob(rng, cx, head_y - hr_y * 0.85, hr_x * 1.05, hr_y * 0.45, 9, 0.15)
    cv.paint(cap, hair, shade(hair, 0.75), angle=-math.pi / 2, texture=0.35)
    for k in range(int(rng.integers(3, 7))):  # highlight band
        a = -math.pi * 0.85 + k * 0.25
        hx, hy = cx + hr_x * 0.8 * math.cos(a), head_y - hr_y * 0.6 + hr_y * 0.5 * math.sin(a)
        cv.paint([(hx - 16, hy), (hx + 16, hy), (hx, hy + 40)], shade(hair, 1.6), shade(hair, 1.3), texture=0.0)
    if rng.random() < 0.7:  # a cowlick of its own shape
        d = rng.choice([-1, 1])
        ahoge = bezier((cx + rng.uniform(-40, 40), head_y - hr_y * 1.2),
                       (cx + d * rng.uniform(0, 60), head_y - hr_y * rng.uniform(1.5, 1.9)),
                       (cx + d * rng.uniform(60, 140), head_y - hr_y * rng.uniform(1.4, 1.8)),
                       (cx + d * rng.uniform(30, 100), head_y - hr_y * rng.uniform(1.25, 1.5)), 14)
        cv.paint(thick_path(ahoge, np.linspace(rng.uniform(18, 34), 3, len(ahoge))), hair, shade(hair, 0.6),
                 texture=0.2, outline=ink, width=3)
    # ribbon
    rx, ry = cx + rng.choice([-1, 1]) * hr_x * rng.uniform(0.5, 0.95), head_y - hr_y * rng.uniform(0.75, 1.05)
    rw, rh = rng.uniform(45, 90), rng.uniform(30, 55)
    ribbon_kind = ("dots", "stripes", "checks", "hatch")[int(rng.integers(0, 4))]
    ribbon_scale, ribbon_angle = rng.uniform(12, 22), rng.uniform(0, math.pi)
    for side in (-1, 1):
        wing = [(rx, ry), (rx + side * rw, ry - rh), (rx + side * rw * 1.1, ry + rh * 0.8)]
        cv.paint(wing, accent, shade(accent, 0.55), texture=0.25, outline=ink, width=4)
        cv.pattern(wing, ribbon_kind, (255, 255, 255), ribbon_scale, ribbon_angle, 220)
    cv.circle(rx, ry, 16, fill=shade(accent, 0.8), outline=ink, width=3)

    # dark line art around the silhouette
    alpha = cv.img.getchannel("A")
    grown = cv2.dilate(np.asarray(alpha), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    edge = ImageChops.subtract(Image.fromarray(grown, "L"), alpha)
    line = Image.new("RGBA", SPRITE_SIZE, (*ink, 255))
    line.putalpha(edge)
    out = Image.alpha_composite(line, cv.img)
    return out


def _staff_head(cv: Canvas, rng: np.random.Generator, top: Point, accent: RGB, ink: RGB) -> None:
    """The ornament on a staff: every character gets its own (orb, crystal, crescent or star)."""
    x, y = top
    r = rng.uniform(40, 62)
    gold = hsv(rng.uniform(0.1, 0.15), rng.uniform(0.5, 0.8), 0.92)
    kind = int(rng.integers(0, 4))
    if kind == 0:  # orb in a cage of rays
        cv.paint(ellipse_pts(x, y, r, r, 32), shade(accent, 1.5), shade(accent, 0.5), texture=0.2, outline=ink,
                 width=5, radial_fill=True)
        cv.sparkle(x + rng.uniform(-0.4, 0.2) * r, y + rng.uniform(-0.4, 0.2) * r, r * rng.uniform(0.3, 0.6),
                   (255, 255, 255))
        n, twist = int(rng.integers(3, 9)), rng.uniform(-0.5, 0.5)
        for k in range(n):
            a = k * 2 * math.pi / n + rng.uniform(0, 0.4)
            cv.line([(x + r * 1.1 * math.cos(a), y + r * 1.1 * math.sin(a)),
                     (x + r * rng.uniform(1.4, 1.9) * math.cos(a + twist), y + r * 1.7 * math.sin(a + twist))],
                    gold, int(rng.integers(4, 8)))
    elif kind == 1:  # a faceted crystal
        hgt = r * rng.uniform(1.6, 2.2)
        pts = [(x, y - hgt), (x + r * 0.7, y - hgt * 0.3), (x + r * 0.45, y + hgt * 0.4), (x, y + hgt * 0.55),
               (x - r * 0.45, y + hgt * 0.4), (x - r * 0.7, y - hgt * 0.3)]
        cv.paint(pts, shade(accent, 1.6), shade(accent, 0.45), texture=0.15, outline=ink, width=4)
        for p in pts[1:]:
            cv.line([(x, y - hgt * 0.1), p], shade(accent, 1.8), 2)
        cv.paint(thick_path([(x - r * 0.9, y + hgt * 0.5), (x + r * 0.9, y + hgt * 0.5)], [18, 18]), gold,
                 shade(gold, 0.6), texture=0.2, outline=ink, width=3)
    elif kind == 2:  # a crescent with a dangling star
        cv.paint(crescent(x, y, r * 1.1, x + r * 0.45, y - r * 0.25, r * 0.85), gold, shade(gold, 0.55),
                 texture=0.25, outline=ink, width=4, radial_fill=True)
        cv.line([(x - r * 0.1, y + r * 0.3), (x - r * 0.1, y + r * 0.9)], gold, 3)
        cv.sparkle(x - r * 0.1, y + r * 1.05, r * 0.35, shade(accent, 1.4))
    else:  # a star on a ring
        cv.circle(x, y, r * 1.05, outline=gold, width=8)
        pts = []
        for k in range(10):
            a = -math.pi / 2 + k * math.pi / 5
            rr = r * (0.95 if k % 2 == 0 else rng.uniform(0.38, 0.5))
            pts.append((x + rr * math.cos(a), y + rr * math.sin(a)))
        cv.paint(pts, shade(accent, 1.5), shade(accent, 0.6), texture=0.2, outline=ink, width=4)
        glyph(cv.draw, rng, x - r * 0.22, y - r * 0.2, r * 0.44, ink, 3)


# --------------------------------------------------------------------------- scenes


def ridge(rng: np.random.Generator, w: int, base: float, amp: float, rough: float = 0.55) -> list[Point]:
    """Midpoint-displacement mountain ridge from x=0 to x=w."""
    n = 129
    ys = np.zeros(n)
    ys[0], ys[-1] = rng.uniform(-1, 1) * amp * 0.5, rng.uniform(-1, 1) * amp * 0.5
    step, scale = n - 1, amp
    while step > 1:
        half = step // 2
        for i in range(half, n - 1, step):
            ys[i] = (ys[i - half] + ys[i + half]) / 2 + rng.uniform(-1, 1) * scale
        scale *= rough
        step = half
    xs = np.linspace(0, w, n)
    return [(float(x), float(base - y)) for x, y in zip(xs, ys, strict=True)]


def scene(seed: int, theme: str | None = None) -> Image.Image:
    """A 1280x720 RGB background painting: ``theme`` is town, shrine or harbour."""
    rng = np.random.default_rng(seed)
    w, h = SCENE_SIZE
    theme = theme or ("town", "shrine", "harbour")[int(rng.integers(0, 3))]
    night = rng.random() < 0.35
    sky_h = rng.random()
    top = hsv(sky_h if night else rng.uniform(0.55, 0.65), 0.7, 0.25 if night else 0.85)
    low = hsv(rng.uniform(0.0, 0.12), 0.55, 0.55 if night else 1.0)
    cv = Canvas(SCENE_SIZE, rng, background=top)
    sky = gradient(w, h, top, low, math.pi / 2 + rng.uniform(-0.2, 0.2))
    sky += rng.normal(0, 3, (h, w, 1)).astype(np.float32)
    cv.img.paste(Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8), "RGB"), (0, 0))
    if night:
        for _ in range(250):
            cv.circle(rng.uniform(0, w), rng.uniform(0, h * 0.6), rng.uniform(0.8, 2.5), fill=(255, 255, 230))
        for _ in range(12):
            cv.sparkle(rng.uniform(0, w), rng.uniform(0, h * 0.5), rng.uniform(6, 14), (255, 250, 210))
    sun_x, sun_y, sun_r = rng.uniform(150, w - 150), rng.uniform(80, 240), rng.uniform(40, 80)
    for k in range(6, 0, -1):
        cv.circle(sun_x, sun_y, sun_r * (1 + k * 0.25), fill=shade(low, 1.0 + 0.06 * (7 - k)))
    cv.paint(ellipse_pts(sun_x, sun_y, sun_r, sun_r), (255, 250, 225), (255, 215, 150), texture=0.05,
             radial_fill=True)
    if night:  # a crescent
        cv.circle(sun_x + sun_r * 0.4, sun_y - sun_r * 0.2, sun_r * 0.85, fill=shade(top, 1.05))

    # clouds: thresholded noise, lit from the sun's side
    n = value_noise(rng, w, h // 2, octaves=6, base=3)
    a = np.clip((n - rng.uniform(0.55, 0.65)) * 6, 0, 1) * np.linspace(1, 0.2, h // 2)[:, None]
    cloud = np.zeros((h // 2, w, 4), np.uint8)
    lit = np.clip(200 + 55 * n, 0, 255)
    cloud[..., 0] = lit
    cloud[..., 1] = np.clip(lit - 10, 0, 255)
    cloud[..., 2] = np.clip(lit + 5, 0, 255)
    cloud[..., 3] = (a * (160 if night else 235)).astype(np.uint8)
    cv.img.alpha_composite(Image.fromarray(cloud, "RGBA"), (0, 0))

    # mountain layers
    horizon = rng.uniform(0.5, 0.62) * h
    for k in range(3):
        base = horizon - 60 + k * 45
        ridge_pts = ridge(rng, w, base, rng.uniform(60, 140) / (k + 1))
        poly = ridge_pts + [(w, h), (0, h)]
        far = shade(hsv(rng.uniform(0.5, 0.75), 0.35 - k * 0.05, 0.75 - k * 0.2), 0.9)
        cv.paint(poly, far, shade(far, 0.6), angle=math.pi / 2, texture=0.45, grain=6)
        if k == 0:  # snow caps
            for i in range(0, len(ridge_pts) - 6, 3):
                x, y = ridge_pts[i]
                if y < base - 40:
                    cv.paint([(x - 14, y + 3), (x + 14, y + 3), (x, y - 6)], (245, 245, 250), (215, 220, 235),
                             texture=0.0, grain=3)

    ground_y = horizon + rng.uniform(70, 110)
    if theme == "harbour":
        water = gradient(w, int(h - ground_y + 40), shade(top, 1.25), shade(top, 0.6), math.pi / 2)
        cv.img.paste(Image.fromarray(np.clip(water, 0, 255).astype(np.uint8), "RGB"), (0, int(ground_y - 40)))
        for _ in range(420):  # ripples
            x, y = rng.uniform(0, w), rng.uniform(ground_y - 35, h)
            ln = rng.uniform(10, 60) * (0.5 + (y - ground_y) / h)
            cv.line(bezier((x, y), (x + ln / 3, y - 3), (x + 2 * ln / 3, y + 3), (x + ln, y), 6),
                    shade(low, rng.uniform(0.9, 1.3)), int(rng.integers(1, 4)))
        for _ in range(int(rng.integers(3, 6))):  # boats
            bx, by, bs = rng.uniform(60, w - 200), rng.uniform(ground_y, h - 80), rng.uniform(0.6, 1.4)
            hull = [(bx, by), (bx + 150 * bs, by), (bx + 125 * bs, by + 34 * bs), (bx + 20 * bs, by + 34 * bs)]
            cv.paint(hull, hsv(rng.random(), 0.7, 0.7), None, texture=0.3, outline=(30, 25, 30), width=3)
            cv.line([(bx + 70 * bs, by), (bx + 70 * bs, by - 120 * bs)], (60, 40, 30), max(2, int(4 * bs)))
            sail = [(bx + 74 * bs, by - 115 * bs), (bx + 74 * bs, by - 10 * bs), (bx + 140 * bs, by - 12 * bs)]
            cv.paint(sail, (245, 240, 225), (200, 190, 170), texture=0.2, outline=(40, 30, 30), width=2)
            cv.pattern(sail, "stripes", hsv(rng.random(), 0.7, 0.8), 14 * bs, 0.3, 200)
            glyph(cv.draw, rng, bx + 30 * bs, by + 8 * bs, 18 * bs, (250, 240, 200), 2)
        pier_x = rng.uniform(100, w - 500)
        cv.paint([(pier_x, ground_y + 30), (pier_x + 420, ground_y + 30), (pier_x + 420, ground_y + 52),
                  (pier_x, ground_y + 52)], (120, 85, 60), (70, 45, 30), texture=0.5, outline=(30, 20, 15), width=3)
        for k in range(8):
            px = pier_x + 10 + k * 56
            cv.paint([(px, ground_y + 50), (px + 14, ground_y + 50), (px + 14, ground_y + 130),
                      (px, ground_y + 130)], (90, 60, 40), (50, 30, 20), texture=0.5, outline=(30, 20, 15), width=2)
        for k in range(int(rng.integers(2, 4))):  # warehouses on the far shore
            hx = rng.uniform(0, w - 220)
            _building(cv, rng, hx, ground_y - 40, rng.uniform(140, 220), rng.uniform(90, 160))
    else:
        ground = hsv(rng.uniform(0.2, 0.35), 0.5, 0.5 if not night else 0.3)
        cv.paint([(0, ground_y), (w, ground_y - rng.uniform(-30, 30)), (w, h), (0, h)], ground,
                 shade(ground, 0.55), angle=math.pi / 2, texture=0.5, grain=8)
        path = bezier((w * rng.uniform(0.3, 0.6), ground_y), (w * rng.uniform(0.2, 0.8), ground_y + 80),
                      (w * rng.uniform(0.1, 0.9), h - 120), (w * rng.uniform(0.3, 0.7), h), 24)
        cv.paint(thick_path(path, np.linspace(20, 260, len(path))), (190, 170, 130), (140, 120, 90),
                 texture=0.5, grain=10)
        for i in range(0, len(path) - 1, 2):  # stepping stones
            x, y = path[i]
            r = 8 + i * 2.2
            cv.paint(blob(rng, x + rng.uniform(-r, r), y, r, r * 0.5, 7, 0.3), (160, 155, 150), (100, 95, 95),
                     texture=0.4, outline=(60, 55, 55), width=2)
        if theme == "town":
            x = rng.uniform(-60, 20)
            while x < w:
                bw = rng.uniform(120, 240)
                _building(cv, rng, x, ground_y + rng.uniform(-10, 20), bw, rng.uniform(140, 330))
                x += bw + rng.uniform(10, 140)
        else:  # shrine: torii, stone lanterns, a hall
            hx = rng.uniform(150, w - 550)
            _building(cv, rng, hx, ground_y + 10, rng.uniform(300, 400), rng.uniform(150, 200), shrine=True)
            _torii(cv, rng, rng.uniform(80, w - 420), ground_y + 160, rng.uniform(240, 320))
            for _ in range(int(rng.integers(2, 4))):
                _lantern(cv, rng, rng.uniform(40, w - 80), ground_y + rng.uniform(120, 260))
        for _ in range(900):  # grass strokes
            x, y = rng.uniform(0, w), rng.uniform(ground_y + 10, h)
            ln = rng.uniform(6, 22) * (0.4 + (y - ground_y) / (h - ground_y))
            cv.line([(x, y), (x + rng.uniform(-5, 5), y - ln)], shade(ground, rng.uniform(0.5, 1.4)), 2)
        for _ in range(60):  # flowers
            x, y = rng.uniform(0, w), rng.uniform(ground_y + 40, h)
            r = rng.uniform(3, 8)
            cv.circle(x, y, r, fill=hsv(rng.random(), 0.6, 1.0), outline=(60, 40, 40), width=1)

    # trees at the sides
    for _ in range(int(rng.integers(2, 5))):
        _tree(cv, rng, rng.choice([rng.uniform(-40, 260), rng.uniform(w - 260, w + 40)]),
              rng.uniform(ground_y + 40, h - 20))
    # power lines
    if theme != "harbour" or rng.random() < 0.5:
        px = rng.uniform(60, w - 60)
        cv.paint([(px - 8, ground_y - 260), (px + 8, ground_y - 260), (px + 10, h), (px - 10, h)], (70, 60, 55),
                 (40, 35, 30), texture=0.4, outline=(20, 20, 20), width=2)
        cv.line([(px - 60, ground_y - 240), (px + 60, ground_y - 240)], (50, 45, 40), 8)
        for k in range(3):
            y0 = ground_y - 240 + k * 4
            cv.line(bezier((-10, y0 + rng.uniform(-60, 60)), (px / 2, y0 + 70), (px / 2, y0 + 60),
                           (px - 55 + k * 55, y0), 20), (30, 30, 35), 2)
            cv.line(bezier((px - 55 + k * 55, y0), ((px + w) / 2, y0 + 60), ((px + w) / 2, y0 + 80),
                           (w + 10, y0 + rng.uniform(-60, 60)), 20), (30, 30, 35), 2)
    # drifting petals or fireflies
    for _ in range(80):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        c = (255, 240, 120) if night else (255, 190, 210)
        cv.paint(ellipse_pts(x, y, rng.uniform(3, 7), rng.uniform(2, 4), 10, rng.uniform(0, math.pi)), c,
                 shade(c, 0.8), texture=0.0, grain=0)
    return cv.img.convert("RGB")


def _building(cv: Canvas, rng: np.random.Generator, x: float, base: float, bw: float, bh: float,
              shrine: bool = False) -> None:
    wall = hsv(rng.uniform(0.0, 0.15) if shrine else rng.random(), rng.uniform(0.1, 0.45), rng.uniform(0.55, 0.9))
    body = [(x, base - bh), (x + bw, base - bh), (x + bw, base), (x, base)]
    cv.paint(body, wall, shade(wall, 0.6), texture=0.4, outline=(35, 30, 35), width=3)
    roof_c = hsv(rng.choice([0.0, 0.58, 0.33, 0.08]) + rng.uniform(-0.03, 0.03), 0.6, 0.45)
    over = rng.uniform(15, 40) + (30 if shrine else 0)
    rh = rng.uniform(40, 90) + (40 if shrine else 0)
    roof = bezier((x - over, base - bh + 6), (x + bw * 0.25, base - bh - rh * 0.4),
                  (x + bw * 0.3, base - bh - rh), (x + bw / 2, base - bh - rh), 12)
    roof = roof + [(x + bw - px + x, py) for px, py in roof[::-1]]
    cv.paint(roof, roof_c, shade(roof_c, 0.5), texture=0.4, outline=(25, 20, 25), width=3)
    cv.pattern(roof, "scales" if shrine else "hatch", shade(roof_c, 1.4), rng.uniform(12, 22), 0.0, 140)
    # windows: an irregular grid, some lit
    cols = max(2, int(bw / rng.uniform(32, 52)))
    rows = max(1, int(bh / rng.uniform(42, 70)))
    ww = bw / cols * rng.uniform(0.45, 0.7)
    wh = bh / rows * rng.uniform(0.35, 0.6)
    for r in range(rows):
        for c in range(cols):
            if rng.random() < 0.15:
                continue
            wx = x + (c + 0.5) * bw / cols - ww / 2 + rng.uniform(-3, 3)
            wy = base - bh + (r + 0.35) * bh / rows + rng.uniform(-3, 3)
            lit = rng.random() < 0.45
            col = hsv(rng.uniform(0.1, 0.16), 0.6, 1.0) if lit else shade(wall, 0.35)
            cv.draw.rectangle([wx, wy, wx + ww, wy + wh], fill=col, outline=(30, 25, 30), width=2)
            cv.draw.line([wx + ww / 2, wy, wx + ww / 2, wy + wh], fill=(30, 25, 30), width=2)
            if rng.random() < 0.3:
                cv.draw.line([wx, wy + wh / 2, wx + ww, wy + wh / 2], fill=(30, 25, 30), width=2)
    # a sign with glyphs
    if rng.random() < 0.8:
        vertical = rng.random() < 0.5
        n = int(rng.integers(2, 5))
        gs = rng.uniform(20, 30)
        sx = x + rng.uniform(5, max(6, bw - gs * (1.6 if vertical else n * 1.3 + 1)))
        sy = base - bh + rng.uniform(5, max(6, bh * 0.4))
        sw, sh = (gs * 1.5, gs * (n * 1.25 + 0.4)) if vertical else (gs * (n * 1.25 + 0.4), gs * 1.5)
        board = hsv(rng.random(), 0.8, rng.uniform(0.6, 0.95))
        cv.paint([(sx, sy), (sx + sw, sy), (sx + sw, sy + sh), (sx, sy + sh)], board, shade(board, 0.6),
                 texture=0.2, outline=(20, 20, 20), width=3)
        glyph_row(cv.draw, rng, sx + gs * 0.25, sy + gs * 0.25, gs, n, (255, 255, 240), vertical)
    if shrine:  # a curtain of ropes and paper streamers
        cv.line(bezier((x + 10, base - bh + 30), (x + bw / 3, base - bh + 60), (x + 2 * bw / 3, base - bh + 60),
                       (x + bw - 10, base - bh + 30), 16), (230, 210, 150), 10)
        for k in range(5):
            zx = x + bw * (k + 1) / 6
            zy = base - bh + 52
            cv.line([(zx, zy), (zx + 8, zy + 12), (zx - 4, zy + 22), (zx + 8, zy + 34)], (255, 255, 255), 5)


def _torii(cv: Canvas, rng: np.random.Generator, x: float, base: float, size: float) -> None:
    red = hsv(rng.uniform(0.0, 0.03), 0.85, 0.85)
    for px in (x + size * 0.15, x + size * 0.85):
        cv.paint([(px - 14, base - size), (px + 14, base - size), (px + 18, base), (px - 18, base)], red,
                 shade(red, 0.55), texture=0.35, outline=(30, 15, 15), width=3)
        cv.paint([(px - 22, base - 26), (px + 22, base - 26), (px + 22, base), (px - 22, base)], (40, 35, 35),
                 (20, 18, 18), texture=0.3)
    top = bezier((x - 30, base - size - 20), (x + size * 0.3, base - size - 5), (x + size * 0.7, base - size - 5),
                 (x + size + 30, base - size - 20), 16)
    cv.paint(thick_path(top, [26] * len(top)), (35, 30, 30), (15, 15, 15), texture=0.2)
    cv.paint([(x - 5, base - size + 12), (x + size + 5, base - size + 12), (x + size + 5, base - size + 32),
              (x - 5, base - size + 32)], red, shade(red, 0.6), texture=0.3, outline=(30, 15, 15), width=2)
    cv.paint([(x + size * 0.1, base - size * 0.72), (x + size * 0.9, base - size * 0.72),
              (x + size * 0.9, base - size * 0.72 + 16), (x + size * 0.1, base - size * 0.72 + 16)], red,
             shade(red, 0.6), texture=0.3, outline=(30, 15, 15), width=2)
    tab = [(x + size / 2 - 18, base - size + 32), (x + size / 2 + 18, base - size + 32),
           (x + size / 2 + 18, base - size * 0.72), (x + size / 2 - 18, base - size * 0.72)]
    cv.paint(tab, (30, 25, 25), None, texture=0.1)
    glyph_row(cv.draw, rng, x + size / 2 - 12, base - size + 38, 24, 2, (235, 200, 90), vertical=True)


def _lantern(cv: Canvas, rng: np.random.Generator, x: float, base: float) -> None:
    stone = (150, 148, 140)
    parts = [(26, 16), (10, 50), (30, 14), (22, 34), (34, 14), (8, 12)]
    y = base
    for half, ph in parts:
        cv.paint([(x - half, y - ph), (x + half, y - ph), (x + half, y), (x - half, y)], stone, shade(stone, 0.6),
                 texture=0.5, outline=(50, 50, 50), width=2)
        if ph == 34:
            cv.draw.rectangle([x - 10, y - 28, x + 10, y - 6], fill=(255, 210, 120), outline=(50, 40, 30), width=2)
        y -= ph


def _tree(cv: Canvas, rng: np.random.Generator, x: float, base: float) -> None:
    hgt = rng.uniform(180, 320)
    trunk = thick_path(bezier((x, base), (x + rng.uniform(-20, 20), base - hgt * 0.4),
                              (x + rng.uniform(-30, 30), base - hgt * 0.7), (x + rng.uniform(-20, 20), base - hgt), 10),
                       np.linspace(30, 10, 10))
    cv.paint(trunk, (110, 80, 55), (60, 40, 30), texture=0.6, outline=(30, 20, 15), width=3)
    leaf = hsv(rng.choice([0.28, 0.33, 0.95, 0.08]) + rng.uniform(-0.03, 0.03), 0.55, 0.65)
    for _ in range(int(rng.integers(7, 13))):
        lx, ly = x + rng.uniform(-90, 90), base - hgt + rng.uniform(-70, 50)
        r = rng.uniform(35, 70)
        cv.paint(blob(rng, lx, ly, r, r * 0.8, 8, 0.3), shade(leaf, rng.uniform(0.8, 1.2)), shade(leaf, 0.5),
                 texture=0.5, outline=shade(leaf, 0.35), width=2)
        for _ in range(5):
            a = rng.uniform(0, 2 * math.pi)
            cv.line([(lx + r * 0.5 * math.cos(a), ly + r * 0.5 * math.sin(a)),
                     (lx + r * 0.8 * math.cos(a + 0.2), ly + r * 0.8 * math.sin(a + 0.2))], shade(leaf, 1.4), 2)


# --------------------------------------------------------------------------- unrelated images


def unrelated_photo(seed: int, size: tuple[int, int] = (1024, 768)) -> Image.Image:
    """A soft, photo-like landscape (out of focus, sensor noise): not art, few corners."""
    rng = np.random.default_rng(seed)
    w, h = size
    sky = gradient(w, h, (120, 160, 210), (225, 225, 235), math.pi / 2)
    n = value_noise(rng, w, h, octaves=4, base=2)
    land_line = h * 0.55 + (value_noise(rng, w, 1, octaves=3, base=2)[0] - 0.5) * h * 0.25
    ys = np.arange(h)[:, None]
    land = (ys > land_line[None, :]).astype(np.float32)
    field = gradient(w, h, (90, 120, 60), (60, 80, 40), math.pi / 2) * (0.8 + 0.4 * n[..., None])
    img = sky * (1 - land[..., None]) + field * land[..., None]
    img += rng.normal(0, 6, img.shape)
    out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    return out.filter(ImageFilter.GaussianBlur(2.5))


def unrelated_chart(seed: int, size: tuple[int, int] = (1000, 700)) -> Image.Image:
    """A bar chart with labels, like a slide or a report page."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = Image.new("RGB", size, (250, 250, 247))
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=26)
    small = ImageFont.load_default(size=18)
    d.text((60, 24), "Quarterly rainfall by region (mm)", fill=(30, 30, 40), font=font)
    x0, y0, x1, y1 = 90, 90, w - 40, h - 80
    for k in range(6):
        y = y1 - k * (y1 - y0) / 5
        d.line([x0, y, x1, y], fill=(215, 215, 215), width=1)
        d.text((30, y - 10), str(k * 40), fill=(90, 90, 90), font=small)
    d.line([x0, y0, x0, y1, x1, y1], fill=(60, 60, 60), width=2)
    regions = ["North", "East", "South", "West", "Coast", "Hills"]
    bw = (x1 - x0) / len(regions)
    colours = [(66, 133, 244), (234, 67, 53), (251, 188, 5)]
    for i, name in enumerate(regions):
        for j, col in enumerate(colours):
            v = rng.uniform(0.1, 0.95) * (y1 - y0)
            bx = x0 + i * bw + 12 + j * (bw - 24) / 3
            d.rectangle([bx, y1 - v, bx + (bw - 24) / 3 - 4, y1], fill=col)
        d.text((x0 + i * bw + bw / 2 - 24, y1 + 12), name, fill=(60, 60, 60), font=small)
    for j, (label, col) in enumerate(zip(("2023", "2024", "2025"), colours, strict=True)):
        d.rectangle([w - 220 + j * 65, 30, w - 204 + j * 65, 46], fill=col)
        d.text((w - 200 + j * 65, 27), label, fill=(60, 60, 60), font=small)
    return img


# --------------------------------------------------------------------------- transforms


def flatten(img: Image.Image, background: Image.Image | Sequence[int] = (255, 255, 255)) -> Image.Image:
    """An RGB image: a transparent sprite pasted on a colour or a background picture."""
    if img.mode != "RGBA":
        return img.convert("RGB")
    if isinstance(background, Image.Image):
        bg = background.convert("RGBA").resize(img.size)
    else:
        bg = Image.new("RGBA", img.size, (*background[:3], 255))
    return Image.alpha_composite(bg, img).convert("RGB")


def paper(size: tuple[int, int], seed: int) -> Image.Image:
    """A soft gradient backdrop, the kind fan sites put behind a cut-out character."""
    rng = np.random.default_rng(seed)
    w, h = size
    c0 = hsv(rng.random(), 0.2, 0.97)
    c1 = hsv(rng.random(), 0.35, 0.85)
    g = gradient(w, h, c0, c1, rng.uniform(0, math.pi))
    return Image.fromarray(np.clip(g, 0, 255).astype(np.uint8), "RGB")


def crop(img: Image.Image, share: float, seed: int, anchor: tuple[float, float] | None = None) -> Image.Image:
    """Keep ``share`` (0.6-0.8) of each side, at a seeded (or given) position."""
    rng = np.random.default_rng(seed)
    w, h = img.size
    cw, ch = round(w * share), round(h * share)
    ax, ay = anchor if anchor is not None else (rng.random(), rng.random())
    x0, y0 = round((w - cw) * ax), round((h - ch) * ay)
    return img.crop((x0, y0, x0 + cw, y0 + ch))


def mirror(img: Image.Image) -> Image.Image:
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def rotate(img: Image.Image, degrees: float = 10.0, fill: Sequence[int] = (255, 255, 255)) -> Image.Image:
    return img.convert("RGB").rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True,
                                     fillcolor=tuple(fill[:3]))


def resize(img: Image.Image, share: float = 0.4) -> Image.Image:
    w, h = img.size
    return img.resize((max(1, round(w * share)), max(1, round(h * share))), Image.Resampling.LANCZOS)


def caption(img: Image.Image, text: str, bottom: bool = True) -> Image.Image:
    """Meme-style caption: large white text with a black outline over the picture."""
    out = img.convert("RGB").copy()
    w, h = out.size
    size = max(18, w // 16)
    font = ImageFont.load_default(size=size)
    d = ImageDraw.Draw(out)
    tw = d.textlength(text, font=font)
    while tw > w * 0.92 and size > 12:
        size -= 2
        font = ImageFont.load_default(size=size)
        tw = d.textlength(text, font=font)
    y = h - size * 1.6 if bottom else size * 0.4
    d.text(((w - tw) / 2, y), text, font=font, fill=(255, 255, 255), stroke_width=max(2, size // 12),
           stroke_fill=(0, 0, 0))
    return out


def composite(sprite: Image.Image, background: Image.Image, height_share: float = 0.85,
              x_share: float = 0.6) -> Image.Image:
    """A cut-out character pasted into another scene."""
    bg = background.convert("RGBA").copy()
    bw, bh = bg.size
    sh = round(bh * height_share)
    sw = round(sprite.width * sh / sprite.height)
    s = sprite.convert("RGBA").resize((sw, sh), Image.Resampling.LANCZOS)
    x = round((bw - sw) * x_share)
    bg.alpha_composite(s, (x, bh - sh))
    return bg.convert("RGB")


def collage(tiles: Sequence[Image.Image], tile_size: tuple[int, int] = (640, 360),
            gap: int = 8, background: Sequence[int] = (24, 24, 28)) -> Image.Image:
    """A 2x2 collage: each picture scaled to fit its tile, centred."""
    tw, th = tile_size
    out = Image.new("RGB", (2 * tw + 3 * gap, 2 * th + 3 * gap), tuple(background[:3]))
    for i, tile in enumerate(tiles[:4]):
        t = flatten(tile, (255, 255, 255)) if tile.mode == "RGBA" else tile.convert("RGB")
        s = min(tw / t.width, th / t.height)
        t = t.resize((max(1, round(t.width * s)), max(1, round(t.height * s))), Image.Resampling.LANCZOS)
        ox = gap + (i % 2) * (tw + gap) + (tw - t.width) // 2
        oy = gap + (i // 2) * (th + gap) + (th - t.height) // 2
        out.paste(t, (ox, oy))
    return out


def screenshot(img: Image.Image, seed: int, size: tuple[int, int] = (1440, 900)) -> Image.Image:
    """The picture inside an image-viewer window: title bar, side panel, padding."""
    rng = np.random.default_rng(seed)
    w, h = size
    out = Image.new("RGB", size, (236, 236, 238))
    d = ImageDraw.Draw(out)
    d.rectangle([0, 0, w, 44], fill=(52, 54, 62))
    for k, col in enumerate(((237, 94, 86), (246, 190, 79), (98, 197, 85))):
        d.ellipse([16 + k * 26, 14, 32 + k * 26, 30], fill=col)
    font = ImageFont.load_default(size=18)
    d.text((110, 12), f"IMG_{int(rng.integers(1000, 9999))}.png - Viewer", fill=(230, 230, 235), font=font)
    d.rectangle([0, 44, 230, h], fill=(222, 223, 228))
    for k in range(14):
        d.rounded_rectangle([16, 64 + k * 52, 214, 100 + k * 52], 6, fill=(208, 210, 216))
        d.text((28, 72 + k * 52), f"folder {k + 1:02d}", fill=(70, 70, 80), font=font)
    area = (250, 64, w - 20, h - 60)
    aw, ah = area[2] - area[0], area[3] - area[1]
    pic = img.convert("RGB")
    s = min(aw / pic.width, ah / pic.height) * 0.92
    pic = pic.resize((round(pic.width * s), round(pic.height * s)), Image.Resampling.LANCZOS)
    out.paste(pic, (area[0] + (aw - pic.width) // 2, area[1] + (ah - pic.height) // 2))
    d.rectangle([0, h - 40, w, h], fill=(210, 211, 216))
    d.text((260, h - 32), f"{pic.width} x {pic.height}   100%", fill=(60, 60, 70), font=font)
    return out
