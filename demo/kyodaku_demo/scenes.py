"""The demo's scene paintings and unrelated images."""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from kyodaku_demo.paint import (
    SCENE_SIZE,
    Canvas,
    Point,
    bezier,
    blob,
    ellipse_pts,
    glyph,
    glyph_row,
    gradient,
    hsv,
    shade,
    thick_path,
    value_noise,
)

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
        for _ in range(int(rng.integers(2, 4))):  # warehouses on the far shore
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

