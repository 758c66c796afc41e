"""Painting helpers for the demo art: colour, noise, geometry, a canvas, glyphs."""
from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageChops, ImageDraw

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

