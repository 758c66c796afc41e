"""A reference that one finding method cannot find by rests on the others, which are
tried on its own JPEG copy when it is registered (scan.references.check_own_copy): a noise
texture whose hash or keypoints do not survive a copy is reported too plain to be found,
and ordinary art is not."""

from __future__ import annotations

import numpy as np
from PIL import Image

from kyodaku.scan.references import fingerprint_file, too_plain
from tests import art


def _fps(path):
    return {name: fps[0] for name, fps in fingerprint_file(str(path), "image").items()}


def _shimmer(seed: int, size: int = 512) -> np.ndarray:
    """Random horizontal bands, one level per row: a heat-shimmer layer (no corners; its
    hash rests on row-to-row noise that a JPEG copy redraws)."""
    rows = np.random.default_rng(seed).uniform(0, 255, size)
    return np.repeat(rows[:, None], size, 1).astype(np.uint8)


def test_a_texture_whose_hash_does_not_survive_its_own_copy_is_too_plain(tmp_path):
    # black paint whose transparency is the texture, as a game ships a shimmer layer
    rgba = np.zeros((512, 512, 4), np.uint8)
    rgba[..., 3] = _shimmer(3)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "shimmer.png")
    fps = _fps(tmp_path / "shimmer.png")
    tested = [name for name, fp in fps.items() if "found_in_own_copy" in fp.info]
    assert tested, {name: len(fp) for name, fp in fps.items()}
    assert all(fps[name].info["found_in_own_copy"] is False for name in tested)
    assert too_plain(fps)


def test_ordinary_art_is_not_tried_on_its_copy_nor_too_plain(tmp_path):
    art.save(art.artwork(7, size=(360, 480)), tmp_path / "art.png")
    fps = _fps(tmp_path / "art.png")
    assert not any("found_in_own_copy" in fp.info for fp in fps.values())
    assert not too_plain(fps)


def test_flat_art_found_by_its_hash_alone_is_not_too_plain(tmp_path):
    """Few corners, a hash that survives a copy: a big soft gradient disc on a flat ground."""
    yy, xx = np.mgrid[0:400, 0:400].astype(np.float32)
    disc = np.clip(255 - np.hypot(xx - 150, yy - 220) * 1.4, 0, 255)
    rgb = np.stack([disc, disc * 0.6, 255 - disc * 0.5], -1).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(tmp_path / "disc.png")
    fps = _fps(tmp_path / "disc.png")
    assert len(fps["pdq"]) > 0 and len(fps["orb"]) < 20, {n: len(f) for n, f in fps.items()}
    assert fps["pdq"].info.get("found_in_own_copy") is True
    assert not too_plain(fps)
