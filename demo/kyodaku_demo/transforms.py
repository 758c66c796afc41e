"""Transformed copies, as they appear in a scraped training corpus."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kyodaku_demo.paint import (
    gradient,
    hsv,
)

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
